package catalog

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/idp-platform/terraform-provider-idp/charts"
	"github.com/idp-platform/terraform-provider-idp/crossplane"
)

// TestPlatformConfigurationDefaults holds the platform-configuration chart's defaults to what the
// crossplane package ships: its Configuration package and the functions of functions.yaml, which the
// sandbox builds and runs at these versions.
func TestPlatformConfigurationDefaults(t *testing.T) {
	ch, err := Load("platform-configuration", "")
	if err != nil {
		t.Fatal(err)
	}
	functions, err := crossplane.Functions()
	if err != nil {
		t.Fatal(err)
	}
	var want []any
	for _, function := range functions {
		want = append(want, map[string]any{"name": function.Name, "package": function.Package})
	}
	if diff := cmp.Diff(want, ch.Values["functions"]); diff != "" {
		t.Errorf("the chart's functions differ from crossplane/functions.yaml (-want +got):\n%s", diff)
	}
	configuration, _ := ch.Values["configuration"].(map[string]any)
	if diff := cmp.Diff(crossplane.ConfigurationPackage, configuration["package"]); diff != "" {
		t.Errorf("the chart's configuration.package differs from crossplane.ConfigurationPackage (-want +got):\n%s", diff)
	}
}

// TestAccessGrantDefinitionInChart keeps the chart's copy of the AccessGrant CRD equal to the one the
// crossplane package ships (a chart reads only its own files).
func TestAccessGrantDefinitionInChart(t *testing.T) {
	want, err := crossplane.AccessGrantDefinition()
	if err != nil {
		t.Fatal(err)
	}
	got, err := charts.FS.ReadFile("platform-configuration/templates/accessgrant-definition.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The copy starts with two lines saying where it comes from.
	if _, body, ok := bytes.Cut(got, []byte("beside the package.\n")); ok {
		got = body
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("charts/platform-configuration/templates/accessgrant-definition.yaml differs from crossplane/access/accessgrant.yaml (-want +got):\n%s", diff)
	}
}
