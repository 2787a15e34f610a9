package main

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/clearbar/clearbar/gateway"
	"github.com/clearbar/clearbar/spec"
)

func (m *Main) runSpec(ctx context.Context, args []string) error {
	const usage = "clearbar spec check|schema|doc|test ..."
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
	case "test":
		return m.runSpecTest(args[1:])
	}
	return usagef("unknown spec command %q: use check, schema, doc or test", args[0])
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
	if *strict && len(s.Warnings) > 0 {
		fmt.Fprintf(m.Stdout, "%s: failed: %d warning(s) with --strict\n", pos[0], len(s.Warnings))
		return errFailed
	}
	fmt.Fprintf(m.Stdout, "%s: ok: %d categories, %d models, %d providers, %d named policies", pos[0], len(s.Categories), len(s.Models), len(s.Providers), len(s.Policies))
	if n := len(s.Warnings); n > 0 {
		fmt.Fprintf(m.Stdout, ", %d warning(s)", n)
	}
	fmt.Fprintln(m.Stdout)
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
		if *out != "" && *out != "-" && filepath.Ext(*out) != "" {
			var ok bool
			if f, ok = outFormat(*out); !ok || f != "markdown" && f != "html" {
				return usagef("--out %s: a routing document is written as Markdown (.md, .markdown) or HTML (.html, .htm); or give --format", *out)
			}
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
	w, done, err := m.output(*out)
	if err != nil {
		return err
	}
	if f == "html" {
		err = d.WriteHTML(w)
	} else {
		err = d.WriteMarkdown(w)
	}
	err = done(err)
	return err
}

func (m *Main) runSpecTest(args []string) error {
	const usage = "clearbar spec test SPEC.yaml [--strict]"
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	strict := fs.Bool("strict", false, "fail on rule lints too")
	pos, err := parseArgs(fs, args, 1, 1, usage)
	if err != nil {
		return err
	}
	s, err := m.loadSpec(pos[0], m.Now())
	if err != nil {
		return err
	}
	// No model is called: every provider is simulated, so specs whose providers need keys
	// or adapters this build lacks can still be tested.
	simulateProviders(s)
	g, err := newGateway(s, nil, gateway.Options{})
	if err != nil {
		return err
	}
	results, lints := gateway.CheckSpec(g)
	failed := 0
	for _, r := range results {
		if r.Pass {
			fmt.Fprintf(m.Stdout, "ok    %s:%d: %s → %s (%s)\n", pos[0], r.Line, r.Name, r.Decision.Category, strings.Join(r.Decision.Plan, " → "))
			continue
		}
		failed++
		fmt.Fprintf(m.Stdout, "FAIL  %s:%d: %s\n", pos[0], r.Line, r.Name)
		for _, p := range r.Problems {
			fmt.Fprintf(m.Stdout, "        %s\n", p)
		}
	}
	for _, l := range lints {
		fmt.Fprintf(m.Stdout, "lint  %s:%d: %s\n", pos[0], l.Line, l.Msg)
	}
	fmt.Fprintf(m.Stdout, "%d golden request(s): %d passed, %d failed; %d lint(s)\n", len(results), len(results)-failed, failed, len(lints))
	if len(s.Tests) == 0 {
		fmt.Fprintln(m.Stdout, "the spec has no tests: add a tests: section with golden requests and the category and plan they must get")
	}
	if failed > 0 || *strict && len(lints) > 0 {
		return errFailed
	}
	return nil
}
