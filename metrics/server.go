package metrics

import (
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// Path is the one path the endpoint serves.
const Path = "/metrics"

// ParseAddr validates a listen address, [HOST]:PORT, and returns the
// address to bind. An empty host is loopback (127.0.0.1): every other
// interface must be named (0.0.0.0, [::], an interface's IP). HOST is an
// IP address or localhost, never a name to resolve; PORT is 0 to 65535
// (0: the system picks a free one, logged with CodeListening). The error
// says what is wrong, never repeating the input.
func ParseAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", errors.New("must be [HOST]:PORT, like :9464 (loopback) or 0.0.0.0:9464 (every interface)")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || port == "" {
		return "", errors.New("the port must be a number from 0 to 65535")
	}
	switch {
	case host == "" || host == "localhost":
		host = "127.0.0.1"
	case net.ParseIP(host) == nil:
		return "", errors.New("the host must be an IP address (0.0.0.0 for every interface) or localhost, or be left out for loopback")
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// Server is a metrics endpoint: bound by Listen (before anything else
// happens, so that a bad address changes nothing), serving once Serve is
// called.
type Server struct {
	ln  net.Listener
	srv *http.Server
	log *slog.Logger
	// done is closed when Serve's goroutine returns.
	done chan struct{}
}

// Listen binds addr, an address ParseAddr returned. The error names the
// kind of problem (in use, not permitted, not an address of this host).
func Listen(addr string, logger *slog.Logger) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		switch {
		case errors.Is(err, syscall.EADDRINUSE):
			return nil, errors.New("cannot listen: the address is in use")
		case errors.Is(err, syscall.EACCES):
			return nil, errors.New("cannot listen: permission denied (ports below 1024 need privileges)")
		case errors.Is(err, syscall.EADDRNOTAVAIL):
			return nil, errors.New("cannot listen: not an address of this host")
		default:
			return nil, fmt.Errorf("cannot listen: %w", err)
		}
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Server{ln: ln, log: logger}, nil
}

// Addr returns the address bound.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Handler returns the endpoint's handler: GET or HEAD of Path, the state
// get returns, written at the time of the request.
func Handler(get func() State) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != Path {
			http.NotFound(w, r)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		Write(w, get(), time.Now())
	})
}

// Serve serves get's state in a goroutine of its own, and logs
// CodeListening.
func (s *Server) Serve(get func() State) {
	s.srv = &http.Server{
		Handler:           Handler(get),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    8 << 10,
		// net/http's own complaints (a client's TLS handshake on a plain
		// port, …) are not the supervisor's log lines: every line of
		// those is JSON with a code.
		ErrorLog: log.New(discard{}, "", 0),
	}
	s.done = make(chan struct{})
	s.log.Info("metrics endpoint listening", "code", CodeListening, "addr", s.Addr(), "path", Path)
	go func() {
		defer close(s.done)
		if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Warn("the metrics endpoint stopped: the command runs on without it", "code", CodeServeFailed,
				"error", err.Error())
		}
	}()
}

// Close stops the endpoint, waiting at most a second for scrapes in
// flight. It may be called whether Serve was or not, and more than once.
func (s *Server) Close() {
	if s == nil {
		return
	}
	if s.srv == nil {
		_ = s.ln.Close()
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	<-s.done
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
