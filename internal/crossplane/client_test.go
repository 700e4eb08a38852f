package crossplane

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	kubefake "k8s.io/client-go/kubernetes/fake"
	clienttesting "k8s.io/client-go/testing"
)

// fakeManagement is a Client on fake clients. The fake tracker applies server-side apply patches only to
// objects that exist, so a reactor creates the ones that do not, as the API server would.
func fakeManagement(t *testing.T, objects ...runtime.Object) (*Client, *dynamicfake.FakeDynamicClient) {
	t.Helper()
	listKinds := map[schema.GroupVersionResource]string{
		clustersResource: "KubernetesClusterList", poolsResource: "KubernetesNodePoolList",
		providerConfigResource("aws"): "ProviderConfigList",
	}
	dynamicClient := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, objects...)
	dynamicClient.PrependReactor("patch", "*", func(action clienttesting.Action) (bool, runtime.Object, error) {
		patch := action.(clienttesting.PatchAction)
		if patch.GetPatchType() != types.ApplyPatchType {
			return false, nil, nil
		}
		if _, err := dynamicClient.Tracker().Get(patch.GetResource(), patch.GetNamespace(), patch.GetName()); !apierrors.IsNotFound(err) {
			return false, nil, nil
		}
		object := &unstructured.Unstructured{}
		if err := object.UnmarshalJSON(patch.GetPatch()); err != nil { // numbers as int64, as the API server returns them
			return true, nil, err
		}
		return true, object, dynamicClient.Tracker().Create(patch.GetResource(), object, patch.GetNamespace())
	})
	return &Client{dynamic: dynamicClient, core: kubefake.NewClientset()}, dynamicClient
}

func sampleCluster() Cluster {
	return Cluster{Name: "payments", Cloud: "aws", Region: "eu-west-1", KubernetesVersion: "1.33", ProviderConfig: "idp-aws-team",
		Tags:  map[string]string{"team": "payments"},
		Pools: []Pool{{Name: "default", InstanceType: "m6i.large", MinSize: 1, MaxSize: 3}, {Name: "batch", InstanceType: "c6i.large", MaxSize: 5}}}
}

func TestCreateMarksTheCompositeUntilFinished(t *testing.T) {
	ctx := context.Background()
	client, _ := fakeManagement(t)
	cluster := sampleCluster()
	if err := client.Create(ctx, cluster); err != nil {
		t.Fatal(err)
	}
	got, status, err := client.Get(ctx, cluster.Name)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(SpecDigest(cluster), status.Creating); diff != "" {
		t.Errorf("a composite being created carries its spec digest (-want +got):\n%s", diff)
	}
	var pools []string
	for _, pool := range got.Pools {
		pools = append(pools, pool.Name)
	}
	if diff := cmp.Diff([]string{"batch", "default"}, pools); diff != "" {
		t.Errorf("every pool is a composite of its own (-want +got):\n%s", diff)
	}
	if err := client.FinishCreate(ctx, cluster.Name); err != nil {
		t.Fatal(err)
	}
	if _, status, err := client.Get(ctx, cluster.Name); err != nil || status.Creating != "" {
		t.Errorf("after FinishCreate the composite is still marked %q (%v)", status.Creating, err)
	}
}

func TestDeleteStopsOnARefusal(t *testing.T) {
	client, dynamicClient := fakeManagement(t)
	if err := client.Create(context.Background(), sampleCluster()); err != nil {
		t.Fatal(err)
	}
	// The provider may delete but not read: the poll must say so, not wait for its deadline.
	dynamicClient.PrependReactor("get", "kubernetesclusters", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Group: "platform.idp.dev", Resource: "kubernetesclusters"}, "payments", errors.New("RBAC"))
	})
	dynamicClient.PrependReactor("delete", "kubernetesclusters", func(clienttesting.Action) (bool, runtime.Object, error) {
		return true, nil, nil // accepted; the composite goes away later, as with a finalizer
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := client.Delete(ctx, "payments")
	if !apierrors.IsForbidden(err) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Delete with reads refused returned %v, want the refusal", err)
	}
}

func TestWaitReadyRidesOutTransientErrors(t *testing.T) {
	ready := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "platform.idp.dev/v1alpha1", "kind": "KubernetesCluster",
		"metadata": map[string]any{"name": "payments"},
		"spec":     map[string]any{"cloud": "aws"},
		"status": map[string]any{
			"endpoint": "https://127.0.0.1:6443", "kubeconfigSecret": Namespace + "/payments-kubeconfig",
			"conditions": []any{map[string]any{"type": "Ready", "status": "True"}},
		},
	}}
	client, dynamicClient := fakeManagement(t, ready)
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "payments-kubeconfig", Namespace: Namespace}, Data: map[string][]byte{"kubeconfig": []byte("apiVersion: v1")}}
	if _, err := client.core.CoreV1().Secrets(Namespace).Create(context.Background(), secret, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var failures atomic.Int32
	dynamicClient.PrependReactor("get", "kubernetesclusters", func(clienttesting.Action) (bool, runtime.Object, error) {
		if failures.Add(1) <= 2 {
			return true, nil, apierrors.NewServiceUnavailable("the management cluster is restarting")
		}
		return false, nil, nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	status, err := client.WaitReady(ctx, "payments", nil)
	if err != nil {
		t.Fatalf("WaitReady gave up on a transient error: %v", err)
	}
	if diff := cmp.Diff("https://127.0.0.1:6443", status.Endpoint); diff != "" {
		t.Errorf("endpoint (-want +got):\n%s", diff)
	}
}

func TestAKSSystemPoolKeepsItsName(t *testing.T) {
	ctx := context.Background()
	client, _ := fakeManagement(t)
	cluster := Cluster{Name: "aks", Cloud: "azure", Region: "westeurope", KubernetesVersion: "1.33", ProviderConfig: "idp-azure-x",
		Pools: []Pool{{Name: "user", InstanceType: "Standard_D4s_v5", MaxSize: 5}, {Name: "system", InstanceType: "Standard_D4s_v5", MinSize: 1, MaxSize: 3}}}
	if err := client.Apply(ctx, cluster); err != nil {
		t.Fatal(err)
	}
	got, _, err := client.Get(ctx, "aks")
	if err != nil {
		t.Fatal(err)
	}
	want := []Pool{{Name: "system", InstanceType: "Standard_D4s_v5", MinSize: 1, MaxSize: 3}, {Name: "user", InstanceType: "Standard_D4s_v5", MaxSize: 5}}
	if diff := cmp.Diff(want, got.Pools, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("the first pool by name is the system pool, in the cluster composite, and is read back by name (-want +got):\n%s", diff)
	}
}
