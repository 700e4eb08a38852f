package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/function"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// runFunction calls a function as the framework does and returns its result, or the error with the
// argument it points at.
func runFunction(t *testing.T, f function.Function, args ...attr.Value) (string, string) {
	t.Helper()
	req := function.RunRequest{Arguments: function.NewArgumentsData(args)}
	resp := &function.RunResponse{Result: function.NewResultData(types.StringUnknown())}
	f.Run(context.Background(), req, resp)
	if resp.Error != nil {
		if resp.Error.FunctionArgument != nil {
			return "", fmt.Sprintf("argument %d: %s", *resp.Error.FunctionArgument, resp.Error.Text)
		}
		return "", resp.Error.Text
	}
	result, ok := resp.Result.Value().(types.String)
	if !ok {
		t.Fatalf("result is %T, not a string", resp.Result.Value())
	}
	return result.ValueString(), ""
}

func stringTuple(values ...string) types.Tuple {
	elems := make([]attr.Value, len(values))
	kinds := make([]attr.Type, len(values))
	for i, v := range values {
		elems[i], kinds[i] = types.StringValue(v), types.StringType
	}
	return types.TupleValueMust(kinds, elems)
}

func TestReleaseIDFunction(t *testing.T) {
	cases := map[string]struct {
		reason                   string
		cluster, namespace, name string
		want, wantErr            string
	}{
		"Joined": {reason: "The parts join as idp_app's import ID.", cluster: "prod-1", namespace: "shop", name: "web", want: "prod-1/shop/web"},
		"BadCluster": {reason: "A cluster that is not a label is refused on its argument.", cluster: "Prod", namespace: "shop", name: "web",
			wantErr: `argument 0: cluster "Prod" is not a DNS-1123 label`},
		"SlashInNamespace": {reason: "A slash would make another ID.", cluster: "prod", namespace: "a/b", name: "web",
			wantErr: `argument 1: namespace "a/b" is not a DNS-1123 label`},
		"LongName": {reason: "Helm refuses release names over 53 characters.", cluster: "prod", namespace: "shop",
			name:    "a23456789012345678901234567890123456789012345678901234",
			wantErr: `argument 2: "a23456789012345678901234567890123456789012345678901234" is not a release name: a DNS-1123 label of at most 53 characters`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, gotErr := runFunction(t, releaseIDFunction{}, types.StringValue(tc.cluster), types.StringValue(tc.namespace), types.StringValue(tc.name))
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nresult (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("%s\nerror (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestKubeconfigPathFunction(t *testing.T) {
	cases := map[string]struct {
		reason         string
		name           string
		mountAndPrefix types.Tuple
		want, wantErr  string
	}{
		"Defaults": {reason: "Without settings, the provider's default mount and prefix.", name: "prod-1", mountAndPrefix: stringTuple(),
			want: "secret/idp/clusters/prod-1/kubeconfig"},
		"Mount": {reason: "A mount alone keeps the default prefix.", name: "prod-1", mountAndPrefix: stringTuple("kv"),
			want: "kv/idp/clusters/prod-1/kubeconfig"},
		"MountAndPrefix": {reason: "Both settings, as the provider block has them.", name: "prod-1", mountAndPrefix: stringTuple("kv", "teams/platform"),
			want: "kv/teams/platform/clusters/prod-1/kubeconfig"},
		"BadName": {reason: "A name that is not a label reaches no other path.", name: "../x", mountAndPrefix: stringTuple(),
			wantErr: `argument 0: cluster name "../x" is not a DNS-1123 label`},
		"BadPrefix": {reason: "A prefix with .. is refused on its argument.", name: "prod", mountAndPrefix: stringTuple("kv", "a/../b"),
			wantErr: `argument 2: "a/../b" is not a Vault path such as secret or teams/idp`},
		"TooMany": {reason: "Only the mount and the prefix may follow.", name: "prod", mountAndPrefix: stringTuple("kv", "idp", "x"),
			wantErr: "argument 3: takes at most kv_mount and prefix after the name, got 3 more arguments"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, gotErr := runFunction(t, kubeconfigPathFunction{}, types.StringValue(tc.name), tc.mountAndPrefix)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nresult (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Errorf("%s\nerror (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestPolicyInputFunction(t *testing.T) {
	cluster := types.ObjectValueMust(
		map[string]attr.Type{"name": types.StringType, "cloud": types.StringType, "node_pools": types.MapType{ElemType: types.ObjectType{AttrTypes: map[string]attr.Type{"max_size": types.NumberType}}}},
		map[string]attr.Value{
			"name": types.StringValue("payments-prod"), "cloud": types.StringValue("aws"),
			"node_pools": types.MapValueMust(types.ObjectType{AttrTypes: map[string]attr.Type{"max_size": types.NumberType}}, map[string]attr.Value{
				"default": types.ObjectValueMust(map[string]attr.Type{"max_size": types.NumberType}, map[string]attr.Value{"max_size": types.NumberValue(big.NewFloat(12))}),
			}),
		})
	idpContext := func(fields map[string]attr.Value) types.Dynamic {
		kinds := map[string]attr.Type{}
		for name, value := range fields {
			kinds[name] = value.Type(context.Background())
		}
		return types.DynamicValue(types.ObjectValueMust(kinds, fields))
	}
	production := idpContext(map[string]attr.Value{
		"team": types.StringValue("payments"),
		"cluster": types.ObjectValueMust(map[string]attr.Type{"name": types.StringType, "environment": types.StringType},
			map[string]attr.Value{"name": types.StringValue("payments-prod"), "environment": types.StringValue("production")}),
	})
	cases := map[string]struct {
		reason   string
		resource string
		values   attr.Value
		contexts []attr.Value
		want     map[string]any
		wantErr  string
	}{
		"Cluster": {
			reason:   "A cluster's values become the creation of one resource, as tofu show -json has it, with input.idp.",
			resource: "idp_cluster", values: types.DynamicValue(cluster), contexts: []attr.Value{production},
			want: map[string]any{
				"resource_changes": []any{map[string]any{
					"mode": "managed", "type": "idp_cluster",
					"change": map[string]any{
						"actions": []any{"create"}, "before": nil, "after_unknown": map[string]any{},
						"after": map[string]any{"name": "payments-prod", "cloud": "aws", "node_pools": map[string]any{"default": map[string]any{"max_size": float64(12)}}},
					},
				}},
				"idp": map[string]any{"version": "1", "team": "payments", "cluster": map[string]any{"name": "payments-prod", "environment": "production"}},
			},
		},
		"NoContext": {
			reason: "Without a context, input.idp holds the version only.", resource: "idp_team",
			values: types.DynamicValue(types.ObjectValueMust(map[string]attr.Type{"name": types.StringType}, map[string]attr.Value{"name": types.StringValue("payments")})),
			want: map[string]any{
				"resource_changes": []any{map[string]any{"mode": "managed", "type": "idp_team", "change": map[string]any{
					"actions": []any{"create"}, "before": nil, "after_unknown": map[string]any{}, "after": map[string]any{"name": "payments"},
				}}},
				"idp": map[string]any{"version": "1"},
			},
		},
		"UnknownType": {
			reason: "Only the provider's resources are checked.", resource: "aws_instance", values: types.DynamicValue(cluster),
			wantErr: `argument 0: "aws_instance" is not a resource the policies check: one of idp_cluster, idp_app, idp_addon_stack, idp_access, idp_team`,
		},
		"NotAnObject": {
			reason: "Values are an object of attributes.", resource: "idp_cluster", values: types.DynamicValue(types.StringValue("payments")),
			wantErr: "argument 1: values must be an object of the resource's attributes",
		},
		"UnknownContextField": {
			reason: "A misspelt context field would be silently ignored by the policies.", resource: "idp_cluster", values: types.DynamicValue(cluster),
			contexts: []attr.Value{idpContext(map[string]attr.Value{"teem": types.StringValue("payments")})},
			wantErr:  `argument 2: context is not team, identity and cluster (name, cloud, environment, labels): json: unknown field "teem"`,
		},
		"TwoContexts": {
			reason: "One context is the most there is.", resource: "idp_cluster", values: types.DynamicValue(cluster), contexts: []attr.Value{production, production},
			wantErr: "argument 3: takes at most one context object, got 2",
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			kinds := make([]attr.Type, len(tc.contexts))
			for i := range tc.contexts {
				kinds[i] = types.DynamicType
			}
			got, gotErr := runFunction(t, policyInputFunction{}, types.StringValue(tc.resource), tc.values, types.TupleValueMust(kinds, tc.contexts))
			if diff := cmp.Diff(tc.wantErr, gotErr); diff != "" {
				t.Fatalf("%s\npolicy_input(...) error: -want, +got:\n%s", tc.reason, diff)
			}
			if tc.wantErr != "" {
				return
			}
			var doc map[string]any
			if err := json.Unmarshal([]byte(got), &doc); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, doc); diff != "" {
				t.Errorf("%s\npolicy_input(...): -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}
