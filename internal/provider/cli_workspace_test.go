package provider

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// cliWorkspace is a directory where a test runs the sandbox's tofu itself, as a user would, with this
// test binary installed as the provider from a filesystem mirror (TestMain serves the provider when
// envServeProvider is set). Tests use it to kill the CLI and the provider mid-apply, and to run the
// modules' own `tofu test` suites.
type cliWorkspace struct {
	dir string
	env []string
}

// mirroredProviderVersion is the version the mirror offers, which module version constraints accept.
const mirroredProviderVersion = "0.1.0"

func newCLIWorkspace(t testing.TB, dir string) *cliWorkspace {
	t.Helper()
	return &cliWorkspace{dir: dir, env: append(os.Environ(), providerMirror(t)...)}
}

// providerMirror installs the test binary as the provider in a filesystem mirror and returns the
// environment under which tofu installs it from there and the binary serves the provider.
func providerMirror(t testing.TB) []string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	mirror := t.TempDir()
	platform := filepath.Join(mirror, "registry.opentofu.org", "idp-platform", "idp", mirroredProviderVersion, runtime.GOOS+"_"+runtime.GOARCH)
	if err := os.MkdirAll(platform, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(self, filepath.Join(platform, "terraform-provider-idp_v"+mirroredProviderVersion)); err != nil {
		t.Fatal(err)
	}
	cliConfig := filepath.Join(mirror, "cli.tfrc")
	installation := fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"registry.opentofu.org/idp-platform/idp\"]\n  }\n}\n", mirror)
	if err := os.WriteFile(cliConfig, []byte(installation), 0o644); err != nil {
		t.Fatal(err)
	}
	return []string{"TF_CLI_CONFIG_FILE=" + cliConfig, envServeProvider + "=1", "TF_IN_AUTOMATION=1"}
}

func (w *cliWorkspace) writeConfig(t testing.TB, config string) {
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

func (w *cliWorkspace) run(t testing.TB, args ...string) string {
	t.Helper()
	out, err := w.command(args...).CombinedOutput()
	if err != nil {
		t.Fatalf("tofu %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}
