package provider

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-log/tflog"

	"github.com/idp-platform/terraform-provider-idp/internal/kube"
	"github.com/idp-platform/terraform-provider-idp/internal/vault"
)

// What cloud = "existing" means: a cluster the platform did not create is registered by its admin
// kubeconfig, which goes to Vault; nothing is provisioned.

// validateExistingConfig refuses the cloud attributes on an existing cluster.
func validateExistingConfig(config clusterModel) diag.Diagnostics {
	var diags diag.Diagnostics
	for name, value := range map[string]attr.Value{
		"region": config.Region, "kubernetes_version": config.KubernetesVersion, "credentials": config.Credentials,
		"node_pools": config.NodePools, "tags": config.Tags,
	} {
		if !value.IsNull() {
			diags.AddAttributeError(path.Root(name), "Invalid attribute",
				fmt.Sprintf(`%s describes a cluster the platform creates; cloud = "existing" registers one it did not.`, name))
		}
	}
	return diags
}

// registerKubeconfig checks that the kubeconfig reaches its cluster, writes it to Vault and fills the
// computed attributes of model.
func registerKubeconfig(ctx context.Context, store vaultAPI, name, raw string, timeout time.Duration, model *clusterModel) diag.Diagnostics {
	var diags diag.Diagnostics
	summary, err := kube.ParseKubeconfig([]byte(raw))
	if err != nil {
		diags.AddAttributeError(path.Root("kubeconfig_wo"), "Invalid kubeconfig", err.Error())
		return diags
	}
	client, err := kube.NewClient(kube.Config{Kubeconfig: []byte(raw), RequestTimeout: timeout, Name: fmt.Sprintf("cluster %q", name)})
	if err != nil {
		diags.AddAttributeError(path.Root("kubeconfig_wo"), "Invalid kubeconfig", err.Error())
		return diags
	}
	version, err := client.ServerVersion(ctx)
	if err != nil {
		diags.AddAttributeError(path.Root("kubeconfig_wo"), "Cannot reach the cluster",
			fmt.Sprintf("The kubeconfig's API server did not answer, so it was not stored: %v", err))
		return diags
	}
	tflog.Info(ctx, "storing the cluster's kubeconfig in Vault", map[string]any{"cluster": name, "endpoint": summary.Endpoint})
	if err := store.PutKubeconfig(ctx, name, vault.Kubeconfig{Kubeconfig: raw, Endpoint: summary.Endpoint, CA: summary.CACertificatePEM, Origin: cloudExisting}); err != nil {
		diags.AddError("Cannot store the kubeconfig in Vault", err.Error())
		return diags
	}
	model.Endpoint = types.StringValue(summary.Endpoint)
	model.CACertificate = types.StringValue(summary.CACertificatePEM)
	model.Status = types.StringValue(clusterReady)
	model.KubernetesVersionActual = types.StringValue(version)
	model.KubeconfigPath = types.StringValue(store.KubeconfigLocation(name))
	return diags
}

// probeCluster asks the cluster for its version. An unreachable cluster is a status, not an error:
// refresh must not fail because a registered cluster is down.
func probeCluster(ctx context.Context, name, kubeconfig string, timeout time.Duration) (status, version types.String) {
	client, err := kube.NewClient(kube.Config{Kubeconfig: []byte(kubeconfig), RequestTimeout: timeout, Name: fmt.Sprintf("cluster %q", name)})
	if err != nil {
		tflog.Warn(ctx, "the cluster's kubeconfig is not usable", map[string]any{"error": err.Error()})
		return types.StringValue(clusterUnreachable), types.StringNull()
	}
	return probe(ctx, client)
}

// probe asks a cluster's API server for its version, within 15 seconds.
func probe(ctx context.Context, client *kube.Client) (status, version types.String) {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	v, err := client.ServerVersion(ctx)
	if err != nil {
		tflog.Warn(ctx, "the cluster's API server did not answer", map[string]any{"error": err.Error()})
		return types.StringValue(clusterUnreachable), types.StringNull()
	}
	return types.StringValue(clusterReady), types.StringValue(v)
}
