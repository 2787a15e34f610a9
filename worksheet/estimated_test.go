package worksheet

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/clearbar/clearbar/estimate"
)

// importWarnings imports sheet as if saved as file and returns the warnings about estimated
// columns.
func importWarnings(t *testing.T, sheet [][]string, file string) []string {
	t.Helper()
	var b bytes.Buffer
	if err := csv.NewWriter(&b).WriteAll(sheet); err != nil {
		t.Fatal(err)
	}
	var warnings []string
	_, err := Import(&b, ImportOptions{File: "sheet.csv", Dir: filepath.Dir(file), Warn: func(msg string) {
		if strings.Contains(msg, "is not what this row's assumptions give") {
			warnings = append(warnings, msg)
		}
	}})
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return warnings
}

// TestImportWarnsOfEditedEstimates: an edit to an estimated column of a sheet that states
// its assumptions is not read, and the import says so, row by row, with what the row's
// assumptions give; a sheet without the assumption columns reads its estimated columns as
// placeholders and is not warned about.
func TestImportWarnsOfEditedEstimates(t *testing.T) {
	const file = "../examples/imported.yaml"
	sheet := readCSV(t, export(t, load(t, "../examples/quickstart.yaml")))
	col := func(h string) int { return slices.Index(sheet[0], h) }
	if w := importWarnings(t, sheet, file); len(w) > 0 {
		t.Fatalf("the export itself is warned about: %q", w)
	}

	const row = 2 // draft, row 3 of the sheet
	if sheet[row][0] != "draft" {
		t.Fatalf("row 3 is %q, want draft", sheet[row][0])
	}
	was := map[string]string{}
	edited := func(edits map[string]string) [][]string {
		out := make([][]string, len(sheet))
		for i := range sheet {
			out[i] = slices.Clone(sheet[i])
		}
		for h, v := range edits {
			was[h] = sheet[row][col(h)]
			out[row][col(h)] = v
		}
		return out
	}
	got := importWarnings(t, edited(map[string]string{colEstPass: "0.95", colEstLatency: "10s / 20s", colEstCost: "0.5"}), file)
	const tail = ": the estimated columns are the estimate's results and are not read when the sheet states its assumptions; to change the assumption, edit "
	want := []string{
		`row 3, "estimated pass rate": 0.95 is not what this row's assumptions give (` + was[colEstPass] + `)` + tail + `"primary pass rate"`,
		`row 3, "estimated latency": 10s / 20s is not what this row's assumptions give (` + was[colEstLatency] + `)` + tail + `"model latency"`,
		`row 3, "estimated per-request cost": 0.5 is not what this row's assumptions give (` + was[colEstCost] + `)` + tail + `"average tokens in", "average tokens out" or "model price"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("warnings\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	// A percentage is compared, and shown, as one; a cell rounded to fewer digits than the
	// export writes agrees with the estimate within its rounding.
	got = importWarnings(t, edited(map[string]string{colEstPass: "95%"}), file)
	if want := `row 3, "estimated pass rate": 95% is not what this row's assumptions give (92%)` + tail + `"primary pass rate"`; len(got) != 1 || got[0] != want {
		t.Errorf("warnings %q, want %q", got, want)
	}
	if w := importWarnings(t, edited(map[string]string{colEstPass: "92%", colEstCost: "0.0013", colEstLatency: "3s / 4s"}), file); len(w) > 0 {
		t.Errorf("cells that round the estimate are warned about: %q", w)
	}

	// Only the playbook's twelve columns: the estimated columns are placeholders, read.
	twelve := edited(map[string]string{colEstPass: "0.95", colEstLatency: "10s / 20s", colEstCost: "0.5"})
	for i := range twelve {
		twelve[i] = twelve[i][:seedColumns]
	}
	if w := importWarnings(t, twelve, file); len(w) > 0 {
		t.Errorf("a sheet of the playbook's columns is warned about: %q", w)
	}
}

// TestImportEstimatesAgreeWithExports: the estimated columns of an export, whatever its seed
// and however few its samples, agree with the estimate of the spec it imports to, so that
// only an edit is warned about.
func TestImportEstimatesAgreeWithExports(t *testing.T) {
	files, _ := filepath.Glob("../examples/*.yaml")
	files = append(files, "testdata/fixture.yaml")
	for _, f := range files {
		s := load(t, f)
		if len(Gaps(s)) > 0 {
			continue
		}
		for _, opts := range []estimate.Options{{}, {Samples: estimate.MinSamples(s), Seed: 2}, {Samples: estimate.MinSamples(s), Seed: 3}, {Samples: estimate.MinSamples(s), Seed: 4}} {
			t.Run(fmt.Sprintf("%s/samples %d/seed %d", filepath.Base(f), opts.Samples, opts.Seed), func(t *testing.T) {
				est, err := estimate.Run(context.Background(), s, opts)
				if err != nil {
					t.Fatal(err)
				}
				var b bytes.Buffer
				if err := Export(&b, s, est); err != nil {
					t.Fatal(err)
				}
				if w := importWarnings(t, readCSV(t, b.Bytes()), filepath.Join(filepath.Dir(f), "imported.yaml")); len(w) > 0 {
					t.Errorf("the export is warned about:\n%s", strings.Join(w, "\n"))
				}
			})
		}
	}
}
