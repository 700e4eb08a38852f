package provider

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// cliWorkspace is a directory where a test runs the sandbox's tofu itself, with this test binary as the
// provider (through dev_overrides), so that the test can kill the CLI and the provider mid-apply.
type cliWorkspace struct {
	dir string
	env []string
}

func newCLIWorkspace(t *testing.T) *cliWorkspace {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plugins := filepath.Join(dir, "plugins")
	if err := os.Mkdir(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(plugins, "terraform-provider-idp")); err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(dir, "cli.tfrc")
	overrides := fmt.Sprintf("provider_installation {\n  dev_overrides {\n    %q = %q\n  }\n  direct {}\n}\n",
		"registry.opentofu.org/idp-platform/idp", plugins)
	if err := os.WriteFile(cliConfig, []byte(overrides), 0o644); err != nil {
		t.Fatal(err)
	}
	return &cliWorkspace{dir: dir, env: append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, envServeProvider+"=1", "TF_IN_AUTOMATION=1")}
}

func (w *cliWorkspace) writeConfig(t *testing.T, config string) {
	t.Helper()
	config = "terraform {\n  required_providers {\n    idp = { source = \"idp-platform/idp\" }\n  }\n}\n" + config
	if err := os.WriteFile(filepath.Join(w.dir, "main.tf"), []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
}

// command is a tofu command in the workspace, in a process group of its own so that killing the group
// kills the provider with it.
func (w *cliWorkspace) command(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Getenv(sandbox.EnvTofu), append(args, "-no-color")...)
	cmd.Dir, cmd.Env = w.dir, w.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

func (w *cliWorkspace) run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := w.command(args...).CombinedOutput(); err != nil {
		t.Fatalf("tofu %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// TestAccAppInterruptedInstall kills the CLI and the provider while an install waits for its Pods, which
// leaves the release pending-install in the cluster and nothing in state; the next apply clears the
// release and installs it.
func TestAccAppInterruptedInstall(t *testing.T) {
	requireAcc(t)
	if os.Getenv(sandbox.EnvTestCLI) == "terraform" {
		t.Skip("registers the cluster with a write-only attribute, which Terraform supports from 1.11; the sandbox's Terraform is 1.5.7")
	}
	const namespace, name = "interrupted", "picky"
	chartPath, err := filepath.Abs(filepath.Join("testdata", "charts", "picky"))
	if err != nil {
		t.Fatal(err)
	}
	cluster := workloadClusterConfig("acc-interrupted")
	app := func(schedulable bool) string {
		return cluster + fmt.Sprintf(`
resource "idp_app" "picky" {
  cluster   = idp_cluster.workload.name
  namespace = %q
  name      = %q
  chart     = { path = %q }
  values    = yamlencode({ schedulable = %t })
}
`, namespace, name, chartPath, schedulable)
	}
	w := newCLIWorkspace(t)
	w.writeConfig(t, cluster)
	w.run(t, "apply", "-auto-approve", "-input=false")
	t.Cleanup(func() {
		w.writeConfig(t, app(true))
		w.run(t, "destroy", "-auto-approve", "-input=false")
		if err := checkReleaseGone(t, namespace, name)(nil); err != nil {
			t.Error(err)
		}
	})

	// Pods that no node accepts keep the install waiting until the kill.
	w.writeConfig(t, app(false))
	apply := w.command("apply", "-auto-approve", "-input=false")
	var output strings.Builder
	apply.Stdout, apply.Stderr = &output, &output
	if err := apply.Start(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		if _, status := releaseRevision(t, namespace, name); status == "pending-install" {
			break
		}
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-apply.Process.Pid, syscall.SIGKILL)
			t.Fatalf("the release never became pending-install:\n%s", output.String())
		case <-time.After(200 * time.Millisecond):
		}
	}
	if err := syscall.Kill(-apply.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = apply.Wait()
	if _, status := releaseRevision(t, namespace, name); status != "pending-install" {
		t.Fatalf("after the kill the release is %q, want pending-install", status)
	}

	w.writeConfig(t, app(true))
	w.run(t, "apply", "-auto-approve", "-input=false")
	revision, status := releaseRevision(t, namespace, name)
	if revision != 1 || status != "deployed" {
		t.Errorf("after the second apply the release is revision %d %q, want revision 1 deployed", revision, status)
	}
	if err := checkAvailable(t, namespace, name, 1)(nil); err != nil {
		t.Error(err)
	}
	// The state holds the release, so a plan has nothing to do.
	plan := w.command("plan", "-detailed-exitcode", "-input=false")
	if out, err := plan.CombinedOutput(); err != nil {
		t.Errorf("plan after convergence: %v (exit code 2 means changes)\n%s", err, out)
	}
}
