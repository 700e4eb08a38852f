package kube

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
	k8stesting "k8s.io/client-go/testing"
)

const testHost = "https://payments.example.com:6443"

func groupSubject(name string) rbacv1.Subject {
	return rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: name}
}

func TestApplyBinding(t *testing.T) {
	labels := map[string]string{"platform.idp.dev/managed-by": "terraform-provider-idp", "platform.idp.dev/access": "developers"}
	annotations := map[string]string{"platform.idp.dev/grant-id": "payments/developers/cluster"}
	cases := map[string]struct {
		reason   string
		existing []runtime.Object
		binding  Binding
		// want is what Bindings reads back afterwards.
		want []Binding
		// wantDeleted is whether the binding was deleted to change its roleRef.
		wantDeleted bool
	}{
		"CreatesClusterRoleBinding": {
			reason:  "A binding without a namespace is a ClusterRoleBinding of the ClusterRole to the groups.",
			binding: Binding{Name: "idp:developers:view", Role: "view", Groups: []string{"oidc:developers"}, Labels: labels, Annotations: annotations},
			want:    []Binding{{Name: "idp:developers:view", Role: "view", Groups: []string{"oidc:developers"}, Labels: labels, Annotations: annotations}},
		},
		"CreatesRoleBinding": {
			reason:  "A binding with a namespace is a RoleBinding there of the ClusterRole.",
			binding: Binding{Namespace: "shop", Name: "idp:developers:edit", Role: "edit", Groups: []string{"oidc:developers"}, Labels: labels},
			want:    []Binding{{Namespace: "shop", Name: "idp:developers:edit", Role: "edit", Groups: []string{"oidc:developers"}, Labels: labels}},
		},
		"UpdatesSubjectsInPlace": {
			reason: "A binding with the same roleRef is applied over, keeping the object.",
			existing: []runtime.Object{&rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "idp:developers:edit", Labels: labels},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
				Subjects:   []rbacv1.Subject{groupSubject("oidc:old")},
			}},
			binding: Binding{Namespace: "shop", Name: "idp:developers:edit", Role: "edit", Groups: []string{"oidc:developers", "oidc:sre"}, Labels: labels},
			want:    []Binding{{Namespace: "shop", Name: "idp:developers:edit", Role: "edit", Groups: []string{"oidc:developers", "oidc:sre"}, Labels: labels}},
		},
		"RecreatesForAnotherRole": {
			reason: "The API server refuses to change a roleRef, so a binding of another role is deleted and created again.",
			existing: []runtime.Object{&rbacv1.ClusterRoleBinding{
				ObjectMeta: metav1.ObjectMeta{Name: "idp:developers:view", UID: "first"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
				Subjects:   []rbacv1.Subject{groupSubject("oidc:developers")},
			}},
			binding:     Binding{Name: "idp:developers:view", Role: "view", Groups: []string{"oidc:developers"}, Labels: labels},
			want:        []Binding{{Name: "idp:developers:view", Role: "view", Groups: []string{"oidc:developers"}, Labels: labels}},
			wantDeleted: true,
		},
		"RecreatesARoleRefToARole": {
			reason: "A binding of a namespaced Role of the same name is not a binding of the ClusterRole.",
			existing: []runtime.Object{&rbacv1.RoleBinding{
				ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "idp:developers:edit", UID: "first"},
				RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "edit"},
			}},
			binding:     Binding{Namespace: "shop", Name: "idp:developers:edit", Role: "edit", Groups: []string{"oidc:developers"}, Labels: labels},
			want:        []Binding{{Namespace: "shop", Name: "idp:developers:edit", Role: "edit", Groups: []string{"oidc:developers"}, Labels: labels}},
			wantDeleted: true,
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			clientset := fake.NewClientset(tc.existing...)
			r := rbac{clientset: clientset, host: testHost}
			if err := r.applyBinding(context.Background(), tc.binding); err != nil {
				t.Fatalf("%s\napplyBinding: %v", tc.reason, err)
			}
			got, err := r.bindings(context.Background(), "platform.idp.dev/access=developers")
			if err != nil {
				t.Fatalf("bindings: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nbindings after apply: -want, +got:\n%s", tc.reason, diff)
			}
			deleted := false
			for _, action := range clientset.Actions() {
				if action.GetVerb() == "delete" {
					deleted = true
				}
			}
			if deleted != tc.wantDeleted {
				t.Errorf("%s\ndeleted the binding: want %t, got %t", tc.reason, tc.wantDeleted, deleted)
			}
		})
	}
}

func TestApplyBindingServerSide(t *testing.T) {
	clientset := fake.NewClientset()
	r := rbac{clientset: clientset, host: testHost}
	if err := r.applyBinding(context.Background(), Binding{Namespace: "shop", Name: "b", Role: "view"}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, action := range clientset.Actions() {
		if patch, ok := action.(k8stesting.PatchAction); ok {
			got = append(got, string(patch.GetPatchType()))
		}
	}
	// The fake clientset turns the apply options into its own; what reaches a real API server is
	// checked against the sandbox.
	if diff := cmp.Diff([]string{"application/apply-patch+yaml"}, got); diff != "" {
		t.Errorf("the binding is applied server-side, in one patch: -want, +got:\n%s", diff)
	}
}

func TestBindings(t *testing.T) {
	managed := map[string]string{"platform.idp.dev/managed-by": "terraform-provider-idp"}
	clientset := fake.NewClientset(
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "b", Labels: managed},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "edit"},
			Subjects: []rbacv1.Subject{
				groupSubject("oidc:developers"),
				{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "oidc:alice"},
				{Kind: rbacv1.ServiceAccountKind, Namespace: "shop", Name: "deployer"},
			},
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "cart", Name: "z", Labels: managed},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "local"},
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "cart", Name: "a", Labels: managed},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
			Subjects:   []rbacv1.Subject{groupSubject("oidc:sre")},
		},
		&rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Namespace: "cart", Name: "someone-elses"},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "view"},
		},
		&rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "y", Labels: managed, Annotations: map[string]string{"a": "b"}},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "admin"},
			Subjects:   []rbacv1.Subject{groupSubject("oidc:platform-admins")},
		},
	)
	got, err := rbac{clientset: clientset, host: testHost}.bindings(context.Background(), "platform.idp.dev/managed-by=terraform-provider-idp")
	if err != nil {
		t.Fatal(err)
	}
	want := []Binding{
		{Name: "y", Role: "admin", Groups: []string{"oidc:platform-admins"}, Labels: managed, Annotations: map[string]string{"a": "b"}},
		{Namespace: "cart", Name: "a", Role: "view", Groups: []string{"oidc:sre"}, Labels: managed},
		{Namespace: "cart", Name: "z", Role: "local", Labels: managed},
		{Namespace: "shop", Name: "b", Role: "edit", Groups: []string{"oidc:developers"}, OtherSubjects: []string{"User:oidc:alice", "ServiceAccount:shop/deployer"}, Labels: managed},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the selected bindings, cluster-wide first, then by namespace and name, with their groups and other subjects: -want, +got:\n%s", diff)
	}
}

func TestDeleteBinding(t *testing.T) {
	cases := map[string]struct {
		reason    string
		namespace string
		name      string
		fail      error
		wantErr   bool
	}{
		"ClusterRoleBinding": {reason: "No namespace deletes the ClusterRoleBinding.", name: "crb"},
		"RoleBinding":        {reason: "A namespace deletes the RoleBinding there.", namespace: "shop", name: "rb"},
		"AlreadyGone":        {reason: "A binding that does not exist is deleted already.", namespace: "shop", name: "gone"},
		"Forbidden": {
			reason: "Other failures are errors.", namespace: "shop", name: "rb", wantErr: true,
			fail: apierrors.NewForbidden(schema.GroupResource{Group: rbacv1.GroupName, Resource: "rolebindings"}, "rb", errors.New("no")),
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			clientset := fake.NewClientset(
				&rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "crb"}},
				&rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Namespace: "shop", Name: "rb"}},
			)
			if tc.fail != nil {
				clientset.PrependReactor("delete", "*", func(k8stesting.Action) (bool, runtime.Object, error) { return true, nil, tc.fail })
			}
			r := rbac{clientset: clientset, host: testHost}
			err := r.deleteBinding(context.Background(), tc.namespace, tc.name)
			if (err != nil) != tc.wantErr {
				t.Fatalf("%s\ndeleteBinding: %v", tc.reason, err)
			}
			if err != nil {
				return
			}
			left, err := r.bindings(context.Background(), "")
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range left {
				if b.Namespace == tc.namespace && b.Name == tc.name {
					t.Errorf("%s\n%s is still there", tc.reason, BindingRef(b.Namespace, b.Name))
				}
			}
		})
	}
}

func TestExists(t *testing.T) {
	clientset := fake.NewClientset(
		&rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "view"}},
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "shop"}},
	)
	r := rbac{clientset: clientset, host: testHost}
	ctx := context.Background()
	got := map[string]bool{}
	for _, check := range []struct {
		key    string
		exists func(context.Context, string) (bool, error)
		name   string
	}{
		{"clusterrole/view", r.clusterRoleExists, "view"},
		{"clusterrole/edit", r.clusterRoleExists, "edit"},
		{"namespace/shop", r.namespaceExists, "shop"},
		{"namespace/cart", r.namespaceExists, "cart"},
	} {
		exists, err := check.exists(ctx, check.name)
		if err != nil {
			t.Fatalf("%s: %v", check.key, err)
		}
		got[check.key] = exists
	}
	want := map[string]bool{"clusterrole/view": true, "clusterrole/edit": false, "namespace/shop": true, "namespace/cart": false}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("what exists: -want, +got:\n%s", diff)
	}

	clientset.PrependReactor("get", "*", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, apierrors.NewForbidden(schema.GroupResource{Resource: "namespaces"}, "shop", errors.New("no"))
	})
	if _, err := r.namespaceExists(ctx, "shop"); err == nil {
		t.Error("a namespace the provider may not read is an error, not an absent namespace")
	}
}

func TestReviewAccess(t *testing.T) {
	cases := map[string]struct {
		reason string
		status authorizationv1.SubjectAccessReviewStatus
		want   Decision
	}{
		"Allowed": {
			reason: "The authorizers' answer and reason are the decision.",
			status: authorizationv1.SubjectAccessReviewStatus{Allowed: true, Reason: `RBAC: allowed by ClusterRoleBinding "idp:developers:view"`},
			want:   Decision{Allowed: true, Reason: `RBAC: allowed by ClusterRoleBinding "idp:developers:view"`},
		},
		"Denied": {
			reason: "An explicit denial is told from no opinion.",
			status: authorizationv1.SubjectAccessReviewStatus{Denied: true, Reason: "webhook says no"},
			want:   Decision{Denied: true, Reason: "webhook says no"},
		},
		"EvaluationError": {
			reason: "An authorizer that could not evaluate all rules says why in the reason.",
			status: authorizationv1.SubjectAccessReviewStatus{EvaluationError: `clusterrole.rbac.authorization.k8s.io "gone" not found`},
			want:   Decision{Reason: `evaluation error: clusterrole.rbac.authorization.k8s.io "gone" not found`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			clientset := fake.NewClientset()
			var asked authorizationv1.SubjectAccessReviewSpec
			clientset.PrependReactor("create", "subjectaccessreviews", func(action k8stesting.Action) (bool, runtime.Object, error) {
				sar := action.(k8stesting.CreateAction).GetObject().(*authorizationv1.SubjectAccessReview)
				asked = sar.Spec
				return true, &authorizationv1.SubjectAccessReview{Spec: sar.Spec, Status: tc.status}, nil
			})
			review := Review{
				User: "oidc:alice", Groups: []string{"oidc:developers"}, Verb: "get", APIGroup: "apps", Resource: "deployments",
				Subresource: "scale", Namespace: "shop", Name: "cart",
			}
			got, err := rbac{clientset: clientset, host: testHost}.reviewAccess(context.Background(), review)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\ndecision: -want, +got:\n%s", tc.reason, diff)
			}
			wantAsked := authorizationv1.SubjectAccessReviewSpec{
				User: "oidc:alice", Groups: []string{"oidc:developers"},
				ResourceAttributes: &authorizationv1.ResourceAttributes{
					Namespace: "shop", Verb: "get", Group: "apps", Resource: "deployments", Subresource: "scale", Name: "cart",
				},
			}
			if diff := cmp.Diff(wantAsked, asked); diff != "" {
				t.Errorf("the review asks about exactly the user and groups given: -want, +got:\n%s", diff)
			}
		})
	}
}

func TestClientRBACOverHTTP(t *testing.T) {
	server := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/apis/rbac.authorization.k8s.io/v1/clusterroles/view":
			_, _ = w.Write([]byte(`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRole","metadata":{"name":"view"}}`))
		case "/apis/rbac.authorization.k8s.io/v1/clusterroles/edit":
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"apiVersion":"v1","kind":"Status","status":"Failure","reason":"NotFound","code":404}`))
		default:
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"apiVersion":"v1","kind":"Status","status":"Failure","reason":"Forbidden","message":"forbidden","code":403}`))
		}
	}))
	defer server.Close()
	client, err := NewClient(Config{Host: server.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	got := map[string]string{}
	for _, role := range []string{"view", "edit"} {
		exists, err := client.ClusterRoleExists(ctx, role)
		got[role] = fmt.Sprint(exists, err)
	}
	_, err = client.NamespaceExists(ctx, "shop")
	got["namespace"] = fmt.Sprint(apierrors.IsForbidden(err), strings.Contains(fmt.Sprint(err), server.URL))
	want := map[string]string{"view": "true <nil>", "edit": "false <nil>", "namespace": "true true"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("the client's typed calls reach the server, and a refusal keeps its reason and names the host: -want, +got:\n%s", diff)
	}
}
