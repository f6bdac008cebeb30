package accounts

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkeyhq/latchkey/internal/store"
)

// metrics are the token lifecycle's numbers.
type metrics struct {
	refreshes *prometheus.CounterVec
	latency   prometheus.Histogram
}

func newMetrics(reg prometheus.Registerer, st store.Refreshing) *metrics {
	m := &metrics{
		refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_token_refreshes_total",
			Help: "Token refresh requests to providers by outcome: ok, transient, permanent.",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "latchkey_token_refresh_duration_seconds",
			Help:    "Time a provider took to answer a refresh request.",
			Buckets: prometheus.ExponentialBuckets(0.01, 2, 12),
		}),
	}
	if reg != nil {
		reg.MustRegister(m.refreshes, m.latency, &statusCollector{st: st})
	}
	return m
}

// statusCollector counts accounts by status when scraped.
type statusCollector struct{ st store.Refreshing }

var accountsDesc = prometheus.NewDesc("latchkey_accounts", "Accounts by status.", []string{"status"}, nil)

func (c *statusCollector) Describe(ch chan<- *prometheus.Desc) { ch <- accountsDesc }

func (c *statusCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	counts, err := c.st.CountAccountsByStatus(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(accountsDesc, err)
		return
	}
	for _, s := range []store.AccountStatus{store.StatusHealthy, store.StatusNeedsReconnect} {
		ch <- prometheus.MustNewConstMetric(accountsDesc, prometheus.GaugeValue, float64(counts[s]), string(s))
	}
}
