package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestReplayCalibrateRefusesFewItems is the reported calibration on five items, which
// replaced the spec's route and wrote pass rates of five answers: below estimate.MinGraded
// (20) items nothing is written, and the command says how many, the minimum, and that
// nothing was written. From 20 items it writes.
func TestReplayCalibrateRefusesFewItems(t *testing.T) {
	for _, tt := range []struct {
		items int
		write bool
	}{{5, false}, {19, false}, {20, true}} {
		file := quickstartIn(t, "[nano, mini]")
		table := filepath.Join(filepath.Dir(file), "few.jsonl")
		writeRows(t, table, intentRows(false)[:2*tt.items])
		before, _ := os.ReadFile(file)
		code, out, errOut := run(t, "replay", file, "--outcomes", table, "--category", "intent", "--calibrate", "--target", "strong-share=0.25")
		after, _ := os.ReadFile(file)
		if tt.write {
			if code != 0 || bytes.Equal(before, after) {
				t.Errorf("%d items: exit %d, spec rewritten %v: want the calibration written\n%s\n%s", tt.items, code, !bytes.Equal(before, after), out, errOut)
			}
			continue
		}
		if code == 0 || !bytes.Equal(before, after) {
			t.Errorf("%d items: exit %d: the spec was rewritten from %d items:\n%s", tt.items, code, tt.items, after)
		}
		for _, want := range []string{"nothing was written into the spec", "the replay has " + strconv.Itoa(tt.items) + " item(s), fewer than the 20"} {
			if !strings.Contains(errOut, want) || !strings.Contains(out, want) {
				t.Errorf("%d items: stderr %q and the report lack %q:\n%s", tt.items, errOut, want, out)
			}
		}
	}
}

// TestReplayCalibrateRefusesSimulatedRows: rows of simulated answers (an eval --simulate)
// measure the spec's own assumptions; a calibration on them writes nothing, and says the rows
// are simulated, as validate calibrate does.
func TestReplayCalibrateRefusesSimulatedRows(t *testing.T) {
	file := quickstartIn(t, "[nano, mini]")
	dir := filepath.Dir(file)
	plain := filepath.Join(dir, "plain.jsonl")
	writeRows(t, plain, intentRows(false))
	data, err := os.ReadFile(plain)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		b.WriteString(strings.TrimSuffix(line, "}") + `,"simulated":true}` + "\n")
	}
	table := filepath.Join(dir, "sim.jsonl")
	if err := os.WriteFile(table, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(file)
	code, out, errOut := run(t, "replay", file, "--outcomes", table, "--category", "intent", "--calibrate", "--target", "strong-share=0.25")
	after, _ := os.ReadFile(file)
	if code == 0 || !bytes.Equal(before, after) {
		t.Errorf("exit %d: the spec was calibrated on simulated rows:\n%s", code, after)
	}
	for _, want := range []string{"nothing was written into the spec", "200 of the 200 rows of " + table + " come from simulated providers"} {
		if !strings.Contains(errOut, want) || !strings.Contains(out, want) {
			t.Errorf("stderr %q and the report lack %q:\n%s", errOut, want, out)
		}
	}
	// The same rows, not simulated, are calibrated on.
	code, out, errOut = run(t, "replay", file, "--outcomes", plain, "--category", "intent", "--calibrate", "--target", "strong-share=0.25")
	if after, _ := os.ReadFile(file); code != 0 || bytes.Equal(before, after) {
		t.Errorf("exit %d: the rows not simulated were not calibrated on:\n%s\n%s", code, out, errOut)
	}
}

// TestEvalUpdateOfFewItemsWritesNothing is the reported eval --update of five items, which
// wrote their pass rates into the spec: nothing is written, the notes say why, and the report
// does not say measurements were written into it.
func TestEvalUpdateOfFewItemsWritesNothing(t *testing.T) {
	_, specPath, setPath := evalDir(t, 5)
	before, _ := os.ReadFile(specPath)
	code, out, errOut := runEvalCmd(t, specPath, "--category", "extract", "--set", setPath, "--progress", "never", "--update")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if after, _ := os.ReadFile(specPath); !bytes.Equal(before, after) {
		t.Errorf("the spec was updated from 5 items:\n%s", after)
	}
	for _, want := range []string{
		"note: small: assume.pass_rate not written: it is of 5 graded answer(s)",
		"fewer than the 20 a measured pass rate needs",
		"note: the measurements come from simulated providers",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "Updated ") || strings.Contains(out, "measurements written into") {
		t.Errorf("the output says the spec was updated:\n%s", out)
	}
}
