package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"
	"time"

	vaultapi "github.com/hashicorp/vault/api"
)

// providerVaultPolicy is what the provider's AppRole may do, as the platform team's runs: manage
// everything under the default prefix of the default KV v2 mount, and the teams' policies and AppRole
// roles (idp_team), and nothing else. Writing policies is as good as any access: only the platform
// team's runs get it.
const providerVaultPolicy = `
path "secret/data/idp/*"                 { capabilities = ["create", "read", "update", "delete", "list"] }
path "secret/metadata/idp/*"             { capabilities = ["read", "delete", "list"] }
path "sys/mounts"                        { capabilities = ["read"] }
path "sys/policies/acl"                  { capabilities = ["list"] }
path "sys/policies/acl/idp-team-*"       { capabilities = ["create", "read", "update", "delete"] }
path "auth/approle/role/idp-team-*"      { capabilities = ["create", "read", "update", "delete"] }
`

// vaultEndpoint is how the sandbox's Vault is reached: as root, and as the provider's AppRole.
type vaultEndpoint struct {
	address   string
	rootToken string
	roleID    string
	secretID  string
}

// startVault starts a Vault dev server (in-memory, unsealed, KV v2 at secret/) and gives the provider an
// AppRole with a narrow policy.
func (s *Sandbox) startVault(ctx context.Context, binDir string) (*vaultEndpoint, error) {
	port, err := freePortPair()
	if err != nil {
		return nil, err
	}
	endpoint := &vaultEndpoint{address: "http://127.0.0.1:" + strconv.Itoa(port), rootToken: randomToken(24)}
	proc, err := s.start("vault", []string{"HOME=" + filepath.Join(s.dir)}, filepath.Join(binDir, "vault"),
		"server", "-dev",
		"-dev-listen-address=127.0.0.1:"+strconv.Itoa(port),
		"-dev-root-token-id="+endpoint.rootToken,
		"-dev-no-store-token",
		"-log-level=warn",
	)
	if err != nil {
		return nil, err
	}
	if err := proc.waitReady(ctx, time.Minute, func(ctx context.Context) error {
		return httpGetOK(ctx, http.DefaultClient, endpoint.address+"/v1/sys/health")
	}); err != nil {
		return nil, err
	}

	config := vaultapi.DefaultConfig()
	config.Address = endpoint.address
	client, err := vaultapi.NewClient(config)
	if err != nil {
		return nil, fmt.Errorf("cannot build a Vault client: %w", err)
	}
	client.SetToken(endpoint.rootToken)
	if err := client.Sys().PutPolicyWithContext(ctx, "idp-provider", providerVaultPolicy); err != nil {
		return nil, fmt.Errorf("cannot write the provider's Vault policy: %w", err)
	}
	if err := client.Sys().EnableAuthWithOptionsWithContext(ctx, "approle", &vaultapi.EnableAuthOptions{Type: "approle"}); err != nil {
		return nil, fmt.Errorf("cannot enable AppRole auth: %w", err)
	}
	if _, err := client.Logical().WriteWithContext(ctx, "auth/approle/role/idp-provider", map[string]any{
		"token_policies": "idp-provider",
		"token_ttl":      "1h",
	}); err != nil {
		return nil, fmt.Errorf("cannot create the provider's AppRole: %w", err)
	}
	roleID, err := client.Logical().ReadWithContext(ctx, "auth/approle/role/idp-provider/role-id")
	if err != nil || roleID == nil {
		return nil, fmt.Errorf("cannot read the provider's AppRole role id: %w", err)
	}
	secretID, err := client.Logical().WriteWithContext(ctx, "auth/approle/role/idp-provider/secret-id", nil)
	if err != nil || secretID == nil {
		return nil, fmt.Errorf("cannot create a secret id for the provider's AppRole: %w", err)
	}
	endpoint.roleID, _ = roleID.Data["role_id"].(string)
	endpoint.secretID, _ = secretID.Data["secret_id"].(string)
	return endpoint, nil
}
