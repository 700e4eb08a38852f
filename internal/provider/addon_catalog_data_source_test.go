package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
)

// TestAccAddonCatalogDataSource reads the embedded catalog through the CLI: versions filtered by the
// Kubernetes version, dependencies, and bad input refused at plan.
func TestAccAddonCatalogDataSource(t *testing.T) {
	requireAcc(t)
	addons := tfjsonpath.New("addons")
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		Steps: []resource.TestStep{
			{
				Config: `
provider "idp" {}

data "idp_addon_catalog" "aws" {
  cloud              = "aws"
  kubernetes_version = "1.34"
}
`,
				ConfigStateChecks: []statecheck.StateCheck{
					statecheck.ExpectKnownValue("data.idp_addon_catalog.aws", tfjsonpath.New("catalog_version"), knownvalue.StringExact(catalog.AddonCatalogVersion())),
					statecheck.ExpectKnownValue("data.idp_addon_catalog.aws", addons.AtMapKey("ingress").AtMapKey("depends_on"), knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("cert_manager")})),
					statecheck.ExpectKnownValue("data.idp_addon_catalog.aws", addons.AtMapKey("cert_manager").AtMapKey("chart"), knownvalue.StringExact("cert-manager")),
					// v1.16.5 supports Kubernetes up to 1.32, so it is not offered for 1.34.
					statecheck.ExpectKnownValue("data.idp_addon_catalog.aws", addons.AtMapKey("cert_manager").AtMapKey("versions"),
						knownvalue.ListExact([]knownvalue.Check{knownvalue.StringExact("v1.18.2"), knownvalue.StringExact("v1.17.4")})),
					statecheck.ExpectKnownValue("data.idp_addon_catalog.aws", addons.AtMapKey("storage").AtMapKey("chart"), knownvalue.StringExact("")),
				},
			},
			{
				Config: `
provider "idp" {}

data "idp_addon_catalog" "bad" {
  cloud = "openstack"
}
`,
				ExpectError: regexp.MustCompile(`(?s)cloud.*openstack|value must be one of`),
			},
			{
				Config: `
provider "idp" {}

data "idp_addon_catalog" "bad" {
  cloud              = "aws"
  kubernetes_version = "latest"
}
`,
				ExpectError: regexp.MustCompile(`Invalid Kubernetes version`),
			},
		},
	})
}
