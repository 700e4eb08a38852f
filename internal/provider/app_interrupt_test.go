package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

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
	w := newCLIWorkspace(t, t.TempDir())
	w.writeConfig(t, cluster)
	w.run(t, "init", "-input=false")
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
