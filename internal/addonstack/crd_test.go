package addonstack

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"sigs.k8s.io/yaml"
)

// providerModules hold the CRDs the composed resources must satisfy: the provider versions the platform
// installs. They come from the module cache (`go mod download` them); the test skips without them.
var providerModules = []string{
	"github.com/crossplane-contrib/provider-helm@v1.2.0",
	"github.com/crossplane-contrib/provider-kubernetes@v1.2.0",
}

// providerSchemas loads the providers' served schemas by "apiVersion/kind".
func providerSchemas(t *testing.T) map[string]*apiextensionsv1.JSONSchemaProps {
	t.Helper()
	cache := os.Getenv("GOMODCACHE")
	if cache == "" {
		out, err := exec.Command("go", "env", "GOMODCACHE").Output()
		if err != nil {
			t.Skipf("cannot locate the module cache: %v", err)
		}
		cache = strings.TrimSpace(string(out))
	}
	schemas := map[string]*apiextensionsv1.JSONSchemaProps{}
	for _, module := range providerModules {
		files, _ := filepath.Glob(filepath.Join(cache, module, "package", "crds", "*.yaml"))
		if len(files) == 0 {
			t.Skipf("no CRDs of %s in the module cache; run `go mod download -json %s` in a scratch module", module, module)
		}
		for _, file := range files {
			raw, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var crd apiextensionsv1.CustomResourceDefinition
			if err := yaml.Unmarshal(raw, &crd); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			for _, v := range crd.Spec.Versions {
				if v.Served && v.Schema != nil {
					schemas[crd.Spec.Group+"/"+v.Name+"/"+crd.Spec.Names.Kind] = v.Schema.OpenAPIV3Schema
				}
			}
		}
	}
	return schemas
}

// TestComposedMatchProviderCRDs checks every composed resource of the representative stack against the
// OpenAPI schema its provider serves: no unknown field (the API server would drop or refuse it), types,
// enums and required fields. CEL rules (x-kubernetes-validations) are not evaluated; the one that applies,
// Object's "celQuery must be set if policy is DeriveFromCelQuery", is checked by name below.
func TestComposedMatchProviderCRDs(t *testing.T) {
	schemas := providerSchemas(t)
	desired, _ := Compose(composite, stack(), certManagerReady())
	for _, d := range desired {
		t.Run(d.Key, func(t *testing.T) {
			// Through JSON, as the function sends it.
			var object map[string]any
			raw, err := json.Marshal(d.Resource)
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(raw, &object); err != nil {
				t.Fatal(err)
			}
			apiVersion, _ := object["apiVersion"].(string)
			kind, _ := object["kind"].(string)
			schema, ok := schemas[apiVersion+"/"+kind]
			if !ok {
				t.Fatalf("no provider CRD serves %s %s", apiVersion, kind)
			}
			var problems []string
			check(schema, object, "", &problems)
			name, _ := object["metadata"].(map[string]any)["name"].(string)
			for _, p := range validation.IsDNS1123Subdomain(name) {
				problems = append(problems, "metadata.name: "+p)
			}
			if readiness, ok := object["spec"].(map[string]any)["readiness"].(map[string]any); ok {
				if query, _ := readiness["celQuery"].(string); readiness["policy"] == "DeriveFromCelQuery" && query == "" {
					problems = append(problems, "spec.readiness: celQuery must be set if policy is DeriveFromCelQuery")
				}
			}
			if len(problems) > 0 {
				t.Errorf("%s %s does not match its CRD:\n%s", kind, name, strings.Join(problems, "\n"))
			}
		})
	}
}

// check appends to problems where value does not satisfy schema (the subset of OpenAPI that structural
// CRD schemas use).
func check(schema *apiextensionsv1.JSONSchemaProps, value any, path string, problems *[]string) {
	fail := func(format string, args ...any) {
		*problems = append(*problems, fmt.Sprintf("%s: ", strings.TrimPrefix(path, "."))+fmt.Sprintf(format, args...))
	}
	if len(schema.Enum) > 0 {
		encoded, _ := json.Marshal(value)
		found := false
		for _, e := range schema.Enum {
			found = found || bytes.Equal(bytes.TrimSpace(e.Raw), encoded)
		}
		if !found {
			fail("%s is not one of the enum", encoded)
		}
	}
	switch schema.Type {
	case "object":
		object, ok := value.(map[string]any)
		if !ok {
			fail("want an object, got %T", value)
			return
		}
		for _, required := range schema.Required {
			if _, ok := object[required]; !ok {
				fail("required field %q missing", required)
			}
		}
		if schema.XEmbeddedResource {
			for _, field := range []string{"apiVersion", "kind"} {
				if s, _ := object[field].(string); s == "" {
					fail("an embedded resource needs %s", field)
				}
			}
		}
		keys := make([]string, 0, len(object))
		for k := range object {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if property, ok := schema.Properties[k]; ok {
				check(&property, object[k], path+"."+k, problems)
			} else if schema.AdditionalProperties != nil && schema.AdditionalProperties.Schema != nil {
				check(schema.AdditionalProperties.Schema, object[k], path+"."+k, problems)
			} else if schema.XPreserveUnknownFields == nil || !*schema.XPreserveUnknownFields {
				if path == ".metadata" || (path == "" && (k == "apiVersion" || k == "kind" || k == "metadata")) {
					continue // type and object metadata, which a schema may leave to the API server
				}
				fail("unknown field %q", k)
			}
		}
	case "array":
		list, ok := value.([]any)
		if !ok {
			fail("want an array, got %T", value)
			return
		}
		for i, item := range list {
			if schema.Items != nil && schema.Items.Schema != nil {
				check(schema.Items.Schema, item, fmt.Sprintf("%s[%d]", path, i), problems)
			}
		}
	case "string":
		if _, ok := value.(string); !ok {
			fail("want a string, got %T", value)
		}
	case "boolean":
		if _, ok := value.(bool); !ok {
			fail("want a boolean, got %T", value)
		}
	case "integer":
		if f, ok := value.(float64); !ok || f != float64(int64(f)) {
			fail("want an integer, got %v", value)
		}
	}
}

// TestCheckFindsProblems: the schema check is not vacuous.
func TestCheckFindsProblems(t *testing.T) {
	schemas := providerSchemas(t)
	release := map[string]any{
		"apiVersion": "helm.crossplane.io/v1beta1", "kind": "Release", "metadata": map[string]any{"name": "x"},
		"spec": map[string]any{
			"forProvider": map[string]any{"chart": map[string]any{"name": "c"}, "wait": "yes", "timeout": "5m"},
		},
	}
	var problems []string
	check(schemas["helm.crossplane.io/v1beta1/Release"], release, "", &problems)
	want := []string{
		`spec.forProvider: required field "namespace" missing`,
		`spec.forProvider: unknown field "timeout"`,
		`spec.forProvider.wait: want a boolean, got string`,
	}
	if diff := cmp.Diff(want, problems); diff != "" {
		t.Errorf("check(...) of a wrong Release (-want +got):\n%s", diff)
	}
}

// TestSpecMatchesDefinition checks that what the provider writes (Spec) and the function reports
// (Status) satisfy the AddonStack definition's schema: spec.go and definition.yaml name the same fields.
func TestSpecMatchesDefinition(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "crossplane", "addonstack", "definition.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var xrd struct {
		Spec struct {
			Versions []struct {
				Schema apiextensionsv1.CustomResourceValidation `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(raw, &xrd); err != nil {
		t.Fatal(err)
	}
	_, status := Compose(composite, stack(), map[string]Observed{
		"release.cert-manager": {Conditions: map[string]Condition{"Synced": {Status: "False", Message: "chart not found"}}},
	})
	var object map[string]any
	data, err := json.Marshal(map[string]any{
		"apiVersion": APIVersion, "kind": Kind, "metadata": map[string]any{"name": composite},
		"spec": stack(), "status": status,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &object); err != nil {
		t.Fatal(err)
	}
	var problems []string
	check(xrd.Spec.Versions[0].Schema.OpenAPIV3Schema, object, "", &problems)
	if diff := cmp.Diff([]string(nil), problems); diff != "" {
		t.Errorf("an AddonStack does not match crossplane/addonstack/definition.yaml (-want +got):\n%s", diff)
	}
}
