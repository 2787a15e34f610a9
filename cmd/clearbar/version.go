package main

import (
	"context"
	"fmt"
	"runtime/debug"

	"github.com/clearbar/clearbar/catalog"
)

func (m *Main) runVersion(ctx context.Context, args []string) error {
	v := "(devel)"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		v = bi.Main.Version
	}
	c := catalog.Default()
	fmt.Fprintf(m.Stdout, "clearbar %s\nprice catalogue: %d models, %s (%s)\n", v, c.Len(), c.SourceDate(), c.Source())
	return nil
}
