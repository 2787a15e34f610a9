package gateway

import (
	"strings"
	"testing"
)

// TestSpecTestSplitArms: a golden request in a category that splits its traffic is checked
// against every arm, so that its result does not depend on the arm a run happens to draw: an
// expectation that only one arm meets fails every time and names the arms, and one every arm
// meets passes every time.
func TestSpecTestSplitArms(t *testing.T) {
	split := func(expect string) func(string) string {
		return func(src string) string {
			src = strings.Replace(src, "    route: {model: big}\n    record_text: true\n",
				"    route: {split: [{weight: 0.5, model: big}, {weight: 0.5, model: backup}]}\n    record_text: true\n", 1)
			src = strings.Replace(src, "assume: {pass_rate: {big: 0.97}}", "assume: {pass_rate: {big: 0.97, backup: 0.9}}", 1)
			return strings.Replace(src, "expect: {category: chat, by: default}", expect, 1)
		}
	}
	one := newFixture(t, split("expect: {category: chat, model: big}"))
	all := newFixture(t, split("expect: {category: chat, by: default}"))
	for range 20 {
		results, _ := CheckSpec(one.gw)
		r := results[2]
		if r.Pass {
			t.Fatalf("%s passed, though only the first arm starts on big", r.Name)
		}
		if msg := strings.Join(r.Problems, "\n"); !strings.Contains(msg, `category "chat" splits its traffic`) || !strings.Contains(msg, `arm 2 (50%): backup: first model "backup", want "big"`) {
			t.Fatalf("problems %q: want the split named, with the arm that differs", msg)
		}
		results, _ = CheckSpec(all.gw)
		if r := results[2]; !r.Pass {
			t.Fatalf("%s: %v", r.Name, r.Problems)
		}
	}
}

// TestSpecTestRuleErrors: a rule that fails to evaluate for a golden request is a lint at the
// rule's line that says why (not "fired in none of the tests"), and a test that fails because
// of it says so.
func TestSpecTestRuleErrors(t *testing.T) {
	f := newFixture(t, func(src string) string {
		return strings.Replace(src, `when: 'tokens_in > 500'`, `when: 'int(metadata["size"]) > 500'`, 1)
	})
	f.gw.spec.Tests[2].Expect.Category = "long"
	results, lints := CheckSpec(f.gw)
	line := f.gw.router.Rules()[1].Line
	var found bool
	for _, l := range lints {
		if strings.Contains(l.Msg, `"long" fired in none`) {
			t.Errorf("lint %q: the rule failed, it did not just not fire", l.Msg)
		}
		if strings.Contains(l.Msg, `the rule of "long" fails to evaluate for "refund words go to refunds"`) && l.Line == line {
			found = true
		}
	}
	if !found {
		t.Errorf("lints %+v: want the failing rule at line %d", lints, line)
	}
	msg := strings.Join(results[2].Problems, "\n")
	if results[2].Pass || !strings.Contains(msg, `the rule of "long" failed to evaluate, so it did not fire`) {
		t.Errorf("problems %q: want the failing rule named", msg)
	}
}

// TestSpecTestASCIIWordBoundary: a matches pattern that puts \b beside a letter outside ASCII
// is linted at the rule's line, since RE2's \b does not see that letter as part of a word;
// \b beside ASCII letters, and an escaped backslash before a b, are not.
func TestSpecTestASCIIWordBoundary(t *testing.T) {
	for _, tc := range []struct {
		when string
		lint bool
	}{
		{`last_user matches "(?i)\\bcafé\\b"`, true},
		{`last_user matches "(?i)\\bstraße"`, false},
		{`last_user matches "\\bÜberweisung"`, true},
		{`last_user matches "(?i)\\brefund\\b"`, false},
		{`last_user matches "x\\\\béclair"`, false},
	} {
		f := newFixture(t, func(src string) string {
			return strings.Replace(src, `when: 'tokens_in > 500'`, `when: '`+tc.when+`'`, 1)
		})
		_, lints := CheckSpec(f.gw)
		line := f.gw.router.Rules()[1].Line
		got := false
		for _, l := range lints {
			if strings.Contains(l.Msg, `RE2's \b knows only ASCII letters`) && l.Line == line {
				got = true
			}
		}
		if got != tc.lint {
			t.Errorf("%s: linted %v, want %v (%+v)", tc.when, got, tc.lint, lints)
		}
	}
}
