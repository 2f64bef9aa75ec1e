package main

// The metrics endpoint of supervise mode (N8N_SECRETS_METRICS_ADDR):
// bound before anything is fetched, so that an address that cannot be
// used refuses the start and changes nothing; served once the secrets
// are kept, from the snapshot each round publishes.

import (
	"log/slog"

	"github.com/n8n-secrets/n8n-secrets/internal/settings"
	"github.com/n8n-secrets/n8n-secrets/metrics"
	"github.com/n8n-secrets/n8n-secrets/start"
)

// listenMetrics binds the metrics endpoint the settings ask for: nil when
// they ask for none. Its error names the variable (or flag).
func listenMetrics(s *settings.Settings, log *slog.Logger) (*metrics.Server, error) {
	if s.MetricsAddr == "" {
		return nil, nil
	}
	addr, err := metrics.ParseAddr(s.MetricsAddr) // validated already
	if err != nil {
		return nil, settings.Usagef("", "%s: %v", s.Name("metrics-addr"), err)
	}
	srv, err := metrics.Listen(addr, log)
	if err != nil {
		return nil, settings.Usagef("pick another port, or leave the setting empty for no metrics", "%s: %v", s.Name("metrics-addr"), err)
	}
	return srv, nil
}

// metricsState returns the state a scrape reports: what src published
// after its last round.
func metricsState(src *start.Source) metrics.State {
	snap := src.Snapshot()
	return metrics.State{Watch: snap.Watch, KeyFingerprint: snap.KeyFingerprint, HeldKeyFingerprint: snap.HeldKeyFingerprint}
}
