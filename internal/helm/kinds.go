package helm

import (
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// builtinKind is a kind of the Kubernetes API's stable groups that charts commonly hold.
type builtinKind struct {
	group, version, kind, resource string
	clusterScoped                  bool
}

// builtinKinds let drift map a release's objects to their resources without discovery, which costs
// two calls per cluster and provider process (/api and /apis). Their resources and scopes are fixed by
// the API; TestAccBuiltinKindsMatchDiscovery holds the table to a real API server's discovery. Any other
// kind (a CRD's, a beta API's) is mapped through discovery.
var builtinKinds = []builtinKind{
	{version: "v1", kind: "ConfigMap", resource: "configmaps"},
	{version: "v1", kind: "Secret", resource: "secrets"},
	{version: "v1", kind: "Service", resource: "services"},
	{version: "v1", kind: "ServiceAccount", resource: "serviceaccounts"},
	{version: "v1", kind: "PersistentVolumeClaim", resource: "persistentvolumeclaims"},
	{version: "v1", kind: "LimitRange", resource: "limitranges"},
	{version: "v1", kind: "ResourceQuota", resource: "resourcequotas"},
	{version: "v1", kind: "Namespace", resource: "namespaces", clusterScoped: true},
	{group: "apps", version: "v1", kind: "Deployment", resource: "deployments"},
	{group: "apps", version: "v1", kind: "StatefulSet", resource: "statefulsets"},
	{group: "apps", version: "v1", kind: "DaemonSet", resource: "daemonsets"},
	{group: "batch", version: "v1", kind: "Job", resource: "jobs"},
	{group: "batch", version: "v1", kind: "CronJob", resource: "cronjobs"},
	{group: "autoscaling", version: "v2", kind: "HorizontalPodAutoscaler", resource: "horizontalpodautoscalers"},
	{group: "policy", version: "v1", kind: "PodDisruptionBudget", resource: "poddisruptionbudgets"},
	{group: "networking.k8s.io", version: "v1", kind: "Ingress", resource: "ingresses"},
	{group: "networking.k8s.io", version: "v1", kind: "NetworkPolicy", resource: "networkpolicies"},
	{group: "rbac.authorization.k8s.io", version: "v1", kind: "Role", resource: "roles"},
	{group: "rbac.authorization.k8s.io", version: "v1", kind: "RoleBinding", resource: "rolebindings"},
	{group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRole", resource: "clusterroles", clusterScoped: true},
	{group: "rbac.authorization.k8s.io", version: "v1", kind: "ClusterRoleBinding", resource: "clusterrolebindings", clusterScoped: true},
}

// builtinMapper maps builtinKinds and nothing else.
func builtinMapper() meta.RESTMapper {
	mapper := meta.NewDefaultRESTMapper(nil)
	for _, k := range builtinKinds {
		scope := meta.RESTScopeNamespace
		if k.clusterScoped {
			scope = meta.RESTScopeRoot
		}
		gv := schema.GroupVersion{Group: k.group, Version: k.version}
		mapper.AddSpecific(gv.WithKind(k.kind), gv.WithResource(k.resource), gv.WithResource(strings.ToLower(k.kind)), scope)
	}
	return mapper
}
