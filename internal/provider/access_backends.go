package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
)

// AccessEngine returns the grant engine of the configured realm and the cluster's client; registered
// is false when Vault does not know the cluster, which each caller treats as it must.
func (b *backends) AccessEngine(ctx context.Context, name string) (access.Engine, bool, access.Cluster, diag.Diagnostics) {
	realm, diags := b.Keycloak(ctx)
	if diags.HasError() {
		return access.Engine{}, false, nil, diags
	}
	engine := access.Engine{Realm: realm, LoginClient: b.configs.keycloak.LoginClientID}
	cluster, found, diags := b.Cluster(ctx, name, path.Root("cluster"))
	if diags.HasError() || !found {
		return engine, false, nil, diags
	}
	client, err := kube.NewClient(kube.Config{
		Kubeconfig: []byte(cluster.kubeconfig.Kubeconfig), RequestTimeout: b.configs.clusterRequestTimeout, Name: fmt.Sprintf("cluster %q", name),
	})
	if err != nil {
		diags.AddError("Cannot use the cluster's kubeconfig", fmt.Sprintf("%s: %v", cluster.location, err))
		return engine, false, nil, diags
	}
	return engine, true, client, diags
}

// AccessRecords returns the client of the AccessGrant records in the management cluster.
func (b *backends) AccessRecords() (accessRecordsAPI, diag.Diagnostics) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.accessRecords != nil {
		return b.accessRecords, nil
	}
	if b.configs.management == nil {
		return nil, notConfigured("management_cluster", "kubeconfig_path = \"~/.kube/management\"", "IDP_MANAGEMENT_CLUSTER_KUBECONFIG_PATH")
	}
	records, err := b.newAccessRecords(*b.configs.management)
	if err != nil {
		return nil, diag.Diagnostics{diag.NewErrorDiagnostic("Cannot use the management cluster configuration", err.Error())}
	}
	b.accessRecords = records
	return records, nil
}

// RecordAccessExpiry keeps the AccessGrant record of a grant in step with its expiry: written (and
// made active again) for a time-bound grant, whose expiry the access controller then enforces, and
// deleted otherwise. A grant that never had an expiry needs no management cluster.
func (b *backends) RecordAccessExpiry(ctx context.Context, grant access.Grant, registered bool) diag.Diagnostics {
	if grant.ExpiresAt == nil && b.configs.management == nil {
		return nil
	}
	records, diags := b.AccessRecords()
	if diags.HasError() {
		if grant.ExpiresAt != nil {
			diags.AddAttributeError(path.Root("expires_at"), "A time-bound grant needs the management cluster",
				"The access controller that ends grants at expires_at runs in the management cluster: configure the management_cluster block.")
		}
		return diags
	}
	if grant.ExpiresAt == nil {
		// One read when there is nothing to drop, the usual case.
		_, found, err := records.Get(ctx, grant.Name())
		if err != nil {
			diags.Append(b.managementClusterError("Cannot read the grant's expiry record", err, ""))
			return diags
		}
		if !found {
			return diags
		}
		if err := records.Delete(ctx, grant.Name()); err != nil {
			diags.Append(b.managementClusterError("Cannot delete the grant's expiry record", err, ""))
			return diags
		}
		if registered {
			diags.Append(b.releaseAccessKubeconfig(ctx, grant.Cluster)...)
		}
		return diags
	}
	cluster, found, diags := b.Cluster(ctx, grant.Cluster, path.Root("cluster"))
	if diags.HasError() || !found {
		return diags
	}
	xp, diags := b.Crossplane()
	if diags.HasError() {
		return diags
	}
	secret, err := xp.StackKubeconfigSecret(ctx, grant.Cluster, []byte(cluster.kubeconfig.Kubeconfig))
	if err != nil {
		diags.Append(b.managementClusterError("Cannot give the access controller the cluster's kubeconfig", err, ""))
		return diags
	}
	record := access.Record{
		Name: grant.Name(), Grant: grant,
		KubeconfigSecret: access.SecretRef{Namespace: secret.Namespace, Name: secret.Name, Key: secret.Key},
	}
	if err := records.Apply(ctx, record); err != nil {
		diags.Append(b.managementClusterError("Cannot record the grant's expiry", err,
			"The management cluster must have the AccessGrant definition (crossplane/access/accessgrant.yaml) and run the access controller."))
		return diags
	}
	record.Status = access.RecordStatus{Phase: access.PhaseActive, Message: "granted; the access controller revokes the grant at its expiry"}
	if err := records.SetStatus(ctx, record); err != nil {
		diags.Append(b.managementClusterError("Cannot record the grant's expiry", err, ""))
	}
	return diags
}

// releaseAccessKubeconfig drops the kubeconfig Secret written for a registered cluster once nothing
// in the management cluster uses it.
func (b *backends) releaseAccessKubeconfig(ctx context.Context, cluster string) diag.Diagnostics {
	xp, diags := b.Crossplane()
	if diags.HasError() {
		return diags
	}
	if err := xp.ReleaseStackKubeconfigSecret(ctx, cluster); err != nil {
		diags.Append(b.managementClusterError("Cannot release the cluster's kubeconfig secret", err, ""))
	}
	return diags
}

// AccessExpiry is the expiry recorded for a grant, nil when it has none; without a management cluster
// no grant has one.
func (b *backends) AccessExpiry(ctx context.Context, grant access.Grant) (*time.Time, diag.Diagnostics) {
	if b.configs.management == nil {
		return nil, nil
	}
	records, diags := b.AccessRecords()
	if diags.HasError() {
		return nil, diags
	}
	record, found, err := records.Get(ctx, grant.Name())
	if err != nil {
		diags.Append(b.managementClusterError("Cannot read the grant's expiry record", err, ""))
		return nil, diags
	}
	if !found {
		return nil, diags
	}
	return record.Grant.ExpiresAt, diags
}

// accessError is the diagnostic of a failed grant operation: input the backends refused goes on its
// attribute, a backend that did not answer is named.
func (b *backends) accessError(grant access.Grant, summary string, err error) diag.Diagnostic {
	attribute := func(name, what string) diag.Diagnostic {
		return diag.NewAttributeErrorDiagnostic(path.Root(name), summary, fmt.Sprintf("%v\n\n%s", err, what))
	}
	switch {
	case errors.Is(err, access.ErrUserMissing):
		return attribute("members", "Members must be existing users of the Keycloak realm.")
	case errors.Is(err, access.ErrGroupMissing):
		return attribute("group", "Create the group in Keycloak, or set manage_group = true.")
	case errors.Is(err, access.ErrRoleMissing):
		return attribute("role", fmt.Sprintf("Use a ClusterRole that cluster %q has.", grant.Cluster))
	case errors.Is(err, access.ErrNamespaceMissing):
		return attribute("namespaces", "Create the namespace first (an idp_app release creates its namespace), then apply again.")
	case errors.Is(err, access.ErrGrantTaken):
		return attribute("role", "Each grant ID (cluster/group/scope) belongs to one configuration: remove the other one, or use another scope.")
	case errors.Is(err, access.ErrBindingTaken):
		return attribute("namespaces", "Two grants of a group may not bind the same role in the same namespace: merge them into one.")
	case errors.Is(err, keycloak.ErrNoAnswer):
		return b.keycloakError(summary, err, "")
	}
	return b.workloadClusterError(grant.Cluster, summary, err, "")
}
