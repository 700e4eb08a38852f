package crossplane

import (
	"context"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
)

// fakeStackManagement is a Client on fake clients where applying an AddonStack does what Crossplane and
// the composition would: each add-on of the spec has a Release, and a Release whose add-on left the
// spec is deleted. applied records the add-ons of every applied spec.
func fakeStackManagement(t *testing.T) (*Client, *[][]string) {
	t.Helper()
	listKinds := map[schema.GroupVersionResource]string{stacksResource: "AddonStackList"}
	for _, gvr := range stackComposed {
		listKinds[gvr] = gvr.Resource + "List"
	}
	dynamicClient := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds)
	releases := stackComposed[0]
	var applied [][]string
	made := map[string]string{} // release name -> add-on
	dynamicClient.PrependReactor("patch", "addonstacks", func(action clienttesting.Action) (bool, runtime.Object, error) {
		patch := action.(clienttesting.PatchAction)
		var xr struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
			Spec     addonstack.Spec   `json:"spec"`
		}
		if err := json.Unmarshal(patch.GetPatch(), &xr); err != nil {
			return true, nil, err
		}
		var names []string
		for _, addon := range xr.Spec.Addons {
			names = append(names, addon.Name)
			release := &unstructured.Unstructured{}
			release.SetAPIVersion("helm.crossplane.io/v1beta1")
			release.SetKind("Release")
			release.SetName(addonstack.ReleaseName(xr.Metadata.Name, addon.Name))
			release.SetLabels(map[string]string{addonstack.LabelCluster: xr.Spec.Cluster, addonstack.LabelStack: xr.Spec.Stack, addonstack.LabelAddon: addon.Name})
			if _, ok := made[release.GetName()]; !ok {
				made[release.GetName()] = addon.Name
				if err := dynamicClient.Tracker().Create(releases, release, ""); err != nil {
					return true, nil, err
				}
			}
		}
		applied = append(applied, names)
		for release, addon := range made {
			if !slices.Contains(names, addon) {
				delete(made, release)
				if err := dynamicClient.Tracker().Delete(releases, "", release); err != nil {
					return true, nil, err
				}
			}
		}
		object := &unstructured.Unstructured{}
		if err := object.UnmarshalJSON(patch.GetPatch()); err != nil {
			return true, nil, err
		}
		_ = dynamicClient.Tracker().Delete(stacksResource, "", object.GetName())
		return true, object, dynamicClient.Tracker().Create(stacksResource, object, "")
	})
	return &Client{dynamic: dynamicClient, core: kubefake.NewClientset()}, &applied
}

func TestRemoveAddonsLastInstalledFirst(t *testing.T) {
	spec := addonstack.Spec{Cluster: "dev", Stack: "baseline", Addons: []addonstack.Addon{
		{Name: "cert-manager"}, {Name: "metrics-server"}, {Name: "ingress-nginx", DependsOn: []string{"cert-manager"}},
	}}
	cases := map[string]struct {
		reason string
		remove []string
		want   [][]string
	}{
		"DependentFirst": {
			reason: "Removing a dependency with its dependent takes the dependent (installed later) out first, one apply each.",
			remove: []string{"cert-manager", "ingress-nginx"},
			want:   [][]string{{"cert-manager", "metrics-server", "ingress-nginx"}, {"cert-manager", "metrics-server"}, {"metrics-server"}},
		},
		"One": {
			reason: "Removing one add-on is one apply without it.",
			remove: []string{"metrics-server"},
			want:   [][]string{{"cert-manager", "metrics-server", "ingress-nginx"}, {"cert-manager", "ingress-nginx"}},
		},
		"None": {
			reason: "Nothing to remove applies nothing more.",
			want:   [][]string{{"cert-manager", "metrics-server", "ingress-nginx"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			client, applied := fakeStackManagement(t)
			if err := client.ApplyStack(ctx, spec, "{}", false); err != nil {
				t.Fatal(err)
			}
			left, err := client.RemoveAddons(ctx, spec, "{}", false, tc.remove)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, *applied); diff != "" {
				t.Errorf("%s\nRemoveAddons(%v): applied specs (-want +got):\n%s", tc.reason, tc.remove, diff)
			}
			var leftNames []string
			for _, addon := range left.Addons {
				leftNames = append(leftNames, addon.Name)
			}
			if diff := cmp.Diff(tc.want[len(tc.want)-1], leftNames); diff != "" {
				t.Errorf("%s\nRemoveAddons(%v): spec left (-want +got):\n%s", tc.reason, tc.remove, diff)
			}
		})
	}
}

// TestReleaseKubeconfigSecretKeptForGrants: a registered cluster's kubeconfig secret outlives its last
// stack while a time-bound grant's record, as idp_access writes it, still points at it.
func TestReleaseKubeconfigSecretKeptForGrants(t *testing.T) {
	ctx := context.Background()
	expires := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	record, err := access.RecordToObject(access.Record{Grant: access.Grant{Cluster: "dev", Group: "ops", Role: "view", ExpiresAt: &expires}})
	if err != nil {
		t.Fatal(err)
	}
	listKinds := map[schema.GroupVersionResource]string{stacksResource: "AddonStackList", accessGrantsResource: "AccessGrantList"}
	dynamicClient := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, record)
	client := &Client{dynamic: dynamicClient, core: kubefake.NewClientset()}
	if err := client.writeRegisteredKubeconfig(ctx, "dev", []byte("kubeconfig")); err != nil {
		t.Fatal(err)
	}
	if err := client.ReleaseStackKubeconfigSecret(ctx, "dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.core.CoreV1().Secrets(Namespace).Get(ctx, registeredKubeconfigSecret("dev"), metav1.GetOptions{}); err != nil {
		t.Fatalf("the secret a grant's record points at was released: %v", err)
	}
	if err := dynamicClient.Resource(accessGrantsResource).Delete(ctx, record.GetName(), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.ReleaseStackKubeconfigSecret(ctx, "dev"); err != nil {
		t.Fatal(err)
	}
	if _, err := client.core.CoreV1().Secrets(Namespace).Get(ctx, registeredKubeconfigSecret("dev"), metav1.GetOptions{}); err == nil {
		t.Error("the secret outlived the last stack and the last grant")
	}
}
