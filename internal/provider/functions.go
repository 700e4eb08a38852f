package provider

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/idp-platform/terraform-provider-idp/internal/policy"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

// The provider's functions are pure: they need no provider configuration and reach no backend, so a
// configuration can use them in locals, outputs and variable validations.

// maxReleaseName is the longest release name Helm accepts.
const maxReleaseName = 53

func newReleaseIDFunction() function.Function      { return releaseIDFunction{} }
func newKubeconfigPathFunction() function.Function { return kubeconfigPathFunction{} }

// releaseIDFunction builds the import ID of an idp_app, cluster/namespace/name, from its parts.
type releaseIDFunction struct{}

func (releaseIDFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "release_id"
}

func (releaseIDFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "The ID of a Helm release on a platform cluster, as idp_app imports it",
		MarkdownDescription: "Joins a cluster, a namespace and a release name into `cluster/namespace/name`, the `id` of an " +
			"`idp_app` and what `import` takes, e.g. in an `import` block's `id` for each release `idp_apps` lists. " +
			"The cluster and namespace must be DNS-1123 labels and the name a Helm release name.",
		Parameters: []function.Parameter{
			function.StringParameter{Name: "cluster", MarkdownDescription: "Platform cluster name."},
			function.StringParameter{Name: "namespace", MarkdownDescription: "Namespace of the release."},
			function.StringParameter{Name: "name", MarkdownDescription: "Release name."},
		},
		Return: function.StringReturn{},
	}
}

func (releaseIDFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var cluster, namespace, name string
	if resp.Error = req.Arguments.Get(ctx, &cluster, &namespace, &name); resp.Error != nil {
		return
	}
	switch {
	case !clusterNamePattern.MatchString(cluster):
		resp.Error = function.NewArgumentFuncError(0, fmt.Sprintf("cluster %q is not a DNS-1123 label", cluster))
	case !clusterNamePattern.MatchString(namespace):
		resp.Error = function.NewArgumentFuncError(1, fmt.Sprintf("namespace %q is not a DNS-1123 label", namespace))
	case !clusterNamePattern.MatchString(name) || len(name) > maxReleaseName:
		resp.Error = function.NewArgumentFuncError(2, fmt.Sprintf("%q is not a release name: a DNS-1123 label of at most %d characters", name, maxReleaseName))
	default:
		resp.Error = resp.Result.Set(ctx, releaseID(cluster, namespace, name))
	}
}

// releaseID is the one place an idp_app's ID is written: cluster/namespace/name.
func releaseID(cluster, namespace, name string) string { return cluster + "/" + namespace + "/" + name }

// kubeconfigPathFunction says where the provider keeps a cluster's admin kubeconfig in Vault.
type kubeconfigPathFunction struct{}

func (kubeconfigPathFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "kubeconfig_path"
}

func (kubeconfigPathFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "Where the platform keeps a cluster's admin kubeconfig in Vault",
		MarkdownDescription: fmt.Sprintf("The Vault path of a cluster's admin kubeconfig, `<kv_mount>/<prefix>/clusters/<name>/kubeconfig`, "+
			"as `idp_cluster`'s `kubeconfig_path` reports it, for Vault policies and `vault kv get`. The optional further "+
			"arguments are the provider's `vault.kv_mount` (default `%s`) and `vault.prefix` (default `%s`) when they are not the defaults.",
			defaultKVMount, defaultVaultPrefix),
		Parameters: []function.Parameter{
			function.StringParameter{Name: "name", MarkdownDescription: "Cluster name."},
		},
		VariadicParameter: function.StringParameter{Name: "kv_mount_and_prefix", MarkdownDescription: "`kv_mount`, then `prefix`: at most two."},
		Return:            function.StringReturn{},
	}
}

func (kubeconfigPathFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var name string
	var mountAndPrefix []string
	if resp.Error = req.Arguments.Get(ctx, &name, &mountAndPrefix); resp.Error != nil {
		return
	}
	if len(mountAndPrefix) > 2 {
		resp.Error = function.NewArgumentFuncError(3, fmt.Sprintf("takes at most kv_mount and prefix after the name, got %d more arguments", len(mountAndPrefix)))
		return
	}
	settings := []string{defaultKVMount, defaultVaultPrefix}
	for i, setting := range mountAndPrefix {
		if !validPathSegments(setting) {
			resp.Error = function.NewArgumentFuncError(int64(i+1), fmt.Sprintf("%q is not a Vault path such as secret or teams/idp", setting))
			return
		}
		settings[i] = setting
	}
	location, err := vault.KubeconfigLocationIn(settings[0], settings[1], name)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(0, err.Error())
		return
	}
	resp.Error = resp.Result.Set(ctx, location)
}

func newPolicyInputFunction() function.Function { return policyInputFunction{} }

// policyInputFunction builds the document the platform's policies evaluate for a planned resource, so
// that a configuration can hand it to `opa eval` or conftest, or check a policy exception before a plan.
type policyInputFunction struct{}

// policyResourceTypes are the resources whose plans the policy library checks.
var policyResourceTypes = []string{"idp_cluster", "idp_app", "idp_addon_stack", "idp_access", "idp_team"}

func (policyInputFunction) Metadata(_ context.Context, _ function.MetadataRequest, resp *function.MetadataResponse) {
	resp.Name = "policy_input"
}

func (policyInputFunction) Definition(_ context.Context, _ function.DefinitionRequest, resp *function.DefinitionResponse) {
	resp.Definition = function.Definition{
		Summary: "The document the platform's policies evaluate for a planned resource, as JSON",
		MarkdownDescription: "The input the policy library (`policy/`) evaluates when a resource is planned: the shape of " +
			"`tofu show -json` (`resource_changes`, here the creation of one resource with these values) plus `idp`, who plans " +
			"it and for which cluster. The provider checks plans against the same document; conftest reads the same shape from " +
			"a whole plan. Write it to a file for `opa eval --input` or `conftest test`, to try a change or an exception " +
			"before planning it. Values are as the resource's attributes: only those the policies read are needed.",
		Parameters: []function.Parameter{
			function.StringParameter{Name: "resource_type", MarkdownDescription: "`idp_cluster`, `idp_app`, `idp_addon_stack`, `idp_access` or `idp_team`."},
			function.DynamicParameter{Name: "values", MarkdownDescription: "The planned resource's attributes, an object."},
		},
		VariadicParameter: function.DynamicParameter{Name: "context", MarkdownDescription: "At most one object: `team`, `identity`, and `cluster` " +
			"(`name`, `cloud`, `environment`, `labels`), as the provider fills in `input.idp`."},
		Return: function.StringReturn{},
	}
}

func (policyInputFunction) Run(ctx context.Context, req function.RunRequest, resp *function.RunResponse) {
	var resourceType string
	var values types.Dynamic
	var contexts []types.Dynamic
	if resp.Error = req.Arguments.Get(ctx, &resourceType, &values, &contexts); resp.Error != nil {
		return
	}
	if !slices.Contains(policyResourceTypes, resourceType) {
		resp.Error = function.NewArgumentFuncError(0, fmt.Sprintf("%q is not a resource the policies check: one of %s", resourceType, strings.Join(policyResourceTypes, ", ")))
		return
	}
	after, err := values.ToTerraformValue(ctx)
	if err != nil || !after.Type().Is(tftypes.Object{}) {
		resp.Error = function.NewArgumentFuncError(1, "values must be an object of the resource's attributes")
		return
	}
	change, err := plannedChange(resourceType, tftypes.NewValue(after.Type(), nil), after, false)
	if err != nil {
		resp.Error = function.NewArgumentFuncError(1, err.Error())
		return
	}
	in := policy.Input{Change: change}
	if len(contexts) > 1 {
		resp.Error = function.NewArgumentFuncError(3, fmt.Sprintf("takes at most one context object, got %d", len(contexts)))
		return
	}
	for _, given := range contexts {
		if in.IDP, err = policyContext(ctx, given); err != nil {
			resp.Error = function.NewArgumentFuncError(2, err.Error())
			return
		}
	}
	doc, err := in.JSON()
	if err != nil {
		resp.Error = function.NewFuncError(err.Error())
		return
	}
	resp.Error = resp.Result.Set(ctx, string(doc))
}

// policyContext reads input.idp from an object, refusing fields the policies do not know.
func policyContext(ctx context.Context, given types.Dynamic) (policy.Context, error) {
	var idp policy.Context
	value, err := given.ToTerraformValue(ctx)
	if err != nil || !value.Type().Is(tftypes.Object{}) {
		return idp, errors.New("context must be an object with team, identity and cluster")
	}
	shaped, _, err := jsonValue(value)
	if err != nil {
		return idp, err
	}
	raw, err := json.Marshal(shaped)
	if err != nil {
		return idp, err
	}
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.DisallowUnknownFields()
	if err := decoder.Decode(&idp); err != nil {
		return idp, fmt.Errorf("context is not team, identity and cluster (name, cloud, environment, labels): %w", err)
	}
	return idp, nil
}
