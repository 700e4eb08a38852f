package provider

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

func TestPlannedChange(t *testing.T) {
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{
		"role":  tftypes.String,
		"pools": tftypes.Map{ElementType: tftypes.Object{AttributeTypes: map[string]tftypes.Type{"max_size": tftypes.Number}}},
		"ns":    tftypes.List{ElementType: tftypes.String},
	}}
	pools := tftypes.Map{ElementType: tftypes.Object{AttributeTypes: map[string]tftypes.Type{"max_size": tftypes.Number}}}
	pool := tftypes.Object{AttributeTypes: map[string]tftypes.Type{"max_size": tftypes.Number}}
	before := tftypes.NewValue(typ, map[string]tftypes.Value{
		"role":  tftypes.NewValue(tftypes.String, "view"),
		"pools": tftypes.NewValue(pools, map[string]tftypes.Value{"a": tftypes.NewValue(pool, map[string]tftypes.Value{"max_size": tftypes.NewValue(tftypes.Number, 3)})}),
		"ns":    tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, nil),
	})
	after := tftypes.NewValue(typ, map[string]tftypes.Value{
		"role":  tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
		"pools": tftypes.NewValue(pools, map[string]tftypes.Value{"a": tftypes.NewValue(pool, map[string]tftypes.Value{"max_size": tftypes.NewValue(tftypes.Number, 12)})}),
		"ns": tftypes.NewValue(tftypes.List{ElementType: tftypes.String}, []tftypes.Value{
			tftypes.NewValue(tftypes.String, "a"), tftypes.NewValue(tftypes.String, tftypes.UnknownValue),
		}),
	})
	cases := map[string]struct {
		reason        string
		before, after tftypes.Value
		replace       bool
		wantActions   []string
	}{
		"Create":  {reason: "No state: a create.", before: tftypes.NewValue(typ, nil), after: after, wantActions: []string{"create"}},
		"Update":  {reason: "State and plan differ: an update.", before: before, after: after, wantActions: []string{"update"}},
		"Replace": {reason: "An attribute requires replacement: delete then create, as plans show it.", before: before, after: after, replace: true, wantActions: []string{"delete", "create"}},
		"Delete":  {reason: "No plan: a delete.", before: before, after: tftypes.NewValue(typ, nil), wantActions: []string{"delete"}},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := plannedChange("idp_access", tc.before, tc.after, tc.replace)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.wantActions, got.Change.Actions); diff != "" {
				t.Errorf("%s\nactions (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
	got, err := plannedChange("idp_access", before, after, false)
	if err != nil {
		t.Fatal(err)
	}
	wantAfter := map[string]any{"role": nil, "pools": map[string]any{"a": map[string]any{"max_size": int64(12)}}, "ns": []any{"a", nil}}
	if diff := cmp.Diff(wantAfter, got.Change.After); diff != "" {
		t.Errorf("after (-want +got):\n%s", diff)
	}
	wantUnknown := map[string]any{"role": true, "ns": []any{false, true}}
	if diff := cmp.Diff(wantUnknown, got.Change.AfterUnknown); diff != "" {
		t.Errorf("after_unknown: unknown values are marked true where they are, as plans show them (-want +got):\n%s", diff)
	}
}

func TestAttributePath(t *testing.T) {
	typ := tftypes.Object{AttributeTypes: map[string]tftypes.Type{
		"role":       tftypes.String,
		"node_pools": tftypes.Map{ElementType: tftypes.Object{AttributeTypes: map[string]tftypes.Type{"max_size": tftypes.Number}}},
		"chart":      tftypes.Object{AttributeTypes: map[string]tftypes.Type{"catalog": tftypes.String}},
		"members":    tftypes.Set{ElementType: tftypes.String},
		"list":       tftypes.List{ElementType: tftypes.String},
	}}
	cases := map[string]struct {
		reason string
		steps  []string
		want   path.Path
		wantOK bool
	}{
		"Attribute":  {reason: "A top-level attribute.", steps: []string{"role"}, want: path.Root("role"), wantOK: true},
		"MapKey":     {reason: "A map's element by key, then its attribute.", steps: []string{"node_pools", "default", "max_size"}, want: path.Root("node_pools").AtMapKey("default").AtName("max_size"), wantOK: true},
		"Nested":     {reason: "A nested object's attribute.", steps: []string{"chart", "catalog"}, want: path.Root("chart").AtName("catalog"), wantOK: true},
		"ListIndex":  {reason: "A list's element by index.", steps: []string{"list", "1"}, want: path.Root("list").AtListIndex(1), wantOK: true},
		"SetElement": {reason: "A set's elements have no path here: the set itself.", steps: []string{"members", "alice"}, want: path.Root("members"), wantOK: true},
		"Unknown":    {reason: "An attribute the schema lacks: no path.", steps: []string{"nope"}, want: path.Empty(), wantOK: false},
		"Empty":      {reason: "No path: the resource.", want: path.Empty(), wantOK: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, ok := attributePath(typ, tc.steps)
			if ok != tc.wantOK || !got.Equal(tc.want) {
				t.Errorf("%s\nattributePath(%v) = %s, %t; want %s, %t", tc.reason, tc.steps, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestResolvePolicy(t *testing.T) {
	cases := map[string]struct {
		reason  string
		model   *policyModel
		env     map[string]string
		wantOn  bool
		wantErr bool
	}{
		"Off":         {reason: "No block and no environment: no policies."},
		"EmptyBlock":  {reason: "An empty block evaluates the shipped library.", model: &policyModel{}, wantOn: true},
		"Environment": {reason: "IDP_POLICY_TEAM alone turns policies on.", env: map[string]string{"IDP_POLICY_TEAM": "payments"}, wantOn: true},
		"BadEnforcement": {reason: "Enforcement is mandatory or advisory.", env: map[string]string{"IDP_POLICY_ENFORCEMENT": "maybe"},
			wantOn: true, wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if tc.model != nil {
				tc.model.Paths = typesListNull()
			}
			got, diags := resolvePolicy(tc.model, func(k string) string { return tc.env[k] })
			if (got != nil) != tc.wantOn || diags.HasError() != tc.wantErr {
				t.Errorf("%s\nresolvePolicy: on %t, errors %v; want on %t, error %t", tc.reason, got != nil, diags, tc.wantOn, tc.wantErr)
			}
		})
	}
}

func typesListNull() types.List { return types.ListNull(types.StringType) }
