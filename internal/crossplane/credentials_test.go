package crossplane

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRenderCredentials(t *testing.T) {
	cases := map[string]struct {
		reason      string
		cloud       string
		fields      map[string]string
		credentials string
		project     string
		err         error
	}{
		"AWS": {
			reason:      "an AWS key pair becomes a shared credentials file",
			cloud:       "aws",
			fields:      map[string]string{"aws_access_key_id": "AKIA1", "aws_secret_access_key": "s3cr3t", "note": "ignored"},
			credentials: "[default]\naws_access_key_id = AKIA1\naws_secret_access_key = s3cr3t\n",
		},
		"AWSIncomplete": {
			reason: "a key id without its secret is refused, naming what is missing",
			cloud:  "aws",
			fields: map[string]string{"aws_access_key_id": "AKIA1"},
			err:    ErrIncompleteCredentials,
		},
		"Azure": {
			reason:      "a service principal becomes the JSON the Azure provider reads, without other fields",
			cloud:       "azure",
			fields:      map[string]string{"clientId": "c", "clientSecret": "s", "subscriptionId": "sub", "tenantId": "t", "extra": "x"},
			credentials: `{"clientId":"c","clientSecret":"s","subscriptionId":"sub","tenantId":"t"}`,
		},
		"GCP": {
			reason:      "a service account key is passed on and its project returned",
			cloud:       "gcp",
			fields:      map[string]string{"credentials": `{"type":"service_account","project_id":"payments-dev"}`},
			credentials: `{"type":"service_account","project_id":"payments-dev"}`,
			project:     "payments-dev",
		},
		"GCPNotAKey": {
			reason: "a credentials field that is not a key with a project is refused",
			cloud:  "gcp",
			fields: map[string]string{"credentials": "not json"},
			err:    ErrInvalidCredentials,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			credentials, project, err := RenderCredentials(tc.cloud, tc.fields)
			if !errors.Is(err, tc.err) {
				t.Fatalf("%s: error %v, want %v", tc.reason, err, tc.err)
			}
			if diff := cmp.Diff(tc.credentials, string(credentials)); diff != "" {
				t.Errorf("%s: credentials (-want +got):\n%s", tc.reason, diff)
			}
			if diff := cmp.Diff(tc.project, project); diff != "" {
				t.Errorf("%s: project (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestSpecDigest(t *testing.T) {
	base := Cluster{Name: "c", Cloud: "aws", Region: "eu-west-1", KubernetesVersion: "1.33", ProviderConfig: "idp-aws-x",
		Tags:  map[string]string{"team": "a", "env": "dev"},
		Pools: []Pool{{Name: "b", InstanceType: "m6i.large", MaxSize: 3}, {Name: "a", InstanceType: "m6i.large", MaxSize: 2}}}
	reordered := base
	reordered.Pools = []Pool{base.Pools[1], base.Pools[0]}
	resized := base
	resized.Pools = []Pool{base.Pools[0], {Name: "a", InstanceType: "m6i.large", MaxSize: 5}}
	cases := map[string]struct {
		reason string
		other  Cluster
		same   bool
	}{
		"PoolOrder": {reason: "the order pools are listed in does not change the spec", other: reordered, same: true},
		"PoolSize":  {reason: "another pool size is another spec", other: resized, same: false},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if got := SpecDigest(base) == SpecDigest(tc.other); got != tc.same {
				t.Errorf("%s: digests equal = %t, want %t", tc.reason, got, tc.same)
			}
		})
	}
}
