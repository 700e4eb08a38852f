package provider

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/helm"
)

func TestMergeValues(t *testing.T) {
	cases := map[string]struct {
		reason string
		base   map[string]any
		over   map[string]any
		want   map[string]any
	}{
		"Disjoint": {
			reason: "Keys of either side are kept.",
			base:   map[string]any{"replicas": 2},
			over:   map[string]any{"password": "s3cret"},
			want:   map[string]any{"replicas": 2, "password": "s3cret"},
		},
		"NestedMappingsMerge": {
			reason: "Mappings on both sides merge key by key, at every depth.",
			base:   map[string]any{"env": map[string]any{"MODE": "live", "db": map[string]any{"host": "db", "port": 5432}}},
			over:   map[string]any{"env": map[string]any{"API_KEY": "k", "db": map[string]any{"password": "p"}}},
			want: map[string]any{"env": map[string]any{
				"MODE": "live", "API_KEY": "k",
				"db": map[string]any{"host": "db", "port": 5432, "password": "p"},
			}},
		},
		"OverWinsOnScalars": {
			reason: "A key both sides set to a non-mapping takes over's value.",
			base:   map[string]any{"image": map[string]any{"tag": "1"}},
			over:   map[string]any{"image": map[string]any{"tag": "2"}},
			want:   map[string]any{"image": map[string]any{"tag": "2"}},
		},
		"OverReplacesAMappingWithAScalar": {
			reason: "A mapping meets a non-mapping: over wins, whole.",
			base:   map[string]any{"tls": map[string]any{"enabled": true}},
			over:   map[string]any{"tls": "off"},
			want:   map[string]any{"tls": "off"},
		},
		"ListsAreReplaced": {
			reason: "Lists are values, not merged item by item.",
			base:   map[string]any{"args": []any{"a", "b"}},
			over:   map[string]any{"args": []any{"c"}},
			want:   map[string]any{"args": []any{"c"}},
		},
		"NilBase": {
			reason: "No values, only sensitive ones.",
			over:   map[string]any{"password": "p"},
			want:   map[string]any{"password": "p"},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := mergeValues(tc.base, tc.over)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nmergeValues: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestMergeValuesLeavesItsInputs(t *testing.T) {
	base := map[string]any{"env": map[string]any{"MODE": "live"}}
	mergeValues(base, map[string]any{"env": map[string]any{"API_KEY": "k"}})
	if diff := cmp.Diff(map[string]any{"env": map[string]any{"MODE": "live"}}, base); diff != "" {
		t.Errorf("mergeValues changed its base, whose values end up in plan: -want, +got:\n%s", diff)
	}
}

// chartFields flattens a chart model for comparison.
func chartFields(c *appChartModel) map[string]types.String {
	if c == nil {
		return nil
	}
	return map[string]types.String{
		"catalog": c.Catalog, "repository": c.Repository, "name": c.Name, "oci": c.OCI,
		"path": c.Path, "version": c.Version, "digest": c.Digest,
	}
}

func TestImportedChart(t *testing.T) {
	null := types.StringNull()
	cases := map[string]struct {
		reason string
		rel    helm.Release
		want   map[string]types.String
	}{
		"CatalogChart": {
			reason: "A release of a chart the catalog ships is read as that catalog chart, at the release's version.",
			rel:    helm.Release{ChartName: "web-service", ChartVersion: "1.0.0"},
			want: map[string]types.String{
				"catalog": types.StringValue("web-service"), "version": types.StringValue("1.0.0"),
				"repository": null, "name": null, "oci": null, "path": null, "digest": null,
			},
		},
		"OtherChart": {
			reason: "Any other chart is named by a path the configuration must set; no version (Chart.yaml says it).",
			rel:    helm.Release{ChartName: "podinfo", ChartVersion: "6.5.0"},
			want: map[string]types.String{
				"path":    types.StringValue("podinfo"),
				"catalog": null, "repository": null, "name": null, "oci": null, "version": null, "digest": null,
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, chartFields(importedChart(tc.rel))); diff != "" {
				t.Errorf("%s\nimportedChart: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestReleaseInputsUnchanged(t *testing.T) {
	catalogChart := func(version string) *appChartModel {
		c := nullChart()
		c.Catalog, c.Version = types.StringValue("web-service"), types.StringValue(version)
		return c
	}
	model := func(chart *appChartModel, values string, sensitiveVersion int64) appModel {
		m := appModel{Chart: chart, Values: types.StringValue(values), SensitiveWOVer: types.Int64Value(sensitiveVersion)}
		if values == "" {
			m.Values = types.StringNull()
		}
		if sensitiveVersion == 0 {
			m.SensitiveWOVer = types.Int64Null()
		}
		return m
	}
	cases := map[string]struct {
		reason string
		plan   appModel
		state  appModel
		want   bool
	}{
		"Same": {
			reason: "The chart and values the release was applied with need no new check.",
			plan:   model(catalogChart("1.0.0"), "replicas: 2\n", 1),
			state:  model(catalogChart("1.0.0"), "replicas: 2\n", 1),
			want:   true,
		},
		"ValuesChanged": {
			reason: "New values are checked.",
			plan:   model(catalogChart("1.0.0"), "replicas: 3\n", 1),
			state:  model(catalogChart("1.0.0"), "replicas: 2\n", 1),
		},
		"ChartVersionChanged": {
			reason: "Another chart version may have another schema.",
			plan:   model(catalogChart("1.1.0"), "replicas: 2\n", 1),
			state:  model(catalogChart("1.0.0"), "replicas: 2\n", 1),
		},
		"SensitiveVersionChanged": {
			reason: "New sensitive values, which only the configuration holds, are checked.",
			plan:   model(catalogChart("1.0.0"), "replicas: 2\n", 2),
			state:  model(catalogChart("1.0.0"), "replicas: 2\n", 1),
		},
		"Imported": {
			reason: "An imported release has no values in state; the configuration's are checked.",
			plan:   model(catalogChart("1.0.0"), "replicas: 2\n", 0),
			state:  model(catalogChart("1.0.0"), "", 0),
		},
		"NoChartInState": {
			reason: "A state without a chart (just imported, not yet read) is checked.",
			plan:   model(catalogChart("1.0.0"), "", 0),
			state:  model(nil, "", 0),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, releaseInputsUnchanged(tc.plan, tc.state)); diff != "" {
				t.Errorf("%s\nreleaseInputsUnchanged: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
