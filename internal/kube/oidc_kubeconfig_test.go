package kube

import (
	"encoding/base64"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/client-go/tools/clientcmd"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "oidc_kubeconfig", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestOIDCKubeconfigGolden(t *testing.T) {
	clusterCA, issuerCA := readTestdata(t, "cluster-ca.pem"), readTestdata(t, "issuer-ca.pem")
	cases := map[string]struct {
		reason string
		login  OIDCLogin
	}{
		"public-issuer": {
			reason: "An issuer with a public certificate needs no CA: the plugin runs under kubectl with the issuer and client.",
			login: OIDCLogin{
				ClusterName: "payments", Server: "https://payments.example.com:6443", CAData: clusterCA,
				IssuerURL: "https://keycloak.example.com/realms/idp", ClientID: "kubernetes",
			},
		},
		"private-issuer": {
			reason: "A private issuer's CA goes to kubelogin as base64 of its PEM.",
			login: OIDCLogin{
				ClusterName: "payments", Server: "https://127.0.0.1:6443", CAData: clusterCA,
				IssuerURL: "https://127.0.0.1:8443/realms/idp", ClientID: "kubernetes", IssuerCAData: issuerCA,
			},
		},
		"kubelogin-binary": {
			reason: "A command other than kubectl is kubelogin itself, which takes get-token without oidc-login.",
			login: OIDCLogin{
				ClusterName: "payments", Server: "https://payments.example.com", IssuerURL: "https://sso.example.com/realms/idp",
				ClientID: "kubectl", Command: "/usr/local/bin/kubelogin",
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := OIDCKubeconfig(tc.login)
			if err != nil {
				t.Fatalf("%s\n%v", tc.reason, err)
			}
			file := filepath.Join("testdata", "oidc_kubeconfig", name+".golden.yaml")
			if *update {
				if err := os.WriteFile(file, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(file)
			if err != nil {
				t.Fatalf("%v (run with -update to write it)", err)
			}
			if diff := cmp.Diff(string(want), string(got)); diff != "" {
				t.Errorf("%s\nthe kubeconfig differs from %s (-want +got; -update rewrites it):\n%s", tc.reason, file, diff)
			}
			// What kubectl reads back: a client for the server whose credentials come from the plugin.
			restConfig, err := clientcmd.RESTConfigFromKubeConfig(got)
			if err != nil {
				t.Fatalf("%s\nthe kubeconfig does not load: %v", tc.reason, err)
			}
			if restConfig.Host != tc.login.Server || restConfig.ExecProvider == nil || restConfig.BearerToken != "" {
				t.Errorf("%s\nloaded as host %q, exec %v, with a token: %t", tc.reason, restConfig.Host, restConfig.ExecProvider, restConfig.BearerToken != "")
			}
		})
	}
}

func TestOIDCKubeconfigIssuerCA(t *testing.T) {
	issuerCA := readTestdata(t, "issuer-ca.pem")
	raw, err := OIDCKubeconfig(OIDCLogin{
		ClusterName: "payments", Server: "https://127.0.0.1:6443", IssuerURL: "https://127.0.0.1:8443/realms/idp",
		ClientID: "kubernetes", IssuerCAData: issuerCA,
	})
	if err != nil {
		t.Fatal(err)
	}
	config, err := clientcmd.Load(raw)
	if err != nil {
		t.Fatal(err)
	}
	var got []byte
	for _, arg := range config.AuthInfos["oidc@payments"].Exec.Args {
		if value, ok := strings.CutPrefix(arg, "--certificate-authority-data="); ok {
			if got, err = base64.StdEncoding.DecodeString(value); err != nil {
				t.Fatal(err)
			}
		}
	}
	if diff := cmp.Diff(string(issuerCA), string(got)); diff != "" {
		t.Errorf("kubelogin decodes the issuer's CA back to the PEM given: -want, +got:\n%s", diff)
	}
}

func TestOIDCKubeconfigInvalid(t *testing.T) {
	valid := OIDCLogin{
		ClusterName: "payments", Server: "https://payments.example.com", IssuerURL: "https://sso.example.com/realms/idp", ClientID: "kubernetes",
	}
	cases := map[string]struct {
		reason  string
		change  func(*OIDCLogin)
		wantErr string
	}{
		"NoClusterName": {
			reason: "The cluster and context need a name.", change: func(l *OIDCLogin) { l.ClusterName = "" }, wantErr: "needs a cluster name",
		},
		"HTTPServer": {
			reason: "An API server is reached over https only.", change: func(l *OIDCLogin) { l.Server = "http://payments.example.com" },
			wantErr: `API server URL "http://payments.example.com": must be an https URL with a host`,
		},
		"HTTPIssuer": {
			reason: "The API server accepts tokens only from an https issuer.", change: func(l *OIDCLogin) { l.IssuerURL = "http://127.0.0.1:8080/realms/idp" },
			wantErr: "issuer URL \"http://127.0.0.1:8080/realms/idp\": must be an https URL with a host",
		},
		"IssuerWithQuery": {
			reason: "An issuer URL has no query.", change: func(l *OIDCLogin) { l.IssuerURL = "https://sso.example.com/realms/idp?x=1" },
			wantErr: "must have no query or fragment",
		},
		"NoClientID": {
			reason: "kubelogin needs the client to log in with.", change: func(l *OIDCLogin) { l.ClientID = "" }, wantErr: "needs the client ID",
		},
		"IssuerCANotPEM": {
			reason: "A CA that is not PEM would fail at every login; it fails here.", change: func(l *OIDCLogin) { l.IssuerCAData = []byte("not a certificate") },
			wantErr: "CA of the issuer: is not PEM certificates",
		},
		"ClusterCAIsAKey": {
			reason: "A CA file must hold certificates only.",
			change: func(l *OIDCLogin) {
				l.CAData = []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
			},
			wantErr: "CA of the API server: holds a PEM PRIVATE KEY, not only certificates",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			login := valid
			tc.change(&login)
			_, err := OIDCKubeconfig(login)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s\nwant an error containing %q, got %v", tc.reason, tc.wantErr, err)
			}
		})
	}
}
