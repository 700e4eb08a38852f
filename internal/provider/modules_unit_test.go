package provider

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// TestModuleUnitSuites runs the modules' unit suites (tests/unit/*.tftest.hcl, with mock_provider) with
// the pinned OpenTofu: they need no platform, so they run without TF_ACC. The provider still serves its
// schema, from this test binary.
func TestModuleUnitSuites(t *testing.T) {
	if os.Getenv(sandbox.EnvTofu) == "" {
		t.Setenv(sandbox.EnvTofu, pinnedTofu(t))
	}
	root := filepath.Join("..", "..", "modules")
	suites, err := filepath.Glob(filepath.Join(root, "*", "tests", "unit"))
	if err != nil {
		t.Fatal(err)
	}
	// Every catalog module has a unit suite; testing/ holds the suites' own helpers.
	modules, err := filepath.Glob(filepath.Join(root, "*", "main.tf"))
	if err != nil {
		t.Fatal(err)
	}
	if len(suites) != len(modules) {
		t.Errorf("%d modules have a unit suite (tests/unit), want all %d", len(suites), len(modules))
	}
	for _, suite := range suites {
		module := filepath.Base(filepath.Dir(filepath.Dir(suite)))
		t.Run(module, func(t *testing.T) {
			runModuleSuite(t, root, module, nil, "-test-directory=tests/unit")
		})
	}
}

// runModuleSuite runs `tofu test` with testArgs in module, in a copy of the catalog (the suites share
// ../testing), so that init and test write nothing into the repository; env is added to the CLI's.
func runModuleSuite(t *testing.T, root, module string, env []string, testArgs ...string) {
	t.Helper()
	catalog := t.TempDir()
	if err := os.CopyFS(catalog, os.DirFS(root)); err != nil {
		t.Fatal(err)
	}
	w := newCLIWorkspace(t, filepath.Join(catalog, module))
	w.env = append(w.env, env...)
	w.run(t, "init", "-input=false", "-backend=false")
	out := w.run(t, append([]string{"test"}, testArgs...)...)
	// tofu test exits 0 only when every run passed; the count guards against a suite that ran nothing.
	if !regexp.MustCompile(`Success! [1-9]\d* passed, 0 failed`).MatchString(out) {
		t.Errorf("tofu test did not report success:\n%s", out)
	}
}

// pinnedTofu is the sandbox's OpenTofu, built by the sandbox's tool builder if it is not yet (make unit
// builds it first, outside the tests' timeout).
func pinnedTofu(t *testing.T) string {
	t.Helper()
	path, err := sandbox.ToolPath(t.Context(), sandbox.Options{}, "tofu", "tofu")
	if err != nil {
		t.Fatalf("cannot build the pinned tofu: %v", err)
	}
	return path
}

// TestPlatformExample runs examples/platform's unit suite (mock_provider): the example composes the
// catalog's modules by their paths in the repository, so the copy it runs in holds both.
func TestPlatformExample(t *testing.T) {
	if os.Getenv(sandbox.EnvTofu) == "" {
		t.Setenv(sandbox.EnvTofu, pinnedTofu(t))
	}
	root := t.TempDir()
	for _, dir := range []string{"modules", filepath.Join("examples", "platform")} {
		if err := os.CopyFS(filepath.Join(root, dir), os.DirFS(filepath.Join("..", "..", dir))); err != nil {
			t.Fatal(err)
		}
	}
	runModuleSuite(t, root, filepath.Join("examples", "platform"), nil, "-test-directory=tests")
}
