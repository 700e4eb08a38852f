package crossplane

import (
	"bytes"
	"os"
	"path"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

func TestFunctionPackagesMatchVersions(t *testing.T) {
	want := []string{
		"xpkg.crossplane.io/crossplane-contrib/function-patch-and-transform:" + sandbox.FunctionPatchAndTransformVersion,
		"xpkg.crossplane.io/crossplane-contrib/function-auto-ready:" + sandbox.FunctionAutoReadyVersion,
		// Built from cmd/function-addon-stack of this repository, not from the module proxy.
		"xpkg.idp.dev/idp-platform/function-addon-stack:v0.1.0",
	}
	functions, err := Functions()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, function := range functions {
		got = append(got, function.Package)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("functions.yaml packages differ from internal/sandbox/versions.go (-want +got):\n%s", diff)
	}
}

func TestManifestsOrder(t *testing.T) {
	_, order, err := Manifests()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"functions.yaml",
		"access/accessgrant.yaml",
		"addonstack/definition.yaml",
		"kubernetescluster/definition.yaml",
		"kubernetesnodepool/definition.yaml",
		"addonstack/composition.yaml",
		"kubernetescluster/composition-aws.yaml",
		"kubernetescluster/composition-azure.yaml",
		"kubernetescluster/composition-gcp.yaml",
		"kubernetesnodepool/composition-aws.yaml",
		"kubernetesnodepool/composition-azure.yaml",
		"kubernetesnodepool/composition-gcp.yaml",
	}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("Manifests order: definitions must come before the compositions of their kinds (-want +got):\n%s", diff)
	}
}

// TestCompositionsUseShippedFunctions: every function a Composition's pipeline runs is in functions.yaml
// (what users install) and in crossplane.yaml's dependencies (what the Configuration package brings).
func TestCompositionsUseShippedFunctions(t *testing.T) {
	files, order, err := Manifests()
	if err != nil {
		t.Fatal(err)
	}
	shipped := map[string]bool{}
	for _, doc := range bytes.Split(files["functions.yaml"], []byte("\n---\n")) {
		var function struct {
			Metadata struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &function); err != nil {
			t.Fatal(err)
		}
		shipped[function.Metadata.Name] = true
	}
	configuration, err := os.ReadFile("crossplane.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Spec struct {
			DependsOn []struct {
				Function string `json:"function"`
			} `json:"dependsOn"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(configuration, &meta); err != nil {
		t.Fatal(err)
	}
	dependencies := map[string]bool{}
	for _, d := range meta.Spec.DependsOn {
		dependencies[path.Base(d.Function)] = true
	}
	for _, file := range order {
		for _, doc := range bytes.Split(files[file], []byte("\n---\n")) {
			var composition struct {
				Kind string `json:"kind"`
				Spec struct {
					Pipeline []struct {
						FunctionRef struct {
							Name string `json:"name"`
						} `json:"functionRef"`
					} `json:"pipeline"`
				} `json:"spec"`
			}
			if err := yaml.Unmarshal(doc, &composition); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			if composition.Kind != "Composition" {
				continue
			}
			for _, step := range composition.Spec.Pipeline {
				if name := step.FunctionRef.Name; !shipped[name] || !dependencies[name] {
					t.Errorf("%s runs %s: in functions.yaml %t, in crossplane.yaml's dependencies %t", file, name, shipped[name], dependencies[name])
				}
			}
		}
	}
}

func TestAddonStackDefinition(t *testing.T) {
	files, _, err := Manifests()
	if err != nil {
		t.Fatal(err)
	}
	var xrd struct {
		Spec struct {
			Group, Scope string
			Names        struct{ Kind, Plural string }
			Versions     []struct {
				Name                  string
				Served, Referenceable bool
			}
			DefaultCompositionRef struct{ Name string } `json:"defaultCompositionRef"`
		}
	}
	if err := yaml.Unmarshal(files["addonstack/definition.yaml"], &xrd); err != nil {
		t.Fatal(err)
	}
	var composition struct {
		Metadata struct{ Name string }
		Spec     struct {
			CompositeTypeRef struct {
				APIVersion string `json:"apiVersion"`
				Kind       string
			} `json:"compositeTypeRef"`
		}
	}
	if err := yaml.Unmarshal(files["addonstack/composition.yaml"], &composition); err != nil {
		t.Fatal(err)
	}
	got := []string{
		xrd.Spec.Group, xrd.Spec.Scope, xrd.Spec.Names.Kind, xrd.Spec.Names.Plural,
		xrd.Spec.Versions[0].Name, composition.Spec.CompositeTypeRef.APIVersion, composition.Spec.CompositeTypeRef.Kind,
		xrd.Spec.DefaultCompositionRef.Name,
	}
	want := []string{
		addonstack.Group, "Cluster", addonstack.Kind, addonstack.Resource,
		addonstack.Version, addonstack.APIVersion, addonstack.Kind,
		composition.Metadata.Name,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AddonStack definition and composition differ from internal/addonstack (-want +got):\n%s", diff)
	}
	if v := xrd.Spec.Versions[0]; !v.Served || !v.Referenceable {
		t.Errorf("AddonStack %s: served %t, referenceable %t; want both", v.Name, v.Served, v.Referenceable)
	}
}

func TestPackageYAML(t *testing.T) {
	stream, err := PackageYAML()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, doc := range documents(stream) {
		var object struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Metadata   struct {
				Name string `json:"name"`
			} `json:"metadata"`
		}
		if err := yaml.Unmarshal(doc, &object); err != nil {
			t.Fatal(err)
		}
		got = append(got, object.APIVersion+" "+object.Kind+" "+object.Metadata.Name)
	}
	// The metadata first, as Crossplane's parser wants one meta object; no Function, no plain CRD.
	want := []string{
		"meta.pkg.crossplane.io/v1 Configuration idp-platform",
		"apiextensions.crossplane.io/v2 CompositeResourceDefinition addonstacks.platform.idp.dev",
		"apiextensions.crossplane.io/v2 CompositeResourceDefinition kubernetesclusters.platform.idp.dev",
		"apiextensions.crossplane.io/v2 CompositeResourceDefinition kubernetesnodepools.platform.idp.dev",
		"apiextensions.crossplane.io/v1 Composition addonstack",
		"apiextensions.crossplane.io/v1 Composition kubernetesclusters-aws",
		"apiextensions.crossplane.io/v1 Composition kubernetesclusters-azure",
		"apiextensions.crossplane.io/v1 Composition kubernetesclusters-gcp",
		"apiextensions.crossplane.io/v1 Composition kubernetesnodepools-aws",
		"apiextensions.crossplane.io/v1 Composition kubernetesnodepools-azure",
		"apiextensions.crossplane.io/v1 Composition kubernetesnodepools-gcp",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("PackageYAML() objects (-want +got):\n%s", diff)
	}
}
