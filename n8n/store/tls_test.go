package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/n8n-secrets/n8n-secrets/internal/testenv/pgtest"
)

// certPair makes a certificate for 127.0.0.1 signed by a new CA, and
// returns the CA's PEM and the server's certificate and key PEMs.
func certPair(t *testing.T) (caPEM, certPEM, keyPEM []byte) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	srvKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	srv := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	srvDER, err := x509.CreateCertificate(rand.Reader, srv, ca, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, _ := x509.MarshalECPrivateKey(srvKey)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srvDER}),
		pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

// TestPostgresTLS: SSL from n8n's variables against a real PostgreSQL with
// TLS on: the CA as PEM contents and as a path, the connection really
// encrypted, a wrong CA refused, and accepted with
// DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED=false.
func TestPostgresTLS(t *testing.T) {
	s := pgtest.Start(t)
	caPEM, certPEM, keyPEM := certPair(t)
	// Not t.TempDir: its parent is private, and the server runs as nobody.
	dir, err := os.MkdirTemp("", "store-tls-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			// The server runs as nobody and must own its key.
			u, err := user.Lookup("nobody")
			if err != nil {
				t.Fatal(err)
			}
			uid, _ := strconv.Atoi(u.Uid)
			gid, _ := strconv.Atoi(u.Gid)
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	cert, key := write("server.crt", certPEM), write("server.key", keyPEM)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	s.Exec("postgres", "ALTER SYSTEM SET ssl_cert_file = '"+cert+"'")
	s.Exec("postgres", "ALTER SYSTEM SET ssl_key_file = '"+key+"'")
	s.Exec("postgres", "ALTER SYSTEM SET ssl = on")
	s.Exec("postgres", "SELECT pg_reload_conf()")
	s.CreateDatabase("tlsdb", "n8n", "pw")

	env := func(kv ...string) map[string]string {
		m := map[string]string{"DB_TYPE": "postgresdb", "DB_POSTGRESDB_HOST": s.Host, "DB_POSTGRESDB_PORT": strconv.Itoa(s.Port),
			"DB_POSTGRESDB_DATABASE": "tlsdb", "DB_POSTGRESDB_USER": "n8n", "DB_POSTGRESDB_PASSWORD": "pw"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	ctx := context.Background()
	open := func(m map[string]string) (*DB, error) {
		cfg, err := FromEnv(m)
		if err != nil {
			t.Fatal(err)
		}
		return Open(ctx, cfg, Options{ReadOnly: true})
	}
	// The CA as PEM contents (n8n passes the value to TLS as it is), and
	// NODE_EXTRA_CA_CERTS with DB_POSTGRESDB_SSL_ENABLED (Node.js adds it
	// to its default CAs).
	for _, e := range []map[string]string{
		env("DB_POSTGRESDB_SSL_CA", string(caPEM)),
		env("DB_POSTGRESDB_SSL_ENABLED", "true", "NODE_EXTRA_CA_CERTS", caFile),
	} {
		var db *DB
		var err error
		for range 50 { // the reload is asynchronous
			if db, err = open(e); err == nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if err != nil {
			t.Fatalf("TLS with the right CA: %v\n%s", err, s.Log())
		}
		var ssl bool
		if err := db.SQL().QueryRowContext(ctx, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").Scan(&ssl); err != nil || !ssl {
			t.Fatalf("the connection is not encrypted: %v", err)
		}
		db.Close()
	}
	otherCA, _, _ := certPair(t)
	_, err = open(env("DB_POSTGRESDB_SSL_CA", string(otherCA)))
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a wrong CA: want a refused certificate, got %v", err)
	}
	db, err := open(env("DB_POSTGRESDB_SSL_CA", string(otherCA), "DB_POSTGRESDB_SSL_REJECT_UNAUTHORIZED", "false"))
	if err != nil {
		t.Fatalf("REJECT_UNAUTHORIZED=false: %v", err)
	}
	db.Close()
	// A path where n8n wants PEM: Node.js finds no certificate in it and
	// trusts none, so n8n cannot connect; neither does n8n-secrets, and it
	// says why.
	if _, err := open(env("DB_POSTGRESDB_SSL_CA", caFile)); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "DB_POSTGRESDB_SSL_CA_FILE") {
		t.Fatalf("a CA path: %v", err)
	}
	// Without a CA, the system's CAs: this one's certificate is refused,
	// unless NODE_TLS_REJECT_UNAUTHORIZED=0 turns Node.js's check off
	// (n8n passes ssl: true, so Node.js's default applies).
	if _, err := open(env("DB_POSTGRESDB_SSL_ENABLED", "true")); !errors.Is(err, ErrConfig) {
		t.Fatalf("no CA: %v", err)
	}
	db, err = open(env("DB_POSTGRESDB_SSL_ENABLED", "true", "NODE_TLS_REJECT_UNAUTHORIZED", "0"))
	if err != nil {
		t.Fatalf("NODE_TLS_REJECT_UNAUTHORIZED=0: %v", err)
	}
	db.Close()
}
