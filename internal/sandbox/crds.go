package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/yaml"
)

// ProviderCRDFiles are the Upbound providers' CRDs the cloud simulator stands in for: the directory
// IDP_PROVIDER_CRDS names, else shared/crds beside the checkout (the nearest ancestor directory that has
// one), else the copy of it in testdata/provider-crds.
func ProviderCRDFiles() ([]string, error) {
	dir := os.Getenv("IDP_PROVIDER_CRDS")
	if dir == "" {
		repo, err := findRepoRoot()
		if err != nil {
			return nil, err
		}
		dir = filepath.Join(repo, "internal", "sandbox", "testdata", "provider-crds")
		for ancestor := filepath.Dir(repo); ancestor != filepath.Dir(ancestor); ancestor = filepath.Dir(ancestor) {
			if info, err := os.Stat(filepath.Join(ancestor, "shared", "crds")); err == nil && info.IsDir() {
				dir = filepath.Join(ancestor, "shared", "crds")
				break
			}
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "provider-*", "*.yaml"))
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no provider CRDs under %s", dir)
	}
	return files, nil
}

// InstallCRDs creates CRDs from files (those that exist already are left as they are), waits until
// each is established, and returns the resource of every kind they serve by "group/version/kind".
func InstallCRDs(ctx context.Context, config *rest.Config, files []string) (map[string]schema.GroupVersionResource, error) {
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, err
	}
	served := map[string]schema.GroupVersionResource{}
	var names []string
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		crd := &unstructured.Unstructured{}
		if err := yaml.Unmarshal(raw, &crd.Object); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		if _, err := client.Resource(crds).Create(ctx, crd, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			return nil, fmt.Errorf("cannot install %s: %w", file, err)
		}
		names = append(names, crd.GetName())
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			version, _ := v.(map[string]any)
			if isServed, _ := version["served"].(bool); isServed {
				name, _ := version["name"].(string)
				served[group+"/"+name+"/"+kind] = schema.GroupVersionResource{Group: group, Version: name, Resource: plural}
			}
		}
	}
	for _, name := range names {
		for {
			crd, err := client.Resource(crds).Get(ctx, name, metav1.GetOptions{})
			if err == nil && ConditionTrue(crd, "Established") {
				break
			}
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("CRD %s was not established: %w", name, ctx.Err())
			case <-time.After(100 * time.Millisecond):
			}
		}
	}
	return served, nil
}

// ConditionTrue reports whether an object's status has the condition of type conditionType with status True.
func ConditionTrue(object *unstructured.Unstructured, conditionType string) bool {
	conditions, _, _ := unstructured.NestedSlice(object.Object, "status", "conditions")
	for _, c := range conditions {
		if condition, _ := c.(map[string]any); condition["type"] == conditionType && condition["status"] == "True" {
			return true
		}
	}
	return false
}
