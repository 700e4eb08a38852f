package helm

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestBuiltinMapper(t *testing.T) {
	mapper := builtinMapper()
	for _, tc := range []struct {
		reason      string
		gk          schema.GroupKind
		version     string
		wantRes     string
		wantScope   meta.RESTScopeName
		wantNoMatch bool
	}{
		{reason: "a namespaced kind", gk: schema.GroupKind{Group: "apps", Kind: "Deployment"}, version: "v1", wantRes: "apps/v1, Resource=deployments", wantScope: meta.RESTScopeNameNamespace},
		{reason: "a kind of the core group", gk: schema.GroupKind{Kind: "Service"}, version: "v1", wantRes: "/v1, Resource=services", wantScope: meta.RESTScopeNameNamespace},
		{reason: "a cluster-scoped kind", gk: schema.GroupKind{Group: "rbac.authorization.k8s.io", Kind: "ClusterRole"}, version: "v1", wantRes: "rbac.authorization.k8s.io/v1, Resource=clusterroles", wantScope: meta.RESTScopeNameRoot},
		{reason: "another version of a built-in kind is left to discovery", gk: schema.GroupKind{Group: "autoscaling", Kind: "HorizontalPodAutoscaler"}, version: "v1", wantNoMatch: true},
		{reason: "a CRD's kind is left to discovery", gk: schema.GroupKind{Group: "monitoring.coreos.com", Kind: "ServiceMonitor"}, version: "v1", wantNoMatch: true},
	} {
		t.Run(tc.reason, func(t *testing.T) {
			mapping, err := mapper.RESTMapping(tc.gk, tc.version)
			if tc.wantNoMatch {
				if !meta.IsNoMatchError(err) {
					t.Fatalf("%s: RESTMapping(%s, %s) = %v, %v; want no match", tc.reason, tc.gk, tc.version, mapping, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tc.wantRes, string(tc.wantScope)}, []string{mapping.Resource.String(), string(mapping.Scope.Name())}); diff != "" {
				t.Errorf("%s: RESTMapping(%s, %s): -want, +got:\n%s", tc.reason, tc.gk, tc.version, diff)
			}
		})
	}
}
