package provider

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
)

func TestAddonStackStatusMapping(t *testing.T) {
	version := "4.12.1"
	recorded := requestedStack{CatalogVersion: "2026.11.1", Addons: map[string]requestedAddon{
		"cert_manager": {Name: "cert-manager", Digest: "sha256:aa"},
		"ingress":      {Name: "ingress-nginx", Version: &version, Digest: "sha256:bb"},
		"storage":      {Name: "storage", Resolved: "1.1.0"},
	}}
	spec := addonstack.Spec{Addons: []addonstack.Addon{
		{Name: "cert-manager", Namespace: "cert-manager", Chart: &addonstack.Chart{Repository: "oci://mirror/addons", Name: "cert-manager", Version: "v1.18.2"}},
		{Name: "storage"},
		{Name: "ingress-nginx", Namespace: "ingress-nginx", Chart: &addonstack.Chart{Repository: "oci://mirror/addons", Name: "ingress-nginx", Version: "4.12.1"}},
	}}
	reported := addonstack.Status{Addons: []addonstack.AddonStatus{
		{Name: "cert-manager", Phase: addonstack.PhaseReady, Order: 1},
		{Name: "storage", Phase: addonstack.PhaseReady, Order: 2},
		{Name: "ingress-nginx", Phase: addonstack.PhaseProgressing, Order: 3, Gate: "DeploymentAvailable ingress-nginx/ingress-nginx-controller", Message: "0/1 available"},
	}}
	entry := func(chart, repository, version, digest, namespace string, dynamic ...attr.Value) attr.Value {
		values := map[string]attr.Value{
			"chart": types.StringValue(chart), "repository": types.StringValue(repository), "version": types.StringValue(version),
			"digest": types.StringValue(digest), "namespace": types.StringValue(namespace),
			"status": types.StringUnknown(), "gate": types.StringUnknown(), "message": types.StringUnknown(), "order": types.Int64Unknown(),
		}
		if len(dynamic) == 4 {
			values["status"], values["gate"], values["message"], values["order"] = dynamic[0], dynamic[1], dynamic[2], dynamic[3]
		}
		return types.ObjectValueMust(addonStatusTypes, values)
	}
	ready := func(order int64) []attr.Value {
		return []attr.Value{types.StringValue("Ready"), types.StringValue(""), types.StringValue(""), types.Int64Value(order)}
	}
	objectType := types.ObjectType{AttrTypes: addonStatusTypes}
	cases := map[string]struct {
		reason string
		got    types.Map
		want   types.Map
	}{
		"Reported": {
			reason: "status has one entry per add-on by Terraform key: what was resolved, and the composition's report on it.",
			got:    recorded.status(spec, reported),
			want: types.MapValueMust(objectType, map[string]attr.Value{
				"cert_manager": entry("cert-manager", "oci://mirror/addons", "v1.18.2", "sha256:aa", "cert-manager", ready(1)...),
				"storage":      entry("", "", "1.1.0", "", "", ready(2)...),
				"ingress": entry("ingress-nginx", "oci://mirror/addons", "4.12.1", "sha256:bb", "ingress-nginx",
					types.StringValue("Progressing"), types.StringValue("DeploymentAvailable ingress-nginx/ingress-nginx-controller"), types.StringValue("0/1 available"), types.Int64Value(3)),
			}),
		},
		"Planned": {
			reason: "A plan knows what it resolved, not how the cluster will report it.",
			got:    (&resolvedStack{addons: spec.Addons, recorded: recorded}).plannedStatus(),
			want: types.MapValueMust(objectType, map[string]attr.Value{
				"cert_manager": entry("cert-manager", "oci://mirror/addons", "v1.18.2", "sha256:aa", "cert-manager"),
				"storage":      entry("", "", "1.1.0", "", ""),
				"ingress":      entry("ingress-nginx", "oci://mirror/addons", "4.12.1", "sha256:bb", "ingress-nginx"),
			}),
		},
		"NotReportedYet": {
			reason: "An add-on the composition has not reported on yet is Pending.",
			got:    recorded.status(addonstack.Spec{Addons: spec.Addons[1:2]}, addonstack.Status{}),
			want: types.MapValueMust(objectType, map[string]attr.Value{
				"storage": entry("", "", "1.1.0", "", "", types.StringValue("Pending"), types.StringValue(""), types.StringValue(""), types.Int64Value(0)),
			}),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if !tc.got.Equal(tc.want) {
				t.Errorf("%s\ngot  %s\nwant %s", tc.reason, tc.got, tc.want)
			}
		})
	}
}

func TestAddonStackRequestedRoundTrip(t *testing.T) {
	values := "replicaCount: 2\n"
	recorded := requestedStack{CatalogVersion: "2026.11.1", Addons: map[string]requestedAddon{
		"cert_manager": {Name: "cert-manager", Values: &values, Digest: "sha256:aa"},
		"storage":      {Name: "storage"},
	}}
	raw, err := json.Marshal(recorded)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := parseRequested(string(raw))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recorded, parsed); diff != "" {
		t.Errorf("the input recorded on a composite does not read back as it was (-want +got):\n%s", diff)
	}
	want := types.MapValueMust(types.ObjectType{AttrTypes: addonInputTypes}, map[string]attr.Value{
		"cert_manager": types.ObjectValueMust(addonInputTypes, map[string]attr.Value{"version": types.StringNull(), "values": types.StringValue(values)}),
		"storage":      types.ObjectValueMust(addonInputTypes, map[string]attr.Value{"version": types.StringNull(), "values": types.StringNull()}),
	})
	if got := parsed.addonsValue(); !got.Equal(want) {
		t.Errorf("addons from the recorded input: got %s, want %s (an unset version or values must stay null, for import)", got, want)
	}
	if _, err := parseRequested(""); err == nil {
		t.Error("a composite without recorded input was read as one idp_addon_stack made")
	}
}

func TestAddonProblemDiagnostics(t *testing.T) {
	cases := map[string]struct {
		reason string
		addons map[string]catalog.AddonSelection
		want   []diagSummary
	}{
		"UnknownAddon": {
			reason: "An add-on the catalog lacks is an error on its entry of addons.",
			addons: map[string]catalog.AddonSelection{"service_mesh": {}},
			want:   []diagSummary{{Path: `addons["service_mesh"]`, Summary: "Unknown add-on"}},
		},
		"UnknownVersion": {
			reason: "A version the catalog lacks is an error on the entry's version.",
			addons: map[string]catalog.AddonSelection{"cert_manager": {Version: "0.0.1"}},
			want:   []diagSummary{{Path: `addons["cert_manager"].version`, Summary: "Unknown add-on version"}},
		},
		"BadValues": {
			reason: "Values that are not a YAML map are an error on the entry's values.",
			addons: map[string]catalog.AddonSelection{"cert_manager": {Values: "- a list"}},
			want:   []diagSummary{{Path: `addons["cert_manager"].values`, Summary: "Invalid add-on values"}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, problems := catalog.ResolveAddons(catalog.AddonRequest{Cloud: catalog.CloudAWS, KubernetesVersion: "1.34", Addons: tc.addons})
			if diff := cmp.Diff(tc.want, summarize(addonProblemDiagnostics(problems))); diff != "" {
				t.Errorf("%s\naddonProblemDiagnostics: -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
