package dyorctlcmd

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// privateCA is a CA made for one test, and a server certificate it signed
// for dyor.test and 127.0.0.1.
type privateCA struct {
	pemFile string // the CA's certificate, PEM
	leaf    tls.Certificate
}

func newPrivateCA(t *testing.T) privateCA {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "dyorctl test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "dyor.test"},
		DNSNames:     []string{"dyor.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return privateCA{pemFile: file, leaf: tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: leafKey}}
}

// httpsMock serves c's mock over TLS with a certificate of ca; it returns
// the server's loopback address.
func httpsMock(t *testing.T, c *cli, ca privateCA) string {
	t.Helper()
	ts := httptest.NewUnstartedServer(c.srv.Handler())
	ts.TLS = &tls.Config{Certificates: []tls.Certificate{ca.leaf}}
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

// connectProxy is an HTTP proxy on loopback that tunnels CONNECT requests
// for dyor.test to target, and records what it was asked for.
type connectProxy struct {
	url   string
	mu    sync.Mutex
	asked []string
}

func newConnectProxy(t *testing.T, target string) *connectProxy {
	t.Helper()
	p := &connectProxy{}
	ps := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.asked = append(p.asked, r.Method+" "+r.Host)
		p.mu.Unlock()
		host, _, _ := net.SplitHostPort(r.Host)
		if r.Method != http.MethodConnect || host != "dyor.test" {
			http.Error(w, "this proxy only tunnels to dyor.test", http.StatusForbidden)
			return
		}
		up, err := net.Dial("tcp", target)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			_ = up.Close()
			return
		}
		_, _ = conn.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\n"))
		go func() {
			_, _ = io.Copy(up, buf)
			_ = up.Close()
		}()
		go func() {
			_, _ = io.Copy(conn, up)
			_ = conn.Close()
		}()
	}))
	t.Cleanup(ps.Close)
	p.url = ps.URL
	return p
}

func (p *connectProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.asked...)
}

func TestCACert(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	ca := newPrivateCA(t)
	server := "https://" + httpsMock(t, c, ca)
	login := func(extra ...string) result {
		return c.runRaw(context.Background(), johnPW+"\n", append(extra, "--server", server, "--config-dir", c.dir, "login", "-u", john, "--password-stdin")...)
	}

	r := login()
	wantExit(t, r, 6)
	if !strings.Contains(r.stderr, "unknown authority (for a private CA, give its certificate with --ca-cert or DYOR_CA_CERT)") {
		t.Errorf("without the CA: stderr %q, want it to name the certificate problem", r.stderr)
	}
	wantExit(t, login("--ca-cert", ca.pemFile), 0)

	c.env["DYOR_CA_CERT"] = ca.pemFile
	wantExit(t, login(), 0)
	if accs := c.accounts(); len(accs) != 1 || accs[0].Server != server {
		t.Errorf("stored accounts %v, want one of %s", accs, server)
	}

	notPEM := filepath.Join(t.TempDir(), "not.pem")
	_ = os.WriteFile(notPEM, []byte("hello"), 0o600)
	for _, bad := range [][]string{{"--ca-cert", notPEM}, {"--ca-cert", filepath.Join(t.TempDir(), "missing.pem")}} {
		r := login(bad...)
		wantExit(t, r, 2)
		if !strings.Contains(r.stderr, "--ca-cert") {
			t.Errorf("%v: stderr %q", bad, r.stderr)
		}
	}
	c.env["DYOR_CA_CERT"] = notPEM
	if r := login(); r.code != 2 || !strings.Contains(r.stderr, "DYOR_CA_CERT") {
		t.Errorf("a bad DYOR_CA_CERT: exit %d, stderr %q", r.code, r.stderr)
	}
}

// HTTPS_PROXY is honoured, and NO_PROXY exempts a host, both read as
// net/http reads them. dyor.test resolves nowhere: only the proxy (or the
// test's dialer, for NO_PROXY) knows where it is.
func TestProxyFromEnvironment(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	ca := newPrivateCA(t)
	addr := httpsMock(t, c, ca)
	_, port, _ := net.SplitHostPort(addr)
	server := "https://dyor.test:" + port
	proxy := newConnectProxy(t, addr)
	c.env["DYOR_CA_CERT"] = ca.pemFile
	c.env["HTTPS_PROXY"] = proxy.url
	run := func(args ...string) result {
		return c.runRaw(context.Background(), johnPW+"\n", append([]string{"--server", server, "--config-dir", c.dir}, args...)...)
	}

	wantExit(t, run("login", "-u", john, "--password-stdin"), 0)
	wantExit(t, run("refresh"), 0)
	if got := proxy.requests(); len(got) == 0 || got[0] != "CONNECT dyor.test:"+port {
		t.Errorf("the proxy was asked %v, want CONNECT dyor.test:%s", got, port)
	}

	// NO_PROXY: straight to the server, which the test's dialer finds.
	before := len(proxy.requests())
	c.env["NO_PROXY"] = "example.com,dyor.test"
	c.setup = func(f *Factory) {
		f.DialContext = func(ctx context.Context, network, a string) (net.Conn, error) {
			if strings.HasPrefix(a, "dyor.test:") {
				a = addr
			}
			var d net.Dialer
			return d.DialContext(ctx, network, a)
		}
	}
	wantExit(t, run("refresh"), 0)
	if got := proxy.requests(); len(got) != before {
		t.Errorf("with NO_PROXY=dyor.test the proxy was asked %v", got[before:])
	}
}
