package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/identityschema"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// resourceIdentity is a resource's identity (Terraform 1.12 and OpenTofu 1.12): the parts of its import
// ID, which its id attribute joins with "/", as named attributes. An import block may give either.
type resourceIdentity []identityPart

type identityPart struct{ name, description string }

var (
	clusterIdentity    = resourceIdentity{{"name", "Cluster name."}}
	teamIdentity       = resourceIdentity{{"name", "Team name."}}
	appIdentity        = resourceIdentity{{"cluster", "Cluster name."}, {"namespace", "Namespace of the release."}, {"name", "Release name."}}
	addonStackIdentity = resourceIdentity{{"cluster", "Cluster name."}, {"name", "Stack name."}}
	accessIdentity     = resourceIdentity{{"cluster", "Cluster name."}, {"group", "Keycloak group."},
		{"scope", "`cluster`, or the namespaces bound, sorted and joined by commas."}}
)

func (ri resourceIdentity) schema(resp *resource.IdentitySchemaResponse) {
	attributes := map[string]identityschema.Attribute{}
	for _, part := range ri {
		attributes[part.name] = identityschema.StringAttribute{RequiredForImport: true, Description: part.description}
	}
	resp.IdentitySchema = identityschema.Schema{Attributes: attributes}
}

// record sets the identity from the id in state, whenever an operation leaves one: deferred at the top
// of Create, Read and Update, so that every way out of them records it, a partial create's too.
func (ri resourceIdentity) record(ctx context.Context, state *tfsdk.State, identity *tfsdk.ResourceIdentity, diags *diag.Diagnostics) {
	if identity == nil || state.Raw.IsNull() {
		return
	}
	var id types.String
	if d := state.GetAttribute(ctx, path.Root("id"), &id); d.HasError() || id.IsNull() || id.IsUnknown() {
		return
	}
	parts := strings.Split(id.ValueString(), "/")
	if len(parts) != len(ri) {
		diags.AddError("Cannot record the resource's identity", fmt.Sprintf("ID %q does not have the %d parts of %s.", id.ValueString(), len(ri), ri))
		return
	}
	for i, part := range ri {
		diags.Append(identity.SetAttribute(ctx, path.Root(part.name), parts[i])...)
	}
}

// importID is what is imported: the import ID, or the identity's parts joined into one.
func (ri resourceIdentity) importID(ctx context.Context, req resource.ImportStateRequest, diags *diag.Diagnostics) string {
	if req.ID != "" || req.Identity == nil {
		return req.ID
	}
	parts := make([]string, len(ri))
	for i, part := range ri {
		var value types.String
		diags.Append(req.Identity.GetAttribute(ctx, path.Root(part.name), &value)...)
		if strings.Contains(value.ValueString(), "/") {
			diags.AddError("Invalid import identity", fmt.Sprintf("%s %q holds a /.", part.name, value.ValueString()))
		}
		parts[i] = value.ValueString()
	}
	return strings.Join(parts, "/")
}

func (ri resourceIdentity) String() string {
	names := make([]string, len(ri))
	for i, part := range ri {
		names[i] = part.name
	}
	return strings.Join(names, "/")
}
