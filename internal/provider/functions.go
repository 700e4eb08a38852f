package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/function"

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
