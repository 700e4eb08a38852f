package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"testing"
	"time"
)

// Environment variables that steer RunTests.
const (
	// EnvReuse names the env file of a running sandbox (`make sandbox-up`) for tests to use instead of
	// starting their own.
	EnvReuse = "IDP_SANDBOX_ENV_FILE"
	// EnvTestCLI picks the CLI acceptance tests drive: "tofu" (default) or "terraform".
	EnvTestCLI = "IDP_TEST_CLI"
)

// RunTests is a TestMain for packages with acceptance tests. Without TF_ACC it only runs the tests
// (acceptance tests skip themselves). With TF_ACC it starts a sandbox once for the package, or reuses
// the one named by IDP_SANDBOX_ENV_FILE, exports its environment, points terraform-plugin-testing at the
// chosen CLI, runs the tests and stops the sandbox. A sandbox that cannot start fails the run: an
// acceptance test is never skipped for want of its platform.
func RunTests(m *testing.M, options ...TestOption) int {
	if os.Getenv("TF_ACC") == "" {
		return m.Run()
	}
	var opts Options
	for _, option := range options {
		option(&opts)
	}
	env, stop, err := sandboxForTests(opts)
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: the sandbox did not start, so no acceptance test can run:\n%v\n", err)
		return 1
	}
	defer stop()
	for key, value := range env {
		os.Setenv(key, value)
	}
	// The CLIs read a user's CLI configuration (dev_overrides, mirrors), which has no place in tests; an
	// empty one also silences the warning a TF_CLI_CONFIG_FILE naming a missing file causes, which breaks
	// terraform-plugin-testing's parsing of `tofu version`.
	cliConfig, err := os.CreateTemp("", "idp-test-*.tfrc")
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: cannot create an empty CLI configuration: %v\n", err)
		return 1
	}
	cliConfig.Close()
	defer os.Remove(cliConfig.Name())
	os.Setenv("TF_CLI_CONFIG_FILE", cliConfig.Name())
	cli := os.Getenv(EnvTestCLI)
	if cli == "" {
		cli = "tofu"
	}
	if cli == "terraform" {
		if err := buildTerraform(); err != nil {
			fmt.Fprintf(os.Stderr, "FAIL: cannot build Terraform %s: %v\n", TerraformVersion, err)
			return 1
		}
	}
	if err := UseCLI(cli, os.Setenv); err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: %v\n", err)
		return 1
	}
	return m.Run()
}

// buildTerraform builds Terraform, a late tool, for packages whose every test drives it.
func buildTerraform() error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	return BuildTools(ctx, Options{Log: os.Stderr}, "terraform")
}

// UseCLI points terraform-plugin-testing at the sandbox's tofu or terraform binary through set
// (os.Setenv, or a test's t.Setenv); Terraform is a late tool, which its caller has built (BuildTools). OpenTofu resolves unqualified providers on its own registry host,
// so the reattached provider must be announced there.
func UseCLI(cli string, set func(key, value string) error) error {
	var path, host string
	switch cli {
	case "tofu":
		path, host = os.Getenv(EnvTofu), "registry.opentofu.org"
	case "terraform":
		path, host = os.Getenv(EnvTerraform), "registry.terraform.io"
	default:
		return fmt.Errorf("%s=%q: want tofu or terraform", EnvTestCLI, cli)
	}
	if path == "" {
		return fmt.Errorf("the sandbox environment has no path for %s", cli)
	}
	if err := set("TF_ACC_TERRAFORM_PATH", path); err != nil {
		return err
	}
	return set("TF_ACC_PROVIDER_HOST", host)
}

// TestOption adds to the sandbox a test package starts.
type TestOption func(*Options)

// WithAddonProviders starts the Crossplane providers AddonStack composites need (see Options).
func WithAddonProviders(opts *Options) { opts.AddonProviders = true }

func sandboxForTests(opts Options) (map[string]string, func(), error) {
	if path := os.Getenv(EnvReuse); path != "" {
		env, err := ReadEnvFile(path)
		return env, func() {}, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Minute)
	defer cancel()
	opts.Log = os.Stderr
	sb, err := Start(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	// A test binary interrupted by Ctrl-C or killed by `go test -timeout` still stops its sandbox when
	// it can; when it cannot, the next sandbox reaps this one.
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		_ = sb.Stop()
		os.Exit(1)
	}()
	return sb.Env(), func() { signal.Stop(signals); _ = sb.Stop() }, nil
}
