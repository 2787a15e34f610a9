package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/clearbar/clearbar/estimate"
	"github.com/clearbar/clearbar/worksheet"
)

func (m *Main) runWorksheet(ctx context.Context, args []string) error {
	const (
		exportUsage = "clearbar worksheet export SPEC.yaml [--out sheet.csv] [--samples N] [--seed N]"
		importUsage = "clearbar worksheet import sheet.csv|- [--name NAME] [--provider TYPE] [--out spec.yaml]"
		usage       = exportUsage + " | " + importUsage
	)
	if len(args) == 0 {
		return usagef("usage: %s", usage)
	}
	switch args[0] {
	case "export":
		fs := flag.NewFlagSet("export", flag.ContinueOnError)
		out := fs.String("out", "", "write to this file instead of standard output")
		samples := fs.Int("samples", estimate.DefaultSamples, fmt.Sprintf("Monte Carlo samples for the estimated columns, split over categories (at least %d per category)", estimate.MinCategorySamples))
		seed := seedFlag(estimate.DefaultSeed)
		fs.Var(&seed, "seed", "random seed for the estimated columns, a whole number from 1 to 18446744073709551615; the same seed gives the same estimates")
		pos, err := parseArgs(fs, args[1:], 1, 1, exportUsage)
		if err != nil {
			return err
		}
		s, err := m.loadSpec(pos[0], m.Now())
		if err != nil {
			return err
		}
		if err := checkSamples(*samples, pos[0], s); err != nil {
			return err
		}
		r, err := estimate.Run(ctx, s, estimate.Options{Samples: *samples, Seed: uint64(seed), Today: m.Now()})
		if err != nil {
			return err
		}
		w, done, err := m.output(*out)
		if err != nil {
			return err
		}
		err = worksheet.Export(w, s, r)
		err = done(err)
		if err != nil {
			return err
		}
		// What the sheet cannot carry is lost on import: say so where the sheet is made.
		for _, n := range append(worksheet.Gaps(s), worksheet.Omitted(s)...) {
			fmt.Fprintf(m.Stderr, "note: %s: %s\n", pos[0], n)
		}
		return nil
	case "import":
		fs := flag.NewFlagSet("import", flag.ContinueOnError)
		out := fs.String("out", "", "write the spec to this file instead of standard output")
		name := fs.String("name", "", "the spec's name (default: imported)")
		provider := fs.String("provider", "", "provider type for the imported models (default: simulated)")
		pos, err := parseArgs(fs, args[1:], 1, 1, importUsage)
		if err != nil {
			return err
		}
		// "-" is standard input, as for --out, so that an export can be piped into an import.
		var in io.Reader = m.Stdin
		file := "stdin"
		if in == nil {
			in = os.Stdin
		}
		if pos[0] != "-" {
			f, err := os.Open(pos[0])
			if err != nil {
				return err
			}
			defer f.Close()
			in, file = f, pos[0]
		}
		// Schema files named in the sheet are kept when they exist next to the spec written.
		dir := "."
		if *out != "" && *out != "-" {
			dir = filepath.Dir(*out)
		}
		data, err := worksheet.Import(in, worksheet.ImportOptions{Name: *name, Provider: *provider, File: file, Dir: dir,
			Warn: func(msg string) { fmt.Fprintf(m.Stderr, "warning: %s\n", msg) }})
		if err != nil {
			return err
		}
		w, done, err := m.output(*out)
		if err != nil {
			return err
		}
		_, err = w.Write(data)
		err = done(err)
		return err
	}
	return usagef("unknown worksheet command %q: use export or import", args[0])
}
