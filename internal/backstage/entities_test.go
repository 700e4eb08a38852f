package backstage

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// validatorDir is tools/backstage, where make prereqs installs Backstage's validators.
var validatorDir = filepath.Join("..", "..", "tools", "backstage")

func TestEntities(t *testing.T) {
	payments := []Cluster{
		{
			Name: "payments-prod", Cloud: "aws", Region: "eu-west-1", KubernetesVersion: "1.33", Created: true, Team: "payments",
			Endpoint: "https://payments-prod.eks.example", Tags: map[string]string{"team": "payments", "environment": "production"},
			SecretsPath: "idp/clusters/payments-prod", KubeconfigPath: "secret/idp/clusters/payments-prod/kubeconfig",
		},
		{
			Name: "payments-staging", Cloud: "gcp", Region: "europe-west1", KubernetesVersion: "1.32", Created: true, Team: "payments",
			Tags: map[string]string{"environment": "staging"},
		},
	}
	cases := map[string]struct {
		reason   string
		platform Platform
	}{
		"WholePlatform": {
			reason: "Teams become a Group and a System each; clusters Resources owned by their team and depending on the " +
				"management cluster when created; the releases of one name on one team's clusters one Component; the same " +
				"name under two owners two Components named after their owners.",
			platform: Platform{
				Namespace: "default", ManagementCluster: "idp-management", DefaultOwner: "group:default/platform-team", VaultMount: "secret",
				Teams: []Team{
					{Name: "search", SecretsPath: "idp/credentials/search"},
					{Name: "payments", KeycloakGroup: "team-payments", SecretsPath: "idp/credentials/payments"},
				},
				Clusters: append(payments,
					Cluster{Name: "search-dev", Cloud: "existing", Team: "search", Endpoint: "https://127.0.0.1:6443",
						SecretsPath: "idp/clusters/search-dev", KubeconfigPath: "secret/idp/clusters/search-dev/kubeconfig"},
					Cluster{Name: "lab", Cloud: "existing"},
				),
				Apps: []App{
					{Cluster: "payments-staging", Namespace: "payments", Release: "api", Chart: "web-service", ChartVersion: "1.1.0"},
					{Cluster: "payments-prod", Namespace: "payments", Release: "api", Chart: "web-service", ChartVersion: "1.1.0"},
					{Cluster: "payments-prod", Namespace: "payments", Release: "mailer", Chart: "worker", ChartVersion: "1.1.0"},
					{Cluster: "search-dev", Namespace: "search", Release: "api", Chart: "web-service", ChartVersion: "1.1.0"},
					{Cluster: "lab", Namespace: "tools", Release: "report", Chart: "cronjob", ChartVersion: "1.1.0"},
					{Cluster: "lab", Namespace: "kube-system", Release: "metrics-server", Chart: "metrics-server", ChartVersion: "3.12.2+idp"},
				},
			},
		},
		"NoManagementCluster": {
			reason:   "Without a management cluster to name, there is no Resource for it and nothing depends on it.",
			platform: Platform{Namespace: "platform", DefaultOwner: "group:platform/admins", Clusters: payments},
		},
		"LongNames": {
			reason: "A component named after a long team and release is cut to 63 characters with a hash; " +
				"one release across namespaces has no namespace annotation.",
			platform: Platform{
				Namespace: "default", DefaultOwner: "user:default/admin",
				Teams: []Team{{Name: "a-team-with-a-rather-long-name-of-forty-chars"}},
				Clusters: []Cluster{
					{Name: "one", Cloud: "existing", Team: "a-team-with-a-rather-long-name-of-forty-chars"},
					{Name: "two", Cloud: "existing"},
				},
				Apps: []App{
					{Cluster: "one", Namespace: "a", Release: "release-with-a-name-of-thirty-chars", Chart: "web-service", ChartVersion: "1.1.0"},
					{Cluster: "one", Namespace: "b", Release: "release-with-a-name-of-thirty-chars", Chart: "web-service", ChartVersion: "1.1.0"},
					{Cluster: "two", Namespace: "a", Release: "release-with-a-name-of-thirty-chars", Chart: "web-service", ChartVersion: "1.1.0"},
				},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			entities := Entities(tc.platform)
			got, err := YAML(entities)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", name+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test ./internal/backstage -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), got); diff != "" {
				t.Errorf("%s\nEntities(...): -want, +got:\n%s", tc.reason, diff)
			}
			validate(t, entities)
		})
	}
}

// validate runs Backstage's validators on the entities and fails the test on any they reject.
func validate(t *testing.T, entities []Entity) {
	t.Helper()
	docs := make([]string, len(entities))
	for i, entity := range entities {
		doc, err := entity.JSON()
		if err != nil {
			t.Fatal(err)
		}
		docs[i] = doc
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := Validate(ctx, validatorDir, docs); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRejects(t *testing.T) {
	cases := map[string]struct {
		reason string
		entity string
		want   string
	}{
		"BadName": {
			reason: "Backstage's names have no trailing underscore.",
			entity: `{"apiVersion":"backstage.io/v1alpha1","kind":"Component","metadata":{"name":"api_","namespace":"default"},"spec":{"type":"service","lifecycle":"production","owner":"team"}}`,
			want:   `invalid component:default/api_: "metadata.name" is not valid`,
		},
		"NoChildren": {
			reason: "A Group must list its children, even none.",
			entity: `{"apiVersion":"backstage.io/v1alpha1","kind":"Group","metadata":{"name":"team","namespace":"default"},"spec":{"type":"team"}}`,
			want:   `invalid group:default/team: /spec must have required property 'children'`,
		},
		"BadReference": {
			reason: "An owner must be an entity reference.",
			entity: `{"apiVersion":"backstage.io/v1alpha1","kind":"System","metadata":{"name":"s","namespace":"default"},"spec":{"owner":"group:default/"}}`,
			want:   `invalid system:default/s:`,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			report, err := Validate(ctx, validatorDir, []string{tc.entity})
			if err == nil || !strings.Contains(report, tc.want) {
				t.Errorf("%s\nValidate(...): report %q, error %v; want a report with %q", tc.reason, report, err, tc.want)
			}
		})
	}
}
