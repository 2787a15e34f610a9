package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/clearbar/clearbar/spec"
)

func (m *Main) runSpec(ctx context.Context, args []string) error {
	const usage = "clearbar spec check|schema|doc ..."
	if len(args) == 0 {
		return usagef("usage: %s", usage)
	}
	switch args[0] {
	case "check":
		return m.runSpecCheck(args[1:])
	case "schema":
		if _, err := parseArgs(flag.NewFlagSet("schema", flag.ContinueOnError), args[1:], 0, 0, "clearbar spec schema > clearbar.schema.json"); err != nil {
			return err
		}
		_, err := m.Stdout.Write(spec.Schema())
		return err
	case "doc":
		return m.runSpecDoc(args[1:])
	}
	return usagef("unknown spec command %q: use check, schema or doc", args[0])
}

func (m *Main) runSpecCheck(args []string) error {
	const usage = "clearbar spec check SPEC.yaml [--strict] [--today YYYY-MM-DD]"
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	strict := fs.Bool("strict", false, "treat warnings as errors")
	today := fs.String("today", "", "judge review dates and deprecations as of this day (YYYY-MM-DD)")
	pos, err := parseArgs(fs, args, 1, 1, usage)
	if err != nil {
		return err
	}
	day, err := m.today(*today)
	if err != nil {
		return err
	}
	s, err := m.loadSpec(pos[0], day)
	if err != nil {
		return err
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(m.Stderr, "warning: %s\n", w)
	}
	fmt.Fprintf(m.Stdout, "%s: ok: %d categories, %d models, %d providers, %d named policies", pos[0], len(s.Categories), len(s.Models), len(s.Providers), len(s.Policies))
	if n := len(s.Warnings); n > 0 {
		fmt.Fprintf(m.Stdout, ", %d warning(s)", n)
	}
	fmt.Fprintln(m.Stdout)
	if *strict && len(s.Warnings) > 0 {
		return errFailed
	}
	return nil
}

func (m *Main) runSpecDoc(args []string) error {
	const usage = "clearbar spec doc SPEC.yaml [--format markdown|html] [--out FILE] [--today YYYY-MM-DD]"
	fs := flag.NewFlagSet("doc", flag.ContinueOnError)
	format := fs.String("format", "", "markdown or html (default markdown, or html when --out ends in .html)")
	out := fs.String("out", "", "write to this file instead of standard output")
	today := fs.String("today", "", "judge review dates as of this day (YYYY-MM-DD)")
	pos, err := parseArgs(fs, args, 1, 1, usage)
	if err != nil {
		return err
	}
	day, err := m.today(*today)
	if err != nil {
		return err
	}
	f := *format
	if f == "" {
		f = "markdown"
		if strings.HasSuffix(*out, ".html") {
			f = "html"
		}
	}
	if f != "markdown" && f != "md" && f != "html" {
		return usagef("unknown --format %q: use markdown or html", f)
	}
	s, err := m.loadSpec(pos[0], day)
	if err != nil {
		return err
	}
	d := spec.NewDocument(s, day)
	w, closeOut, err := m.output(*out)
	if err != nil {
		return err
	}
	if f == "html" {
		err = d.WriteHTML(w)
	} else {
		err = d.WriteMarkdown(w)
	}
	if cerr := closeOut(); err == nil {
		err = cerr
	}
	return err
}
