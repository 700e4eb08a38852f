package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// envServeProvider makes the test binary serve the provider as a plugin instead of running tests: tests
// that must kill the provider mid-apply run the CLI on its own, with this binary as the provider.
const envServeProvider = "IDP_TEST_SERVE_PROVIDER"

// envProviderRusageDir names a directory where a served provider leaves its own CPU time and peak RSS
// when the CLI stops it, for benchmarks of what a plan costs the provider.
const envProviderRusageDir = "IDP_TEST_PROVIDER_RUSAGE_DIR"

func TestMain(m *testing.M) {
	if serve := os.Getenv(envServeProvider); serve != "" {
		served := New("test")
		if serve == serveNoopProvider {
			served = newNoopProvider
		}
		if dir := os.Getenv(envProviderProfileDir); dir != "" {
			stop := profileCPU(dir)
			defer stop()
		}
		SilenceUnrequestedSDKLogs() // as main does
		TuneGarbageCollector()
		err := providerserver.Serve(context.Background(), served, providerserver.ServeOpts{Address: "registry.opentofu.org/idp-platform/idp"})
		if dir := os.Getenv(envProviderRusageDir); dir != "" {
			if err := writeRusage(dir); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		return
	}
	os.Exit(sandbox.RunTests(m, sandbox.WithAddonProviders))
}

// envProviderProfileDir makes each provider process the test binary serves write a CPU profile into
// that directory, for finding where a plan's provider time goes (go tool pprof).
const envProviderProfileDir = "IDP_TEST_PROVIDER_PROFILE_DIR"

func profileCPU(dir string) func() {
	file, err := os.Create(filepath.Join(dir, fmt.Sprintf("%d.pprof", os.Getpid())))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return func() {}
	}
	if err := pprof.StartCPUProfile(file); err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = file.Close()
		return func() {}
	}
	return func() { pprof.StopCPUProfile(); _ = file.Close() }
}

// testProviders serves the provider in-process to the CLI that terraform-plugin-testing drives.
var testProviders = map[string]func() (tfprotov6.ProviderServer, error){
	"idp": providerserver.NewProtocol6WithError(New("test")()),
}

// requireAcc skips a test when TF_ACC is unset, as `go test` without it runs unit tests only; with
// TF_ACC the sandbox is up (RunTests fails the run otherwise) and nothing is skipped.
func requireAcc(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
}

// awaitLateTools waits for the build of late tools, which make testacc runs beside the tests that come
// before the ones that run them, or builds them when nothing does; the wait has a deadline of its own,
// apart from the test's.
func awaitLateTools(t *testing.T, tools ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	if err := sandbox.BuildTools(ctx, sandbox.Options{}, tools...); err != nil {
		t.Fatalf("cannot build %s: %v", strings.Join(tools, ", "), err)
	}
}

// useTerraform157 runs the calling test with the sandbox's Terraform 1.5.7 instead of OpenTofu.
func useTerraform157(t *testing.T) {
	t.Helper()
	awaitLateTools(t, "terraform")
	err := sandbox.UseCLI("terraform", func(key, value string) error {
		t.Setenv(key, value)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// stateHasNoSecrets fails when any of the sandbox's credentials appears anywhere in the state.
func stateHasNoSecrets() stateLacks {
	secrets := stateLacks{}
	for _, name := range []string{
		"IDP_VAULT_APPROLE_SECRET_ID",
		"IDP_KEYCLOAK_CLIENT_SECRET",
		sandbox.EnvManagementToken,
		sandbox.EnvVaultRootToken,
		sandbox.EnvKeycloakAdminPass,
	} {
		if value := os.Getenv(name); value != "" {
			secrets["the value of "+name] = value
		}
	}
	return secrets
}

// stateLacks fails when any of the named values appears anywhere in the state.
type stateLacks map[string]string

func (s stateLacks) CheckState(_ context.Context, req statecheck.CheckStateRequest, resp *statecheck.CheckStateResponse) {
	raw, err := json.Marshal(req.State)
	if err != nil {
		resp.Error = fmt.Errorf("cannot encode the state: %w", err)
		return
	}
	for what, value := range s {
		if value == "" {
			resp.Error = fmt.Errorf("stateLacks: %s is empty, so the check would prove nothing", what)
			return
		}
		if strings.Contains(string(raw), value) {
			resp.Error = fmt.Errorf("the state contains %s", what)
			return
		}
	}
}

// providerRusage is what one provider process cost, as getrusage(RUSAGE_SELF) reports it.
type providerRusage struct {
	CPUSeconds  float64 `json:"cpu_seconds"`
	MaxRSSBytes int64   `json:"max_rss_bytes"`
}

// writeRusage records this process's rusage in dir, in a file named by its pid.
func writeRusage(dir string) error {
	var usage syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &usage); err != nil {
		return fmt.Errorf("cannot read the provider's rusage: %w", err)
	}
	raw, err := json.Marshal(providerRusage{
		CPUSeconds: time.Duration(usage.Utime.Nano() + usage.Stime.Nano()).Seconds(),
		// Linux reports ru_maxrss in KiB.
		MaxRSSBytes: usage.Maxrss * 1024,
	})
	if err != nil {
		return err
	}
	path := filepath.Join(dir, strconv.Itoa(os.Getpid())+".json")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		return fmt.Errorf("cannot record the provider's rusage: %w", err)
	}
	return nil
}
