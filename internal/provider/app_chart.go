package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"sigs.k8s.io/yaml"

	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
	"github.com/idp-platform/terraform-provider-idp/internal/helm"
)

// The chart of an idp_app: where it comes from, and how it and its values are loaded.

type appChartModel struct {
	Catalog    types.String `tfsdk:"catalog"`
	Repository types.String `tfsdk:"repository"`
	Name       types.String `tfsdk:"name"`
	OCI        types.String `tfsdk:"oci"`
	Path       types.String `tfsdk:"path"`
	Version    types.String `tfsdk:"version"`
	Digest     types.String `tfsdk:"digest"`
}

// remote names the chart of a repository or registry source.
func (c *appChartModel) remote() helm.RemoteChart {
	return helm.RemoteChart{
		Repository: c.Repository.ValueString(),
		Name:       c.Name.ValueString(),
		OCI:        c.OCI.ValueString(),
		Version:    c.Version.ValueString(),
		Digest:     c.Digest.ValueString(),
	}
}

func (c *appChartModel) anyUnknown() bool {
	for _, v := range []types.String{c.Catalog, c.Repository, c.Name, c.OCI, c.Path, c.Version, c.Digest} {
		if v.IsUnknown() {
			return true
		}
	}
	return false
}

// ociReference checks the shape of chart.oci.
type ociReference struct{}

func (ociReference) Description(context.Context) string {
	return "must be oci://host/path/chart, without a tag or digest"
}

func (v ociReference) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (ociReference) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	if err := helm.ValidOCIReference(req.ConfigValue.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid OCI reference", err.Error()+"; the version goes in chart.version and the archive digest in chart.digest.")
	}
}

// loadChartAndValues resolves the chart of model and parses its values, with the write-only sensitive
// values (which only the configuration holds) merged over them.
func (r *appResource) loadChartAndValues(ctx context.Context, model appModel, sensitive types.String) (*chart.Chart, map[string]any, diag.Diagnostics) {
	var diags diag.Diagnostics
	var (
		ch  *chart.Chart
		err error
	)
	switch c := model.Chart; {
	case !c.Catalog.IsNull():
		ch, err = catalog.Load(c.Catalog.ValueString(), c.Version.ValueString())
	case !c.Path.IsNull():
		ch, err = helm.LoadChart(c.Path.ValueString())
	default:
		var fetched helm.FetchedChart
		tflog.Debug(ctx, "fetching chart", map[string]any{"chart": c.remote().String()})
		fetched, err = r.backends.charts.Fetch(ctx, c.remote())
		ch = fetched.Chart
	}
	if err != nil {
		diags.AddAttributeError(path.Root("chart"), "Cannot load the chart", err.Error())
		return nil, nil, diags
	}
	values := map[string]any{}
	if raw := model.Values.ValueString(); raw != "" {
		if err := yaml.Unmarshal([]byte(raw), &values); err != nil {
			diags.AddAttributeError(path.Root("values"), "Values are not YAML", err.Error())
			return nil, nil, diags
		}
	}
	if raw := sensitive.ValueString(); raw != "" {
		secret := map[string]any{}
		if err := yaml.Unmarshal([]byte(raw), &secret); err != nil {
			// The YAML error could quote the secret, so it is not passed on.
			diags.AddAttributeError(path.Root("sensitive_values_wo"), "Sensitive values are not YAML", "sensitive_values_wo must be a YAML mapping.")
			return nil, nil, diags
		}
		values = mergeValues(values, secret)
	}
	return ch, values, diags
}

// mergeValues merges over into base, recursing into mappings; over wins elsewhere.
func mergeValues(base, over map[string]any) map[string]any {
	merged := make(map[string]any, len(base))
	for k, v := range base {
		merged[k] = v
	}
	for k, v := range over {
		if overMap, ok := v.(map[string]any); ok {
			if baseMap, ok := merged[k].(map[string]any); ok {
				merged[k] = mergeValues(baseMap, overMap)
				continue
			}
		}
		merged[k] = v
	}
	return merged
}
