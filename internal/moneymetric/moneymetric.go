// Package moneymetric is a Prometheus counter vector of amounts of money that keeps each
// series' sum in integer nano-dollars (clearbar.Money), as decisions do, and exports it in
// dollars at scrape time: a float counter adding fractions of a cent drifts
// (0.00622200000000002), an integer sum does not.
package moneymetric

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/clearbar/clearbar"
)

// Vec is a counter vector of amounts of money. Series appear with their first amount. It is
// safe for concurrent use; adding to an existing series takes a read lock and an atomic add.
type Vec struct {
	desc   *prometheus.Desc
	labels int
	mu     sync.RWMutex
	sums   map[string]*series
}

type series struct {
	values []string
	sum    atomic.Int64
}

// New returns a vector named name, with help, and the given label names.
func New(name, help string, labels ...string) *Vec {
	return &Vec{desc: prometheus.NewDesc(name, help, labels, nil), labels: len(labels), sums: map[string]*series{}}
}

// Add adds amount to the series of the label values, given in the order of the labels. A
// negative or zero amount, which a counter cannot take, is ignored.
func (v *Vec) Add(amount clearbar.Money, values ...string) {
	if amount <= 0 {
		return
	}
	if len(values) != v.labels {
		panic("moneymetric: wrong number of label values")
	}
	// The key joins the values with a byte no UTF-8 text holds, in a buffer on the stack:
	// looking a series up allocates nothing.
	var buf [128]byte
	k := buf[:0]
	for i, x := range values {
		if i > 0 {
			k = append(k, 0xff)
		}
		k = append(k, x...)
	}
	v.mu.RLock()
	s, ok := v.sums[string(k)]
	v.mu.RUnlock()
	if !ok {
		v.mu.Lock()
		if s, ok = v.sums[string(k)]; !ok {
			s = &series{values: append([]string(nil), values...)}
			v.sums[string(k)] = s
		}
		v.mu.Unlock()
	}
	s.sum.Add(int64(amount))
}

// Describe implements prometheus.Collector.
func (v *Vec) Describe(ch chan<- *prometheus.Desc) { ch <- v.desc }

// Collect implements prometheus.Collector.
func (v *Vec) Collect(ch chan<- prometheus.Metric) {
	v.mu.RLock()
	defer v.mu.RUnlock()
	for _, s := range v.sums {
		ch <- prometheus.MustNewConstMetric(v.desc, prometheus.CounterValue, clearbar.Money(s.sum.Load()).USD(), s.values...)
	}
}

var _ prometheus.Collector = (*Vec)(nil)
