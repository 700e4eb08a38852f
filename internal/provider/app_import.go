package provider

import (
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
	"github.com/idp-platform/terraform-provider-idp/internal/helm"
)

// Importing a release another Helm client made: the chart it names, and the digest that stands in for
// its values.

// importedValuesPrefix starts the values of an imported release in state: a YAML comment with the digest
// of the release's values, which stands in for the values themselves (they may hold what was given as
// secret) until the configuration's are applied.
const importedValuesPrefix = "# the values of the imported release, "

// importedValuesMarker is what an imported release's values are in state.
func importedValuesMarker(values map[string]any, release string) (types.String, error) {
	digest, err := helm.ValuesDigest(values, release)
	if err != nil {
		return types.StringNull(), err
	}
	return types.StringValue(importedValuesPrefix + digest), nil
}

// importedReleaseMatches reports whether the state is that of an imported release whose chart, values
// (the configuration's, with the sensitive ones merged in) and settings are what the plan asks for.
func importedReleaseMatches(plan, state appModel, values map[string]any) bool {
	marker := state.Values.ValueString()
	if !strings.HasPrefix(marker, importedValuesPrefix) {
		return false
	}
	want, err := importedValuesMarker(values, appID(plan))
	if err != nil || want.ValueString() != marker {
		return false
	}
	if len(state.Drift.Elements()) > 0 {
		return false // the objects drifted: the plan must restore them
	}
	imported := state
	imported.Values = plan.Values
	return releaseInputsUnchanged(plan, imported) && plan.Cluster.Equal(state.Cluster) && plan.Namespace.Equal(state.Namespace) &&
		plan.Name.Equal(state.Name) && plan.Wait.Equal(state.Wait) && plan.Atomic.Equal(state.Atomic) &&
		plan.MaxHistory.Equal(state.MaxHistory) && plan.RollbackTo.Equal(state.RollbackTo) && plan.Timeouts.Equal(state.Timeouts)
}

// importedChart names the chart of an imported release: a catalog chart when the catalog ships one of
// that name, otherwise a path the configuration must set.
func importedChart(rel helm.Release) *appChartModel {
	for _, name := range catalog.Names() {
		if name == rel.ChartName {
			chart := nullChart()
			chart.Catalog, chart.Version = types.StringValue(name), types.StringValue(rel.ChartVersion)
			return chart
		}
	}
	chart := nullChart()
	chart.Path = types.StringValue(rel.ChartName)
	return chart
}

func nullChart() *appChartModel {
	null := types.StringNull()
	return &appChartModel{Catalog: null, Repository: null, Name: null, OCI: null, Path: null, Version: null, Digest: null}
}
