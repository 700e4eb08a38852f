package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idp-platform/terraform-provider-idp/internal/backstage"
)

// backstageValidator is tools/backstage, where make prereqs installs Backstage's validators.
var backstageValidator = filepath.Join("..", "..", "tools", "backstage")

// TestAccCatalog describes a team's platform as Backstage entities: a team made by idp_team (its Vault
// policy and Keycloak group), a registered cluster it owns with a web-service release on it, and an
// AWS cluster the management cluster created. Every entity the data source emits passes Backstage's
// own validators, and the release's objects carry the label the Backstage Kubernetes plugin looks for.
func TestAccCatalog(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	const team, registered, created, namespace = "acc-catalog", "acc-catalog-wl", "acc-catalog-eks", "catalog"
	storeCredentials(t, "aws/acc-catalog", map[string]any{"aws_access_key_id": "AKIASANDBOX", "aws_secret_access_key": "sandbox-secret-key"})
	config := webServiceConfig(registered, namespace, webServiceValues("1")) + fmt.Sprintf(`
resource "idp_team" "catalog" {
  name     = %q
  clusters = ["acc-catalog-*"]
}

resource "idp_cluster" "eks" {
  name               = %q
  cloud              = "aws"
  region             = "eu-west-1"
  kubernetes_version = "1.33"
  credentials        = "aws/acc-catalog"
  node_pools         = { default = { instance_type = "m6i.large", min_size = 1, max_size = 3 } }
  tags               = { team = %q, environment = "production" }
}

data "idp_catalog" "platform" {
  app_clusters = [idp_cluster.workload.name]
  depends_on   = [idp_app.api, idp_team.catalog, idp_cluster.eks]
}
`, team, created, team)
	owner, system := "group:default/"+team, team
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy: resource.ComposeTestCheckFunc(checkTeamsGone(t, team), checkClustersGone(t, registered),
			checkCloudClusterGone(t, created, "idp-aws-aws-acc-catalog")),
		Steps: []resource.TestStep{
			{
				Config: config,
				Check: resource.ComposeAggregateTestCheckFunc(
					checkCatalogValid("data.idp_catalog.platform"),
					checkCatalogEntity("data.idp_catalog.platform", "group:default/"+team, map[string]any{
						"metadata.annotations.idp-platform.io/keycloak-group": "team-" + team, "spec.type": "team",
					}),
					checkCatalogEntity("data.idp_catalog.platform", "system:default/"+team, map[string]any{
						"spec.owner": owner, "metadata.annotations.vault.io/secrets-path": "idp/credentials/" + team,
					}),
					checkCatalogEntity("data.idp_catalog.platform", "resource:default/idp-management", map[string]any{
						"spec.type": "kubernetes-cluster", "spec.owner": "group:default/platform-team",
					}),
					checkCatalogEntity("data.idp_catalog.platform", "resource:default/"+registered, map[string]any{
						"spec.type": "kubernetes-cluster", "spec.owner": owner, "spec.system": system,
						"metadata.labels.idp-platform.io/cloud":                "existing",
						"metadata.annotations.vault.io/secrets-path":           "idp/clusters/" + registered,
						"metadata.annotations.idp-platform.io/kubeconfig-path": "secret/idp/clusters/" + registered + "/kubeconfig",
					}),
					checkCatalogEntity("data.idp_catalog.platform", "resource:default/"+created, map[string]any{
						"spec.owner": owner, "spec.system": system, "spec.dependsOn": []any{"resource:default/idp-management"},
						"metadata.labels.idp-platform.io/cloud": "aws", "metadata.labels.idp-platform.io/region": "eu-west-1",
						"metadata.labels.idp-platform.io/kubernetes-version": "1.33", "metadata.labels.idp-platform.io/environment": "production",
					}),
					checkCatalogEntity("data.idp_catalog.platform", "component:default/api", map[string]any{
						"spec.type": "service", "spec.lifecycle": "experimental", "spec.owner": owner, "spec.system": system,
						"spec.dependsOn": []any{"resource:default/" + registered},
						"metadata.annotations.backstage.io/kubernetes-id":        "api",
						"metadata.annotations.backstage.io/kubernetes-namespace": namespace,
						"metadata.labels.idp-platform.io/chart":                  "web-service",
					}),
					checkCatalogYAML("data.idp_catalog.platform"),
					checkKubernetesID(t, namespace, "api"),
					checkNoAttributeValue("data.idp_catalog.platform", "sandbox-secret-key"),
				),
			},
			{
				Config: config + `
data "idp_catalog" "bad_owner" {
  default_owner = "group:default/"
}
`,
				ExpectError: regexp.MustCompile(`(?s)Invalid Attribute Value Match.*default_owner.*must be a Backstage entity\s+reference`),
			},
			{
				Config: config + `
data "idp_catalog" "nowhere" {
  app_clusters = ["acc-catalog-none"]
}
`,
				ExpectError: regexp.MustCompile(`(?s)Unknown cluster.*with data.idp_catalog.nowhere`),
			},
		},
	})
}

// catalogEntities reads the entities a data source emitted from the state, by reference.
func catalogEntities(s *terraform.State, address string) (map[string]map[string]any, []string, error) {
	emitted, ok := s.RootModule().Resources[address]
	if !ok {
		return nil, nil, fmt.Errorf("%s is not in the state", address)
	}
	attrs := emitted.Primary.Attributes
	byRef := map[string]map[string]any{}
	var docs []string
	for i := 0; attrs[fmt.Sprintf("entities.%d.json", i)] != ""; i++ {
		doc := attrs[fmt.Sprintf("entities.%d.json", i)]
		var entity map[string]any
		if err := json.Unmarshal([]byte(doc), &entity); err != nil {
			return nil, nil, fmt.Errorf("%s entity %d is not JSON: %w", address, i, err)
		}
		ref := attrs[fmt.Sprintf("entities.%d.ref", i)]
		if _, twice := byRef[ref]; twice {
			return nil, nil, fmt.Errorf("%s emits %s twice", address, ref)
		}
		byRef[ref] = entity
		docs = append(docs, doc)
	}
	return byRef, docs, nil
}

// checkCatalogValid passes when Backstage's validators take every entity the data source emitted.
func checkCatalogValid(address string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		_, docs, err := catalogEntities(s, address)
		if err != nil {
			return err
		}
		if len(docs) == 0 {
			return fmt.Errorf("%s emitted no entities", address)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err = backstage.Validate(ctx, backstageValidator, docs)
		return err
	}
}

// checkCatalogEntity passes when the entity is emitted with these fields, each a dotted path whose
// last segments may hold dots (annotation keys).
func checkCatalogEntity(address, ref string, want map[string]any) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		entities, _, err := catalogEntities(s, address)
		if err != nil {
			return err
		}
		entity, ok := entities[ref]
		if !ok {
			return fmt.Errorf("%s does not emit %s", address, ref)
		}
		for field, value := range want {
			got := fieldAt(entity, field)
			if diff := cmp.Diff(value, got); diff != "" {
				return fmt.Errorf("%s: %s of %s: -want, +got:\n%s", address, field, ref, diff)
			}
		}
		return nil
	}
}

// fieldAt follows a path such as metadata.annotations.backstage.io/kubernetes-id: at each map, the
// longest key the rest of the path starts with.
func fieldAt(value any, field string) any {
	for field != "" {
		object, ok := value.(map[string]any)
		if !ok {
			return nil
		}
		best := ""
		for key := range object {
			if (field == key || strings.HasPrefix(field, key+".")) && len(key) > len(best) {
				best = key
			}
		}
		if best == "" {
			return nil
		}
		value, field = object[best], strings.TrimPrefix(strings.TrimPrefix(field, best), ".")
	}
	return value
}

// checkCatalogYAML passes when the yaml attribute holds one document per entity.
func checkCatalogYAML(address string) resource.TestCheckFunc {
	return func(s *terraform.State) error {
		_, docs, err := catalogEntities(s, address)
		if err != nil {
			return err
		}
		doc := s.RootModule().Resources[address].Primary.Attributes["yaml"]
		if got := strings.Count(doc, "\n---\n") + 1; got != len(docs) {
			return fmt.Errorf("%s.yaml holds %d documents for %d entities", address, got, len(docs))
		}
		return nil
	}
}

// checkKubernetesID passes when the release's Deployment and its Pods carry the label the Backstage
// Kubernetes plugin finds a component's objects by.
func checkKubernetesID(t *testing.T, namespace, release string) resource.TestCheckFunc {
	return func(*terraform.State) error {
		deployment, err := workloadClient(t).AppsV1().Deployments(namespace).Get(context.Background(), release, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got := deployment.Labels[backstage.LabelKubernetesID]; got != release {
			return fmt.Errorf("deployment %s/%s is labelled %s=%q, want %q", namespace, release, backstage.LabelKubernetesID, got, release)
		}
		if got := deployment.Spec.Template.Labels[backstage.LabelKubernetesID]; got != release {
			return fmt.Errorf("the pods of deployment %s/%s are labelled %s=%q, want %q", namespace, release, backstage.LabelKubernetesID, got, release)
		}
		return nil
	}
}
