package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
)

// pki is a CA and the certificates it signed, as PEM.
type pki struct {
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caPEM  []byte
	serial int64
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &pki{ca: ca, caKey: key, caPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), serial: 1}
}

func (p *pki) issue(t *testing.T, usage x509.ExtKeyUsage) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p.serial++
	template := &x509.Certificate{
		SerialNumber: big.NewInt(p.serial), Subject: pkix.Name{CommonName: "test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
}

func TestServeRequiresClientCertificates(t *testing.T) {
	p := newPKI(t)
	dir := t.TempDir()
	serverCert, serverKey := p.issue(t, x509.ExtKeyUsageServerAuth)
	for name, data := range map[string][]byte{"tls.crt": serverCert, "tls.key": serverKey, "ca.crt": p.caPEM} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	creds, err := serverCredentials(dir, false)
	if err != nil {
		t.Fatal(err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	serveCtx, stop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- serve(serveCtx, listener, addonstack.NewServer(grpc.Creds(creds))) }()

	roots := x509.NewCertPool()
	roots.AddCert(p.ca)
	clientCert, clientKey := p.issue(t, x509.ExtKeyUsageClientAuth)
	pair, err := tls.X509KeyPair(clientCert, clientKey)
	if err != nil {
		t.Fatal(err)
	}
	call := func(config *tls.Config) error {
		conn, err := grpc.NewClient(listener.Addr().String(), grpc.WithTransportCredentials(credentials.NewTLS(config)))
		if err != nil {
			return err
		}
		defer func() { _ = conn.Close() }()
		_, err = fnv1.NewFunctionRunnerServiceClient(conn).RunFunction(ctx, &fnv1.RunFunctionRequest{})
		return err
	}

	got := map[string]bool{
		"with a client certificate":    call(&tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}}) == nil,
		"without a client certificate": call(&tls.Config{RootCAs: roots}) == nil,
	}
	want := map[string]bool{"with a client certificate": true, "without a client certificate": false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("calls that succeed (-want +got):\n%s", diff)
	}

	stop()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("serve(...) after a stop: %v", err)
		}
	case <-ctx.Done():
		t.Fatal("serve(...) did not return after a stop")
	}
}

func TestServerCredentials(t *testing.T) {
	empty := t.TempDir()
	cases := map[string]struct {
		reason   string
		dir      string
		insecure bool
		want     string
	}{
		"Insecure":  {reason: "--insecure needs no certificates.", insecure: true},
		"NoDir":     {reason: "TLS is the default, so it needs a directory.", want: "--tls-certs-dir is required (or --insecure for local debugging)"},
		"EmptyDir":  {reason: "A directory without the certificate is refused.", dir: empty, want: "cannot load the server certificate from " + empty + ": open " + filepath.Join(empty, "tls.crt") + ": no such file or directory"},
		"Precedent": {reason: "--insecure wins over a directory.", dir: empty, insecure: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := ""
			if _, err := serverCredentials(tc.dir, tc.insecure); err != nil {
				got = err.Error()
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nserverCredentials(...) (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}
