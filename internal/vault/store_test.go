package vault

import "testing"

func TestKubeconfigPath(t *testing.T) {
	c := &Client{kvMount: "secret", prefix: "idp"}
	cases := map[string]struct {
		reason  string
		cluster string
		want    string
		wantErr bool
	}{
		"Valid":       {reason: "A DNS-1123 label lands under <prefix>/clusters/.", cluster: "payments-dev", want: "idp/clusters/payments-dev/kubeconfig"},
		"Traversal":   {reason: "No input may climb out of the prefix.", cluster: "../sys", wantErr: true},
		"Slash":       {reason: "No input may add path segments.", cluster: "a/b", wantErr: true},
		"UpperCase":   {reason: "Names are lower-case labels.", cluster: "Payments", wantErr: true},
		"TooLong":     {reason: "Labels are at most 63 characters.", cluster: "a234567890123456789012345678901234567890123456789012345678901234", wantErr: true},
		"LeadingDash": {reason: "Labels start with a letter or digit.", cluster: "-a", wantErr: true},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got, err := c.KubeconfigPath(tc.cluster)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s\nKubeconfigPath(%q): error %v, want error: %t", tc.reason, tc.cluster, err, tc.wantErr)
			}
			if got != tc.want {
				t.Errorf("%s\nKubeconfigPath(%q) = %q, want %q", tc.reason, tc.cluster, got, tc.want)
			}
		})
	}
}
