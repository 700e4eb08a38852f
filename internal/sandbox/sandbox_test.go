package sandbox

import (
	"archive/zip"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/mod/modfile"
)

// TestToolPinsMatchVersions keeps versions.go, the one place versions are recorded, in step with the
// go.mod files that really pin the Go-built tools.
func TestToolPinsMatchVersions(t *testing.T) {
	for _, pin := range slices.Concat(sandboxTools, lateTools, developmentTools) {
		t.Run(pin.name, func(t *testing.T) {
			path := filepath.Join("..", "..", "tools", pin.name, "go.mod")
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			file, err := modfile.Parse(path, raw, nil)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, req := range file.Require {
				if req.Mod.Path == pin.module {
					got = req.Mod.Version
				}
			}
			if got != pin.version {
				t.Errorf("%s requires %s %q; versions.go records %q", path, pin.module, got, pin.version)
			}
			if len(file.Tool) == 0 {
				t.Errorf("%s names no tool to build", path)
			}
		})
	}
}

func TestNPMPinsMatchVersions(t *testing.T) {
	for _, pin := range npmTools {
		t.Run(pin.name, func(t *testing.T) {
			dir := filepath.Join("..", "..", "tools", pin.name)
			var manifest struct {
				Dependencies map[string]string `json:"dependencies"`
			}
			var lock struct {
				Packages map[string]struct {
					Version string `json:"version"`
				} `json:"packages"`
			}
			for file, into := range map[string]any{"package.json": &manifest, "package-lock.json": &lock} {
				raw, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				if err := json.Unmarshal(raw, into); err != nil {
					t.Fatalf("%s: %v", file, err)
				}
			}
			if got := manifest.Dependencies[pin.module]; got != pin.version {
				t.Errorf("%s/package.json asks for %s %q; versions.go records %q", dir, pin.module, got, pin.version)
			}
			if got := lock.Packages["node_modules/"+pin.module].Version; got != pin.version {
				t.Errorf("%s/package-lock.json locks %s %q; versions.go records %q", dir, pin.module, got, pin.version)
			}
		})
	}
}

func TestToolPackages(t *testing.T) {
	cases := map[string]struct {
		reason string
		goMod  string
		want   []string
	}{
		"SingleLine": {
			reason: "A one-tool module uses the single-line form.",
			goMod:  "module m\n\ngo 1.26\n\ntool github.com/hashicorp/vault\n",
			want:   []string{"github.com/hashicorp/vault"},
		},
		"Block": {
			reason: "Kubernetes builds several binaries from one block.",
			goMod:  "module m\n\ntool (\n\tk8s.io/kubernetes/cmd/kube-apiserver\n\tk8s.io/kubernetes/cmd/kube-controller-manager\n)\n\nrequire x v1\n",
			want:   []string{"k8s.io/kubernetes/cmd/kube-apiserver", "k8s.io/kubernetes/cmd/kube-controller-manager"},
		},
		"None": {
			reason: "A module without tool directives builds nothing.",
			goMod:  "module m\n\nrequire (\n\ttool v1\n)\n",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := toolPackages([]byte(tc.goMod))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\ntoolPackages(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestEnvFileRoundTrip(t *testing.T) {
	want := map[string]string{
		"IDP_VAULT_ADDRESS": "http://127.0.0.1:8200",
		"WITH_QUOTE":        "it's 'quoted'",
		"EMPTY":             "",
	}
	path := filepath.Join(t.TempDir(), "env")
	if err := (&Sandbox{env: want}).WriteEnvFile(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadEnvFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ReadEnvFile(WriteEnvFile(env)): -want, +got:\n%s", diff)
	}
}

func TestUnzipStripped(t *testing.T) {
	cases := map[string]struct {
		reason  string
		entries []string
		want    []string
		wantErr string
	}{
		"StripsTopLevel": {
			reason:  "The distribution's top-level directory is dropped.",
			entries: []string{"keycloak-26/", "keycloak-26/bin/kc.sh", "keycloak-26/lib/a.jar"},
			want:    []string{"bin/kc.sh", "lib/a.jar"},
		},
		"RejectsTraversal": {
			reason:  "An entry that climbs out of the destination is refused.",
			entries: []string{"keycloak-26/../../escape"},
			wantErr: "outside its root",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			archive := filepath.Join(dir, "dist.zip")
			file, err := os.Create(archive)
			if err != nil {
				t.Fatal(err)
			}
			writer := zip.NewWriter(file)
			for _, entry := range tc.entries {
				w, err := writer.Create(entry)
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasSuffix(entry, "/") {
					_, _ = w.Write([]byte(entry))
				}
			}
			if err := writer.Close(); err != nil {
				t.Fatal(err)
			}
			file.Close()

			dest := filepath.Join(dir, "out")
			err = unzipStripped(archive, dest)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%s\nunzipStripped(...): want error containing %q, got %v", tc.reason, tc.wantErr, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			_ = filepath.WalkDir(dest, func(path string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					rel, _ := filepath.Rel(dest, path)
					got = append(got, rel)
				}
				return nil
			})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nextracted files: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestRecordedProcess(t *testing.T) {
	self := recordedProcess{pid: os.Getpid(), started: processStartTime(os.Getpid())}
	path := filepath.Join(t.TempDir(), "self.pid")
	if err := os.WriteFile(path, []byte(self.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readRecordedProcess(path)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		reason string
		record recordedProcess
		want   bool
	}{
		"Self":        {reason: "A recorded process that still runs is alive.", record: got, want: true},
		"ReusedPid":   {reason: "The same pid with another start time is another process, never signalled.", record: recordedProcess{pid: os.Getpid(), started: "1"}, want: false},
		"NoStartTime": {reason: "A record without a start time proves nothing.", record: recordedProcess{pid: os.Getpid()}, want: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := tc.record.alive(); got != tc.want {
				t.Errorf("%s\nalive() = %t, want %t", tc.reason, got, tc.want)
			}
		})
	}
}

// TestBuildAll covers what buildAll adds to build: every tool's directory comes back, and one failure
// fails the lot. The builds it runs are cache hits, so the test builds nothing.
func TestBuildAll(t *testing.T) {
	repoRoot, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	builder := &toolBuilder{repoRoot: repoRoot, cacheDir: t.TempDir(), log: t.Logf}
	cached := map[string]string{}
	for _, name := range []string{"etcd", "kwok", "gitea"} {
		spec, _ := toolNamed(name)
		goMod, err := os.ReadFile(filepath.Join(repoRoot, "tools", name, "go.mod"))
		if err != nil {
			t.Fatal(err)
		}
		dir, err := builder.outputDir(context.Background(), spec, goMod)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, ".complete"), nil, 0o644); err != nil {
			t.Fatal(err)
		}
		cached[name] = dir
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		reason  string
		ctx     context.Context
		tools   []string
		want    map[string]string
		wantErr string
	}{
		{reason: "every tool is cached: each directory comes back", ctx: context.Background(), tools: []string{"etcd", "kwok", "gitea"}, want: cached},
		{reason: "one tool fails: the lot fails with its error", ctx: context.Background(), tools: []string{"etcd", "no-such-tool", "kwok"}, wantErr: `the sandbox builds no tool "no-such-tool"`},
		{reason: "the caller gave up", ctx: cancelled, tools: []string{"etcd"}, wantErr: "context canceled"},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			got, err := builder.buildAll(tc.ctx, tc.tools)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("%s: buildAll(%q) = %v, want an error with %q", tc.reason, tc.tools, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: buildAll(%q): -want, +got:\n%s", tc.reason, tc.tools, diff)
			}
		})
	}
}
