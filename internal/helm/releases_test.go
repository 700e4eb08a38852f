package helm

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	releasecommon "helm.sh/helm/v4/pkg/release/common"
	releasev1 "helm.sh/helm/v4/pkg/release/v1"
	"helm.sh/helm/v4/pkg/storage/driver"
	"k8s.io/client-go/kubernetes/fake"
)

func TestListLatest(t *testing.T) {
	client := fake.NewClientset()
	storage := driver.NewSecrets(client.CoreV1().Secrets("team-a"))
	revisions := []struct {
		name     string
		revision int
		status   releasecommon.Status
	}{
		{"api", 1, releasecommon.StatusSuperseded},
		{"api", 2, releasecommon.StatusDeployed},
		// Helm never leaves a superseded revision above the latest; this one shows the history is not read.
		{"api", 3, releasecommon.StatusSuperseded},
		{"worker", 1, releasecommon.StatusDeployed},
		{"worker", 2, releasecommon.StatusFailed},
		{"job", 1, releasecommon.StatusPendingInstall},
	}
	for _, r := range revisions {
		rel := &releasev1.Release{Name: r.name, Namespace: "team-a", Version: r.revision, Chart: configMapChart(), Info: &releasev1.Info{Status: r.status}}
		if err := storage.Create(fmt.Sprintf("sh.helm.release.v1.%s.v%d", r.name, r.revision), rel); err != nil {
			t.Fatal(err)
		}
	}
	engine := &Engine{core: client.CoreV1()}
	latest, err := engine.listLatest(context.Background(), "team-a")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for name, rel := range latest {
		got[name] = fmt.Sprintf("%d %s", rel.Revision, rel.Status)
	}
	want := map[string]string{"api": "2 deployed", "worker": "2 failed", "job": "1 pending-install"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the latest revision of each release, read without the superseded ones: -want, +got:\n%s", diff)
	}
}
