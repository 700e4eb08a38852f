package provider

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// releaseVersion is the version the release test builds.
const releaseVersion = "0.1.1"

// TestAccReleaseInstall builds a release with the pinned goreleaser and the project's .goreleaser.yml
// (for this machine's platform only), signed by a throwaway RSA key, checks its layout, checksums and
// signature, and installs it as users do, with OpenTofu and Terraform (the sandbox's, and the machine's
// own when it has one), which then plan with it: from a packed filesystem mirror, from an HTTPS network
// mirror, and from a registry that speaks the provider registry protocol, whose signature the CLIs verify.
// The binary logs the version it was released as.
func TestAccReleaseInstall(t *testing.T) {
	requireAcc(t)
	goreleaser := pinnedTool(t, "goreleaser")
	gnupg, fingerprint := releaseSigningKey(t)
	dist := t.TempDir()
	config := releaseConfig(t, dist)
	repo, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(goreleaser, "release", "--snapshot", "--clean", "--skip=publish", "--config", config)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), "GNUPGHOME="+gnupg, "GPG_FINGERPRINT="+fingerprint, "IDP_RELEASE_VERSION="+releaseVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("goreleaser release: %v\n%s", err, out)
	}

	prefix := "terraform-provider-idp_" + releaseVersion
	archive := filepath.Join(dist, prefix+"_"+runtime.GOOS+"_"+runtime.GOARCH+".zip")
	sums := filepath.Join(dist, prefix+"_SHA256SUMS")
	manifest, err := os.ReadFile(filepath.Join(repo, "terraform-registry-manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("%s  %s\n%s  %s\n", fileSHA256(t, archive), filepath.Base(archive), bytesSHA256(manifest), prefix+"_manifest.json")
	if got, err := os.ReadFile(sums); err != nil || string(got) != want {
		t.Fatalf("%s holds %q (%v), want the archive's and the manifest's checksums:\n%s", filepath.Base(sums), got, err, want)
	}
	verify := exec.Command("gpg", "--batch", "--verify", sums+".sig", sums)
	verify.Env = append(os.Environ(), "GNUPGHOME="+gnupg)
	if out, err := verify.CombinedOutput(); err != nil || !strings.Contains(string(out), "Good signature") {
		t.Fatalf("the checksums' signature does not verify: %v\n%s", err, out)
	}
	checkReleaseArchive(t, archive)

	server := serveRelease(t, dist, archive, gnupg, fingerprint)
	awaitLateTools(t, "terraform")
	clis := map[string]string{"tofu": os.Getenv(sandbox.EnvTofu), "terraform": os.Getenv(sandbox.EnvTerraform)}
	// Users install with the Terraform they have: a machine that has one of its own installs with it too.
	if machine := machineTerraform(clis["terraform"]); machine != "" {
		clis["machine-terraform"] = machine
	}
	for name, cli := range clis {
		t.Run(name, func(t *testing.T) {
			if cli == "" {
				t.Fatalf("the sandbox names no %s", name)
			}
			for kind, how := range map[string]releaseInstall{
				"PackedMirror":  packedMirror(t, archive),
				"NetworkMirror": server.networkMirror(),
				"Registry":      server.registry(),
				"BadSignature":  server.tamperedRegistry(),
			} {
				t.Run(kind, func(t *testing.T) { installRelease(t, cli, how) })
			}
		})
	}
}

// machineTerraform is the terraform on PATH when it is not the sandbox's own, else "".
func machineTerraform(sandboxTerraform string) string {
	found, err := exec.LookPath("terraform")
	if err != nil {
		return ""
	}
	resolved, err := filepath.EvalSymlinks(found)
	if err != nil {
		return ""
	}
	if own, err := filepath.EvalSymlinks(sandboxTerraform); err == nil && own == resolved {
		return ""
	}
	return resolved
}

// pinnedTool is a development tool of tools/<name>, built (or found in Go's build cache) by `go tool`.
func pinnedTool(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "-C", filepath.Join("..", "..", "tools", name), "tool", "-n", name).Output()
	if err != nil {
		t.Fatalf("cannot build the pinned %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}

// releaseSigningKey makes a throwaway RSA signing key in a keyring of its own. The keyring's path is
// short: gpg-agent's socket lives in it, and a socket path has at most 107 bytes.
func releaseSigningKey(t *testing.T) (gnupg, fingerprint string) {
	t.Helper()
	gnupg, err := os.MkdirTemp("", "gpg")
	if err != nil {
		t.Fatal(err)
	}
	gpg := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("gpg", append([]string{"--batch"}, args...)...)
		cmd.Env = append(os.Environ(), "GNUPGHOME="+gnupg)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	t.Cleanup(func() {
		kill := exec.Command("gpgconf", "--kill", "gpg-agent")
		kill.Env = append(os.Environ(), "GNUPGHOME="+gnupg)
		_ = kill.Run()
		os.RemoveAll(gnupg)
	})
	gpg("--passphrase", "", "--quick-gen-key", "idp release test <release@idp.test>", "rsa3072", "sign", "never")
	match := regexp.MustCompile(`(?m)^fpr:+([0-9A-F]{40}):`).FindStringSubmatch(gpg("--list-keys", "--with-colons"))
	if match == nil {
		t.Fatal("gpg made no key with a fingerprint")
	}
	return gnupg, match[1]
}

// releaseConfig is .goreleaser.yml building for this machine's platform only, into dist.
func releaseConfig(t *testing.T, dist string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", ".goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	targets := regexp.MustCompile(`(?m)^    targets:\n(      - .*\n)+`)
	if !targets.Match(raw) {
		t.Fatal(".goreleaser.yml lists no build targets")
	}
	config := targets.ReplaceAllString(string(raw), "    targets:\n      - "+runtime.GOOS+"_"+runtime.GOARCH+"\n")
	path := filepath.Join(t.TempDir(), "goreleaser.yml")
	if err := os.WriteFile(path, []byte(fmt.Sprintf("dist: %s\n%s", dist, config)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkReleaseArchive checks that the archive holds the provider binary alone, named as the CLIs look
// for it.
func checkReleaseArchive(t *testing.T, archive string) {
	t.Helper()
	r, err := zip.OpenReader(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if len(r.File) != 1 || r.File[0].Name != "terraform-provider-idp_v"+releaseVersion {
		names := make([]string, len(r.File))
		for i, f := range r.File {
			names[i] = f.Name
		}
		t.Fatalf("%s holds %v, want the binary terraform-provider-idp_v%s alone", filepath.Base(archive), names, releaseVersion)
	}
}

// releaseInstall is one way users install the release: the provider source the configuration names,
// the CLI configuration's provider_installation, and what init says when it installed it.
type releaseInstall struct {
	source, installation string
	env                  []string
	installed            *regexp.Regexp
	// refused, when set, is what init says when it rightly refuses to install.
	refused *regexp.Regexp
}

// installRelease installs the release as the CLI configuration says and plans a configuration that
// uses it.
func installRelease(t *testing.T, cli string, how releaseInstall) {
	t.Helper()
	work := t.TempDir()
	cliConfig := filepath.Join(work, "cli.tfrc")
	config := fmt.Sprintf(`terraform {
  required_providers {
    idp = { source = %q, version = %q }
  }
}

data "idp_addon_catalog" "aws" {
  cloud              = "aws"
  kubernetes_version = "1.33"
}

output "ingress_versions" {
  value = data.idp_addon_catalog.aws.addons["ingress"].versions
}
`, how.source, releaseVersion)
	for file, content := range map[string]string{cliConfig: how.installation, filepath.Join(work, "main.tf"): config} {
		if err := os.WriteFile(file, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(cli, append(args, "-no-color")...)
		cmd.Dir = work
		cmd.Env = append(append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1", "TF_LOG_PROVIDER=INFO"), how.env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(cli), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	if how.refused != nil {
		cmd := exec.Command(cli, "init", "-input=false", "-no-color")
		cmd.Dir = work
		cmd.Env = append(append(os.Environ(), "TF_CLI_CONFIG_FILE="+cliConfig, "TF_IN_AUTOMATION=1"), how.env...)
		out, err := cmd.CombinedOutput()
		if err == nil || !how.refused.Match(out) {
			t.Fatalf("init installed a release it should have refused (error %v, want output matching %s):\n%s", err, how.refused, out)
		}
		return
	}
	if out := run("init", "-input=false"); !how.installed.MatchString(out) {
		t.Fatalf("init did not install the release (want %s):\n%s", how.installed, out)
	}
	// The provider logs the version it was released as when it is configured.
	out := run("plan", "-input=false")
	if !strings.Contains(out, "ingress_versions") {
		t.Errorf("the plan with the released provider shows no output:\n%s", out)
	}
	if !strings.Contains(out, "version="+releaseVersion) {
		t.Errorf("the released provider does not log version %s:\n%s", releaseVersion, out)
	}
}

// packedMirror is a packed filesystem mirror of the release: the archive as released, under both
// registries' hostnames.
func packedMirror(t *testing.T, archive string) releaseInstall {
	t.Helper()
	mirror := t.TempDir()
	for _, host := range []string{"registry.opentofu.org", "registry.terraform.io"} {
		dir := filepath.Join(mirror, host, "idp-platform", "idp")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Link(archive, filepath.Join(dir, filepath.Base(archive))); err != nil {
			t.Fatal(err)
		}
	}
	return releaseInstall{
		source:       "idp-platform/idp",
		installation: fmt.Sprintf("provider_installation {\n  filesystem_mirror {\n    path    = %q\n    include = [\"registry.opentofu.org/idp-platform/idp\", \"registry.terraform.io/idp-platform/idp\"]\n  }\n}\n", mirror),
		installed:    regexp.MustCompile(`Installed idp-platform/idp v` + regexp.QuoteMeta(releaseVersion)),
	}
}

func fileSHA256(t *testing.T, file string) string {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return bytesSHA256(raw)
}

func bytesSHA256(raw []byte) string {
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}
