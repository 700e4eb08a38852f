package provider

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/policy"
)

func TestValidateUpgrade(t *testing.T) {
	cases := map[string]struct {
		reason   string
		from, to string
		ok       bool
	}{
		"Same":      {reason: "No change is no upgrade.", from: "1.33", to: "1.33", ok: true},
		"NextMinor": {reason: "One minor version up is allowed.", from: "1.33", to: "1.34", ok: true},
		"SkipMinor": {reason: "Kubernetes upgrades one minor version at a time.", from: "1.32", to: "1.34"},
		"Downgrade": {reason: "Kubernetes does not downgrade.", from: "1.34", to: "1.33"},
		"NoState":   {reason: "A new cluster has no version to upgrade from.", from: "", to: "1.33", ok: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := validateUpgrade(tc.from, tc.to)
			if diff := cmp.Diff(tc.ok, err == nil); diff != "" {
				t.Errorf("%s\nvalidateUpgrade(%q, %q) = %v (-want ok +got ok):\n%s", tc.reason, tc.from, tc.to, err, diff)
			}
		})
	}
}

func pool(instanceType string, minSize, maxSize int64) attr.Value {
	return types.ObjectValueMust(nodePoolType.AttrTypes, map[string]attr.Value{
		"instance_type": types.StringValue(instanceType), "min_size": types.Int64Value(minSize), "max_size": types.Int64Value(maxSize),
		"labels": types.MapNull(types.StringType),
	})
}

func cloudModel(cloud, region, version, credentials string, pools map[string]attr.Value) clusterModel {
	m := clusterModel{
		Name: types.StringValue("payments"), Cloud: types.StringValue(cloud), Region: types.StringValue(region),
		KubernetesVersion: types.StringValue(version), Credentials: types.StringValue(credentials),
		NodePools: types.MapValueMust(nodePoolType, pools), Tags: types.MapNull(types.StringType), KubeconfigWO: types.StringNull(),
	}
	if pools == nil {
		m.NodePools = types.MapNull(nodePoolType)
	}
	return m
}

func TestValidateCloudConfig(t *testing.T) {
	model := cloudModel
	good := map[string]attr.Value{"default": pool("m6i.large", 2, 5)}
	cases := map[string]struct {
		reason string
		config clusterModel
		want   []diagSummary
	}{
		"AWS": {reason: "A complete AWS cluster is valid.", config: model("aws", "eu-west-1", "1.33", "aws/team-payments", good)},
		"Azure": {reason: "A complete Azure cluster is valid.",
			config: model("azure", "westeurope", "1.33", "azure/team", map[string]attr.Value{"system": pool("Standard_D4s_v5", 1, 3)})},
		"GCP": {reason: "A complete GCP cluster is valid.",
			config: model("gcp", "europe-west1", "1.34", "gcp/team", map[string]attr.Value{"default": pool("e2-standard-4", 0, 4)})},
		"CredentialsTraversal": {reason: "No user input reaches a Vault path unvalidated.",
			config: model("aws", "eu-west-1", "1.33", "aws/../root", good),
			want:   []diagSummary{{Path: "credentials", Summary: "Invalid credentials name"}}},
		"NoPools": {reason: "A cluster needs nodes.",
			config: model("aws", "eu-west-1", "1.33", "aws/team", nil),
			want:   []diagSummary{{Path: "node_pools", Summary: "Missing node pools"}}},
		"InvertedBounds": {reason: "min_size may not exceed max_size.",
			config: model("aws", "eu-west-1", "1.33", "aws/team", map[string]attr.Value{"default": pool("m6i.large", 6, 3)}),
			want:   []diagSummary{{Path: `node_pools["default"].min_size`, Summary: "Invalid node pool size"}}},
		"WrongCloudInstanceType": {reason: "An Azure VM size is not an AWS instance type.",
			config: model("aws", "eu-west-1", "1.33", "aws/team", map[string]attr.Value{"default": pool("Standard_D4s_v5", 1, 3)}),
			want:   []diagSummary{{Path: `node_pools["default"].instance_type`, Summary: "Invalid instance type"}}},
		"LongAzurePoolName": {reason: "AKS pool names are at most 12 letters and digits.",
			config: model("azure", "westeurope", "1.33", "azure/team", map[string]attr.Value{"general-purpose": pool("Standard_D4s_v5", 1, 3)}),
			want:   []diagSummary{{Path: `node_pools["general-purpose"]`, Summary: "Invalid node pool name"}}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := summarize(validateCloudConfig(context.Background(), tc.config))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nvalidateCloudConfig diagnostics (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestCheckOffering(t *testing.T) {
	offering := policy.Offering{
		Regions:            map[string][]string{"aws": {"eu-west-1"}, "azure": {"westeurope"}},
		KubernetesVersions: []string{"1.33", "1.34"},
		MaxPoolSize:        20,
	}
	good := map[string]attr.Value{"default": pool("m6i.large", 2, 5)}
	noState := clusterModel{NodePools: types.MapNull(nodePoolType)}
	cases := map[string]struct {
		reason      string
		plan, state clusterModel
		want        []diagSummary
	}{
		"Offered": {reason: "A cluster within the offering passes.", plan: cloudModel("aws", "eu-west-1", "1.33", "aws/team", good), state: noState},
		"UnknownRegion": {reason: "Regions are those the platform offers for the cloud.",
			plan: cloudModel("aws", "westeurope", "1.33", "aws/team", good), state: noState,
			want: []diagSummary{{Path: "region", Summary: "Unknown region"}}},
		"UnsupportedVersion": {reason: "Versions are those the platform offers.",
			plan: cloudModel("aws", "eu-west-1", "1.29", "aws/team", good), state: noState,
			want: []diagSummary{{Path: "kubernetes_version", Summary: "Unsupported Kubernetes version"}}},
		"TooLarge": {reason: "Pools are bounded by max_pool_size.",
			plan: cloudModel("aws", "eu-west-1", "1.33", "aws/team", map[string]attr.Value{"default": pool("m6i.large", 1, 21)}), state: noState,
			want: []diagSummary{{Path: `node_pools["default"].max_size`, Summary: "Invalid node pool size"}}},
		"KeptWhatIsNoLongerOffered": {reason: "A cluster that keeps a region, version and size the platform stopped offering still plans.",
			plan:  cloudModel("aws", "us-east-1", "1.31", "aws/team", map[string]attr.Value{"default": pool("m6i.large", 1, 50), "new": pool("m6i.large", 1, 3)}),
			state: cloudModel("aws", "us-east-1", "1.31", "aws/team", map[string]attr.Value{"default": pool("m6i.large", 1, 50)})},
		"GrownPastTheLimit": {reason: "Growing a pool past the limit is refused, on the pool that grows.",
			plan:  cloudModel("aws", "eu-west-1", "1.33", "aws/team", map[string]attr.Value{"default": pool("m6i.large", 1, 30), "big": pool("m6i.large", 1, 40)}),
			state: cloudModel("aws", "eu-west-1", "1.33", "aws/team", map[string]attr.Value{"default": pool("m6i.large", 1, 30), "big": pool("m6i.large", 1, 10)}),
			want:  []diagSummary{{Path: `node_pools["big"].max_size`, Summary: "Invalid node pool size"}}},
		"Unknown": {reason: "Values known only at apply are not refused at plan.",
			plan: func() clusterModel {
				m := cloudModel("aws", "", "", "aws/team", nil)
				m.Region, m.KubernetesVersion, m.NodePools = types.StringUnknown(), types.StringUnknown(), types.MapUnknown(nodePoolType)
				return m
			}(), state: noState},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := summarize(checkOffering(context.Background(), offering, tc.plan, tc.state))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\ncheckOffering diagnostics (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}
