package crossplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

var crdResource = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// crdFiles are the CRDs the validation installs: the Upbound providers' (../shared/crds, see its
// README) and Crossplane's own, from the pinned Crossplane module.
func crdFiles(t *testing.T) []string {
	t.Helper()
	shared, err := filepath.Glob(filepath.Join("..", "..", "shared", "crds", "provider-*", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(shared) == 0 {
		t.Fatal("no provider CRDs under ../shared/crds (relative to the repository); the validation needs them")
	}
	// The module is pinned by tools/crossplane; downloading is a no-op when the module cache has it.
	dir := filepath.Join("..", "tools", "crossplane")
	download := exec.Command("go", "mod", "download", "-json", "github.com/crossplane/crossplane/v2")
	download.Dir, download.Env = dir, append(os.Environ(), "GOWORK=off")
	out, err := download.Output()
	if err != nil {
		t.Fatalf("cannot download the Crossplane module: %v\n%s", err, out)
	}
	var module struct{ Dir string }
	if err := json.Unmarshal(out, &module); err != nil || module.Dir == "" {
		t.Fatalf("cannot locate the Crossplane module in %s: %v", out, err)
	}
	core, err := filepath.Glob(filepath.Join(module.Dir, "cluster", "crds", "*.yaml"))
	if err != nil || len(core) == 0 {
		t.Fatalf("no CRDs in the Crossplane module at %s: %v", module.Dir, err)
	}
	return append(shared, core...)
}

// installCRDs creates the CRDs and waits until each is established; it returns the resource of each
// served kind by apiVersion and kind.
func installCRDs(t *testing.T, client dynamic.Interface, files []string) map[string]schema.GroupVersionResource {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	resources := map[string]schema.GroupVersionResource{}
	var names []string
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		crd := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(raw, &crd.Object); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if _, err := client.Resource(crdResource).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
			t.Fatalf("cannot install %s: %v", file, err)
		}
		names = append(names, crd.GetName())
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			version, _ := v.(map[string]any)
			if served, _ := version["served"].(bool); served {
				name, _ := version["name"].(string)
				resources[group+"/"+name+"/"+kind] = schema.GroupVersionResource{Group: group, Version: name, Resource: plural}
			}
		}
	}
	for _, name := range names {
		for {
			crd, err := client.Resource(crdResource).Get(ctx, name, metav1.GetOptions{})
			if err == nil && established(crd) {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("CRD %s was not established: %v", name, err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return resources
}

func established(crd *unstructured.Unstructured) bool {
	conditions, _, _ := unstructured.NestedSlice(crd.Object, "status", "conditions")
	for _, c := range conditions {
		condition, _ := c.(map[string]any)
		if condition["type"] == "Established" && condition["status"] == "True" {
			return true
		}
	}
	return false
}

// dryRunCreate asks the API server to validate an object as if creating it, rejecting unknown fields.
func dryRunCreate(ctx context.Context, client dynamic.Interface, resources map[string]schema.GroupVersionResource, object map[string]any) error {
	u := &unstructured.Unstructured{Object: object}
	gvk := u.GroupVersionKind()
	gvr, ok := resources[gvk.Group+"/"+gvk.Version+"/"+gvk.Kind]
	if !ok {
		return fmt.Errorf("no installed CRD serves %s", gvk)
	}
	_, err := client.Resource(gvr).Create(ctx, u, metav1.CreateOptions{DryRun: []string{metav1.DryRunAll}, FieldValidation: metav1.FieldValidationStrict})
	return err
}

// TestAccCompositionsValidate installs the real CRDs in a real API server and has it validate what
// the platform ships (the definition, the Compositions, the Functions) and every resource the
// Compositions compose for the render cases, rejecting unknown fields and failed CEL rules.
func TestAccCompositionsValidate(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("starts a Kubernetes API server; runs with TF_ACC")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	sb, kubeconfigs, err := sandbox.StartClusters(ctx, sandbox.Options{}, "crd-validation")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Stop() })
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfigs[0])
	if err != nil {
		t.Fatal(err)
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	resources := installCRDs(t, client, crdFiles(t))

	files, order, err := Manifests()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range order {
		for i, doc := range strings.Split(string(files[file]), "\n---\n") {
			object := map[string]any{}
			if err := yaml.Unmarshal([]byte(doc), &object); err != nil {
				t.Fatalf("%s document %d: %v", file, i, err)
			}
			if err := dryRunCreate(ctx, client, resources, object); err != nil {
				t.Errorf("%s document %d is not valid: %v", file, i, err)
			}
		}
	}

	for name, tc := range renderCases() {
		t.Run(name, func(t *testing.T) {
			for resourceName, object := range renderComposition(t, tc.file, tc.xr, tc.observed).Resources {
				// Crossplane names composed resources after the composite.
				if err := unstructured.SetNestedField(object, "payments-dev-"+resourceName, "metadata", "name"); err != nil {
					t.Fatal(err)
				}
				if err := dryRunCreate(ctx, client, resources, object); err != nil {
					t.Errorf("%s: composed resource %s is not valid: %v", tc.reason, resourceName, err)
				}
			}
		})
	}

	// The API server must be the one telling: a misspelt field is refused.
	misspelt := renderComposition(t, "kubernetescluster/composition-aws.yaml", renderCases()["aws-minimal"].xr, nil).Resources["vpc"]
	if err := errors.Join(
		unstructured.SetNestedField(misspelt, "10.0.0.0/16", "spec", "forProvider", "cidrBlok"),
		unstructured.SetNestedField(misspelt, "payments-dev-vpc", "metadata", "name"),
	); err != nil {
		t.Fatal(err)
	}
	if err := dryRunCreate(ctx, client, resources, misspelt); err == nil || !strings.Contains(err.Error(), "cidrBlok") {
		t.Errorf("a VPC with the unknown field cidrBlok was not refused: %v", err)
	}
	// So is a node group without the scaling the provider's CEL rules require.
	unscaled := renderComposition(t, "kubernetescluster/composition-aws.yaml", renderCases()["aws-minimal"].xr, nil).Resources["node-group-default"]
	unstructured.RemoveNestedField(unscaled, "spec", "forProvider", "scalingConfig")
	if err := unstructured.SetNestedField(unscaled, "payments-dev-node-group-default", "metadata", "name"); err != nil {
		t.Fatal(err)
	}
	if err := dryRunCreate(ctx, client, resources, unscaled); err == nil || !strings.Contains(err.Error(), "scalingConfig is a required parameter") {
		t.Errorf("a node group without scalingConfig was not refused: %v", err)
	}
}
