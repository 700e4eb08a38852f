package crossplane

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

func TestFunctionPackagesMatchVersions(t *testing.T) {
	files, _, err := Manifests()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"xpkg.crossplane.io/crossplane-contrib/function-patch-and-transform:" + sandbox.FunctionPatchAndTransformVersion,
		"xpkg.crossplane.io/crossplane-contrib/function-auto-ready:" + sandbox.FunctionAutoReadyVersion,
	}
	var got []string
	for _, doc := range bytes.Split(files["functions.yaml"], []byte("\n---\n")) {
		var function struct {
			Spec struct {
				Package string `json:"package"`
			} `json:"spec"`
		}
		if err := yaml.Unmarshal(doc, &function); err != nil {
			t.Fatal(err)
		}
		got = append(got, function.Spec.Package)
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
		"kubernetescluster/definition.yaml",
		"kubernetesnodepool/definition.yaml",
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
