package loadtest

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// Process is a target process started by the harness.
type Process struct {
	Name string
	// Addr is the loopback address it listens on.
	Addr string
	// LogFile holds its standard output and error.
	LogFile string

	cmd    *exec.Cmd
	exited chan error
}

// PID returns the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// URL returns http://Addr.
func (p *Process) URL() string { return "http://" + p.Addr }

// FreeAddr returns a loopback address with a port that was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr, nil
}

// StartProcess runs name with args; "{addr}" in args is replaced by a free loopback address,
// which the process must listen on. It returns once the address accepts connections (or
// fails if the process exits or does not listen within 30 s). The process gets SIGKILL if the
// harness dies first.
func StartProcess(name, logFile string, path string, args ...string) (*Process, error) {
	addr, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	for i, a := range args {
		if a == "{addr}" {
			args[i] = addr
		}
	}
	out, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &Process{Name: name, Addr: addr, LogFile: logFile, cmd: cmd, exited: make(chan error, 1)}
	go func() { p.exited <- cmd.Wait(); out.Close() }()
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return p, nil
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			return nil, fmt.Errorf("%s exited before listening (%v); see %s", name, err, logFile)
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.Stop(time.Second)
			return nil, fmt.Errorf("%s did not listen on %s within 30s; see %s", name, addr, logFile)
		}
	}
}

// Stop sends SIGINT (Clearbar drains its requests and queued decisions), waits up to grace,
// then kills the process.
func (p *Process) Stop(grace time.Duration) error {
	p.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-p.exited:
		return err
	case <-time.After(grace):
	}
	p.cmd.Process.Kill()
	return <-p.exited
}

// CheckHTTP sends req once and reports an error unless it succeeds.
func CheckHTTP(ctx context.Context, client *http.Client, req *Request) error {
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	_, _, err := Do(cctx, client, req)
	return err
}

// QuoteArgs joins args for a shell, quoting those that need it.
func QuoteArgs(args []string) string {
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		if a == "" || containsAny(a, " \t\"'$\\*?;&|<>()") {
			a = strconv.Quote(a)
		}
		s += a
	}
	return s
}

func containsAny(s, chars string) bool {
	for _, c := range s {
		for _, d := range chars {
			if c == d {
				return true
			}
		}
	}
	return false
}
