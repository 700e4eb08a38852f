package helm

import (
	"fmt"

	"helm.sh/helm/v4/pkg/chart/common"
	chartutil "helm.sh/helm/v4/pkg/chart/common/util"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/engine"
)

// ValidateValues checks values, merged over the chart's defaults, against the chart's
// values.schema.json, offline, so bad values are reported at plan.
func ValidateValues(ch *chart.Chart, values map[string]any) error {
	merged, err := chartutil.CoalesceValues(ch, values)
	if err != nil {
		return fmt.Errorf("cannot merge the values with the chart's defaults: %w", err)
	}
	return chartutil.ValidateAgainstSchema(ch, merged)
}

// Render renders the chart's templates offline, as an install of release name in namespace would.
func Render(ch *chart.Chart, name, namespace string, values map[string]any) (map[string]string, error) {
	renderValues, err := chartutil.ToRenderValuesWithSchemaValidation(ch, values,
		common.ReleaseOptions{Name: name, Namespace: namespace, Revision: 1, IsInstall: true}, nil, false)
	if err != nil {
		return nil, err
	}
	return engine.Render(ch, renderValues)
}
