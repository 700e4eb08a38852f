package catalog

import (
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idp-platform/terraform-provider-idp/internal/helm"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func TestRender(t *testing.T) {
	image := map[string]any{"repository": "ghcr.io/acme/api", "tag": "2.3.1"}
	cases := map[string]struct {
		reason string
		chart  string
		values map[string]any
	}{
		"web-service-minimal": {
			reason: "Only the image: a Deployment, a Service and a PodDisruptionBudget with restricted security defaults.",
			chart:  "web-service",
			values: map[string]any{"image": image},
		},
		"worker-minimal": {
			reason: "Only the image: a Deployment and no Service.",
			chart:  "worker",
			values: map[string]any{"image": image},
		},
		"worker-everything": {
			reason: "Arguments, environment, autoscaling and a disruption budget.",
			chart:  "worker",
			values: map[string]any{
				"image":               image,
				"args":                []any{"--queue", "payments"},
				"env":                 map[string]any{"LOG_LEVEL": "debug"},
				"autoscaling":         map[string]any{"enabled": true},
				"podDisruptionBudget": map[string]any{"enabled": true},
			},
		},
		"cronjob-minimal": {
			reason: "Image and schedule: a CronJob that never overlaps and keeps bounded history.",
			chart:  "cronjob",
			values: map[string]any{"image": image, "schedule": "*/15 * * * *"},
		},
		"team-namespace-minimal": {
			reason: "Only the team: a ResourceQuota and a LimitRange at the defaults, labelled with the team.",
			chart:  "team-namespace",
			values: map[string]any{"team": "payments"},
		},
		"team-namespace-quota": {
			reason: "Part of the quota and of the container defaults set: the rest keeps the chart's defaults.",
			chart:  "team-namespace",
			values: map[string]any{
				"team":       "payments",
				"quota":      map[string]any{"requests": map[string]any{"cpu": "2"}, "pods": 10},
				"limitRange": map[string]any{"default": map[string]any{"memory": "1Gi"}},
			},
		},
		"platform-configuration-defaults": {
			reason: "No values: the platform's Configuration and its functions from their registries, no mirror.",
			chart:  "platform-configuration",
			values: map[string]any{},
		},
		"platform-configuration-mirror": {
			reason: "A mirror: one ImageConfig per mirrored registry rewrites its packages to the mirror's path.",
			chart:  "platform-configuration",
			values: map[string]any{"mirror": "registry.internal:5000/xpkg-mirror"},
		},
		"web-service-everything": {
			reason: "Every toggle on: Ingress, HorizontalPodAutoscaler (which owns replicas) and ServiceMonitor.",
			chart:  "web-service",
			values: map[string]any{
				"image":          image,
				"env":            map[string]any{"LOG_LEVEL": "debug"},
				"ingress":        map[string]any{"enabled": true, "host": "api.example.com", "className": "nginx"},
				"autoscaling":    map[string]any{"enabled": true, "maxReplicas": 6},
				"serviceMonitor": map[string]any{"enabled": true},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ch, err := Load(tc.chart, "1.0.0")
			if err != nil {
				t.Fatal(err)
			}
			rendered, err := helm.Render(ch, "api", "payments", tc.values)
			if err != nil {
				t.Fatalf("%s\nRender: %v", tc.reason, err)
			}
			got := joinManifests(rendered)
			golden := filepath.Join("testdata", name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/catalog -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s\nrendered manifests: -want (%s), +got:\n%s", tc.reason, golden, diff)
			}
		})
	}
}

func TestSchemas(t *testing.T) {
	cases := map[string]struct {
		reason  string
		chart   string
		values  map[string]any
		wantErr string
	}{
		"CronJobWithoutSchedule": {
			reason:  "A CronJob needs a schedule.",
			chart:   "cronjob",
			values:  map[string]any{"image": map[string]any{"repository": "r", "tag": "t"}},
			wantErr: "schedule",
		},
		"CronJobBadSchedule": {
			reason:  "A schedule is five fields or a macro.",
			chart:   "cronjob",
			values:  map[string]any{"image": map[string]any{"repository": "r", "tag": "t"}, "schedule": "every day"},
			wantErr: "/schedule",
		},
		"WorkerArgsNotStrings": {
			reason:  "Arguments are strings.",
			chart:   "worker",
			values:  map[string]any{"image": map[string]any{"repository": "r", "tag": "t"}, "args": []any{1}},
			wantErr: "/args/0",
		},
		"TeamMissing": {
			reason:  "A team namespace names its team.",
			chart:   "team-namespace",
			values:  map[string]any{},
			wantErr: "team",
		},
		"TeamNotALabelValue": {
			reason:  "The team is a label value: a DNS-1123 label.",
			chart:   "team-namespace",
			values:  map[string]any{"team": "Payments Team"},
			wantErr: "/team",
		},
		"QuotaNotAQuantity": {
			reason:  "Quota amounts are Kubernetes quantities, refused at plan rather than by the API server.",
			chart:   "team-namespace",
			values:  map[string]any{"team": "payments", "quota": map[string]any{"limits": map[string]any{"memory": "16 GB"}}},
			wantErr: "/quota/limits/memory",
		},
		"QuotaUnknownResource": {
			reason:  "The quota caps cpu, memory and pods; a misspelt resource is an error.",
			chart:   "team-namespace",
			values:  map[string]any{"team": "payments", "quota": map[string]any{"requests": map[string]any{"gpu": "1"}}},
			wantErr: "gpu",
		},
		"PackageWithoutTag": {
			reason:  "A package is pinned: a reference without a tag or digest is refused.",
			chart:   "platform-configuration",
			values:  map[string]any{"configuration": map[string]any{"name": "idp-platform", "package": "xpkg.idp.dev/idp-platform/configuration"}},
			wantErr: "/configuration/package",
		},
		"MirrorWithScheme": {
			reason:  "A mirror is a registry path, as in a package reference: no URL scheme.",
			chart:   "platform-configuration",
			values:  map[string]any{"mirror": "https://registry.internal/xpkg"},
			wantErr: "/mirror",
		},
		"MissingImage": {
			reason:  "The image has no default: a release without one is refused.",
			chart:   "web-service",
			values:  map[string]any{},
			wantErr: "image",
		},
		"UnknownKey": {
			reason:  "A misspelt key is an error, not silently ignored.",
			chart:   "web-service",
			values:  map[string]any{"image": map[string]any{"repository": "r", "tag": "t"}, "replica": 3},
			wantErr: "replica",
		},
		"WrongType": {
			reason:  "Types are checked, with the failing path.",
			chart:   "web-service",
			values:  map[string]any{"image": map[string]any{"repository": "r", "tag": "t"}, "replicas": "three"},
			wantErr: "/replicas",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ch, err := Load(tc.chart, "")
			if err != nil {
				t.Fatal(err)
			}
			err = helm.ValidateValues(ch, tc.values)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("%s\nValidateValues: want an error mentioning %q, got %v", tc.reason, tc.wantErr, err)
			}
		})
	}
}

func TestLoad(t *testing.T) {
	cases := map[string]struct {
		reason, name, version, wantErr string
	}{
		"Shipped":      {reason: "The shipped version loads.", name: "web-service", version: "1.0.0"},
		"AnyVersion":   {reason: "No version means the shipped one.", name: "web-service"},
		"OtherVersion": {reason: "A version the catalog does not ship is refused.", name: "web-service", version: "9.9.9", wantErr: "not 9.9.9"},
		"Unknown":      {reason: "An unknown name lists what there is.", name: "database", wantErr: "web-service"},
		"Traversal":    {reason: "A name is not a path.", name: "../charts", wantErr: "no such chart"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := Load(tc.name, tc.version)
			got := ""
			if err != nil {
				got = err.Error()
			}
			if (tc.wantErr == "") != (got == "") || !strings.Contains(got, tc.wantErr) {
				t.Errorf("%s\nLoad(%q, %q): error %q, want one containing %q", tc.reason, tc.name, tc.version, got, tc.wantErr)
			}
		})
	}
}

func joinManifests(rendered map[string]string) string {
	names := make([]string, 0, len(rendered))
	for name, manifest := range rendered {
		if strings.TrimSpace(manifest) != "" && !strings.HasSuffix(name, ".tpl") {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	var b strings.Builder
	for _, name := range names {
		b.WriteString("# " + name + "\n" + strings.TrimSpace(rendered[name]) + "\n---\n")
	}
	return b.String()
}
