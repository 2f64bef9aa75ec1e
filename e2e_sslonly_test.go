package main

// An SSL-only PostgreSQL (ssl=on, hostssl-only pg_hba, a self-signed
// certificate), as most managed ones are, with the one variable most
// guides give for it: DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED=false. n8n
// turns TLS on for it (db-connection-options: ssl is the options object
// when rejectUnauthorized is false), so the real n8n connects; n8n-secrets
// must read it the same way, or it reaches the server in plaintext, is
// refused, and lets a node with the wrong key start.

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8nreal"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/n8ntest"
	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
	"github.com/n8n-secrets/n8n-secrets/n8n/rekey"
)

// selfSigned returns a self-signed certificate for 127.0.0.1 and its key,
// as PEM.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ssl-only-postgres"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kd, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kd})
}

// sslOnlyPostgres starts a PostgreSQL that accepts TLS connections only
// (the superuser too, over TCP; the helpers' psql prefers TLS) and
// restores the n8n 2.40 fixture into database db.
func sslOnlyPostgres(t *testing.T, db string) *pgtest.Server {
	t.Helper()
	s := pgtest.Start(t)
	n8ntest.RestorePostgres(t, s, n8ntest.Postgres2x, db)
	cert, key := selfSigned(t)
	s.EnableSSL(cert, key)
	s.SetHBA("local all all trust\n" +
		"hostssl all " + pgtest.Superuser + " 127.0.0.1/32 trust\n" +
		"hostssl all all 127.0.0.1/32 scram-sha-256\n" +
		"hostnossl all all 0.0.0.0/0 reject\n")
	// The reload is asynchronous: wait until a plaintext login is refused.
	deadline := time.Now().Add(15 * time.Second)
	for !plaintextRefused(s) {
		if time.Now().After(deadline) {
			t.Fatal("the server does not become SSL-only")
		}
		time.Sleep(100 * time.Millisecond)
	}
	return s
}

// plaintextRefused reports whether a plaintext login of the n8n role is
// refused.
func plaintextRefused(s *pgtest.Server) bool {
	return s.LoginMode("postgres", n8ntest.PGUser, n8ntest.PGPassword, "disable") != nil &&
		s.LoginMode("postgres", n8ntest.PGUser, n8ntest.PGPassword, "require") == nil
}

// TestSSLOnlyPostgres: DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED=false alone,
// against an SSL-only PostgreSQL. The precondition: the real n8n 2.40
// connects with it (and starts). Then n8n-secrets reads it as n8n does:
// the check before start refuses a worker with the wrong key (78), starts
// one with the right key, and verify-key verifies (0 with the right key,
// 78 with the wrong one), where it used to connect in plaintext and be
// refused (77), and let the wrong-key worker start under auto.
func TestSSLOnlyPostgres(t *testing.T) {
	in := n8nreal.V2(t)
	s := sslOnlyPostgres(t, "n8nssl")
	dbEnv := []string{"DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST=" + s.Host, "DB_POSTGRESDB_PORT=" + strconv.Itoa(s.Port),
		"DB_POSTGRESDB_DATABASE=n8nssl", "DB_POSTGRESDB_USER=" + n8ntest.PGUser, "DB_POSTGRESDB_PASSWORD=" + n8ntest.PGPassword,
		"DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED=false"}

	// The precondition: n8n itself connects over TLS with these settings.
	node := n8nreal.NewNode(t, in, append([]string{"N8N_ENCRYPTION_KEY=" + n8ntest.Key}, dbEnv...)...)
	p, err := node.Start()
	if err != nil {
		t.Fatalf("the real n8n %s does not start against the SSL-only PostgreSQL: %v\n%s", in.Version, err, lastLines(n8nreal.OutputOf(err), 30))
	}
	// n8n's sessions, while it runs, are all TLS.
	tlsSessions := func(ssl bool) string {
		return strings.TrimSpace(s.Exec("postgres", fmt.Sprintf("SELECT count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = 'n8nssl' AND s.ssl = %v", ssl)))
	}
	if plain, enc := tlsSessions(false), tlsSessions(true); plain != "0" || enc == "0" {
		t.Fatalf("n8n's sessions: %s without TLS, %s with", plain, enc)
	}
	if err := p.Stop(); err != nil {
		t.Fatal(err)
	}

	ke := newKeyE2E(t, n8ntest.SQLite2x)
	ke.canaries = append(ke.canaries, n8ntest.PGPassword)
	worker := fakeN8N(t, "n8n")
	wrong := append([]string{"N8N_ENCRYPTION_KEY=file:new_key", "E2E_CHILD_EXIT=0"}, dbEnv...)
	right := append([]string{"N8N_ENCRYPTION_KEY=file:n8n_key", "E2E_CHILD_EXIT=0"}, dbEnv...)
	r := ke.run(wrong, "--", worker, "worker")
	if r.code != 78 || r.child != nil || !strings.Contains(r.stderr, rekey.CodeKeyDBMismatch.Name()) {
		t.Fatalf("a worker with the wrong key: exit %d, started %v, want 78\n%s", r.code, r.child != nil, r.stderr)
	}
	r = ke.run(right, "--", worker, "worker")
	if r.code != 0 || r.child == nil || !strings.Contains(r.stderr, rekey.CodeKeyDBVerified.Name()) {
		t.Fatalf("a worker with the right key: exit %d\n%s", r.code, r.stderr)
	}
	if r = ke.run(right, "verify-key"); r.code != 0 {
		t.Fatalf("verify-key with the right key: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if r = ke.run(wrong, "verify-key"); r.code != 78 {
		t.Fatalf("verify-key with the wrong key: exit %d, want 78\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}
