package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	providerschema "github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// serveNoopProvider, as the value of envServeProvider, makes the test binary serve noopProvider in place
// of the provider.
const serveNoopProvider = "noop"

// noopProvider is a terraform-plugin-framework provider whose one resource, idp_noop, keeps its input
// and reads nothing: what a plan of its resources costs is what the plugin protocol, the framework and
// the CLI's handling of a provider cost alone, the floor under any framework provider's plan.
// BenchmarkPlan reports the idp plan's wall time against it beside the terraform_data floor.
type noopProvider struct{}

func newNoopProvider() provider.Provider { return noopProvider{} }

func (noopProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "idp"
}

func (noopProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = providerschema.Schema{}
}

func (noopProvider) Configure(context.Context, provider.ConfigureRequest, *provider.ConfigureResponse) {
}

func (noopProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		func() resource.Resource { return noopResource{} },
		func() resource.Resource { return noopAppResource{} },
	}
}

func (noopProvider) DataSources(context.Context) []func() datasource.DataSource { return nil }

type noopResource struct{}

type noopModel struct {
	ID    types.String `tfsdk:"id"`
	Input types.String `tfsdk:"input"`
}

func (noopResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "idp_noop"
}

func (noopResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{Attributes: map[string]schema.Attribute{
		"id":    schema.StringAttribute{Computed: true, PlanModifiers: []planmodifier.String{stringplanmodifier.UseStateForUnknown()}},
		"input": schema.StringAttribute{Required: true},
	}}
}

func (noopResource) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	var model noopModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &model)...)
	model.ID = model.Input
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}

func (noopResource) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var model noopModel
	resp.Diagnostics.Append(req.State.Get(ctx, &model)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}

func (noopResource) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	var model noopModel
	resp.Diagnostics.Append(req.Plan.Get(ctx, &model)...)
	resp.Diagnostics.Append(resp.State.Set(ctx, &model)...)
}

func (noopResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// noopAppResource, idp_noop_app, has idp_app's schema and does nothing else: it keeps what it is planned
// with and reads nothing. The framework's work for a resource grows with its schema (it walks every
// attribute, with its defaults, plan modifiers and validators, in every call), so a plan of its
// resources costs what idp_app's schema costs without a backend, and the idp plan beyond it is the
// provider's own work: the release lists, drift and mapping.
type noopAppResource struct{}

func (noopAppResource) Metadata(_ context.Context, _ resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = "idp_noop_app"
}

func (noopAppResource) Schema(ctx context.Context, req resource.SchemaRequest, resp *resource.SchemaResponse) {
	(&appResource{}).Schema(ctx, req, resp)
}

func (noopAppResource) Create(_ context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	resp.State.Raw = withUnknownsNull(req.Plan.Raw, &resp.Diagnostics)
}

func (noopAppResource) Read(context.Context, resource.ReadRequest, *resource.ReadResponse) {}

func (noopAppResource) Update(_ context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	resp.State.Raw = withUnknownsNull(req.Plan.Raw, &resp.Diagnostics)
}

func (noopAppResource) Delete(context.Context, resource.DeleteRequest, *resource.DeleteResponse) {}

// withUnknownsNull returns planned with its unknown values, the computed ones nothing here computes, null.
func withUnknownsNull(planned tftypes.Value, diags *diag.Diagnostics) tftypes.Value {
	known, err := tftypes.Transform(planned, func(_ *tftypes.AttributePath, value tftypes.Value) (tftypes.Value, error) {
		if !value.IsKnown() {
			return tftypes.NewValue(value.Type(), nil), nil
		}
		return value, nil
	})
	if err != nil {
		diags.AddError("Cannot store the planned values", err.Error())
	}
	return known
}
