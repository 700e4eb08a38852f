package provider

import (
	"fmt"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
)

// TestAccAppWait releases the picky chart with Pods no node accepts, so that its Deployment never
// becomes Available: with wait = false install and upgrade succeed all the same (atomic does not turn
// waiting on), which they could not had they waited; with wait = true the install fails at its timeout
// with a message that says so, and the failed release is removed.
func TestAccAppWait(t *testing.T) {
	requireAcc(t)
	const cluster, namespace = "acc-wait", "wait"
	chartPath, err := filepath.Abs(filepath.Join("testdata", "charts", "picky"))
	if err != nil {
		t.Fatal(err)
	}
	noWait := func(replicas int) string {
		return fmt.Sprintf(`
resource "idp_app" "nowait" {
  cluster   = idp_cluster.workload.name
  namespace = %q
  name      = "nowait"
  chart     = { path = %q }
  values    = yamlencode({ schedulable = false, replicas = %d })
  wait      = false
  atomic    = true
}
`, namespace, chartPath, replicas)
	}
	waits := fmt.Sprintf(`
resource "idp_app" "waits" {
  cluster   = idp_cluster.workload.name
  namespace = %q
  name      = "waits"
  chart     = { path = %q }
  values    = yamlencode({ schedulable = false })

  timeouts = {
    create = "30s"
  }
}
`, namespace, chartPath)
	base := workloadClusterConfig(cluster)
	deployed := func(revision int64) []statecheck.StateCheck {
		return []statecheck.StateCheck{
			statecheck.ExpectKnownValue("idp_app.nowait", tfjsonpath.New("revision"), knownvalue.Int64Exact(revision)),
			statecheck.ExpectKnownValue("idp_app.nowait", tfjsonpath.New("status"), knownvalue.StringExact("deployed")),
		}
	}
	checkDeployed := func(want int) resource.TestCheckFunc {
		return func(*terraform.State) error {
			if revision, status := releaseRevision(t, namespace, "nowait"); revision != want || status != "deployed" {
				return fmt.Errorf("release %s/nowait is revision %d %q, want revision %d deployed", namespace, revision, status, want)
			}
			return nil
		}
	}
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: testProviders,
		TerraformVersionChecks:   writeOnlyCLIs,
		CheckDestroy: resource.ComposeTestCheckFunc(checkReleaseGone(t, namespace, "nowait"), checkReleaseGone(t, namespace, "waits"),
			checkClustersGone(t, cluster)),
		Steps: []resource.TestStep{
			{
				// Installed, and deployed, though no Pod of it runs.
				Config:            base + noWait(1),
				ConfigStateChecks: deployed(1),
				Check:             resource.ComposeTestCheckFunc(checkDeployed(1), checkAvailable(t, namespace, "nowait", 0)),
			},
			{
				// Upgraded the same way, atomic notwithstanding.
				Config:            base + noWait(2),
				ConfigStateChecks: deployed(2),
				Check:             resource.ComposeTestCheckFunc(checkDeployed(2), checkReplicas(t, namespace, "nowait", 2), checkAvailable(t, namespace, "nowait", 0)),
			},
			{
				Config:      base + waits,
				ExpectError: regexp.MustCompile(`(?s)Cannot install the release.*not\s+ready\s+within\s+the\s+create\s+timeout\s+\(30s\).*Deployment/wait/waits.*failed\s+release\s+was\s+removed`),
			},
			{
				PreConfig: func() {
					if revision, status := releaseRevision(t, namespace, "waits"); revision != 0 {
						t.Fatalf("the install that timed out left revision %d (%s) behind", revision, status)
					}
				},
				Config: base,
			},
		},
	})
}
