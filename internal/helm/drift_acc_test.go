package helm

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"helm.sh/helm/v4/pkg/chart/common"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

// threeKindChart holds two namespaced kinds and a cluster-scoped one, none of which needs a node.
func threeKindChart() *chart.Chart {
	ch := configMapChart()
	ch.Templates = append(ch.Templates,
		&common.File{Name: "templates/serviceaccount.yaml", Data: []byte(
			"apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {{ .Release.Name }}\n  labels:\n    app: {{ .Release.Name }}\n")},
		&common.File{Name: "templates/clusterrole.yaml", Data: []byte(
			"apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata:\n  name: {{ .Release.Namespace }}-{{ .Release.Name }}\n" +
				"rules:\n  - apiGroups: [\"\"]\n    resources: [configmaps]\n    verbs: [get]\n")},
	)
	return ch
}

func TestAccDriftListsOncePerNamespaceAndKind(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("starts a cluster; runs with TF_ACC")
	}
	ctx := context.Background()
	kubeconfig := startClusters(t, 1)[0]
	namespaces := []string{"team-a", "team-b"}
	const perNamespace = 3
	installer, err := NewEngine(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	for _, namespace := range namespaces {
		for i := range perNamespace {
			spec := Spec{Namespace: namespace, Name: fmt.Sprintf("app-%d", i), Chart: threeKindChart(), Timeout: time.Minute, MaxHistory: 10}
			if _, err := installer.Install(ctx, spec); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Out-of-band changes: an object deleted, a field edited, a label removed.
	config, err := clientcmd.RESTConfigFromKubeConfig(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	if err := client.CoreV1().ConfigMaps("team-a").Delete(ctx, "app-0", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	edited, err := client.CoreV1().ConfigMaps("team-b").Get(ctx, "app-1", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	edited.Data["greeting"] = "bye"
	if _, err := client.CoreV1().ConfigMaps("team-b").Update(ctx, edited, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := client.RbacV1().ClusterRoles().Delete(ctx, "team-b-app-2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}

	var calls apiCalls
	engine, err := NewEngine(kubeconfig, WithTransport(calls.wrap))
	if err != nil {
		t.Fatal(err)
	}
	// refresh reads every release and its drift as a refresh does, and returns the drift and the lists
	// and gets of objects it made.
	refresh := func() (drift map[string][]string, lists, gets map[string]int) {
		listsBefore, getsBefore := calls.objectReads()
		drift = map[string][]string{}
		for _, namespace := range namespaces {
			for i := range perNamespace {
				rel, err := engine.Find(ctx, namespace, fmt.Sprintf("app-%d", i))
				if err != nil {
					t.Fatal(err)
				}
				d, err := engine.Drift(ctx, rel)
				if err != nil {
					t.Fatal(err)
				}
				if len(d) > 0 {
					drift[namespace+"/"+rel.Name] = d
				}
			}
		}
		listsAfter, getsAfter := calls.objectReads()
		return drift, countsSince(listsBefore, listsAfter), countsSince(getsBefore, getsAfter)
	}
	wantDrift := map[string][]string{
		"team-a/app-0": {"ConfigMap team-a/app-0 is missing"},
		"team-b/app-1": {`ConfigMap team-b/app-1: data.greeting is "bye", the release has "hello"`},
		"team-b/app-2": {"ClusterRole team-b-app-2 is missing"},
	}
	callsBefore, secretListsBefore := calls.total.Load(), calls.secretLists.Load()
	drift, lists, gets := refresh()
	if diff := cmp.Diff(wantDrift, drift); diff != "" {
		t.Errorf("drift of six releases: -want, +got:\n%s", diff)
	}
	// Every call is a release list or an object read: the built-in kinds are mapped without discovery.
	objectReads := 0
	for _, n := range lists {
		objectReads += n
	}
	for _, n := range gets {
		objectReads += n
	}
	if other := calls.total.Load() - callsBefore - (calls.secretLists.Load() - secretListsBefore) - int64(objectReads); other != 0 {
		t.Errorf("the refresh made %d calls beyond its release lists and object reads (discovery?)", other)
	}
	wantLists := map[string]int{
		"team-a/configmaps": 1, "team-a/serviceaccounts": 1,
		"team-b/configmaps": 1, "team-b/serviceaccounts": 1,
		"clusterroles": 1,
	}
	if diff := cmp.Diff(wantLists, lists); diff != "" {
		t.Errorf("drift of six releases in two namespaces with two namespaced kinds and a cluster-scoped one: lists -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{}, gets); diff != "" {
		t.Errorf("drift read objects one by one: gets -want, +got:\n%s", diff)
	}

	// The engine's own change to team-b drops team-b's lists and the cluster-scoped ones; team-a's stay.
	if _, err := engine.Upgrade(ctx, Spec{Namespace: "team-b", Name: "app-1", Chart: threeKindChart(), Timeout: time.Minute, MaxHistory: 10}); err != nil {
		t.Fatal(err)
	}
	delete(wantDrift, "team-b/app-1")
	drift, lists, gets = refresh()
	if diff := cmp.Diff(wantDrift, drift); diff != "" {
		t.Errorf("drift after the upgrade: -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{"team-b/configmaps": 1, "team-b/serviceaccounts": 1, "clusterroles": 1}, lists); diff != "" {
		t.Errorf("lists after the engine upgraded a release in team-b: -want, +got:\n%s", diff)
	}
	if diff := cmp.Diff(map[string]int{}, gets); diff != "" {
		t.Errorf("drift after the upgrade read objects one by one: gets -want, +got:\n%s", diff)
	}

	// A release whose newest record was deleted by hand (a common way to unstick one) is found at its
	// superseded revision with one more list, of its own records, and no reachability check.
	if err := client.CoreV1().Secrets("team-b").Delete(ctx, "sh.helm.release.v1.app-1.v2", metav1.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	fresh, err := NewEngine(kubeconfig, WithTransport(calls.wrap))
	if err != nil {
		t.Fatal(err)
	}
	callsBefore = calls.total.Load()
	rel, err := fresh.Find(ctx, "team-b", "app-1")
	if err != nil {
		t.Fatal(err)
	}
	if rel.Revision != 1 {
		t.Errorf("Find of a release whose revision 2 record is gone = revision %d, want 1", rel.Revision)
	}
	if n := calls.total.Load() - callsBefore; n != 2 {
		t.Errorf("Find of a release whose newest record is gone made %d calls, want 2 (the namespace's release list, the release's records)", n)
	}
}

// countsSince returns the counts that grew from before to after, by how much.
func countsSince(before, after map[string]int) map[string]int {
	grown := map[string]int{}
	for key, n := range after {
		if n > before[key] {
			grown[key] = n - before[key]
		}
	}
	return grown
}

// TestAccBuiltinKindsMatchDiscovery holds builtinKinds, which drift maps without discovery, to what a
// real API server's discovery says of each kind.
func TestAccBuiltinKindsMatchDiscovery(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("starts a cluster; runs with TF_ACC")
	}
	engine, err := NewEngine(startClusters(t, 1)[0])
	if err != nil {
		t.Fatal(err)
	}
	builtin := builtinMapper()
	for _, k := range builtinKinds {
		gk := schema.GroupKind{Group: k.group, Kind: k.kind}
		want, err := engine.mapper.RESTMapping(gk, k.version)
		if err != nil {
			t.Errorf("the API server does not serve %s %s: %v", k.version, gk, err)
			continue
		}
		got, err := builtin.RESTMapping(gk, k.version)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(
			[]string{want.Resource.String(), string(want.Scope.Name())},
			[]string{got.Resource.String(), string(got.Scope.Name())}); diff != "" {
			t.Errorf("%s %s: builtinKinds -discovery, +table:\n%s", k.version, gk, diff)
		}
	}
}
