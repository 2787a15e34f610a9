package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/worksheet"
)

func (m *Main) runWorksheet(ctx context.Context, args []string) error {
	const usage = "clearbar worksheet export SPEC.yaml > sheet.csv | clearbar worksheet import sheet.csv > spec.yaml"
	if len(args) == 0 {
		return usagef("usage: %s", usage)
	}
	switch args[0] {
	case "export":
		fs := flag.NewFlagSet("export", flag.ContinueOnError)
		out := fs.String("out", "", "write to this file instead of standard output")
		samples := fs.Int("samples", estimate.DefaultSamples, "Monte Carlo samples for the estimated columns")
		seed := fs.Uint64("seed", estimate.DefaultSeed, "random seed for the estimated columns")
		pos, err := parseArgs(fs, args[1:], 1, 1, "clearbar worksheet export SPEC.yaml [--out sheet.csv]")
		if err != nil {
			return err
		}
		s, err := m.loadSpec(pos[0], m.Now())
		if err != nil {
			return err
		}
		r, err := estimate.Run(ctx, s, estimate.Options{Samples: *samples, Seed: *seed, Today: m.Now()})
		if err != nil {
			return err
		}
		w, closeOut, err := m.output(*out)
		if err != nil {
			return err
		}
		err = worksheet.Export(w, s, r)
		if cerr := closeOut(); err == nil {
			err = cerr
		}
		return err
	case "import":
		fs := flag.NewFlagSet("import", flag.ContinueOnError)
		out := fs.String("out", "", "write the spec to this file instead of standard output")
		name := fs.String("name", "", "the spec's name (default: imported)")
		provider := fs.String("provider", "", "provider type for the imported models (default: simulated)")
		pos, err := parseArgs(fs, args[1:], 1, 1, "clearbar worksheet import sheet.csv [--name NAME] [--provider TYPE] [--out spec.yaml]")
		if err != nil {
			return err
		}
		f, err := os.Open(pos[0])
		if err != nil {
			return err
		}
		defer f.Close()
		// Schema files named in the sheet are kept when they exist next to the spec written.
		dir := "."
		if *out != "" && *out != "-" {
			dir = filepath.Dir(*out)
		}
		data, err := worksheet.Import(f, worksheet.ImportOptions{Name: *name, Provider: *provider, File: pos[0], Dir: dir,
			Warn: func(msg string) { fmt.Fprintf(m.Stderr, "warning: %s\n", msg) }})
		if err != nil {
			return err
		}
		w, closeOut, err := m.output(*out)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		if cerr := closeOut(); err == nil {
			err = cerr
		}
		return err
	}
	return usagef("unknown worksheet command %q: use export or import", args[0])
}
