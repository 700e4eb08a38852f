package sandbox

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// AccessControllerResync is how often the sandbox's access controller lists the AccessGrants. It also
// meets each expiry on time, so this bounds only how late it sees a grant written just before its
// expiry, which the expiry tests do on purpose: short, so that they are quick.
const AccessControllerResync = 2 * time.Second

// accessGrantCRD is the AccessGrant CRD in the checkout, which the management cluster serves for the
// access controller and idp_access.
func accessGrantCRD(repoRoot string) string {
	return filepath.Join(repoRoot, "crossplane", "access", "accessgrant.yaml")
}

// startAccessController runs cmd/idp-access-controller against the management cluster and Keycloak,
// logged in as the provider's client, and waits until it has logged in and begun its rounds.
func (s *Sandbox) startAccessController(ctx context.Context, bins map[string]string, management *controlPlane, keycloak *keycloakEndpoint) error {
	proc, err := s.start("idp-access-controller",
		// The secret goes in the environment: a flag would show in the process list.
		[]string{"IDP_ACCESS_CONTROLLER_KEYCLOAK_CLIENT_SECRET=" + keycloak.clientSecret},
		filepath.Join(bins["idp-access-controller"], "idp-access-controller"),
		"--kubeconfig="+management.kubeconfigPath,
		"--keycloak-url="+keycloak.url,
		"--keycloak-realm="+KeycloakRealm,
		"--keycloak-client-id="+KeycloakClientID,
		"--login-client-id="+KeycloakKubernetesClient,
		"--resync="+AccessControllerResync.String(),
	)
	if err != nil {
		return err
	}
	// It serves nothing to probe; the line it logs before its first round says it is up.
	return proc.waitReady(ctx, time.Minute, func(context.Context) error {
		raw, err := os.ReadFile(proc.logPath)
		if err != nil {
			return err
		}
		if !strings.Contains(string(raw), `msg="revoking grants at expiry"`) {
			return errors.New("not logged in to Keycloak yet")
		}
		return nil
	})
}
