package sandbox

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// oidcIssuer is the sandbox's Keycloak realm as an OIDC issuer: an https URL (API servers accept no
// other) with a certificate from a CA of the sandbox's own.
type oidcIssuer struct {
	issuerURL string
	httpsPort int
	caPEM     []byte
	caFile    string
	certFile  string
	keyFile   string
}

func (o *oidcIssuer) url() string { return o.issuerURL }

// newOIDCIssuer picks Keycloak's https port and issues its serving certificate, ahead of starting
// Keycloak and the workload clusters that trust it.
func (s *Sandbox) newOIDCIssuer() (*oidcIssuer, error) {
	dir := filepath.Join(s.dir, "keycloak-tls")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", dir, err)
	}
	ca, err := newCertAuthority("keycloak-ca")
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "ca.crt")
	if err := os.WriteFile(caFile, ca.certPEM, 0o600); err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", caFile, err)
	}
	certFile, keyFile, err := ca.issueFiles(dir, "keycloak", certRequest{commonName: "keycloak", hosts: []string{"127.0.0.1", "localhost"}})
	if err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	return &oidcIssuer{
		issuerURL: "https://127.0.0.1:" + strconv.Itoa(port) + "/realms/" + KeycloakRealm,
		httpsPort: port, caPEM: ca.certPEM, caFile: caFile, certFile: certFile, keyFile: keyFile,
	}, nil
}

// KeycloakKubernetesClient is the public Keycloak client whose ID tokens the workload clusters accept.
const KeycloakKubernetesClient = "kubernetes"

// authenticationConfig makes an API server accept the issuer's ID tokens for the kubernetes client,
// with users and groups prefixed "oidc:" (structured authentication configuration).
func (o *oidcIssuer) authenticationConfig() string {
	var ca strings.Builder
	for _, line := range strings.Split(strings.TrimSpace(string(o.caPEM)), "\n") {
		ca.WriteString("        " + line + "\n")
	}
	return fmt.Sprintf(`apiVersion: apiserver.config.k8s.io/v1beta1
kind: AuthenticationConfiguration
jwt:
  - issuer:
      url: %s
      audiences: [%s]
      certificateAuthority: |
%s    claimMappings:
      username:
        claim: preferred_username
        prefix: "oidc:"
      groups:
        claim: groups
        prefix: "oidc:"
`, o.url(), KeycloakKubernetesClient, ca.String())
}
