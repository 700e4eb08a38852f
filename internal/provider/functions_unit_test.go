package provider

import (
	"context"
	"fmt"
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
