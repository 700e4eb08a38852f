package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
)

func newAddonCatalogDataSource() datasource.DataSource { return &addonCatalogDataSource{} }

// addonCatalogDataSource lists what the embedded add-on catalog offers; it reads no backend.
type addonCatalogDataSource struct{}

type addonCatalogModel struct {
	Cloud             types.String `tfsdk:"cloud"`
	KubernetesVersion types.String `tfsdk:"kubernetes_version"`
	CatalogVersion    types.String `tfsdk:"catalog_version"`
	Addons            types.Map    `tfsdk:"addons"`
}

var addonCatalogEntryTypes = map[string]attr.Type{
	"name": types.StringType, "description": types.StringType, "chart": types.StringType, "repository": types.StringType,
	"namespace": types.StringType, "default_version": types.StringType, "versions": types.ListType{ElemType: types.StringType},
	"depends_on": types.ListType{ElemType: types.StringType},
}

func (d *addonCatalogDataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_addon_catalog"
}

func (d *addonCatalogDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	computed := func(description string) schema.StringAttribute {
		return schema.StringAttribute{Computed: true, MarkdownDescription: description}
	}
	computedList := func(description string) schema.ListAttribute {
		return schema.ListAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: description}
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the add-ons the provider's curated catalog offers for `idp_addon_stack` on a cloud and, optionally, a " +
			"Kubernetes version: their charts, the versions that support that Kubernetes version and their dependencies.",
		Attributes: map[string]schema.Attribute{
			"cloud": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "`aws`, `azure`, `gcp`, or `existing` for a registered cluster. Today's catalog offers the same add-ons and versions on every cloud; what differs is the defaults `idp_addon_stack` applies (and on `existing`, values it requires).",
				Validators:          []validator.String{stringvalidator.OneOf(catalog.AddonClouds()...)},
			},
			"kubernetes_version": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Kubernetes version (`1.34` or `v1.34.4`); only versions that support it are listed. All versions when unset.",
			},
			"catalog_version": computed("Version of the add-on catalog."),
			"addons": schema.MapNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The add-ons by the key `idp_addon_stack.addons` takes.",
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name":            computed("Name in the cluster (the Helm release's)."),
					"description":     computed("What the add-on does."),
					"chart":           computed("Upstream chart name; empty for an add-on of plain objects."),
					"repository":      computed("Upstream chart repository."),
					"namespace":       computed("Namespace the add-on goes to."),
					"default_version": computed("Version used when `version` is unset; empty when it does not support `kubernetes_version`."),
					"versions":        computedList("Versions offered (newest first) that support `kubernetes_version`."),
					"depends_on":      computedList("Keys of the add-ons that must be in the same stack."),
				}},
			},
		},
	}
}

func (d *addonCatalogDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var model addonCatalogModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &model)...)
	if resp.Diagnostics.HasError() {
		return
	}
	entries := map[string]attr.Value{}
	for _, addon := range catalog.Addons() {
		var versions []attr.Value
		defaultVersion := ""
		for _, version := range addon.Versions {
			if !model.KubernetesVersion.IsNull() {
				ok, err := version.SupportsKubernetes(model.KubernetesVersion.ValueString())
				if err != nil {
					resp.Diagnostics.AddAttributeError(path.Root("kubernetes_version"), "Invalid Kubernetes version", err.Error())
					return
				}
				if !ok {
					continue
				}
			}
			versions = append(versions, types.StringValue(version.Version))
			if version.Version == addon.DefaultVersion {
				defaultVersion = version.Version
			}
		}
		var dependsOn []attr.Value
		for _, dependency := range addon.DependsOn {
			dependsOn = append(dependsOn, types.StringValue(dependency))
		}
		chart, repository := "", ""
		if addon.Chart != nil {
			chart, repository = addon.Chart.Name, addon.Chart.Repository
		}
		entries[addon.Key] = types.ObjectValueMust(addonCatalogEntryTypes, map[string]attr.Value{
			"name": types.StringValue(addon.Name), "description": types.StringValue(addon.Description),
			"chart": types.StringValue(chart), "repository": types.StringValue(repository), "namespace": types.StringValue(addon.Namespace),
			"default_version": types.StringValue(defaultVersion),
			"versions":        types.ListValueMust(types.StringType, append([]attr.Value{}, versions...)),
			"depends_on":      types.ListValueMust(types.StringType, append([]attr.Value{}, dependsOn...)),
		})
	}
	model.CatalogVersion = types.StringValue(catalog.AddonCatalogVersion())
	model.Addons = types.MapValueMust(types.ObjectType{AttrTypes: addonCatalogEntryTypes}, entries)
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}
