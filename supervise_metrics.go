package main

// The metrics endpoint of supervise mode (N8N_SECRETS_METRICS_ADDR):
// bound before anything is fetched, so that an address that cannot be
// used refuses the start and changes nothing; served once the secrets
// are kept, from the snapshot each round publishes.

import (
	"log/slog"

	"github.com/n8n-secrets/n8n-secrets/metrics"
)

// listenMetrics binds the metrics endpoint the settings ask for: nil when
// they ask for none. Its error names the variable (or flag).
func listenMetrics(s *settings, log *slog.Logger) (*metrics.Server, error) {
	if s.MetricsAddr == "" {
		return nil, nil
	}
	addr, err := metrics.ParseAddr(s.MetricsAddr) // validated already
	if err != nil {
		return nil, usagef("", "%s: %v", s.name("metrics-addr"), err)
	}
	srv, err := metrics.Listen(addr, log)
	if err != nil {
		return nil, usagef("pick another port, or leave the setting empty for no metrics", "%s: %v", s.name("metrics-addr"), err)
	}
	return srv, nil
}

// metricsState returns the state a scrape reports: what src published
// after its last round.
func (src *secretSource) metricsState() metrics.State {
	snap := src.Snapshot()
	return metrics.State{Watch: snap.Watch, KeyFingerprint: snap.KeyFingerprint, HeldKeyFingerprint: snap.HeldKeyFingerprint}
}
