package provider

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"
)

// releaseServer serves a release over HTTPS as a network mirror (under /mirror/) and as a provider
// registry (service discovery at /.well-known/terraform.json, the protocol under /v1/providers/), with a
// certificate for localhost that the CLIs trust through SSL_CERT_FILE.
type releaseServer struct {
	host   string // localhost:<port>, the registry's hostname in provider sources
	caFile string
	keyID  string
}

func serveRelease(t *testing.T, dist, archive, gnupg, fingerprint string) releaseServer {
	t.Helper()
	cert, caFile := localhostCertificate(t)
	armored := exec.Command("gpg", "--batch", "--armor", "--export", fingerprint)
	armored.Env = append(os.Environ(), "GNUPGHOME="+gnupg)
	publicKey, err := armored.Output()
	if err != nil {
		t.Fatalf("gpg --export: %v", err)
	}
	prefix := "terraform-provider-idp_" + releaseVersion
	platform := runtime.GOOS + "_" + runtime.GOARCH
	zipName := filepath.Base(archive)
	hash := fileSHA256(t, archive)
	mux := http.NewServeMux()
	var base string
	serveJSON := func(path string, body func() any) {
		mux.HandleFunc(path, func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(body())
		})
	}
	// Both registries' hostnames, as a network mirror serves every origin registry.
	for _, origin := range []string{"registry.opentofu.org", "registry.terraform.io"} {
		at := "/mirror/" + origin + "/idp-platform/idp/"
		serveJSON(at+"index.json", func() any { return map[string]any{"versions": map[string]any{releaseVersion: map[string]any{}}} })
		serveJSON(at+releaseVersion+".json", func() any {
			return map[string]any{"archives": map[string]any{platform: map[string]any{"url": zipName, "hashes": []string{"zh:" + hash}}}}
		})
		mux.HandleFunc(at+zipName, func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, archive) })
	}
	serveJSON("/.well-known/terraform.json", func() any { return map[string]string{"providers.v1": "/v1/providers/"} })
	keyID := fingerprint[len(fingerprint)-16:]
	// The tampered namespace serves the same release with a signature of other content by the same key.
	tampered := filepath.Join(t.TempDir(), "other")
	if err := os.WriteFile(tampered, []byte("not the release's checksums\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	sign := exec.Command("gpg", "--batch", "--local-user", fingerprint, "--output", tampered+".sig", "--detach-sign", tampered)
	sign.Env = append(os.Environ(), "GNUPGHOME="+gnupg)
	if out, err := sign.CombinedOutput(); err != nil {
		t.Fatalf("gpg --detach-sign: %v\n%s", err, out)
	}
	for namespace, signature := range map[string]string{"idp-platform": "/files/" + prefix + "_SHA256SUMS.sig", "tampered": "/tampered.sig"} {
		serveJSON("/v1/providers/"+namespace+"/idp/versions", func() any {
			return map[string]any{"versions": []any{map[string]any{
				"version": releaseVersion, "protocols": []string{"6.0"},
				"platforms": []any{map[string]string{"os": runtime.GOOS, "arch": runtime.GOARCH}},
			}}}
		})
		serveJSON("/v1/providers/"+namespace+"/idp/"+releaseVersion+"/download/"+runtime.GOOS+"/"+runtime.GOARCH, func() any {
			return map[string]any{
				"protocols": []string{"6.0"}, "os": runtime.GOOS, "arch": runtime.GOARCH, "filename": zipName,
				"download_url":          base + "/files/" + zipName,
				"shasums_url":           base + "/files/" + prefix + "_SHA256SUMS",
				"shasums_signature_url": base + signature,
				"shasum":                hash,
				"signing_keys":          map[string]any{"gpg_public_keys": []any{map[string]string{"key_id": keyID, "ascii_armor": string(publicKey)}}},
			}
		})
	}
	mux.HandleFunc("/tampered.sig", func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, tampered+".sig") })
	mux.Handle("/files/", http.StripPrefix("/files/", http.FileServer(http.Dir(dist))))
	server := httptest.NewUnstartedServer(mux)
	server.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	server.StartTLS()
	t.Cleanup(server.Close)
	_, port, _ := net.SplitHostPort(server.Listener.Addr().String())
	host := "localhost:" + port
	base = "https://" + host
	return releaseServer{host: host, caFile: caFile, keyID: keyID}
}

func (s releaseServer) networkMirror() releaseInstall {
	return releaseInstall{
		source:       "idp-platform/idp",
		installation: fmt.Sprintf("provider_installation {\n  network_mirror {\n    url = \"https://%s/mirror/\"\n  }\n}\n", s.host),
		env:          []string{"SSL_CERT_FILE=" + s.caFile},
		installed:    regexp.MustCompile(`Installed idp-platform/idp v` + regexp.QuoteMeta(releaseVersion)),
	}
}

// registry installs from the registry directly: the CLI checks the archive against the signed checksums
// and names the key that signed them.
func (s releaseServer) registry() releaseInstall {
	return releaseInstall{
		source:       s.host + "/idp-platform/idp",
		installation: "provider_installation {\n  direct {}\n}\n",
		env:          []string{"SSL_CERT_FILE=" + s.caFile},
		installed:    regexp.MustCompile(`(?s)Installed ` + regexp.QuoteMeta(s.host) + `/idp-platform/idp v` + regexp.QuoteMeta(releaseVersion) + `.*key\s+ID\s+` + s.keyID),
	}
}

// tamperedRegistry serves the release with a signature that is not of its checksums: init must refuse it.
func (s releaseServer) tamperedRegistry() releaseInstall {
	return releaseInstall{
		source:       s.host + "/tampered/idp",
		installation: "provider_installation {\n  direct {}\n}\n",
		env:          []string{"SSL_CERT_FILE=" + s.caFile},
		refused:      regexp.MustCompile(`(?s)Failed to install provider.*error\s+checking\s+signature: openpgp: invalid signature`),
	}
}

// localhostCertificate is a self-signed certificate for localhost and 127.0.0.1, and the file of it
// that a CLI's SSL_CERT_FILE takes as its only root.
func localhostCertificate(t *testing.T) (tls.Certificate, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	template := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "idp release test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, template, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := tls.X509KeyPair(certPEM, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, certPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return cert, strings.TrimSpace(caFile)
}
