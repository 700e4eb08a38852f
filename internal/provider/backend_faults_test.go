package provider

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// freezeGuard resumes a frozen process if the test has not by then: a plan that hangs despite the
// request timeout then fails its step instead of leaving the shared sandbox frozen. It guards against
// a hang only; nothing is measured against it.
const freezeGuard = 2 * time.Minute

// freezer stops one sandbox process and resumes it, the way a hung server behaves: its port stays
// open and accepts connections, but nothing answers.
type freezer struct {
	t      *testing.T
	name   string
	pid    int
	mu     sync.Mutex
	frozen bool
	guard  *time.Timer
}

// newFreezer finds the sandbox process recorded as name (see internal/sandbox: "vault", "keycloak",
// "<cluster>-apiserver"). Its process group is signalled, which for Keycloak holds the JVM beside
// its launcher script. Cleanup resumes it whatever the test's outcome.
func newFreezer(t *testing.T, name string) *freezer {
	t.Helper()
	pidFile := filepath.Join(os.Getenv(sandbox.EnvDir), "pids", name+".pid")
	raw, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("cannot read the pid of the sandbox's %s: %v", name, err)
	}
	fields := strings.Fields(string(raw))
	if len(fields) != 2 {
		t.Fatalf("%s: want \"<pid> <start time>\", got %q", pidFile, raw)
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 1 {
		t.Fatalf("%s: bad pid %q", pidFile, fields[0])
	}
	if started := processStartTime(pid); started != fields[1] {
		t.Fatalf("the sandbox's %s (pid %d) is not running: start time %q, recorded %q", name, pid, started, fields[1])
	}
	f := &freezer{t: t, name: name, pid: pid}
	t.Cleanup(f.resume)
	return f
}

func (f *freezer) freeze() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := syscall.Kill(-f.pid, syscall.SIGSTOP); err != nil {
		f.t.Fatalf("cannot stop the sandbox's %s: %v", f.name, err)
	}
	f.frozen = true
	f.guard = time.AfterFunc(freezeGuard, func() {
		f.t.Logf("resuming the sandbox's %s: the test kept it stopped for %s", f.name, freezeGuard)
		f.resume()
	})
}

func (f *freezer) resume() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.frozen {
		return
	}
	if f.guard != nil {
		f.guard.Stop()
	}
	if err := syscall.Kill(-f.pid, syscall.SIGCONT); err != nil {
		f.t.Errorf("cannot resume the sandbox's %s (pid %d): %v; resume it with kill -CONT -%d", f.name, f.pid, err, f.pid)
		return
	}
	f.frozen = false
}

// processStartTime is field 22 of /proc/<pid>/stat, as the sandbox records it, so a pid the kernel
// has since given to another process is never signalled.
func processStartTime(pid int) string {
	raw, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return ""
	}
	end := strings.LastIndexByte(string(raw), ')') // the command name may hold spaces
	if end < 0 {
		return ""
	}
	fields := strings.Fields(string(raw[end+1:]))
	if len(fields) <= 19 {
		return ""
	}
	return fields[19]
}

// words matches text whose words the CLI may have wrapped onto several lines.
func words(text string) string {
	parts := strings.Fields(text)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(p)
	}
	return strings.Join(parts, `\s+`)
}

// faultTimeout is the request_timeout of the fault tests, short so that the stopped plan fails soon.
const faultTimeout = "3s"

// TestAccBackendFaults stops each backend in turn (SIGSTOP: its port stays open, nothing answers), and
// checks that a plan that needs it fails with a diagnostic naming it and its address, instead of
// hanging, and that once it is resumed the next plan succeeds.
func TestAccBackendFaults(t *testing.T) {
	requireAcc(t)
	platform := func(block string) string {
		return fmt.Sprintf(`
provider "idp" {
  %s {
    request_timeout = %q
  }
}

data "idp_platform" "this" {}
`, block, faultTimeout)
	}
	cases := map[string]struct {
		reason  string
		process string
		config  string
		want    *regexp.Regexp
	}{
		"Vault": {
			reason:  "The data source logs in to Vault first; a silent Vault fails the login within its timeout.",
			process: "vault",
			config:  platform("vault"),
			want:    regexp.MustCompile(`Vault did not answer(.|\n)*` + regexp.QuoteMeta(os.Getenv("IDP_VAULT_ADDRESS")) + `(.|\n)*vault\.request_timeout`),
		},
		"Keycloak": {
			reason:  "Keycloak is logged in to on first use; a silent one fails that within its timeout.",
			process: "keycloak",
			config:  platform("keycloak"),
			want:    regexp.MustCompile(`Keycloak did not answer(.|\n)*` + regexp.QuoteMeta(os.Getenv("IDP_KEYCLOAK_URL")) + `(.|\n)*keycloak\.request_timeout`),
		},
		"ManagementCluster": {
			reason:  "A silent management API server fails the first request whose answer does not begin within the timeout.",
			process: "management-apiserver",
			config:  platform("management_cluster"),
			want: regexp.MustCompile(`The management cluster did not answer(.|\n)*` + regexp.QuoteMeta(os.Getenv(sandbox.EnvManagementHost)) +
				`(.|\n)*management_cluster\.request_timeout`),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			process := newFreezer(t, tc.process)
			resource.Test(t, resource.TestCase{
				ProtoV6ProviderFactories: testProviders,
				Steps: []resource.TestStep{
					{PreConfig: process.freeze, Config: tc.config, PlanOnly: true, ExpectError: tc.want},
					{PreConfig: process.resume, Config: tc.config, PlanOnly: true},
				},
			})
		})
	}
}

// TestAccBackendFaultsWorkloadCluster stops a workload cluster's API server under a released app: the
// refresh of the app fails within the management_cluster block's request_timeout, naming the cluster's
// address, and succeeds once the API server is resumed.
func TestAccBackendFaultsWorkloadCluster(t *testing.T) {
	requireAcc(t)
	const cluster, namespace = "acc-faults", "faults"
	config := strings.Replace(webServiceConfig(cluster, namespace, webServiceValues("1")), `provider "idp" {}`,
		fmt.Sprintf("provider \"idp\" {\n  management_cluster {\n    request_timeout = %q\n  }\n}", faultTimeout), 1)
	// Cleanups run last first: the API server is resumed before this one runs. A failed step leaves the
	// post-test destroy to run against the stopped API server, so what it could not remove is removed here.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		helmCLI(t, "uninstall", "api", "--namespace", namespace, "--ignore-not-found")
		if err := sandboxVault(t).DeleteMetadata(context.Background(), kubeconfigPath(cluster)); err != nil {
			t.Errorf("cannot remove the registration of cluster %q: %v", cluster, err)
		}
	})
	apiserver := newFreezer(t, "workload-apiserver")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy:             resource.ComposeTestCheckFunc(checkReleaseGone(t, namespace, "api"), checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{Config: config},
			{
				PreConfig: apiserver.freeze,
				Config:    config,
				PlanOnly:  true,
				ExpectError: regexp.MustCompile(words(fmt.Sprintf("Workload cluster %q did not answer", cluster)) + `(.|\n)*` +
					words("workload cluster at "+os.Getenv(sandbox.EnvWorkloadHost)) + `\s+` + words("did not answer within "+faultTimeout)),
			},
			{PreConfig: apiserver.resume, Config: config, PlanOnly: true},
		},
	})
}
