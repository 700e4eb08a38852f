package sandbox

import (
	"context"
	"os"
	"testing"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"
)

// probeDefinition and probeComposition are a composite resource of the smallest kind: a Probe composes
// a ConfigMap whose data comes from the Probe, through function-patch-and-transform and
// function-auto-ready, so the test exercises core, its function runner, mTLS and both functions.
const probeDefinition = `
apiVersion: apiextensions.crossplane.io/v2
kind: CompositeResourceDefinition
metadata:
  name: probes.sandbox.idp.dev
spec:
  group: sandbox.idp.dev
  scope: Cluster
  names: {kind: Probe, plural: probes}
  versions:
    - name: v1alpha1
      served: true
      referenceable: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                greeting: {type: string}
`

const probeComposition = `
apiVersion: apiextensions.crossplane.io/v1
kind: Composition
metadata:
  name: probes
spec:
  compositeTypeRef: {apiVersion: sandbox.idp.dev/v1alpha1, kind: Probe}
  mode: Pipeline
  pipeline:
    - step: compose
      functionRef: {name: function-patch-and-transform}
      input:
        apiVersion: pt.fn.crossplane.io/v1beta1
        kind: Resources
        resources:
          - name: config
            base:
              apiVersion: v1
              kind: ConfigMap
              metadata: {namespace: crossplane-system}
            patches:
              - type: FromCompositeFieldPath
                fromFieldPath: spec.greeting
                toFieldPath: data.greeting
                transforms:
                  - type: string
                    string: {type: Format, fmt: "%s, from Crossplane"}
    - step: ready
      functionRef: {name: function-auto-ready}
`

func TestAccCrossplaneComposes(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	config, err := clientcmd.BuildConfigFromFlags("", os.Getenv("IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH"))
	if err != nil {
		t.Fatal(err)
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	apply := func(gvr schema.GroupVersionResource, manifest string) {
		t.Helper()
		object := &unstructured.Unstructured{}
		if err := yaml.Unmarshal([]byte(manifest), &object.Object); err != nil {
			t.Fatal(err)
		}
		if _, err := client.Resource(gvr).Create(ctx, object, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	apply(schema.GroupVersionResource{Group: "apiextensions.crossplane.io", Version: "v2", Resource: "compositeresourcedefinitions"}, probeDefinition)
	apply(schema.GroupVersionResource{Group: "apiextensions.crossplane.io", Version: "v1", Resource: "compositions"}, probeComposition)

	probes := schema.GroupVersionResource{Group: "sandbox.idp.dev", Version: "v1alpha1", Resource: "probes"}
	probe := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "sandbox.idp.dev/v1alpha1", "kind": "Probe",
		"metadata": map[string]any{"generateName": "probe-"},
		"spec":     map[string]any{"greeting": "hello"},
	}}
	// Core serves the Probe kind once it has established the definition.
	var created *unstructured.Unstructured
	waitFor(ctx, t, "the Probe kind to be served", func() error {
		created, err = client.Resource(probes).Create(ctx, probe, metav1.CreateOptions{})
		return err
	})
	var configMapName string
	waitFor(ctx, t, "the Probe's ConfigMap", func() error {
		current, err := client.Resource(probes).Get(ctx, created.GetName(), metav1.GetOptions{})
		if err != nil {
			return err
		}
		refs, _, _ := unstructured.NestedSlice(current.Object, "spec", "crossplane", "resourceRefs")
		for _, ref := range refs {
			if r, ok := ref.(map[string]any); ok && r["kind"] == "ConfigMap" {
				configMapName, _ = r["name"].(string)
			}
		}
		if configMapName == "" {
			return errNotYet("no ConfigMap among the resource references")
		}
		cm, err := clientset.CoreV1().ConfigMaps(CrossplaneNamespace).Get(ctx, configMapName, metav1.GetOptions{})
		if err != nil {
			return err
		}
		if got := cm.Data["greeting"]; got != "hello, from Crossplane" {
			return errNotYet("greeting is " + got)
		}
		return nil
	})

	if err := client.Resource(probes).Delete(ctx, created.GetName(), metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "the ConfigMap to go with its Probe", func() error {
		_, err := clientset.CoreV1().ConfigMaps(CrossplaneNamespace).Get(ctx, configMapName, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return errNotYet("the ConfigMap is still there")
	})
}

type errNotYet string

func (e errNotYet) Error() string { return string(e) }

// waitFor polls check until it passes or ctx ends, then fails the test with the last error.
func waitFor(ctx context.Context, t *testing.T, what string, check func() error) {
	t.Helper()
	for {
		err := check()
		if err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
}
