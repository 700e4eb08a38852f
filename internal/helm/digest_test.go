package helm

import "testing"

func TestValuesDigest(t *testing.T) {
	base := map[string]any{"replicas": 2, "image": map[string]any{"repository": "ghcr.io/acme/api", "tag": "2.3.1"}}
	cases := map[string]struct {
		reason string
		other  map[string]any
		same   bool
	}{
		"Reordered": {reason: "key order does not matter", same: true,
			other: map[string]any{"image": map[string]any{"tag": "2.3.1", "repository": "ghcr.io/acme/api"}, "replicas": 2}},
		"Float": {reason: "a number decoded as a float is the same number", same: true,
			other: map[string]any{"replicas": 2.0, "image": map[string]any{"repository": "ghcr.io/acme/api", "tag": "2.3.1"}}},
		"Changed": {reason: "another value is another digest",
			other: map[string]any{"replicas": 3, "image": map[string]any{"repository": "ghcr.io/acme/api", "tag": "2.3.1"}}},
		"StringNumber": {reason: "the string \"2\" is not the number 2",
			other: map[string]any{"replicas": "2", "image": map[string]any{"repository": "ghcr.io/acme/api", "tag": "2.3.1"}}},
	}
	want, err := ValuesDigest(base, "c/ns/app")
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := ValuesDigest(tc.other, "c/ns/app")
			if err != nil {
				t.Fatal(err)
			}
			if (got == want) != tc.same {
				t.Errorf("%s: digests equal = %t, want %t", tc.reason, got == want, tc.same)
			}
		})
	}
	empty, _ := ValuesDigest(nil, "c/ns/app")
	if none, _ := ValuesDigest(map[string]any{}, "c/ns/app"); none != empty {
		t.Errorf("no values and empty values differ: %s, %s", empty, none)
	}
	if other, _ := ValuesDigest(base, "c/ns/other"); other == want {
		t.Error("the same values of two releases have the same digest: it is not salted with the release")
	}
}
