package clearbar

import (
	"encoding/base64"
	"encoding/binary"
	"math"
	"slices"
	"testing"
)

func b64(vs ...float32) string {
	var raw []byte
	for _, v := range vs {
		raw = binary.LittleEndian.AppendUint32(raw, math.Float32bits(v))
	}
	return `"` + base64.StdEncoding.EncodeToString(raw) + `"`
}

// TestVectors: both encodings decode to the same float32 values, in index order; anything that
// is not a whole, finite float32 vector is an error, never a silently wrong vector.
func TestVectors(t *testing.T) {
	r := &EmbedResponse{Body: []byte(`{"data":[{"index":1,"embedding":` + b64(0.1, -2) + `},{"index":0,"embedding":[0.5,3e-8]}]}`)}
	got, err := r.Vectors()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || !slices.Equal(got[0], []float32{0.5, 3e-8}) || !slices.Equal(got[1], []float32{0.1, -2}) {
		t.Errorf("Vectors = %v", got)
	}
	for _, tt := range []struct{ explanation, embedding string }{
		{"a null in a float vector", `[0.5,null]`},
		{"a string in a float vector", `[0.5,"x"]`},
		{"beyond float32", `[1e39]`},
		{"an empty vector", `[]`},
		{"5 bytes of base64", `"AAAAAAA="`},
		{"NaN", b64(float32(math.NaN()))},
		{"infinity", b64(float32(math.Inf(1)))},
		{"null", `null`},
	} {
		r := &EmbedResponse{Body: []byte(`{"data":[{"index":0,"embedding":` + tt.embedding + `}]}`)}
		if v, err := r.Vectors(); err == nil {
			t.Errorf("%s: no error, got %v", tt.explanation, v)
		}
	}
	for _, body := range []string{`{"data":[{"index":0,"embedding":[1]},{"index":0,"embedding":[2]}]}`, `{"data":[{"index":2,"embedding":[1]}]}`} {
		if _, err := (&EmbedResponse{Body: []byte(body)}).Vectors(); err == nil {
			t.Errorf("%s: no error", body)
		}
	}
}
