package helm

import (
	"context"
	"errors"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"
)

func TestObjectListsGet(t *testing.T) {
	object := func(kind, namespace, name string, labels map[string]string) *unstructured.Unstructured {
		u := &unstructured.Unstructured{}
		u.SetAPIVersion("v1")
		u.SetKind(kind)
		u.SetNamespace(namespace)
		u.SetName(name)
		u.SetLabels(labels)
		return u
	}
	configMaps := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	helmLabel := map[string]string{"owner": "helm"}
	client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(),
		map[schema.GroupVersionResource]string{configMaps: "ConfigMapList", secrets: "SecretList"},
		object("ConfigMap", "team-a", "api", nil),
		object("Secret", "team-a", "api", nil),
		object("Secret", "team-a", "sh.helm.release.v1.api.v1", helmLabel),
		object("Secret", "team-a", "labelled", helmLabel),
	)
	cases := []struct {
		reason    string
		resource  schema.GroupVersionResource
		name      string
		wantFound bool
		// wantCalls are the calls this get adds, as verb/resource.
		wantCalls []string
	}{
		{reason: "The first get of a kind in a namespace lists it.", resource: configMaps, name: "api", wantFound: true, wantCalls: []string{"list/configmaps"}},
		{reason: "A missing object is answered from the list.", resource: configMaps, name: "gone"},
		{reason: "Secrets are listed without Helm's release records.", resource: secrets, name: "api", wantFound: true, wantCalls: []string{"list/secrets"}},
		{reason: "A release's Secret labelled as Helm's is found by name.", resource: secrets, name: "labelled", wantFound: true, wantCalls: []string{"get/secrets"}},
		{reason: "A Secret that is gone costs a get too, and is missing.", resource: secrets, name: "gone", wantCalls: []string{"get/secrets"}},
	}
	var lists objectLists
	lists.client = client
	for _, tc := range cases {
		before := len(client.Actions())
		live, err := lists.get(context.Background(), tc.resource, "team-a", tc.name)
		if err != nil {
			t.Fatalf("%s\nget %s: %v", tc.reason, tc.name, err)
		}
		if got := live != nil; got != tc.wantFound {
			t.Errorf("%s\nget %s %s found %t, want %t", tc.reason, tc.resource.Resource, tc.name, got, tc.wantFound)
		}
		var calls []string
		for _, action := range client.Actions()[before:] {
			calls = append(calls, action.GetVerb()+"/"+action.GetResource().Resource)
		}
		if diff := cmp.Diff(tc.wantCalls, calls); diff != "" {
			t.Errorf("%s\nget %s %s: calls -want, +got:\n%s", tc.reason, tc.resource.Resource, tc.name, diff)
		}
	}
	// The engine's write to the namespace drops its lists: the next get lists again.
	lists.forget("team-a")
	before := len(client.Actions())
	if _, err := lists.get(context.Background(), configMaps, "team-a", "api"); err != nil {
		t.Fatal(err)
	}
	if got := len(client.Actions()) - before; got != 1 {
		t.Errorf("after forget, a get made %d calls, want 1 list", got)
	}
}

func TestObjectListsPrefetch(t *testing.T) {
	configMaps := schema.GroupVersionResource{Version: "v1", Resource: "configmaps"}
	services := schema.GroupVersionResource{Version: "v1", Resource: "services"}
	listKinds := map[schema.GroupVersionResource]string{configMaps: "ConfigMapList", secrets: "SecretList", services: "ServiceList"}
	cases := []struct {
		reason string
		keys   []objectListKey
		// failing is a resource whose list the API server refuses.
		failing   string
		wantErr   bool
		wantCalls []string
	}{
		{
			reason:    "Each list is read once, and a later get of its kind is answered from it.",
			keys:      []objectListKey{{"team-a", configMaps}, {"team-a", secrets}, {"", services}},
			wantCalls: []string{"list/configmaps", "list/secrets", "list/services"},
		},
		{
			reason:    "A list that fails fails the prefetch, and is not kept: the get reads it again.",
			keys:      []objectListKey{{"team-a", configMaps}, {"team-a", secrets}},
			failing:   "secrets",
			wantErr:   true,
			wantCalls: []string{"list/configmaps", "list/secrets", "list/secrets"},
		},
	}
	for _, tc := range cases {
		secret := &unstructured.Unstructured{}
		secret.SetAPIVersion("v1")
		secret.SetKind("Secret")
		secret.SetNamespace("team-a")
		secret.SetName("api")
		client := dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), listKinds, secret)
		if tc.failing != "" {
			client.PrependReactor("list", tc.failing, func(k8stesting.Action) (bool, runtime.Object, error) {
				return true, nil, errors.New("etcdserver: request timed out")
			})
		}
		var lists objectLists
		lists.client = client
		err := lists.prefetch(context.Background(), tc.keys)
		if gotErr := err != nil; gotErr != tc.wantErr {
			t.Errorf("%s\nprefetch: error %v, want an error: %t", tc.reason, err, tc.wantErr)
		}
		for _, key := range tc.keys {
			_, _ = lists.get(context.Background(), key.resource, key.namespace, "api")
		}
		var calls []string
		for _, action := range client.Actions() {
			calls = append(calls, action.GetVerb()+"/"+action.GetResource().Resource)
		}
		sort.Strings(calls)
		if diff := cmp.Diff(tc.wantCalls, calls); diff != "" {
			t.Errorf("%s\ncalls -want, +got:\n%s", tc.reason, diff)
		}
	}
}
