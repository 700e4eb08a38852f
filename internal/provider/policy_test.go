package provider

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// policyGrants plans grants on the workload cluster: a cluster-admin one (refused by the shipped
// library for any team but the platform team), a view one, and one whose role is known only at apply.
func policyGrants(cluster, providerBlock string) string {
	return fmt.Sprintf(`
provider "idp" {
%s
}

resource "idp_cluster" "workload" {
  name          = %q
  cloud         = "existing"
  kubeconfig_wo = file(%q)
}

resource "idp_access" "admins" {
  cluster             = idp_cluster.workload.id
  group               = "acc-policy-admins"
  role                = "cluster-admin"
  allow_cluster_admin = true
}

resource "idp_access" "viewers" {
  cluster = idp_cluster.workload.id
  group   = "acc-policy-viewers"
  role    = "view"
}

resource "terraform_data" "role" {
  input = "view"
}

resource "idp_access" "later" {
  cluster = idp_cluster.workload.id
  group   = "acc-policy-later"
  role    = terraform_data.role.output
}
`, providerBlock, cluster, os.Getenv(sandbox.EnvWorkloadKubeconfig))
}

// TestAccPolicy plans against the shipped policy library through the provider: a mandatory deny fails
// the plan on the attribute and creates nothing, the platform team may, advisory only warns, a broken
// policy fails closed, and a destroy is not blocked by a rule against creating.
func TestAccPolicy(t *testing.T) {
	requireAcc(t)
	const cluster = "acc-policy"
	broken := t.TempDir()
	if err := os.WriteFile(filepath.Join(broken, "broken.rego"), []byte("package main\n\ndeny contains msg if {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	strict := t.TempDir()
	if err := os.WriteFile(filepath.Join(strict, "no_grants.rego"), []byte(`package main

deny_new_grants contains {"msg": "no new grants this week", "path": ["group"]} if {
	some rc in input.resource_changes
	rc.type == "idp_access"
	some action in rc.change.actions
	action in {"create", "update"}
}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	viewerOnly := func(providerBlock string) string {
		return fmt.Sprintf(`
provider "idp" {
%s
}

resource "idp_cluster" "workload" {
  name          = %q
  cloud         = "existing"
  kubeconfig_wo = file(%q)
}
`, providerBlock, cluster, os.Getenv(sandbox.EnvWorkloadKubeconfig))
	}
	nothingMade := func(*terraform.State) error {
		for _, group := range []string{"acc-policy-admins", "acc-policy-viewers"} {
			if _, found, err := realmAdmin(t).FindGroup(t.Context(), group); err != nil || found {
				return fmt.Errorf("group %q exists after a plan the policies refused (err: %w)", group, err)
			}
		}
		return nil
	}
	viewers := access.Grant{Cluster: cluster, Group: "acc-policy-viewers", Role: "view"}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkAccessGone(t, viewers), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{
				Config:      policyGrants(cluster, "  policy {\n    team = \"payments\"\n  }"),
				ExpectError: regexp.MustCompile(`Policy deny_cluster_admin(.|\n)*idp_access.admins(.|\n)*role(.|\n)*reserved for the\s+platform\s+team`),
			},
			{
				// The failed apply above stopped at plan: nothing of it exists.
				PreConfig: func() {
					if err := nothingMade(nil); err != nil {
						t.Fatal(err)
					}
				},
				Config:             policyGrants(cluster, "  policy {\n    team = \"platform\"\n  }"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:             policyGrants(cluster, "  policy {\n    team = \"payments\"\n    enforcement = \"advisory\"\n  }"),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:      policyGrants(cluster, fmt.Sprintf("  policy {\n    paths = [%q]\n  }", broken)),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`Cannot load the policies`),
			},
			{
				// The viewers' grant is made under the library...
				Config: viewerOnly("  policy {}") + `
resource "idp_access" "viewers" {
  cluster = idp_cluster.workload.id
  group   = "acc-policy-viewers"
  role    = "view"
}
`,
			},
			{
				// ...and removed under a policy that refuses every new grant: a destroy is not refused.
				Config: viewerOnly(fmt.Sprintf("  policy {\n    paths = [%q]\n  }", strict)),
				Check:  checkAccessGone(t, viewers),
			},
		},
	})
}

// planVerdicts are the policy results of a plan: rule messages that fail it, and warnings.
type planVerdicts struct {
	Failures []string
	Warnings []string
}

// runConftest runs the sandbox's conftest test with args in dir and returns its failures and warnings,
// and its JSON report.
func runConftest(t *testing.T, dir string, args ...string) (planVerdicts, []byte) {
	t.Helper()
	awaitLateTools(t, "conftest")
	cmd := exec.Command(os.Getenv(sandbox.EnvConftest), append([]string{"test", "--no-color", "--output", "json"}, args...)...)
	cmd.Dir = dir
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("conftest: %v", err)
	}
	var results []struct {
		Warnings []struct{ Msg string } `json:"warnings"`
		Failures []struct{ Msg string } `json:"failures"`
	}
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("conftest's output is not its JSON report: %v\n%s", err, out)
	}
	var verdicts planVerdicts
	for _, r := range results {
		for _, f := range r.Failures {
			verdicts.Failures = append(verdicts.Failures, f.Msg)
		}
		for _, w := range r.Warnings {
			verdicts.Warnings = append(verdicts.Warnings, w.Msg)
		}
	}
	return verdicts, out
}

func (v *planVerdicts) sort() {
	slices.Sort(v.Failures)
	slices.Sort(v.Warnings)
}

// TestAccPolicyParity runs the shipped library twice on the same plan: through the provider at plan,
// and through conftest on `tofu show -json` of that plan, as Atlantis's policy_check runs it; both
// reach the same verdicts with the same messages.
func TestAccPolicyParity(t *testing.T) {
	requireAcc(t)
	const cluster = "acc-policy-parity"
	w := newCLIWorkspace(t, t.TempDir())
	w.writeConfig(t, policyGrants(cluster, ""))
	w.run(t, "init", "-input=false")

	// Without policies the plan is made and saved, for conftest.
	w.run(t, "plan", "-input=false", "-out=plan.bin")
	planJSON := w.run(t, "show", "-json", "plan.bin")
	if err := os.WriteFile(filepath.Join(w.dir, "plan.json"), []byte(planJSON), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(w.dir, "idp.json"), []byte(`{"idp": {"team": "payments"}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	library, err := filepath.Abs(filepath.Join("..", "..", "policy"))
	if err != nil {
		t.Fatal(err)
	}
	ci, out := runConftest(t, w.dir, "--policy", library, "--data", "idp.json", "plan.json")
	address := regexp.MustCompile(`^[a-z_]+\.[a-z0-9_-]+: `)
	for i := range ci.Failures {
		ci.Failures[i] = address.ReplaceAllString(ci.Failures[i], "")
	}
	for i := range ci.Warnings {
		ci.Warnings[i] = address.ReplaceAllString(ci.Warnings[i], "")
	}
	ci.sort()
	if len(ci.Failures) == 0 || len(ci.Warnings) == 0 {
		t.Fatalf("conftest found %d failures and %d warnings; the plan is made to have both:\n%s", len(ci.Failures), len(ci.Warnings), out)
	}

	// The same plan through the provider, for the same team.
	w.env = append(w.env, "IDP_POLICY_TEAM=payments")
	cmd := w.command("plan", "-input=false", "-json")
	stdout, _ := cmd.Output()
	var provider planVerdicts
	scanner := bufio.NewScanner(strings.NewReader(string(stdout)))
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	for scanner.Scan() {
		var line struct {
			Level      string `json:"@level"`
			Diagnostic struct {
				Summary, Detail string
			} `json:"diagnostic"`
		}
		if json.Unmarshal(scanner.Bytes(), &line) != nil || !strings.HasPrefix(line.Diagnostic.Summary, "Policy ") {
			continue
		}
		if line.Level == "error" {
			provider.Failures = append(provider.Failures, line.Diagnostic.Detail)
		} else {
			provider.Warnings = append(provider.Warnings, line.Diagnostic.Detail)
		}
	}
	provider.sort()
	if diff := cmp.Diff(ci, provider); diff != "" {
		t.Errorf("verdicts: conftest (-) and the provider (+) differ on the same plan:\n%s", diff)
	}
}

// TestAccPolicyOffering plans a cluster in a region the shipped library does not offer: refused at plan
// on region without a policy block, planned once a deployment's settings (idp_policy data among the
// policy paths) offer it, and the pool bound follows max_pool_size the same way.
func TestAccPolicyOffering(t *testing.T) {
	requireAcc(t)
	settings := t.TempDir()
	if err := os.WriteFile(filepath.Join(settings, "settings.json"),
		[]byte(`{"idp_policy": {"regions": {"aws": ["eu-south-1"]}, "max_pool_size": 4}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	cluster := func(providerBlock string, maxSize int) string {
		return fmt.Sprintf(`
provider "idp" {
%s
}

resource "idp_cluster" "south" {
  name               = "acc-offering"
  cloud              = "aws"
  region             = "eu-south-1"
  kubernetes_version = "1.33"
  credentials        = "aws/team"
  node_pools         = { default = { instance_type = "m6i.large", min_size = 1, max_size = %d } }
  tags               = { team = "platform", cost-center = "1234" }
}
`, providerBlock, maxSize)
	}
	withSettings := fmt.Sprintf("  policy {\n    paths = [%q]\n  }", settings)
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		CheckDestroy:             checkClustersGone(t, "acc-offering"),
		Steps: []resource.TestStep{
			{
				Config:      cluster("", 4),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Unknown region.*with idp_cluster.south,.*region.*"eu-south-1" is not a region the platform\s+offers on aws`),
			},
			{
				Config:             cluster(withSettings, 4),
				PlanOnly:           true,
				ExpectNonEmptyPlan: true,
			},
			{
				Config:      cluster(withSettings, 5),
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(`(?s)Invalid node pool size.*max_size 5 is above 4`),
			},
		},
	})
}

// TestAccPolicyInputFunction hands what provider::idp::policy_input builds, through tofu, to conftest
// with the shipped library: it is the document the policies read, so they find in it what they find
// in a plan, here a machine type the platform does not offer and, in production, a pool too large.
func TestAccPolicyInputFunction(t *testing.T) {
	requireAcc(t)
	library, err := filepath.Abs(filepath.Join("..", "..", "policy"))
	if err != nil {
		t.Fatal(err)
	}
	w := newCLIWorkspace(t, t.TempDir())
	w.writeConfig(t, `
locals {
  cluster = {
    name       = "payments-prod"
    cloud      = "aws"
    region     = "eu-west-1"
    node_pools = { default = { instance_type = "m6i.large", min_size = 1, max_size = 3 } }
    tags       = { team = "payments", cost-center = "cc-1" }
  }
  production = { team = "payments", cluster = { name = "payments-prod", environment = "production" } }
}

output "offered" {
  value = provider::idp::policy_input("idp_cluster", local.cluster, local.production)
}

output "not_offered" {
  value = provider::idp::policy_input("idp_cluster", merge(local.cluster, {
    node_pools = { default = { instance_type = "x9.huge", min_size = 1, max_size = 3 } }
  }), local.production)
}

output "too_large_in_production" {
  value = provider::idp::policy_input("idp_cluster", merge(local.cluster, {
    node_pools = { default = { instance_type = "m6i.large", min_size = 1, max_size = 500 } }
  }), local.production)
}
`)
	w.run(t, "init", "-input=false")
	w.run(t, "apply", "-input=false", "-auto-approve")
	conftest := func(output string) []string {
		t.Helper()
		doc := w.run(t, "output", "-raw", output)
		file := filepath.Join(w.dir, output+".json")
		if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		verdicts, _ := runConftest(t, w.dir, "--policy", library, file)
		return verdicts.Failures
	}
	cases := map[string]struct {
		reason string
		want   string
	}{
		"offered":                 {reason: "A cluster the platform offers passes."},
		"not_offered":             {reason: "A machine type the platform does not offer is denied.", want: "uses x9.huge, which the platform does not offer on aws"},
		"too_large_in_production": {reason: "The context's environment sets the limit.", want: `environment "production" allow at most 50 per pool`},
	}
	for output, tc := range cases {
		t.Run(output, func(t *testing.T) {
			failures := conftest(output)
			switch {
			case tc.want == "" && len(failures) > 0:
				t.Errorf("%s\nconftest denies: %q", tc.reason, failures)
			case tc.want != "" && !slices.ContainsFunc(failures, func(f string) bool { return strings.Contains(f, tc.want) }):
				t.Errorf("%s\nconftest denies %q, want a failure with %q", tc.reason, failures, tc.want)
			}
		})
	}
}
