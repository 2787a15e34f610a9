// Command clearbar estimates, documents and (in later subcommands) serves LLM routing specs.
//
// Run "clearbar help" for the subcommands.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGTERM is what kill, docker stop and systemd send: serve drains on it as on Ctrl-C,
	// finishing requests in flight and writing their decisions.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	m := NewMain()
	code := m.Run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}
