package crossplane

import (
	"context"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

func gvrOf(resources map[string]schema.GroupVersionResource, object *unstructured.Unstructured) (schema.GroupVersionResource, error) {
	gvk := object.GroupVersionKind()
	gvr, ok := resources[gvk.Group+"/"+gvk.Version+"/"+gvk.Kind]
	if !ok {
		return gvr, fmt.Errorf("no installed CRD serves %s", gvk)
	}
	return gvr, nil
}

// create creates an object, after the API server has validated it in a strict dry run: unknown fields
// and failed CEL rules are errors, not silently dropped.
func create(ctx context.Context, client dynamic.Interface, resources map[string]schema.GroupVersionResource, object *unstructured.Unstructured, dryRun bool) error {
	gvr, err := gvrOf(resources, object)
	if err != nil {
		return err
	}
	options := metav1.CreateOptions{FieldValidation: metav1.FieldValidationStrict}
	if dryRun {
		options.DryRun = []string{metav1.DryRunAll}
	}
	_, err = client.Resource(gvr).Create(ctx, object, options)
	return err
}

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

// composite is a composite resource of the test, with the composed resources it must get.
type composite struct {
	kind, name string
	cloud      string
	spec       map[string]any
	composed   []string
}

func cluster(name, cloud string, spec map[string]any, composed ...string) composite {
	base := map[string]any{
		"cloud": cloud, "region": map[string]string{"aws": "eu-west-1", "azure": "westeurope", "gcp": "europe-west1"}[cloud],
		"kubernetesVersion": "1.33", "providerConfigName": "idp-" + cloud + "-team-payments", "networkCIDR": "10.20.0.0/16",
		"tags": map[string]any{"team": "payments"},
	}
	for k, v := range spec {
		base[k] = v
	}
	return composite{kind: "KubernetesCluster", name: name, cloud: cloud, spec: base, composed: composed}
}

func pool(clusterName, poolName, cloud, instanceType string, minSize, maxSize int64, composed string) composite {
	return composite{kind: "KubernetesNodePool", name: clusterName + "-" + poolName, cloud: cloud, composed: []string{composed}, spec: map[string]any{
		"cloud": cloud, "region": map[string]string{"aws": "eu-west-1", "azure": "westeurope", "gcp": "europe-west1"}[cloud],
		"clusterName": clusterName, "poolName": poolName, "kubernetesVersion": "1.33", "providerConfigName": "idp-" + cloud + "-team-payments",
		"instanceType": instanceType, "minSize": minSize, "maxSize": maxSize,
		"labels": map[string]any{"workload": poolName}, "tags": map[string]any{"team": "payments"},
	}}
}

var oidc = map[string]any{"issuerURL": "https://keycloak.example.com/realms/idp", "clientID": "kubernetes", "groupsClaim": "groups", "usernameClaim": "preferred_username"}

// compositionCases are a cluster per cloud with its pools, and what each composes. The GCP nodes'
// IAM members wait for the service account's email, which the cloud simulator reports.
var compositionCases = map[string][]composite{
	"aws": {
		cluster("payments-eks", "aws", map[string]any{"oidc": oidc},
			"cluster", "cluster-auth", "cluster-eks-policy", "cluster-role", "default-route", "internet-gateway", "node-cni-policy",
			"node-registry-policy", "node-role", "node-worker-policy", "oidc", "route-table", "route-table-association-a",
			"route-table-association-b", "subnet-a", "subnet-b", "vpc"),
		pool("payments-eks", "default", "aws", "m6i.large", 2, 5, "node-group"),
		pool("payments-eks", "batch", "aws", "c6i.2xlarge", 0, 10, "node-group"),
	},
	"azure": {
		cluster("payments-aks", "azure", map[string]any{"systemNodePool": map[string]any{"instanceType": "Standard_D4s_v5", "minSize": int64(0), "maxSize": int64(3)}},
			"cluster", "resource-group", "subnet", "virtual-network"),
		pool("payments-aks", "batch", "azure", "Standard_F8s_v2", 0, 10, "node-pool"),
	},
	"gcp": {
		cluster("payments-gke", "gcp", map[string]any{"oidc": oidc},
			"cluster", "network", "node-log-writer", "node-metric-writer", "service-account", "subnetwork"),
		pool("payments-gke", "default", "gcp", "e2-standard-4", 1, 4, "node-pool"),
	},
}

// normalized keeps what a composition decides of a composed resource: kind, labels, annotations and
// spec, without the names and owner references the API server and Crossplane generate.
func normalized(object *unstructured.Unstructured) map[string]any {
	out := map[string]any{"apiVersion": object.GetAPIVersion(), "kind": object.GetKind(), "spec": object.Object["spec"]}
	metadata := map[string]any{}
	if labels := object.GetLabels(); len(labels) > 0 {
		metadata["labels"] = labels
	}
	if annotations := object.GetAnnotations(); len(annotations) > 0 {
		metadata["annotations"] = annotations
	}
	out["metadata"] = metadata
	return out
}

// TestAccCompositions installs the real provider CRDs, the definitions, Compositions and functions this
// package ships into a management cluster running Crossplane core with the real composition functions,
// creates a cluster with node pools on each cloud, and compares what Crossplane composed with the golden
// files. The API server validates every composed resource against the providers' schemas as Crossplane
// applies it.
func TestAccCompositions(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("starts a management cluster with Crossplane; runs with TF_ACC")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	sb, kubeconfig, err := sandbox.StartManagement(ctx, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Stop() })
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	files, err := sandbox.ProviderCRDFiles()
	if err != nil {
		t.Fatal(err)
	}
	resources, err := sandbox.InstallCRDs(ctx, config, files)
	if err != nil {
		t.Fatal(err)
	}
	// Crossplane's own kinds, which core init installed.
	for _, r := range []struct{ group, version, kind, plural string }{
		{"pkg.crossplane.io", "v1", "Function", "functions"},
		{"apiextensions.crossplane.io", "v2", "CompositeResourceDefinition", "compositeresourcedefinitions"},
		{"apiextensions.crossplane.io", "v1", "Composition", "compositions"},
		// The AccessGrant definition is a plain CRD.
		{"apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions"},
	} {
		resources[r.group+"/"+r.version+"/"+r.kind] = schema.GroupVersionResource{Group: r.group, Version: r.version, Resource: r.plural}
	}

	manifests, order, err := Manifests()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range order {
		for i, doc := range strings.Split(string(manifests[file]), "\n---\n") {
			object := &unstructured.Unstructured{}
			if err := yaml.Unmarshal([]byte(doc), &object.Object); err != nil {
				t.Fatalf("%s document %d: %v", file, i, err)
			}
			if object.GetKind() == "Function" {
				// The sandbox runs the functions; their packages cannot be pulled here.
				if err := create(ctx, client, resources, object, true); err != nil {
					t.Errorf("%s document %d is not valid: %v", file, i, err)
				}
				continue
			}
			if err := create(ctx, client, resources, object, false); err != nil {
				t.Fatalf("%s document %d: %v", file, i, err)
			}
		}
	}
	for kind, gvr := range xrResources {
		resources["platform.idp.dev/v1alpha1/"+kind] = gvr
	}

	for cloud, composites := range compositionCases {
		t.Run(cloud, func(t *testing.T) {
			got := map[string]any{}
			for _, c := range composites {
				xr := &unstructured.Unstructured{Object: map[string]any{
					"apiVersion": "platform.idp.dev/v1alpha1", "kind": c.kind,
					"metadata": map[string]any{"name": c.name},
					"spec":     c.spec,
				}}
				if err := unstructured.SetNestedStringMap(xr.Object, map[string]string{"platform.idp.dev/cloud": c.cloud}, "spec", "crossplane", "compositionSelector", "matchLabels"); err != nil {
					t.Fatal(err)
				}
				// Core serves the kinds once it has established the definitions.
				waitFor(ctx, t, c.kind+" "+c.name+" to be created", func() error {
					err := create(ctx, client, resources, xr, false)
					if apierrors.IsAlreadyExists(err) {
						return nil
					}
					return err
				})
			}
			for _, c := range composites {
				composed := waitComposed(ctx, t, client, resources, c)
				for name, object := range composed {
					got[c.kind+"/"+c.name+"/"+name] = normalized(object)
				}
			}
			checkClusterUsable(ctx, t, client, composites[0])
			raw, err := yaml.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join("testdata", cloud+".golden.yaml")
			if *update {
				if err := os.WriteFile(golden, raw, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if diff := cmp.Diff(string(want), string(raw)); diff != "" {
				t.Errorf("what Crossplane composed on %s differs from %s (-golden +got):\n%s", cloud, golden, diff)
			}
			checkTornDown(ctx, t, client, resources, composites)
		})
	}
}

var xrResources = map[string]schema.GroupVersionResource{
	"KubernetesCluster":  {Group: "platform.idp.dev", Version: "v1alpha1", Resource: "kubernetesclusters"},
	"KubernetesNodePool": {Group: "platform.idp.dev", Version: "v1alpha1", Resource: "kubernetesnodepools"},
}

// checkClusterUsable waits until the cluster composite is Ready (every composed resource reported
// ready by the simulated cloud), reports its endpoint, and its kubeconfig secret reaches that API server.
func checkClusterUsable(ctx context.Context, t *testing.T, client dynamic.Interface, c composite) {
	t.Helper()
	var status map[string]any
	waitFor(ctx, t, c.name+" to be Ready", func() error {
		xr, err := client.Resource(xrResources[c.kind]).Get(ctx, c.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		status, _, _ = unstructured.NestedMap(xr.Object, "status")
		conditions, _, _ := unstructured.NestedSlice(xr.Object, "status", "conditions")
		for _, cond := range conditions {
			if condition, _ := cond.(map[string]any); condition["type"] == "Ready" && condition["status"] == "True" {
				if endpoint, _ := status["endpoint"].(string); !strings.HasPrefix(endpoint, "https://127.0.0.1:") {
					return fmt.Errorf("Ready, but the endpoint is %q", endpoint)
				}
				return nil
			}
		}
		return fmt.Errorf("conditions %v", conditions)
	})
	secretRef, _ := status["kubeconfigSecret"].(string)
	namespace, name, _ := strings.Cut(secretRef, "/")
	secrets := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	secret, err := client.Resource(secrets).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the kubeconfig secret %q of %s: %v", secretRef, c.name, err)
	}
	encoded, _, _ := unstructured.NestedString(secret.Object, "data", "kubeconfig")
	kubeconfig, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		t.Fatal(err)
	}
	config, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatalf("the kubeconfig of %s: %v", c.name, err)
	}
	if config.Host != status["endpoint"] {
		t.Errorf("the kubeconfig of %s points at %s, its status at %v", c.name, config.Host, status["endpoint"])
	}
	versions, err := discovery.NewDiscoveryClientForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := versions.ServerVersion(); err != nil {
		t.Errorf("the API server of %s does not answer: %v", c.name, err)
	}
}

// checkTornDown deletes the composites and waits until their composed resources and the kubeconfig
// secret are gone.
func checkTornDown(ctx context.Context, t *testing.T, client dynamic.Interface, resources map[string]schema.GroupVersionResource, composites []composite) {
	t.Helper()
	for _, c := range composites {
		if err := client.Resource(xrResources[c.kind]).Delete(ctx, c.name, metav1.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range composites {
		waitFor(ctx, t, c.name+" and what it composed to be deleted", func() error {
			_, err := client.Resource(xrResources[c.kind]).Get(ctx, c.name, metav1.GetOptions{})
			if !apierrors.IsNotFound(err) {
				return fmt.Errorf("%s still exists (%w)", c.name, err)
			}
			for key, gvr := range resources {
				if !strings.Contains(key, ".upbound.io/") {
					continue
				}
				list, err := client.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: "crossplane.io/composite=" + c.name})
				if err != nil {
					return err
				}
				if len(list.Items) > 0 {
					return fmt.Errorf("%d %s left", len(list.Items), gvr.Resource)
				}
			}
			return nil
		})
	}
	secrets := schema.GroupVersionResource{Version: "v1", Resource: "secrets"}
	name := composites[0].name + "-kubeconfig"
	waitFor(ctx, t, "the kubeconfig secret "+name+" to be deleted", func() error {
		_, err := client.Resource(secrets).Namespace("crossplane-system").Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) {
			return nil
		}
		return fmt.Errorf("still there (%w)", err)
	})
}

// waitComposed waits until a composite resource has exactly the composed resources it must have, and
// returns them by composition resource name.
func waitComposed(ctx context.Context, t *testing.T, client dynamic.Interface, resources map[string]schema.GroupVersionResource, c composite) map[string]*unstructured.Unstructured {
	t.Helper()
	gvr := resources["platform.idp.dev/v1alpha1/"+c.kind]
	var composed map[string]*unstructured.Unstructured
	waitFor(ctx, t, fmt.Sprintf("%s %s to compose %v", c.kind, c.name, c.composed), func() error {
		xr, err := client.Resource(gvr).Get(ctx, c.name, metav1.GetOptions{})
		if err != nil {
			return err
		}
		composed = map[string]*unstructured.Unstructured{}
		refs, _, _ := unstructured.NestedSlice(xr.Object, "spec", "crossplane", "resourceRefs")
		for _, r := range refs {
			ref, _ := r.(map[string]any)
			object := &unstructured.Unstructured{Object: map[string]any{"apiVersion": ref["apiVersion"], "kind": ref["kind"]}}
			refGVR, err := gvrOf(resources, object)
			if err != nil {
				return err
			}
			name, _ := ref["name"].(string)
			live, err := client.Resource(refGVR).Get(ctx, name, metav1.GetOptions{})
			if err != nil {
				return err
			}
			composed[live.GetAnnotations()["crossplane.io/composition-resource-name"]] = live
		}
		var names []string
		for name := range composed {
			names = append(names, name)
		}
		sort.Strings(names)
		if diff := cmp.Diff(c.composed, names); diff != "" {
			conditions, _, _ := unstructured.NestedSlice(xr.Object, "status", "conditions")
			return fmt.Errorf("composed resources (-want +got):\n%s\nconditions: %v", diff, conditions)
		}
		return nil
	})
	return composed
}
