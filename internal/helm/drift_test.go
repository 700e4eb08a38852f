package helm

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFieldDrift(t *testing.T) {
	deployment := func(replicas any, image string) map[string]any {
		return map[string]any{
			"apiVersion": "apps/v1",
			"kind":       "Deployment",
			"metadata":   map[string]any{"name": "api", "labels": map[string]any{"app": "api"}},
			"spec": map[string]any{
				"replicas": replicas,
				"template": map[string]any{"spec": map[string]any{"containers": []any{map[string]any{"name": "api", "image": image}}}},
			},
		}
	}
	withServerFields := func(object map[string]any) map[string]any {
		object["status"] = map[string]any{"availableReplicas": int64(3)}
		metadata := object["metadata"].(map[string]any)
		metadata["uid"] = "0b0f"
		metadata["resourceVersion"] = "42"
		metadata["annotations"] = map[string]any{"meta.helm.sh/release-name": "api"}
		spec := object["spec"].(map[string]any)
		spec["revisionHistoryLimit"] = int64(10)
		return object
	}
	cases := map[string]struct {
		reason  string
		desired map[string]any
		live    map[string]any
		redact  bool
		want    []string
	}{
		"SecretRedacted": {
			reason:  "A Secret's drift names the key, never the values.",
			desired: map[string]any{"kind": "Secret", "data": map[string]any{"password": "b2xk"}},
			live:    map[string]any{"kind": "Secret", "data": map[string]any{"password": "bmV3"}},
			redact:  true,
			want:    []string{"data.password differs from the release"},
		},
		"InSync": {
			reason:  "Defaults, status and server-owned metadata are not drift; YAML floats equal API integers.",
			desired: deployment(float64(3), "api:1"),
			live:    withServerFields(deployment(int64(3), "api:1")),
		},
		"Scaled": {
			reason:  "A field the release sets and someone changed is drift, with both values.",
			desired: deployment(float64(3), "api:1"),
			live:    withServerFields(deployment(int64(5), "api:1")),
			want:    []string{"spec.replicas is 5, the release has 3"},
		},
		"ImageEdited": {
			reason:  "Drift inside lists is located by index.",
			desired: deployment(float64(3), "api:1"),
			live:    withServerFields(deployment(int64(3), "api:evil")),
			want:    []string{`spec.template.spec.containers[0].image is "api:evil", the release has "api:1"`},
		},
		"LabelRemoved": {
			reason:  "Labels the release sets are compared.",
			desired: deployment(float64(3), "api:1"),
			live: func() map[string]any {
				d := withServerFields(deployment(int64(3), "api:1"))
				d["metadata"].(map[string]any)["labels"] = map[string]any{}
				return d
			}(),
			want: []string{`metadata.labels.app is unset, the release has "api"`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := fieldDrift(driftView(tc.desired), driftView(tc.live), "", tc.redact)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nfieldDrift: -want, +got:\n%s", tc.reason, diff)
			}
		})
	}
}

func TestManifestObjects(t *testing.T) {
	manifest := "---\n# Source: web-service/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata:\n  name: api\n---\n# Source: empty.yaml\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\n"
	objects, err := manifestObjects(manifest)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, o := range objects {
		got = append(got, o.GetKind()+"/"+o.GetName())
	}
	if diff := cmp.Diff([]string{"Service/api", "Deployment/api"}, got); diff != "" {
		t.Errorf("manifestObjects: -want, +got:\n%s", diff)
	}
}
