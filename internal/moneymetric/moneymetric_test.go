package moneymetric

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearbar/clearbar"
)

// TestSumsDoNotDrift: amounts summed in nano-dollars export exactly (20 × $0.000311 reads
// 0.00622, where float additions give 0.0062200000000000015); series keep their label
// values apart, whatever the values hold; nothing is added for a zero or negative amount.
func TestSumsDoNotDrift(t *testing.T) {
	v := New("test_cost_usd_total", "test", "category", "model")
	amount := clearbar.MoneyFromUSD(0.000311)
	for range 20 {
		v.Add(amount, "a", "m")
	}
	v.Add(clearbar.MoneyFromUSD(0.5), "a m", "")
	v.Add(0, "b", "m")
	v.Add(-5, "b", "m")
	r := prometheus.NewPedanticRegistry()
	r.MustRegister(v)
	mfs, err := r.Gather()
	if err != nil {
		t.Fatal(err)
	}
	if len(mfs) != 1 || mfs[0].GetName() != "test_cost_usd_total" || mfs[0].GetType().String() != "COUNTER" {
		t.Fatalf("families %v", mfs)
	}
	got := map[[2]string]float64{}
	for _, m := range mfs[0].GetMetric() {
		var k [2]string
		for _, l := range m.GetLabel() {
			switch l.GetName() {
			case "category":
				k[0] = l.GetValue()
			case "model":
				k[1] = l.GetValue()
			}
		}
		got[k] = m.GetCounter().GetValue()
	}
	want := map[[2]string]float64{{"a", "m"}: 0.00622, {"a m", ""}: 0.5}
	if len(got) != len(want) {
		t.Errorf("series %v, want %v", got, want)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("series %q: %v, want exactly %v", k, got[k], w)
		}
	}
	var float float64
	for range 20 {
		float += amount.USD()
	}
	if float == 0.00622 {
		t.Logf("float additions happen not to drift here (%v)", float)
	}
}

// TestAddAllocatesNothing: adding to an existing series allocates nothing, as it runs for
// every call a request makes.
func TestAddAllocatesNothing(t *testing.T) {
	v := New("test_cost_usd_total", "test", "category", "model")
	v.Add(1, "category", "model")
	if n := testing.AllocsPerRun(100, func() { v.Add(1, "category", "model") }); n != 0 {
		t.Errorf("%v allocations per Add", n)
	}
}

func BenchmarkAdd(b *testing.B) {
	v := New("test_cost_usd_total", "test", "category", "model")
	b.ReportAllocs()
	for b.Loop() {
		v.Add(1, "refund-dispute", "claude-sonnet-4-5")
	}
}
