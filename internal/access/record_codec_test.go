package access

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

func TestRecordRoundTrip(t *testing.T) {
	expires := time.Date(2031, 5, 4, 3, 2, 1, 0, time.UTC)
	revoked := expires.Add(1500 * time.Millisecond)
	grant := Grant{Cluster: "prod", Group: "oncall", Role: "edit", Namespaces: []string{"a", "b"}, Members: []string{"alice"}, ManageGroup: true, ExpiresAt: &expires}
	secret := SecretRef{Namespace: "crossplane-system", Name: "prod-kubeconfig", Key: "kubeconfig"}
	cases := []struct {
		reason string
		record Record
		want   Record
	}{
		{
			reason: "A record without a name is named after its grant, and has no status until one is set.",
			record: Record{Grant: grant, KubeconfigSecret: secret},
			want:   Record{Name: grant.Name(), Grant: grant, KubeconfigSecret: secret},
		},
		{
			reason: "A revoked record keeps its phase, time and message.",
			record: Record{Name: grant.Name(), Grant: grant, KubeconfigSecret: secret,
				Status: RecordStatus{Phase: PhaseExpired, RevokedAt: &revoked, Message: MessageRevoked}},
			want: Record{Name: grant.Name(), Grant: grant, KubeconfigSecret: secret,
				Status: RecordStatus{Phase: PhaseExpired, RevokedAt: &revoked, Message: MessageRevoked}},
		},
		{
			reason: "A cluster-wide grant without members or expiry keeps its empty lists empty.",
			record: Record{Grant: Grant{Cluster: "dev", Group: "devs", Role: "view"}, KubeconfigSecret: secret, Status: RecordStatus{Phase: PhaseActive}},
			want:   Record{Name: Grant{Cluster: "dev", Group: "devs", Role: "view"}.Name(), Grant: Grant{Cluster: "dev", Group: "devs", Role: "view"}, KubeconfigSecret: secret, Status: RecordStatus{Phase: PhaseActive}},
		},
	}
	for _, tc := range cases {
		t.Run(tc.reason, func(t *testing.T) {
			object, err := RecordToObject(tc.record)
			if err != nil {
				t.Fatal(err)
			}
			// Through JSON, as the API server stores and returns it.
			raw, err := object.MarshalJSON()
			if err != nil {
				t.Fatal(err)
			}
			stored := &unstructured.Unstructured{}
			if err := stored.UnmarshalJSON(raw); err != nil {
				t.Fatal(err)
			}
			got, err := RecordFromObject(stored)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestRecordToObject(t *testing.T) {
	expires := time.Date(2031, 5, 4, 3, 2, 1, 0, time.UTC)
	grant := Grant{Cluster: "prod", Group: "oncall", Role: "edit", Namespaces: []string{"a"}, ExpiresAt: &expires}
	object, err := RecordToObject(Record{Grant: grant, KubeconfigSecret: SecretRef{Namespace: "ns", Name: "kc", Key: "value"}})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"apiVersion": "platform.idp.dev/v1alpha1",
		"kind":       "AccessGrant",
		"metadata": map[string]any{
			"name": grant.Name(),
			"labels": map[string]any{
				"platform.idp.dev/managed-by": "terraform-provider-idp",
				"platform.idp.dev/access":     "oncall",
				"platform.idp.dev/cluster":    "prod",
				"platform.idp.dev/grant":      grant.Name(),
			},
			"annotations": map[string]any{"platform.idp.dev/grant-id": "prod/oncall/a"},
		},
		"spec": map[string]any{
			"grant": map[string]any{
				"cluster": "prod", "group": "oncall", "role": "edit", "namespaces": []any{"a"},
				"manageGroup": false, "expiresAt": "2031-05-04T03:02:01Z",
			},
			"kubeconfigSecret": map[string]any{"namespace": "ns", "name": "kc", "key": "value"},
		},
	}
	if diff := cmp.Diff(want, object.Object); diff != "" {
		t.Errorf("object (-want +got):\n%s", diff)
	}
}

func TestRecordFromObjectRefusesOtherKinds(t *testing.T) {
	object := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "x"}}}
	if _, err := RecordFromObject(object); err == nil {
		t.Error("a ConfigMap was read as an AccessGrant")
	}
}
