package jsonguard

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/gjson"
)

// samples are valid and invalid documents around every rule of the grammar.
var samples = []string{
	``, ` `, `{}`, ` { } `, `[]`, `[ ]`, `{`, `}`, `[`, `]`, `[}`, `{]`, `[1,]`, `[,1]`, `{"a":1,}`, `{,}`,
	`{"a"}`, `{"a":}`, `{"a" 1}`, `{"a":1 "b":2}`, `{"a":1,"b":[true,false,null]}`, `{1:2}`, `{'a':1}`,
	`"x"`, `"x`, `x`, `"\"`, `"\\"`, `"\/\b\f\n\r\t"`, `"\u00e9\uD83D\uDE00"`, `"\u12"`, `"\u12G4"`, `"\x"`,
	"\"a\x01b\"", "\"tab\there\"", `"é 中文 🎉"`, "\"\xff\xfe\"", `"` + strings.Repeat(`a"`, 3),
	`0`, `-0`, `-`, `-a`, `01`, `1.`, `1.5`, `.5`, `1e`, `1e5`, `1E+5`, `1e-5`, `1e+`, `-1.5e10`, `1.5.5`, `0x10`,
	`+1`, `1 2`, `[1 2]`, `true`, `tru`, `truex`, `false`, `fals`, `null`, `nul`, `nulll`, `[true]`, `[truex]`,
	`{"a":{"b":{"c":[1,{"d":"e"}]}}}`, "\t\n\r [1]\r\n", `[1]x`, `[1]]`, `[[1]`, `{"a":1}}`, `{"a":[}`,
	`{"model":"m","messages":[{"role":"user","content":"hi"}]}`, `[{},[],{"":""}]`, `{"":{"":{"":[]}}}`,
}

// TestCheckIsGjsonValid: Check accepts exactly what gjson.ValidBytes accepts, on documents
// within MaxDepth.
func TestCheckIsGjsonValid(t *testing.T) {
	for _, s := range samples {
		if got, want := Check([]byte(s)) == nil, gjson.Valid(s); got != want {
			t.Errorf("Check(%q) = %v, gjson.Valid %v", s, Check([]byte(s)), want)
		}
		if got, want := CheckString(s) == nil, gjson.Valid(s); got != want {
			t.Errorf("CheckString(%q) valid %v, gjson.Valid %v", s, got, want)
		}
	}
}

// TestCheckStrings: strings scanned eight bytes at a time stop at a quote, a backslash or a
// control character at every offset, and a multi-byte character never hides one.
func TestCheckStrings(t *testing.T) {
	for n := range 20 {
		pad := strings.Repeat("é", n/2) + strings.Repeat("a", n%2)
		for _, mid := range []string{`\"`, `\\`, "\x00", "\x1f", "\n", `"`, `\u0041`, `\q`, "\x7f", "\xff", "~", " "} {
			for _, s := range []string{`"` + pad + mid + pad + `"`, `["` + pad + mid + `"]`, `"` + pad + mid} {
				if got, want := Check([]byte(s)) == nil, gjson.Valid(s); got != want {
					t.Errorf("Check(%q) = %v, gjson.Valid %v", s, Check([]byte(s)), want)
				}
			}
		}
	}
}

// TestCheckRandom: random edits of valid documents (which are mostly invalid, at every point of
// the grammar) are judged as gjson judges them.
func TestCheckRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte(`{}[]":,\ 0123456789-+.eEtrufalsn` + "\t\n\x01aé")
	for i := range 200000 {
		b := []byte(samples[rng.IntN(len(samples))])
		if rng.IntN(3) == 0 {
			b = append(b, samples[rng.IntN(len(samples))]...)
		}
		for range rng.IntN(4) {
			switch pos := rng.IntN(len(b) + 1); rng.IntN(3) {
			case 0: // insert
				b = append(b[:pos], append([]byte{alphabet[rng.IntN(len(alphabet))]}, b[pos:]...)...)
			case 1: // delete
				if pos < len(b) {
					b = append(b[:pos], b[pos+1:]...)
				}
			default: // replace
				if pos < len(b) {
					b[pos] = alphabet[rng.IntN(len(alphabet))]
				}
			}
		}
		if got, want := Check(b) == nil, gjson.ValidBytes(b); got != want {
			t.Fatalf("#%d: Check(%q) = %v, gjson.ValidBytes %v", i, b, Check(b), want)
		}
	}
}

// FuzzCheck: within MaxDepth, Check is gjson.ValidBytes; beyond it, valid JSON is ErrTooDeep.
func FuzzCheck(f *testing.F) {
	for _, s := range samples {
		f.Add([]byte(s))
	}
	f.Add([]byte(strings.Repeat("[", MaxDepth) + strings.Repeat("]", MaxDepth)))
	f.Fuzz(func(t *testing.T, b []byte) {
		err := Check(b)
		if TooDeep(b, MaxDepth) {
			if gjson.ValidBytes(b) && err != ErrTooDeep {
				t.Fatalf("Check(%q) = %v, want ErrTooDeep", b, err)
			}
			return
		}
		if err == ErrTooDeep {
			t.Fatalf("Check(%q) = ErrTooDeep, but it is within MaxDepth", b)
		}
		if got, want := err == nil, gjson.ValidBytes(b); got != want {
			t.Fatalf("Check(%q) = %v, gjson.ValidBytes %v", b, err, want)
		}
	})
}

// nest returns n arrays (or objects, with a member each) nested around a number.
func nest(n int, objects bool) []byte {
	open, closer := "[", "]"
	if objects {
		open, closer = `{"a":`, "}"
	}
	return []byte(strings.Repeat(open, n) + "1" + strings.Repeat(closer, n))
}

// TestCheckDepth: MaxDepth levels are accepted, one more is ErrTooDeep, whatever follows.
func TestCheckDepth(t *testing.T) {
	for _, objects := range []bool{false, true} {
		if err := Check(nest(MaxDepth, objects)); err != nil {
			t.Errorf("objects %v: %d levels: %v, want nil", objects, MaxDepth, err)
		}
		if err := Check(nest(MaxDepth+1, objects)); !errors.Is(err, ErrTooDeep) {
			t.Errorf("objects %v: %d levels: %v, want ErrTooDeep", objects, MaxDepth+1, err)
		}
	}
	// Siblings do not add up: depth is the nesting, not the count of containers.
	wide := "[" + strings.Repeat(string(nest(MaxDepth-1, true))+",", 1000) + "1]"
	if err := Check([]byte(wide)); err != nil {
		t.Errorf("1000 siblings %d deep: %v", MaxDepth, err)
	}
	// Too deep and unterminated: refused on reaching the limit.
	if err := Check([]byte(strings.Repeat("[", MaxDepth+1))); err != ErrTooDeep {
		t.Errorf("unterminated: %v, want ErrTooDeep", err)
	}
}

// TestCheckHuge: ten million levels, which overflow gjson's validator's stack and kill the
// process, are refused at once.
func TestCheckHuge(t *testing.T) {
	const n = 10_000_000
	body := []byte(`{"model":"m","x":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	start := time.Now()
	if err := Check(body); err != ErrTooDeep {
		t.Errorf("Check: %v, want ErrTooDeep", err)
	}
	if !TooDeep(body, MaxDepth) {
		t.Error("TooDeep: false")
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %v", d)
	}
}

// TestTooDeep: brackets in strings (escaped quotes included) do not count, stray closers do
// not go below zero, and invalid text is measured all the same.
func TestTooDeep(t *testing.T) {
	tests := []struct {
		text string
		max  int
		want bool
	}{
		{``, 0, false},
		{`[]`, 0, true},
		{`[]`, 1, false},
		{`[[]]`, 1, true},
		{`[][][]`, 1, false},
		{`{"a":{"b":1}}`, 2, false},
		{`{"a":{"b":{}}}`, 2, true},
		{`"[[[[["`, 1, false},
		{`["\"[[[["]`, 1, false},
		{`["\\",[[`, 2, true},
		{`]]]][[`, 1, true},
		{`]]]][`, 1, false},
		{`not json [ at [ all`, 1, true},
		{`"unterminated [[[[`, 1, false},
	}
	for _, tt := range tests {
		if got := TooDeep([]byte(tt.text), tt.max); got != tt.want {
			t.Errorf("TooDeep(%q, %d) = %v, want %v", tt.text, tt.max, got, tt.want)
		}
		if got := TooDeepString(tt.text, tt.max); got != tt.want {
			t.Errorf("TooDeepString(%q, %d) = %v, want %v", tt.text, tt.max, got, tt.want)
		}
	}
}

// TestCheckAllocs: Check allocates nothing.
func TestCheckAllocs(t *testing.T) {
	body := chatBody(2 << 10)
	if n := testing.AllocsPerRun(100, func() { Check(body) }); n != 0 {
		t.Errorf("%v allocations, want 0", n)
	}
}

// chatBody returns a chat completions request of about size bytes: a system prompt, a tool
// with a JSON Schema, and a conversation of user and assistant turns of prose, one with a
// tool call and its result.
func chatBody(size int) []byte {
	var b strings.Builder
	b.WriteString(`{"model":"gpt-4.1-mini","temperature":0.2,"max_completion_tokens":512,"stream":false,` +
		`"tools":[{"type":"function","function":{"name":"lookup_order","description":"Find an order by its id",` +
		`"parameters":{"type":"object","required":["order_id"],"properties":{"order_id":{"type":"string","pattern":"^[A-Z0-9]{8}$"},` +
		`"fields":{"type":"array","items":{"type":"string","enum":["status","items","total"]}}},"additionalProperties":false}}}],` +
		`"messages":[{"role":"system","content":"You are a support assistant for an online shop. Answer briefly and politely; ` +
		`use the tools to look orders up.\nNever promise refunds."},` +
		`{"role":"user","content":"Where is my order AB12CD34? It was due on Monday."},` +
		`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"lookup_order","arguments":"{\"order_id\":\"AB12CD34\",\"fields\":[\"status\"]}"}}]},` +
		`{"role":"tool","tool_call_id":"call_1","content":"{\"status\":\"shipped\",\"carrier\":\"DHL\",\"eta\":\"2026-11-04\"}"}`)
	turn := `,{"role":"user","content":"Thanks. Could you also tell me whether the \"express\" option applies to the next order, and what it costs? I'd like it delivered before the 12th."},` +
		`{"role":"assistant","content":"Of course! Express delivery costs 9.90 € and arrives in 1–2 working days; orders placed before 2 pm ship the same day."}`
	for b.Len()+len(turn)+2 <= size {
		b.WriteString(turn)
	}
	b.WriteString("]}")
	return []byte(b.String())
}

func benchBodies() []struct {
	name string
	body []byte
} {
	return []struct {
		name string
		body []byte
	}{{"2KB", chatBody(2 << 10)}, {"1MB", chatBody(1 << 20)}}
}

// BenchmarkCheck against BenchmarkGjsonValidBytes: the check that replaces gjson's validator
// on every request.
func BenchmarkCheck(b *testing.B) {
	for _, bb := range benchBodies() {
		if Check(bb.body) != nil || !gjson.ValidBytes(bb.body) {
			b.Fatal("invalid benchmark body")
		}
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				Check(bb.body)
			}
		})
	}
}

func BenchmarkGjsonValidBytes(b *testing.B) {
	for _, bb := range benchBodies() {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				gjson.ValidBytes(bb.body)
			}
		})
	}
}

// BenchmarkCheckThenGjson is the cost of a separate depth pre-scan followed by gjson's
// validator, the alternative to replacing the validator.
func BenchmarkTooDeepThenGjson(b *testing.B) {
	for _, bb := range benchBodies() {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				_ = !TooDeep(bb.body, MaxDepth) && gjson.ValidBytes(bb.body)
			}
		})
	}
}

// TestNesting: text given in pieces, split anywhere (inside a string, between a backslash and
// the quote it escapes), measures as the whole text does.
func TestNesting(t *testing.T) {
	texts := []string{`{"a":[[1]]}`, `["\"[[[[","]]"]`, `["\\",[[`, `]]]][[`, `{"k":"{{{{","v":{"w":[{}]}}`, `"[[[`}
	for _, text := range texts {
		for max := range 5 {
			want := TooDeepString(text, max)
			for i := range len(text) + 1 {
				for j := i; j <= len(text); j++ {
					var n Nesting
					got := n.Add(text[:i], max)
					got = n.Add(text[i:j], max) || got
					got = n.Add(text[j:], max) || got
					if got != want {
						t.Fatalf("%q split at %d and %d, max %d: %v, want %v", text, i, j, max, got, want)
					}
				}
			}
		}
	}
	// Many shallow pieces add up.
	var n Nesting
	for i := range MaxDepth + 1 {
		if deep := n.Add("[", MaxDepth); deep != (i == MaxDepth) {
			t.Fatalf("piece %d: %v", i, deep)
		}
	}
	if !n.Add("]]]]", MaxDepth) {
		t.Error("once too deep, closing brackets do not undo it")
	}
}

// TestCheckDepth: CheckDepth bounds the nesting at its max, up to MaxDepth+64.
func TestCheckDepthBound(t *testing.T) {
	for _, max := range []int{0, 1, 64, MaxDepth + 8, MaxDepth + 64} {
		if max > 0 {
			if err := CheckDepth(nest(max, max%2 == 0), max); err != nil {
				t.Errorf("max %d: %d levels: %v", max, max, err)
			}
		}
		if err := CheckDepth(nest(max+1, false), max); err != ErrTooDeep {
			t.Errorf("max %d: %d levels: %v, want ErrTooDeep", max, max+1, err)
		}
	}
	if err := CheckDepth([]byte("1"), 0); err != nil {
		t.Errorf("a number at max 0: %v", err)
	}
	if err := CheckDepth(nest(MaxDepth+65, false), MaxDepth+1000); err != ErrTooDeep {
		t.Errorf("max above MaxDepth+64: %v, want ErrTooDeep at MaxDepth+64", err)
	}
}

// BenchmarkTooDeep is the bound on text that may not be JSON (tool-call arguments, tool
// results), on the same bodies.
func BenchmarkTooDeep(b *testing.B) {
	for _, bb := range benchBodies() {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.body)))
			for b.Loop() {
				TooDeep(bb.body, MaxDepth)
			}
		})
	}
}

// TestDescribe: the messages of Check's failures, one wording everywhere.
func TestDescribe(t *testing.T) {
	deep := []byte(strings.Repeat("[", MaxDepth+1) + strings.Repeat("]", MaxDepth+1))
	for _, tt := range []struct {
		data []byte
		want string
	}{
		{[]byte(`{"a":1}`), ""},
		{[]byte(`{"a":`), "the answer is not valid JSON"},
		{deep, "the answer nests arrays and objects more than 512 levels deep"},
	} {
		if got := Describe(Check(tt.data), "the answer"); got != tt.want {
			t.Errorf("Describe(%.20s) = %q, want %q", tt.data, got, tt.want)
		}
	}
	if got := DescribeDepth(CheckDepth(deep, 10), "the request body", 10); got != "the request body nests arrays and objects more than 10 levels deep" {
		t.Errorf("DescribeDepth = %q", got)
	}
}
