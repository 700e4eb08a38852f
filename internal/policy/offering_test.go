package policy

import (
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestOffering(t *testing.T) {
	defaults, err := DefaultOffering()
	if err != nil {
		t.Fatalf("DefaultOffering: %v", err)
	}
	withRegions := defaults
	withRegions.Regions = map[string][]string{"aws": {"eu-south-1"}, "azure": defaults.Regions["azure"], "gcp": defaults.Regions["gcp"]}
	withRegions.MaxPoolSize = 40
	ownPolicy := writeFiles(t, map[string]string{"own.rego": "package main\n\ndeny contains \"no\" if input.never\n"})
	cases := map[string]struct {
		reason string
		cfg    Config
		want   Offering
	}{
		"Shipped": {reason: "Compiled without overrides, the library offers what its literal settings say.", cfg: Config{}, want: defaults},
		"Overridden": {reason: "idp_policy overrides merge key by key: one cloud's regions change, the others stay.",
			cfg:  Config{Paths: []string{writeFiles(t, map[string]string{"settings.json": `{"idp_policy": {"regions": {"aws": ["eu-south-1"]}, "max_pool_size": 40}}`})}},
			want: withRegions},
		"NoLibrary": {reason: "Policies without the library's settings leave the platform's offering as shipped.",
			cfg: Config{Paths: []string{ownPolicy}, NoDefaultLibrary: true}, want: defaults},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := newEngine(t, tc.cfg).Offering()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nOffering (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
	if len(defaults.Regions["aws"]) == 0 || len(defaults.KubernetesVersions) == 0 || defaults.MaxPoolSize < 1 {
		t.Errorf("the shipped offering is empty: %+v", defaults)
	}
}

func TestOfferingFailsClosed(t *testing.T) {
	cases := map[string]struct {
		reason   string
		settings string
		want     string
	}{
		"WrongShape":  {reason: "A setting of the wrong type is refused, not read as zero.", settings: `{"idp_policy": {"max_pool_size": "many"}}`, want: "wrong shape"},
		"NoVersions":  {reason: "An empty list of versions would offer nothing.", settings: `{"idp_policy": {"kubernetes_versions": []}}`, want: "kubernetes_versions is empty"},
		"NoPoolNodes": {reason: "A pool of at most zero nodes is no offering.", settings: `{"idp_policy": {"max_pool_size": 0}}`, want: "max_pool_size is 0"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := New(context.Background(), Config{Paths: []string{writeFiles(t, map[string]string{"settings.json": tc.settings})}})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%s\nNew: %v, want an error containing %q", tc.reason, err, tc.want)
			}
		})
	}
}
