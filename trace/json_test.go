package trace

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/internal/jsonstr"
)

// checkMatchesMarshal fails unless appendDecision writes exactly what json.Marshal writes.
func checkMatchesMarshal(t *testing.T, name string, d *clearbar.Decision) {
	t.Helper()
	want, err := json.Marshal(d)
	if err != nil {
		t.Fatalf("%s: json.Marshal: %v", name, err)
	}
	prefix := []byte("prefix")
	got, err := appendDecision(prefix, d)
	if err != nil {
		t.Fatalf("%s: appendDecision: %v", name, err)
	}
	if !bytes.HasPrefix(got, []byte("prefix")) {
		t.Fatalf("%s: appendDecision did not append", name)
	}
	if got := got[len(prefix):]; !bytes.Equal(got, want) {
		t.Errorf("%s: appendDecision differs from json.Marshal\n got: %s\nwant: %s", name, got, want)
	}
}

func TestAppendDecisionMatchesMarshal(t *testing.T) {
	empties := fullDecision("empties", testTime)
	empties.Rules, empties.Skipped, empties.Plan, empties.Attempts = []clearbar.RuleResult{}, []clearbar.Skip{}, []string{}, []clearbar.Attempt{}
	empties.Attempts = append(empties.Attempts, clearbar.Attempt{Verdicts: []clearbar.Verdict{}})

	odd := fullDecision("odd \"id\" <&> \u2028\u2029 \x00\x1f\x7f \xff\xfe é 🎉", time.Date(1, 1, 1, 0, 0, 0, 1, time.FixedZone("", -(23*3600+59*60))))
	odd.Prompt = "line\nbreak\ttab\r\b\f back\\slash \"quoted\" </script> & \u00a0 \U0001F600 \xed\xa0\x80 \xc0"
	odd.Cost, odd.EscalationCost = math.MinInt64, math.MaxInt64
	odd.Attempts[0].Cost = -1
	odd.Attempts[0].Start = time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", 23*3600+59*60))
	odd.Attempts[0].Verdicts[0].Score = -1e-7
	odd.Attempts[0].Verdicts[1].Score = 1e21
	odd.Attempts[1].Verdicts[0].Score = 123456789.125
	odd.Latency, odd.Status, odd.Features.TokensIn = math.MinInt64, -1, math.MaxInt

	cases := map[string]*clearbar.Decision{
		"full":                   fullDecision("d-1", testTime),
		"realistic":              realisticDecision(),
		"small":                  smallDecision("s", testTime, "c", "m", clearbar.RateLimited),
		"zero":                   {},
		"empty slices":           empties,
		"escapes and edge cases": odd,
		"filled by reflection":   filledDecision(),
	}
	for _, difficulty := range []float64{0, 0.25} {
		d := realisticDecision()
		d.Score = &clearbar.Score{Router: clearbar.HeuristicRouter, Rule: "tiers 0.35, 0.7", Difficulty: difficulty, Start: "small"}
		cases["heuristic score, difficulty "+strconv.FormatFloat(difficulty, 'g', -1, 64)] = d
	}
	// A willingness-to-pay score writes every model's cost and utility, also when 0; a
	// threshold's writes none.
	wtpZero := realisticDecision()
	wtpZero.Score = &clearbar.Score{Router: "router.json", Rule: "willingness to pay $0.01 per unit (1.0) of P(pass)", WillingnessToPay: 0.01,
		PPass: []clearbar.ModelScore{{Model: "local", P: 0, Cost: 0, Utility: 0}, {Model: "strong", P: 0.9, Cost: 0.002, Utility: 0.7}}, Start: "strong"}
	cases["willingness-to-pay score, a zero cost and utility"] = wtpZero
	threshold := realisticDecision()
	threshold.Score = &clearbar.Score{Router: "router.json", Rule: "threshold 0.5 on P(pass) of small",
		PPass: []clearbar.ModelScore{{Model: "small", P: 0.6}, {Model: "strong", P: 0.9}}, Start: "small"}
	cases["threshold score"] = threshold
	for name, d := range cases {
		checkMatchesMarshal(t, name, d)
	}
	for _, s := range []float64{math.Copysign(0, -1), 1e-6, 9.99e-7, 1e20, 5e-324, math.MaxFloat64, -0.625, 1, 100} {
		d := realisticDecision()
		d.Attempts[0].Verdicts[0].Score = s
		checkMatchesMarshal(t, "score "+strconv.FormatFloat(s, 'g', -1, 64), d)
	}
}

// filledDecision sets every exported field reachable from a Decision, through structs and
// slices, to a non-zero value, without naming a field: a field added to one of those types
// and forgotten in appendDecision makes TestAppendDecisionMatchesMarshal fail.
func filledDecision() *clearbar.Decision {
	d := new(clearbar.Decision)
	n := 0
	var fill func(v reflect.Value)
	fill = func(v reflect.Value) {
		n++
		switch {
		case v.Type() == reflect.TypeFor[time.Time]():
			v.Set(reflect.ValueOf(testTime.Add(time.Duration(n) * time.Hour).In(time.FixedZone("", 3600*(n%24)))))
		case v.Type() == reflect.TypeFor[clearbar.FailureClass]():
			v.SetUint(uint64(1 + n%(numClasses-1))) // never OK, the zero value
		case v.Kind() == reflect.Pointer:
			v.Set(reflect.New(v.Type().Elem()))
			fill(v.Elem())
		case v.Kind() == reflect.Struct:
			for i := range v.NumField() {
				if v.Type().Field(i).IsExported() {
					fill(v.Field(i))
				}
			}
		case v.Kind() == reflect.Slice:
			v.Set(reflect.MakeSlice(v.Type(), 2, 2))
			for i := range v.Len() {
				fill(v.Index(i))
			}
		case v.Kind() == reflect.String:
			v.SetString("v<" + strings.Repeat("x", n%5) + ">\u2028")
		case v.Kind() == reflect.Bool:
			v.SetBool(true)
		case v.CanInt():
			v.SetInt(int64(n) * 1_000_003)
		case v.CanUint():
			v.SetUint(uint64(n))
		case v.CanFloat():
			v.SetFloat(float64(n) / 8)
		default:
			panic("filledDecision: no filler for " + v.Type().String())
		}
	}
	fill(reflect.ValueOf(d).Elem())
	return d
}

func TestFilledDecisionIsFull(t *testing.T) {
	assertNoZeroFields(t, reflect.ValueOf(filledDecision()), "Decision")
}

func TestAppendDecisionFailsLikeMarshal(t *testing.T) {
	badYear := realisticDecision()
	badYear.Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
	badStart := realisticDecision()
	badStart.Attempts[1].Start = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC)
	badZone := realisticDecision()
	badZone.Time = testTime.In(time.FixedZone("", 24*3600))
	nan := realisticDecision()
	nan.Attempts[0].Verdicts[1].Score = math.NaN()
	inf := realisticDecision()
	inf.Attempts[0].Verdicts[1].Score = math.Inf(-1)
	for name, d := range map[string]*clearbar.Decision{"year 10000": badYear, "year -1": badStart,
		"zone +24h": badZone, "NaN score": nan, "infinite score": inf} {
		if _, err := json.Marshal(d); err == nil {
			t.Fatalf("%s: json.Marshal succeeded; the case is wrong", name)
		}
		b := []byte("kept")
		got, err := appendDecision(b, d)
		if err == nil || !strings.Contains(err.Error(), d.ID) {
			t.Errorf("%s: appendDecision error = %v, want one naming the decision", name, err)
		}
		if string(got) != "kept" {
			t.Errorf("%s: appendDecision returned %q on failure, want its input", name, got)
		}
	}
}

func TestAppendMoneyMatchesDecimal(t *testing.T) {
	values := []clearbar.Money{0, 1, -1, 9, 10, 999_999_999, 1_000_000_000, 1_000_000_001, -1_000_000_000,
		5_822_550, 52_500, 120_000_000, math.MaxInt64, math.MinInt64, math.MinInt64 + 1}
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		values = append(values, clearbar.Money(r.Int64()>>r.IntN(64)), -clearbar.Money(r.Int64N(1e12)))
	}
	for _, m := range values {
		if got := string(appendMoney(nil, m)); got != m.Decimal() {
			t.Errorf("appendMoney(%d) = %s, want %s", int64(m), got, m.Decimal())
		}
	}
}

func TestAppendJSONStringMatchesMarshal(t *testing.T) {
	var all []string
	for c := range 256 {
		all = append(all, string([]byte{byte(c)}), "a"+string([]byte{byte(c)})+"b")
	}
	for _, r := range []rune{0x80, 0x7ff, 0x800, 0x2027, 0x2028, 0x2029, 0x202a, 0xfffd, 0xffff, 0x10000, 0x10ffff} {
		all = append(all, string(r), "x"+string(r)+"y")
	}
	all = append(all, "", "plain", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x80", "ab\xe2\x80\xa8cd")
	for _, s := range all {
		checkJSONString(t, s)
	}
}

func FuzzAppendJSONString(f *testing.F) {
	f.Add("hello")
	f.Add("<&>\u2028\xff\x00")
	f.Fuzz(checkJSONString)
}

func checkJSONString(t *testing.T, s string) {
	want, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	if got := jsonstr.AppendHTMLSafe(nil, s); !bytes.Equal(got, want) {
		t.Errorf("AppendHTMLSafe(%q) = %s, want %s", s, got, want)
	}
	if !utf8.Valid(want) {
		t.Errorf("json.Marshal(%q) is not UTF-8", s)
	}
}

func BenchmarkEncodeDecision(b *testing.B) {
	d := realisticDecision()
	b.Run("appendDecision", func(b *testing.B) {
		var buf []byte
		b.ReportAllocs()
		for b.Loop() {
			var err error
			if buf, err = appendDecision(buf[:0], d); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(int64(len(buf)))
	})
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(d); err != nil {
				b.Fatal(err)
			}
		}
	})
}
