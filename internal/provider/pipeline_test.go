package provider

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// TestAccAtlantisPullRequest runs the platform's pull-request workflow with real servers: Gitea holds
// a platform repository that calls the catalog's web-service module from a modules repository, and
// Atlantis runs with the shipped atlantis/ templates, the sandbox's OpenTofu and conftest, and the
// policy library. A pull request that ships a service is planned, passes the policies and is applied by
// an `atlantis apply` comment; one that grants cluster-admin is planned, fails the policy check and its
// apply is refused; no comment holds a credential of the sandbox.
func TestAccAtlantisPullRequest(t *testing.T) {
	requireAcc(t)
	const cluster, namespace, group = "acc-pipeline", "acc-pipeline", "acc-pipeline-admins"
	awaitLateTools(t, "conftest", "gitea", "atlantis")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	work := t.TempDir()
	// Atlantis's tofu installs the provider from a filesystem mirror, as a platform team installs a
	// release for it.
	env := append(providerMirror(t),
		"PATH="+filepath.Dir(os.Getenv(sandbox.EnvTofu))+":"+filepath.Dir(os.Getenv(sandbox.EnvConftest))+":"+os.Getenv("PATH"),
		"TF_VAR_workload_kubeconfig="+os.Getenv(sandbox.EnvWorkloadKubeconfig),
	)
	pipeline, err := sandbox.StartPipeline(ctx, sandbox.PipelineOptions{RepoConfig: pipelineRepoConfig(t, work), Env: env})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := pipeline.Stop(); err != nil {
			t.Error(err)
		}
	})
	vcs := &pipelineRepo{t: t, ctx: ctx, pipeline: pipeline, name: "platform"}

	modules := vcs.create("platform-modules", false)
	moduleFiles := map[string]string{}
	for _, file := range []string{"main.tf", "variables.tf", "outputs.tf", "versions.tf"} {
		moduleFiles["web-service/"+file] = readRepoFile(t, "modules", "web-service", file)
	}
	modules.push("main", "", "the catalog's web-service module", moduleFiles)

	vcs.create(vcs.name, true)
	state := filepath.Join(work, "platform.tfstate")
	base := map[string]string{
		"atlantis.yaml": readRepoFile(t, "atlantis", "atlantis.yaml"),
		"main.tf": fmt.Sprintf(`terraform {
  required_providers {
    idp = { source = "idp-platform/idp", version = %q }
  }
  backend "local" {
    path = %q
  }
}

provider "idp" {}

variable "workload_kubeconfig" {
  type = string
}
`, mirroredProviderVersion, state),
	}
	vcs.push("main", "", "platform configuration", base)
	vcs.allowBot()
	vcs.hookAtlantis()

	// Ship a service: registered cluster plus the catalog module, pinned to the modules repository.
	ship := map[string]string{"hello.tf": fmt.Sprintf(`resource "idp_cluster" "pipeline" {
  name          = %q
  cloud         = "existing"
  kubeconfig_wo = file(var.workload_kubeconfig)
}

module "hello" {
  source = "git::%splatform/platform-modules.git//web-service?ref=main"

  cluster   = idp_cluster.pipeline.name
  namespace = %q
  name      = "hello"
  image     = { repository = "ghcr.io/acme/hello", tag = "1.0.0" }
}
`, cluster, pipeline.GiteaURL, namespace)}
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			pipelineDestroy(t, work, env, base, ship)
		}
	})
	vcs.push("main", "ship-hello", "ship hello", ship)
	shipPR := vcs.open("ship-hello", "Ship hello")
	plan := vcs.waitComment(shipPR, "the plan", regexp.MustCompile("Ran Plan for project: `platform`"))
	if !regexp.MustCompile(`Plan: [1-9][0-9]* to add, 0 to change, 0 to destroy`).MatchString(plan) {
		t.Fatalf("Atlantis's plan does not add the cluster and the service:\n%s", plan)
	}
	checked := vcs.waitComment(shipPR, "the policy check", regexp.MustCompile("Ran Policy Check for project: `platform`"))
	if !strings.Contains(checked, "To **apply** this plan") || strings.Contains(checked, "FAIL") {
		t.Fatalf("the policy check of an allowed change did not pass:\n%s", checked)
	}
	vcs.comment(shipPR, "atlantis apply")
	applied := vcs.waitComment(shipPR, "the apply", regexp.MustCompile("Ran Apply for project: `platform`"))
	if !strings.Contains(applied, "Apply complete!") {
		t.Fatalf("Atlantis did not apply the allowed change:\n%s", applied)
	}
	if _, err := workloadClient(t).AppsV1().Deployments(namespace).Get(ctx, "hello", metav1.GetOptions{}); err != nil {
		t.Fatalf("the applied service is not on the workload cluster: %v", err)
	}
	if _, err := sandboxVault(t).GetMetadata(ctx, kubeconfigPath(cluster)); err != nil {
		t.Fatalf("the applied cluster is not registered in Vault: %v", err)
	}
	vcs.merge(shipPR)
	// Atlantis drops the pull request's lock on merge, so that the next one may plan the project.
	vcs.waitComment(shipPR, "the unlock on merge", regexp.MustCompile("Locks and plans deleted"))

	// Grant cluster-admin: the provider plans it (allow_cluster_admin), the policy library refuses it.
	grant := map[string]string{"admins.tf": fmt.Sprintf(`resource "idp_access" "admins" {
  cluster             = idp_cluster.pipeline.id
  group               = %q
  role                = "cluster-admin"
  allow_cluster_admin = true
}
`, group)}
	vcs.push("main", "grant-admins", "grant cluster-admin", grant)
	grantPR := vcs.open("grant-admins", "Grant cluster-admin")
	plan = vcs.waitComment(grantPR, "the plan", regexp.MustCompile("Ran Plan for project: `platform`"))
	if !strings.Contains(plan, "Plan: 1 to add, 0 to change, 0 to destroy") {
		t.Fatalf("Atlantis's plan does not add the grant alone:\n%s", plan)
	}
	checked = vcs.waitComment(grantPR, "the policy check", regexp.MustCompile("Ran Policy Check for project: `platform`"))
	if !strings.Contains(checked, "cluster-admin on cluster") || !strings.Contains(checked, "Policy Approval Status") {
		t.Fatalf("the policy check does not refuse cluster-admin with the library's reason:\n%s", checked)
	}
	vcs.comment(grantPR, "atlantis apply")
	refused := vcs.waitComment(grantPR, "the refused apply", regexp.MustCompile("Ran Apply for|All policies must pass"))
	if !strings.Contains(refused, "All policies must pass") {
		t.Fatalf("Atlantis applied a change that fails a mandatory policy:\n%s", refused)
	}
	if err := checkAccessGone(t, access.Grant{Cluster: cluster, Group: group, Role: "cluster-admin"})(nil); err != nil {
		t.Fatalf("the refused grant exists: %v", err)
	}

	for _, pr := range []int{shipPR, grantPR} {
		for _, body := range vcs.comments(pr) {
			for name, secret := range pipelineSecrets(t, pipeline) {
				if strings.Contains(body, secret) {
					t.Errorf("a comment on pull request %d holds %s:\n%s", pr, name, body)
				}
			}
		}
	}

	pipelineDestroy(t, work, env, base, ship)
	destroyed = true
	if err := checkReleaseGone(t, namespace, "hello")(nil); err != nil {
		t.Error(err)
	}
	if err := checkClustersGone(t, cluster)(nil); err != nil {
		t.Error(err)
	}
}

// pipelineRepoConfig is the shipped atlantis/repos.yaml with the policy library where this checkout
// has it.
func pipelineRepoConfig(t *testing.T, work string) string {
	t.Helper()
	shipped := readRepoFile(t, "atlantis", "repos.yaml")
	const installed = "/etc/atlantis/idp-policy"
	if !strings.Contains(shipped, installed) {
		t.Fatalf("atlantis/repos.yaml names no policy set at %s", installed)
	}
	policy, err := filepath.Abs(filepath.Join("..", "..", "policy"))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(work, "repos.yaml")
	if err := os.WriteFile(path, []byte(strings.ReplaceAll(shipped, installed, policy)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// pipelineDestroy destroys what the applied pull request made, from the merged configuration and the
// state Atlantis left in the backend.
func pipelineDestroy(t *testing.T, work string, env []string, configs ...map[string]string) {
	t.Helper()
	dir := filepath.Join(work, "destroy")
	for _, files := range configs {
		for name, content := range files {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, args := range [][]string{{"init", "-input=false"}, {"destroy", "-input=false", "-auto-approve"}} {
		cmd := exec.Command(os.Getenv(sandbox.EnvTofu), append(args, "-no-color")...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("tofu %s of the pipeline's configuration: %v\n%s", args[0], err, out)
			return
		}
	}
}

// pipelineSecrets are the credentials no comment may show: the sandbox's tokens and passwords, the
// workload cluster's admin credentials, and Gitea's tokens.
func pipelineSecrets(t *testing.T, pipeline *sandbox.Pipeline) map[string]string {
	t.Helper()
	secrets := map[string]string{"the Gitea owner's token": pipeline.OwnerToken, "the webhook secret": pipeline.WebhookSecret}
	for _, entry := range os.Environ() {
		name, value, _ := strings.Cut(entry, "=")
		if strings.HasPrefix(name, "IDP_") && regexp.MustCompile(`TOKEN|PASSWORD|SECRET`).MatchString(name) && len(value) >= 8 {
			secrets[name] = value
		}
	}
	kubeconfig, err := clientcmd.LoadFromFile(os.Getenv(sandbox.EnvWorkloadKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	for user, auth := range kubeconfig.AuthInfos {
		if auth.Token != "" {
			secrets["the workload kubeconfig's token of "+user] = auth.Token
		}
		if len(auth.ClientKeyData) > 0 {
			secrets["the workload kubeconfig's client key of "+user] = base64.StdEncoding.EncodeToString(auth.ClientKeyData)[:64]
		}
	}
	return secrets
}

// readRepoFile reads a file of this checkout.
func readRepoFile(t *testing.T, path ...string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(append([]string{"..", ".."}, path...)...))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// pipelineRepo is a repository of the pipeline's Gitea, reached as its owner.
type pipelineRepo struct {
	t        *testing.T
	ctx      context.Context
	pipeline *sandbox.Pipeline
	name     string
}

// path is a path of the repository's API.
func (r *pipelineRepo) path(sub string) string {
	return "repos/" + r.pipeline.Owner + "/" + r.name + "/" + sub
}

func (r *pipelineRepo) api(method, path string, in, out any) {
	r.t.Helper()
	if err := r.pipeline.Gitea(r.ctx, method, path, in, out); err != nil {
		r.t.Fatal(err)
	}
}

// create makes a repository of the owner, with an initial commit on main, and returns it.
func (r *pipelineRepo) create(name string, private bool) *pipelineRepo {
	r.t.Helper()
	r.api("POST", "user/repos", map[string]any{"name": name, "private": private, "auto_init": true, "default_branch": "main"}, nil)
	return &pipelineRepo{t: r.t, ctx: r.ctx, pipeline: r.pipeline, name: name}
}

// push commits files to branch, or to a new branch from it.
func (r *pipelineRepo) push(branch, newBranch, message string, files map[string]string) {
	r.t.Helper()
	var changes []map[string]string
	for path, content := range files {
		changes = append(changes, map[string]string{"operation": "create", "path": path, "content": base64.StdEncoding.EncodeToString([]byte(content))})
	}
	body := map[string]any{"branch": branch, "message": message, "files": changes}
	if newBranch != "" {
		body["new_branch"] = newBranch
	}
	r.api("POST", r.path("contents"), body, nil)
}

// allowBot makes Atlantis's user a collaborator who may comment and read the private repository.
func (r *pipelineRepo) allowBot() {
	r.t.Helper()
	r.api("PUT", r.path("collaborators/"+r.pipeline.Bot), map[string]string{"permission": "write"}, nil)
}

// hookAtlantis sends the repository's pull-request events, comments included, to Atlantis, signed.
func (r *pipelineRepo) hookAtlantis() {
	r.t.Helper()
	r.api("POST", r.path("hooks"), map[string]any{
		"type":   "gitea",
		"active": true,
		"events": []string{"pull_request"},
		"config": map[string]string{"url": r.pipeline.AtlantisURL + "/events", "content_type": "json", "secret": r.pipeline.WebhookSecret},
	}, nil)
}

func (r *pipelineRepo) open(head, title string) int {
	r.t.Helper()
	var pr struct{ Number int }
	r.api("POST", r.path("pulls"), map[string]string{"head": head, "base": "main", "title": title}, &pr)
	return pr.Number
}

func (r *pipelineRepo) comment(pr int, body string) {
	r.t.Helper()
	r.api("POST", r.path(fmt.Sprintf("issues/%d/comments", pr)), map[string]string{"body": body}, nil)
}

func (r *pipelineRepo) merge(pr int) {
	r.t.Helper()
	r.api("POST", r.path(fmt.Sprintf("pulls/%d/merge", pr)), map[string]string{"Do": "merge"}, nil)
}

// comments are the bodies of the pull request's comments, oldest first.
func (r *pipelineRepo) comments(pr int) []string {
	r.t.Helper()
	var comments []struct{ Body string }
	r.api("GET", r.path(fmt.Sprintf("issues/%d/comments", pr)), nil, &comments)
	bodies := make([]string, len(comments))
	for i, c := range comments {
		bodies[i] = c.Body
	}
	return bodies
}

// waitComment waits for a comment matching want and returns the newest such. It gives up after five minutes with every comment and the end of Atlantis's log.
func (r *pipelineRepo) waitComment(pr int, what string, want *regexp.Regexp) string {
	r.t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for {
		bodies := r.comments(pr)
		for i := len(bodies) - 1; i >= 0; i-- {
			if want.MatchString(bodies[i]) {
				return bodies[i]
			}
		}
		if time.Now().After(deadline) {
			raw, _ := json.MarshalIndent(bodies, "", "  ")
			log, _ := os.ReadFile(r.pipeline.AtlantisLog())
			lines := strings.Split(string(log), "\n")
			r.t.Fatalf("Atlantis made no comment with %s (%s) on pull request %d within 5m; the comments:\n%s\nthe end of Atlantis's log:\n%s", what, want, pr, raw, strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
		time.Sleep(2 * time.Second)
	}
}
