// Package examples embeds the quick-start spec, so that "clearbar serve" with no arguments
// runs it without any files on disk.
package examples

import "embed"

// FS holds quickstart.yaml and the schema files it refers to.
//
//go:embed quickstart.yaml schemas
var FS embed.FS

// Quickstart is the quick-start spec's file name in FS.
const Quickstart = "quickstart.yaml"
