package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	vaultapi "github.com/hashicorp/vault/api"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// sandboxVaultRoot is the sandbox's Vault as root.
func sandboxVaultRoot(t *testing.T) *vaultapi.Client {
	t.Helper()
	config := vaultapi.DefaultConfig()
	config.Address = os.Getenv("IDP_VAULT_ADDRESS")
	client, err := vaultapi.NewClient(config)
	if err != nil {
		t.Fatal(err)
	}
	client.SetToken(os.Getenv(sandbox.EnvVaultRootToken))
	return client
}

// checkTeamsGone is the CheckDestroy of teams: no policy, no role and no Keycloak group is left.
func checkTeamsGone(t *testing.T, teams ...string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		root := sandboxVaultRoot(t)
		for _, team := range teams {
			if policy, err := root.Sys().GetPolicy("idp-team-" + team); err != nil || policy != "" {
				return fmt.Errorf("Vault still has the policy of team %q (or cannot say: %w)", team, err)
			}
			if role, err := root.Logical().Read("auth/approle/role/idp-team-" + team); err != nil || role != nil {
				return fmt.Errorf("Vault still has the AppRole role of team %q (or cannot say: %w)", team, err)
			}
			if _, found, err := realmAdmin(t).FindGroup(context.Background(), "team-"+team); err != nil || found {
				return fmt.Errorf("Keycloak still has the group of team %q (or cannot say: %w)", team, err)
			}
		}
		return nil
	}
}

// checkTeamGroup passes when the team's group exists and is marked as the team's.
func checkTeamGroup(t *testing.T, team string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		group, found, err := realmAdmin(t).FindGroup(context.Background(), "team-"+team)
		if err != nil || !found {
			return fmt.Errorf("Keycloak has no group team-%s (%w)", team, err)
		}
		if !slices.Equal(group.Attributes["idp-team"], []string{team}) {
			return fmt.Errorf("group team-%s is not marked as the team's: %v", team, group.Attributes)
		}
		return nil
	}
}

// TestAccTeam sets up two teams and runs plans as one of them: Vault, not the provider's goodwill,
// keeps the team to its own credentials and clusters, and the diagnostics say so on the attribute.
func TestAccTeam(t *testing.T) {
	requireAcc(t)
	const alpha, beta = "acc-alpha", "acc-beta"
	kv := sandboxVault(t)
	for _, team := range []string{alpha, beta} {
		if _, err := kv.Put(context.Background(), "idp/credentials/"+team+"/aws", map[string]any{"aws_access_key_id": "AKIA" + team, "aws_secret_access_key": "secret"}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = kv.DeleteMetadata(context.Background(), "idp/credentials/"+team+"/aws") })
	}
	workload := os.Getenv(sandbox.EnvWorkloadKubeconfig)
	base := fmt.Sprintf(`
provider "idp" {}

resource "idp_team" "alpha" {
  name = %q
}

resource "idp_team" "beta" {
  name      = %q
  token_ttl = "30m"
  # Not in Vault's order, and naming a cluster the prefix covers already: the plan still settles.
  clusters = ["acc-beta-wl", "acc-beta-*"]
}

resource "idp_cluster" "beta" {
  name          = "acc-beta-wl"
  cloud         = "existing"
  kubeconfig_wo = file(%q)
}
`, alpha, beta, workload)
	alphaPolicy := func() string {
		policy, err := sandboxVaultRoot(t).Sys().GetPolicy("idp-team-" + alpha)
		if err != nil {
			t.Fatal(err)
		}
		return policy
	}
	var written string
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkTeamsGone(t, alpha, beta, "acc-gamma", "acc-eps", "acc-zeta"), checkClustersGone(t, "acc-beta-wl", "acc-alpha-wl")),
		Steps: []resource.TestStep{
			{
				Config: base,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("idp_team.alpha", tfjsonpath.New("vault_policy"), knownvalue.StringExact("idp-team-"+alpha)),
					statecheck.ExpectKnownValue("idp_team.alpha", tfjsonpath.New("clusters"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact(alpha + "-*")})),
					statecheck.ExpectKnownValue("idp_team.alpha", tfjsonpath.New("keycloak_group"), knownvalue.StringExact("team-"+alpha)),
					statecheck.ExpectKnownValue("idp_team.alpha", tfjsonpath.New("credentials_path"), knownvalue.StringExact("secret/idp/credentials/"+alpha+"/")),
					statecheck.ExpectKnownValue("idp_team.alpha", tfjsonpath.New("approle_role_id"), knownvalue.StringRegexp(regexp.MustCompile(`^[0-9a-f-]{36}$`))),
					statecheck.ExpectKnownValue("idp_team.alpha", tfjsonpath.New("vault_policy_document"),
						knownvalue.StringRegexp(regexp.MustCompile(`path "secret/data/idp/credentials/acc-alpha/\*"[\s\S]*path "secret/data/idp/clusters/acc-alpha-\*"`))),
					stateHasNoSecrets(),
				},
				Check: resource.ComposeTestCheckFunc(
					checkTeamGroup(t, alpha), checkTeamGroup(t, beta),
					func(*terraform.State) error {
						role, err := sandboxVaultRoot(t).Logical().Read("auth/approle/role/idp-team-" + beta)
						if err != nil || role == nil {
							return fmt.Errorf("no AppRole role for team %q: %w", beta, err)
						}
						if ttl := fmt.Sprint(role.Data["token_ttl"]); ttl != "1800" {
							return fmt.Errorf("the role of team %q gives tokens of %ss, want 1800", beta, ttl)
						}
						written = alphaPolicy()
						return nil
					},
					func(*terraform.State) error { return runAsTeam(t, alpha, beta, workload) },
				),
			},
			{
				ResourceName:      "idp_team.alpha",
				ImportState:       true,
				ImportStateId:     alpha,
				ImportStateVerify: true,
			},
			{
				// Import by identity: an import block's identity = {...}, which plans a no-op import of the same identity.
				ResourceName:    "idp_team.alpha",
				ImportState:     true,
				ImportStateKind: resource.ImportBlockWithResourceIdentity,
			},
			{
				// An imported token_ttl reads as written ("30m"); clusters come back in Vault's order,
				// which a later plan keeps as configured.
				ResourceName:            "idp_team.beta",
				ImportState:             true,
				ImportStateId:           beta,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"clusters"},
			},
			{
				// A third team may not own a cluster the first team's prefix covers: refused at plan on the
				// element, before anything of it exists.
				Config: base + `
resource "idp_team" "gamma" {
  name     = "acc-gamma"
  clusters = ["acc-gamma-*", "acc-alpha-wl"]
}
`,
				ExpectError: regexp.MustCompile(`(?s)Clusters owned by another team.*with idp_team.gamma,.*clusters = \["acc-gamma-\*", "acc-alpha-wl"\].*acc-alpha-wl\s+overlaps\s+team\s+acc-alpha's\s+acc-alpha-\*`),
			},
			{
				// Two new teams that overlap pass the plan (neither is in Vault yet); the second one's
				// apply is refused, and only the first exists.
				Config: base + `
resource "idp_team" "eps" {
  name = "acc-eps"
}

resource "idp_team" "zeta" {
  name       = "acc-zeta"
  clusters   = ["acc-eps-db"]
  depends_on = [idp_team.eps]
}
`,
				ExpectError: regexp.MustCompile(`(?s)Clusters owned by another team.*acc-eps-db\s+overlaps\s+team\s+acc-eps's\s+acc-eps-\*`),
			},
			{
				PreConfig: func() {
					for _, team := range []string{"acc-gamma", "acc-zeta"} {
						if policy, err := sandboxVaultRoot(t).Sys().GetPolicy("idp-team-" + team); err != nil || policy != "" {
							t.Fatalf("team %s has a Vault policy after it was refused (err: %v):\n%s", team, err, policy)
						}
					}
					if policy, err := sandboxVaultRoot(t).Sys().GetPolicy("idp-team-acc-eps"); err != nil || policy == "" {
						t.Fatalf("team acc-eps, planned and applied before the refused one, has no Vault policy (err: %v)", err)
					}
				},
				Config: base, // removes acc-eps
				Check:  checkTeamsGone(t, "acc-eps"),
			},
			{
				// A policy widened in Vault by hand is drift, planned back to the team's.
				PreConfig: func() {
					if err := sandboxVaultRoot(t).Sys().PutPolicy("idp-team-"+alpha, written+"path \"secret/data/idp/credentials/*\" {\n  capabilities = [\"read\"]\n}\n"); err != nil {
						t.Fatal(err)
					}
				},
				Config:             base,
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				// The next apply restores the policy, and a group deleted in Keycloak.
				PreConfig: func() {
					group, found, err := realmAdmin(t).FindGroup(context.Background(), "team-"+alpha)
					if err != nil || !found {
						t.Fatalf("no group team-%s: %v", alpha, err)
					}
					if err := realmAdmin(t).DeleteGroup(context.Background(), group.ID); err != nil {
						t.Fatal(err)
					}
				},
				Config:           base,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{plancheck.ExpectResourceAction("idp_team.alpha", plancheck.ResourceActionUpdate)}},
				Check: resource.ComposeTestCheckFunc(checkTeamGroup(t, alpha), func(*terraform.State) error {
					if got := alphaPolicy(); got != written {
						return fmt.Errorf("the team's policy is not restored:\n%s", got)
					}
					return nil
				}),
			},
		},
	})
}

// runAsTeam runs tofu as the team's CI would: its own provider process, logged in to Vault with the
// team's AppRole and a secret ID issued for the run. Vault keeps it to what the team owns, and the
// plan says so on the attribute that reaches further.
func runAsTeam(t *testing.T, team, other, workload string) error {
	root := sandboxVaultRoot(t)
	roleID, err := root.Logical().Read("auth/approle/role/idp-team-" + team + "/role-id")
	if err != nil || roleID == nil {
		return fmt.Errorf("no role ID for team %q: %w", team, err)
	}
	secretID, err := root.Logical().Write("auth/approle/role/idp-team-"+team+"/secret-id", nil)
	if err != nil || secretID == nil {
		return fmt.Errorf("cannot issue a secret ID for team %q: %w", team, err)
	}
	ws := newCLIWorkspace(t, t.TempDir())
	provider := fmt.Sprintf("provider \"idp\" {\n  vault {\n    approle_role_id   = %q\n    approle_secret_id = %q\n  }\n}\n", roleID.Data["role_id"], secretID.Data["secret_id"])
	awsCluster := func(name, credentials string) string {
		return provider + fmt.Sprintf(`
resource "idp_cluster" "mine" {
  name               = %q
  cloud              = "aws"
  region             = "eu-west-1"
  kubernetes_version = "1.33"
  credentials        = %q
  node_pools         = { default = { instance_type = "m6i.large", min_size = 1, max_size = 2 } }
}
`, name, credentials)
	}
	registered := provider + fmt.Sprintf("\nresource \"idp_cluster\" \"mine\" {\n  name = %q\n  cloud = \"existing\"\n  kubeconfig_wo = file(%q)\n}\n", team+"-wl", workload)
	// A token issued by the team's login and handed to the run is the team too.
	login, err := root.Logical().Write("auth/approle/login", map[string]any{"role_id": roleID.Data["role_id"], "secret_id": secretID.Data["secret_id"]})
	if err != nil || login == nil || login.Auth == nil {
		return fmt.Errorf("cannot log in as team %q: %w", team, err)
	}
	tokenProvider := fmt.Sprintf("provider \"idp\" {\n  policy {\n    team = \"platform\"\n  }\n  vault {\n    token = %q\n  }\n}\n", login.Auth.ClientToken)
	ws.writeConfig(t, provider)
	ws.run(t, "init", "-input=false")
	cases := []struct {
		reason string
		config string
		want   *regexp.Regexp
		ok     bool
	}{
		{
			reason: "Another team's credentials are refused at plan, on credentials, before anything exists.",
			config: awsCluster(team+"-one", other+"/aws"),
			want: regexp.MustCompile(fmt.Sprintf(`(?s)Credentials not permitted.*credentials\s+=\s+"%s/aws".*Team "%s" \(Vault approle role\s+"idp-team-%s"\)\s+may\s+not\s+use\s+credentials\s+"%s/aws"`,
				other, team, team, other)),
		},
		{
			reason: "A cluster name the team does not own is refused at plan, on name.",
			config: awsCluster(other+"-two", team+"/aws"),
			want:   regexp.MustCompile(`(?s)Cluster not permitted.*name\s+=\s+"` + other + `-two".*may\s+not\s+use\s+cluster\s+"` + other + `-two"`),
		},
		{
			reason: "Another team's registered cluster cannot be read either.",
			config: provider + "\ndata \"idp_cluster\" \"theirs\" {\n  name = \"" + other + "-wl\"\n}\n",
			want:   regexp.MustCompile(`(?s)Cluster not permitted.*may\s+not\s+use\s+cluster\s+"` + other + `-wl"`),
		},
		{
			reason: "A team's runs are that team to the policies: they cannot claim to be the platform team.",
			config: strings.Replace(awsCluster(team+"-one", team+"/aws"), "  vault {", "  policy {\n    team = \"platform\"\n  }\n  vault {", 1),
			want:   regexp.MustCompile(`(?s)Team does not match the Vault login.*policy.team is "platform", but the provider logs in to Vault as\s+team\s+"` + team + `"`),
		},
		{
			reason: "A token with the team's policy cannot claim to be the platform team either.",
			config: strings.Replace(awsCluster(team+"-one", team+"/aws"), provider, tokenProvider, 1),
			want:   regexp.MustCompile(`(?s)Team does not match the Vault login.*logs in to Vault as\s+team\s+"` + team + `"\s+\(a\s+Vault\s+token\s+with\s+its\s+policy\)`),
		},
		{
			reason: "Every team may list the platform's clusters by name (not read their kubeconfigs), another team's too.",
			config: provider + "\ndata \"idp_clusters\" \"all\" {}\n\noutput \"names\" {\n  value = [for cluster in data.idp_clusters.all.clusters : cluster.name]\n}\n",
			want:   regexp.MustCompile(`(?s)Changes to Outputs:.*"` + other + `-wl"`),
			ok:     true,
		},
		{
			reason: "What the team owns it may use: its own credentials plan a cluster of its own.",
			config: awsCluster(team+"-one", team+"/aws"),
			want:   regexp.MustCompile(`Plan: 1 to add, 0 to change, 0 to destroy`),
			ok:     true,
		},
	}
	for _, tc := range cases {
		ws.writeConfig(t, tc.config)
		out, err := ws.command("plan", "-input=false").CombinedOutput()
		if (err == nil) != tc.ok || !tc.want.Match(out) {
			return fmt.Errorf("%s\ntofu plan as team %q: error %w, want success %t and output matching %s:\n%s", tc.reason, team, err, tc.ok, tc.want, out)
		}
	}
	// And it registers a cluster of its own, writing the kubeconfig to Vault as the team, then removes it.
	ws.writeConfig(t, registered)
	ws.run(t, "apply", "-input=false", "-auto-approve")
	if got := storedKubeconfig(t, team+"-wl"); got == "" {
		return fmt.Errorf("team %q registered %s-wl, but Vault holds no kubeconfig for it", team, team)
	}
	ws.run(t, "destroy", "-input=false", "-auto-approve")
	return nil
}

func TestAccTeamBadInput(t *testing.T) {
	requireAcc(t)
	cases := map[string]struct {
		reason string
		body   string
		want   *regexp.Regexp
	}{
		"BadName":      {reason: "A team name is a short DNS-1123 label.", body: `name = "Payments_Team"`, want: regexp.MustCompile(`(?s)Attribute name must be a DNS-1123 label`)},
		"WildcardOnly": {reason: "A bare * would reach every cluster.", body: "name = \"acc-x\"\n  clusters = [\"*\"]", want: regexp.MustCompile(`(?s)clusters\[0\].*must be a cluster name`)},
		"SystemGroup":  {reason: "The group is no system: name.", body: "name = \"acc-x\"\n  keycloak_group = \"system:masters\"", want: regexp.MustCompile(`(?s)keycloak_group`)},
		"LongTTL":      {reason: "Logins last at most a day.", body: "name = \"acc-x\"\n  token_ttl = \"48h\"", want: regexp.MustCompile(`(?s)token_ttl.*not a duration from 1m0s to 24h0m0s`)},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{{
					Config:      "provider \"idp\" {}\n\nresource \"idp_team\" \"test\" {\n  " + tc.body + "\n}\n",
					PlanOnly:    true,
					ExpectError: tc.want,
				}},
			})
		})
	}
}
