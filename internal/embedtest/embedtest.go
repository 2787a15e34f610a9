// Package embedtest is a deterministic fake of an OpenAI-compatible embeddings upstream on
// loopback, and synthetic outcomes whose pass/fail signal only the fake's embeddings carry:
// for tests of learned routers trained with embeddings.
package embedtest

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/clearbar/clearbar/outcomes"
)

// Model is the model id the fake serves.
const Model = "text-embedding-3-small"

// Difficulty is a synthetic prompt's hidden difficulty, in ±[0.5, 1.5): a pseudo-random
// function of the whole text, which no word of it predicts. Positive is hard.
func Difficulty(text string) float64 {
	h := fnv.New64a()
	io.WriteString(h, text)
	x := h.Sum64()
	u := float64(x>>11) / (1 << 53)
	d := 0.5 + float64(x&0xffff)/0x10000
	if u < 0.4 {
		return d
	}
	return -d
}

// Hard reports whether a synthetic prompt is hard: the cheap model fails it.
func Hard(text string) bool { return Difficulty(text) > 0 }

// direction is the unit vector along which Vector encodes difficulty.
func direction(dims int) []float64 {
	r := rand.New(rand.NewPCG(7, 11))
	u := make([]float64, dims)
	var ss float64
	for i := range u {
		u[i] = r.NormFloat64()
		ss += u[i] * u[i]
	}
	for i := range u {
		u[i] /= math.Sqrt(ss)
	}
	return u
}

// Vector is the fake's embedding of text: a constant offset (so that the vectors are not
// centred, as real ones are not), plus 3 × Difficulty(text) along a fixed direction, plus
// noise seeded by the text.
func Vector(text string, dims int) []float32 {
	h := fnv.New64a()
	io.WriteString(h, text)
	r := rand.New(rand.NewPCG(h.Sum64(), 3))
	d := Difficulty(text)
	u := direction(dims)
	v := make([]float32, dims)
	for i := range v {
		v[i] = float32(0.3 + 3*d*u[i] + 0.5*r.NormFloat64())
	}
	return v
}

var vocabulary = strings.Fields(`please review the following customer message and reply with care about
order account billing refund shipping delay address password login invoice product warranty
return exchange support team today soon update status question issue request change cancel`)

// Prompt is the i-th synthetic prompt: words drawn from one vocabulary whatever the prompt's
// difficulty, so that only its embedding tells how hard it is.
func Prompt(i int) string {
	r := rand.New(rand.NewPCG(uint64(i), 5))
	words := make([]string, 14)
	for k := range words {
		words[k] = vocabulary[r.IntN(len(vocabulary))]
	}
	return "Ticket " + strconv.Itoa(1000+i) + ": " + strings.Join(words, " ") + "."
}

// Rows returns outcome rows of items from..to-1 in category qa: model "small" passes the easy
// prompts only, "strong" passes every prompt.
func Rows(from, to int) []outcomes.Row {
	yes, no := true, false
	var rows []outcomes.Row
	for i := from; i < to; i++ {
		p := Prompt(i)
		small := &yes
		if Hard(p) {
			small = &no
		}
		item := "t" + strconv.Itoa(i)
		rows = append(rows,
			outcomes.Row{Item: item, Category: "qa", Prompt: p, Model: "small", Pass: small},
			outcomes.Row{Item: item, Category: "qa", Prompt: p, Model: "strong", Pass: &yes})
	}
	return rows
}

// Server is the fake upstream: POST /v1/embeddings answers with Vector of each input, in
// the encoding asked for (float arrays by default). It counts calls and texts, and can be
// made to fail (503) or to answer late.
type Server struct {
	*httptest.Server
	// Dims is the vectors' length when a call does not ask for dimensions.
	Dims int
	// Calls and Texts count the embeddings calls answered and the texts they held.
	Calls, Texts atomic.Int64
	// Fail makes every call fail with 503; Delay makes every call wait this long first.
	Fail  atomic.Bool
	Delay atomic.Int64 // nanoseconds
}

// NewServer starts a fake upstream on loopback, closed when the test ends. Its base URL for
// an openai-compatible provider is URL + "/v1".
func NewServer(t testing.TB, dims int) *Server {
	s := &Server{Dims: dims}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":{"message":"not found","type":"invalid_request_error"}}`)
		return
	}
	if d := time.Duration(s.Delay.Load()); d > 0 {
		select {
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	if s.Fail.Load() {
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"message":"the embeddings service is down","type":"server_error"}}`)
		return
	}
	var req struct {
		Model          string          `json:"model"`
		Input          json.RawMessage `json:"input"`
		EncodingFormat string          `json:"encoding_format"`
		Dimensions     int             `json:"dimensions"`
	}
	var texts []string
	err := json.NewDecoder(r.Body).Decode(&req)
	if err == nil {
		if err = json.Unmarshal(req.Input, &texts); err != nil {
			var one string
			if err = json.Unmarshal(req.Input, &one); err == nil {
				texts = []string{one}
			}
		}
	}
	if err != nil || req.Model != Model || len(texts) == 0 {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":{"message":"want model %s and input texts","type":"invalid_request_error"}}`, Model)
		return
	}
	dims := s.Dims
	if req.Dimensions > 0 {
		dims = req.Dimensions
	}
	s.Calls.Add(1)
	s.Texts.Add(int64(len(texts)))
	var b strings.Builder
	b.WriteString(`{"object":"list","data":[`)
	for i, t := range texts {
		if i > 0 {
			b.WriteByte(',')
		}
		v := Vector(t, dims)
		fmt.Fprintf(&b, `{"object":"embedding","index":%d,"embedding":`, i)
		if req.EncodingFormat == "base64" {
			raw := make([]byte, 4*len(v))
			for k, x := range v {
				binary.LittleEndian.PutUint32(raw[4*k:], math.Float32bits(x))
			}
			b.WriteString(`"` + base64.StdEncoding.EncodeToString(raw) + `"`)
		} else {
			b.WriteByte('[')
			for k, x := range v {
				if k > 0 {
					b.WriteByte(',')
				}
				b.WriteString(strconv.FormatFloat(float64(x), 'g', -1, 32))
			}
			b.WriteByte(']')
		}
		b.WriteByte('}')
	}
	fmt.Fprintf(&b, `],"model":"%s","usage":{"prompt_tokens":%d,"total_tokens":%d}}`, Model, 8*len(texts), 8*len(texts))
	io.WriteString(w, b.String())
}
