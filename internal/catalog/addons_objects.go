package catalog

import (
	"fmt"
	"slices"
	"strings"

	chartutil "helm.sh/helm/v4/pkg/chart/common/util"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
)

// objectBuilders make the objects of the add-ons without a chart from their values, which have been
// checked against addons/<builder>.schema.json.
var objectBuilders = map[string]func(e *addonEntry, values map[string]any) []map[string]any{
	"storage-class": storageClassObjects,
}

func objectSchemaFile(builder string) string { return "addons/" + builder + ".schema.json" }

// buildObjects checks the values against the builder's schema, as a chart's values.schema.json would,
// and builds the objects.
func buildObjects(e *addonEntry, values map[string]any) ([]map[string]any, error) {
	schema, err := addonFiles.ReadFile(objectSchemaFile(e.Objects))
	if err != nil {
		return nil, fmt.Errorf("cannot read the values schema of %s: %w", e.Key, err)
	}
	if err := chartutil.ValidateAgainstSingleSchema(values, schema); err != nil {
		return nil, fmt.Errorf("the values of %s do not match its schema: %s", e.Key, schemaViolations(err))
	}
	return objectBuilders[e.Objects](e, values), nil
}

// storageClassObjects is one StorageClass. Its provisioner, parameters, reclaim policy and binding mode
// cannot change once created; only allowVolumeExpansion, labels and annotations can.
func storageClassObjects(e *addonEntry, values map[string]any) []map[string]any {
	isDefault := "false"
	if values["default"] == true {
		isDefault = "true"
	}
	class := map[string]any{
		"apiVersion": "storage.k8s.io/v1",
		"kind":       "StorageClass",
		"metadata": map[string]any{
			"name": values["name"],
			"labels": map[string]any{
				addonstack.LabelManagedBy: addonstack.ManagedBy,
				addonstack.LabelAddon:     e.Name,
			},
			// Written when false too, so that a class that stops being the default says so.
			"annotations": map[string]any{"storageclass.kubernetes.io/is-default-class": isDefault},
		},
		"provisioner":          values["provisioner"],
		"reclaimPolicy":        values["reclaimPolicy"],
		"volumeBindingMode":    values["volumeBindingMode"],
		"allowVolumeExpansion": values["allowVolumeExpansion"],
	}
	if parameters, ok := values["parameters"].(map[string]any); ok && len(parameters) > 0 {
		class["parameters"] = copyMap(parameters)
	}
	if options, ok := values["mountOptions"].([]any); ok && len(options) > 0 {
		class["mountOptions"] = copyValue(options)
	}
	return []map[string]any{class}
}

// schemaViolations lists a schema error's violations in a stable order (the validator's follows a map)
// on one line.
func schemaViolations(err error) string {
	var violations []string
	for _, line := range strings.Split(err.Error(), "\n") {
		if line = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "- ")); line != "" {
			violations = append(violations, line)
		}
	}
	slices.Sort(violations)
	return strings.Join(violations, "; ")
}
