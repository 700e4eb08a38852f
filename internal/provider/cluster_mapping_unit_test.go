package provider

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/crossplane"
)

func poolValue(instanceType string, minSize, maxSize int64, labels types.Map) attr.Value {
	return types.ObjectValueMust(nodePoolType.AttrTypes, map[string]attr.Value{
		"instance_type": types.StringValue(instanceType), "min_size": types.Int64Value(minSize), "max_size": types.Int64Value(maxSize),
		"labels": labels,
	})
}

func TestCloudCluster(t *testing.T) {
	labels := types.MapValueMust(types.StringType, map[string]attr.Value{"workload": types.StringValue("batch")})
	cases := map[string]struct {
		reason string
		model  clusterModel
		want   crossplane.Cluster
	}{
		"PoolsSortedWithLabels": {
			reason: "Pools become composites in name order, labels and tags carried over, and the ProviderConfig is named after the credentials.",
			model: clusterModel{
				Name: types.StringValue("payments"), Cloud: types.StringValue("aws"), Region: types.StringValue("eu-west-1"),
				KubernetesVersion: types.StringValue("1.33"), Credentials: types.StringValue("aws/team-payments"),
				Tags: types.MapValueMust(types.StringType, map[string]attr.Value{"team": types.StringValue("payments")}),
				NodePools: types.MapValueMust(nodePoolType, map[string]attr.Value{
					"web": poolValue("m6i.large", 1, 3, types.MapNull(types.StringType)), "batch": poolValue("c6i.2xlarge", 0, 10, labels),
				}),
			},
			want: crossplane.Cluster{
				Name: "payments", Cloud: "aws", Region: "eu-west-1", KubernetesVersion: "1.33", ProviderConfig: "idp-aws-aws-team-payments",
				Tags: map[string]string{"team": "payments"},
				Pools: []crossplane.Pool{
					{Name: "batch", InstanceType: "c6i.2xlarge", MaxSize: 10, Labels: map[string]string{"workload": "batch"}},
					{Name: "web", InstanceType: "m6i.large", MinSize: 1, MaxSize: 3, Labels: map[string]string{}},
				},
			},
		},
		"NoTags": {
			reason: "Without tags the composite has an empty tag map, not a missing one.",
			model: clusterModel{
				Name: types.StringValue("c"), Cloud: types.StringValue("gcp"), Region: types.StringValue("europe-west1"),
				KubernetesVersion: types.StringValue("1.34"), Credentials: types.StringValue("gcp/x"), Tags: types.MapNull(types.StringType),
				NodePools: types.MapValueMust(nodePoolType, map[string]attr.Value{"default": poolValue("e2-standard-4", 1, 1, types.MapNull(types.StringType))}),
			},
			want: crossplane.Cluster{
				Name: "c", Cloud: "gcp", Region: "europe-west1", KubernetesVersion: "1.34", ProviderConfig: "idp-gcp-gcp-x", Tags: map[string]string{},
				Pools: []crossplane.Pool{{Name: "default", InstanceType: "e2-standard-4", MinSize: 1, MaxSize: 1, Labels: map[string]string{}}},
			},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, diags := cloudCluster(context.Background(), tc.model)
			if diags.HasError() {
				t.Fatalf("%s: %v", tc.reason, diags)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSetCloudAttributes(t *testing.T) {
	emptyLabels := types.MapValueMust(types.StringType, map[string]attr.Value{})
	cases := map[string]struct {
		reason    string
		prior     clusterModel
		cluster   crossplane.Cluster
		wantPools types.Map
		wantTags  types.Map
	}{
		"AKSSystemPool": {
			reason: "AKS's system pool comes back without a name and takes the first pool name the model knows.",
			prior: clusterModel{Tags: types.MapNull(types.StringType), NodePools: types.MapValueMust(nodePoolType, map[string]attr.Value{
				"user": poolValue("Standard_D4s_v5", 0, 5, types.MapNull(types.StringType)), "system": poolValue("Standard_D4s_v5", 1, 3, types.MapNull(types.StringType)),
			})},
			cluster: crossplane.Cluster{Cloud: "azure", Region: "westeurope", KubernetesVersion: "1.33", Pools: []crossplane.Pool{
				{InstanceType: "Standard_D4s_v5", MinSize: 1, MaxSize: 4}, {Name: "user", InstanceType: "Standard_D4s_v5", MaxSize: 5},
			}},
			wantPools: types.MapValueMust(nodePoolType, map[string]attr.Value{
				"system": poolValue("Standard_D4s_v5", 1, 4, types.MapNull(types.StringType)), "user": poolValue("Standard_D4s_v5", 0, 5, types.MapNull(types.StringType)),
			}),
			wantTags: types.MapNull(types.StringType),
		},
		"EmptyLabelsKept": {
			reason: "Empty labels as the configuration wrote them stay empty rather than turning null, which would be a perpetual diff.",
			prior: clusterModel{Tags: types.MapValueMust(types.StringType, map[string]attr.Value{}), NodePools: types.MapValueMust(nodePoolType, map[string]attr.Value{
				"default": poolValue("m6i.large", 1, 3, emptyLabels),
			})},
			cluster:   crossplane.Cluster{Cloud: "aws", Region: "eu-west-1", KubernetesVersion: "1.33", Pools: []crossplane.Pool{{Name: "default", InstanceType: "m6i.large", MinSize: 1, MaxSize: 3}}},
			wantPools: types.MapValueMust(nodePoolType, map[string]attr.Value{"default": poolValue("m6i.large", 1, 3, emptyLabels)}),
			wantTags:  types.MapValueMust(types.StringType, map[string]attr.Value{}),
		},
		"TagsDrift": {
			reason: "Tags edited out of band replace the model's, so the plan shows them.",
			prior: clusterModel{Tags: types.MapValueMust(types.StringType, map[string]attr.Value{"team": types.StringValue("a")}), NodePools: types.MapValueMust(nodePoolType, map[string]attr.Value{
				"default": poolValue("m6i.large", 1, 3, types.MapNull(types.StringType)),
			})},
			cluster: crossplane.Cluster{Cloud: "aws", Region: "eu-west-1", KubernetesVersion: "1.33", Tags: map[string]string{"team": "b"},
				Pools: []crossplane.Pool{{Name: "default", InstanceType: "m6i.large", MinSize: 1, MaxSize: 3}}},
			wantPools: types.MapValueMust(nodePoolType, map[string]attr.Value{"default": poolValue("m6i.large", 1, 3, types.MapNull(types.StringType))}),
			wantTags:  types.MapValueMust(types.StringType, map[string]attr.Value{"team": types.StringValue("b")}),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			model := tc.prior
			if diags := setCloudAttributes(context.Background(), &model, tc.cluster); diags.HasError() {
				t.Fatalf("%s: %v", tc.reason, diags)
			}
			if !model.NodePools.Equal(tc.wantPools) {
				t.Errorf("%s\nnode_pools = %v\nwant         %v", tc.reason, model.NodePools, tc.wantPools)
			}
			if !model.Tags.Equal(tc.wantTags) {
				t.Errorf("%s\ntags = %v\nwant   %v", tc.reason, model.Tags, tc.wantTags)
			}
			if diff := cmp.Diff([]string{tc.cluster.Cloud, tc.cluster.Region, tc.cluster.KubernetesVersion},
				[]string{model.Cloud.ValueString(), model.Region.ValueString(), model.KubernetesVersion.ValueString()}); diff != "" {
				t.Errorf("%s: cloud, region, version (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}
