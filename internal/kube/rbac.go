package kube

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	authorizationv1 "k8s.io/api/authorization/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	rbacv1ac "k8s.io/client-go/applyconfigurations/rbac/v1"
	"k8s.io/client-go/kubernetes"
)

// Binding is a RoleBinding (Namespace set) or ClusterRoleBinding (Namespace empty) of a ClusterRole to
// groups.
type Binding struct {
	Namespace string
	Name      string
	Role      string
	Groups    []string
	// OtherSubjects are the binding's subjects that are not groups, as "Kind:name" or
	// "Kind:namespace/name"; read from the cluster, never applied.
	OtherSubjects []string
	Labels        map[string]string
	Annotations   map[string]string
}

// Review asks whether a user with groups may do Verb on a resource (a SubjectAccessReview).
type Review struct {
	User        string
	Groups      []string
	Verb        string
	APIGroup    string
	Resource    string
	Subresource string
	Namespace   string
	Name        string
}

// Decision is the API server's answer to a Review.
type Decision struct {
	Allowed bool
	// Denied is true when an authorizer denied explicitly; neither Allowed nor Denied means no opinion.
	Denied bool
	Reason string
}

// FieldManager owns the fields of what the provider applies server-side.
const FieldManager = "terraform-provider-idp"

// ApplyBinding makes the binding what b says, server-side applied with force: the provider owns its
// bindings, so a field another manager took is taken back. A binding of the name with another roleRef
// is deleted and created again, since the API server refuses to change a roleRef.
func (c *Client) ApplyBinding(ctx context.Context, b Binding) error {
	clientset, err := c.clientset()
	if err != nil {
		return err
	}
	return rbac{clientset: clientset, host: c.rest.Host}.applyBinding(ctx, b)
}

// Bindings lists the ClusterRoleBindings and the RoleBindings of every namespace that match the label
// selector, sorted by namespace (cluster-wide first) and name.
func (c *Client) Bindings(ctx context.Context, labelSelector string) ([]Binding, error) {
	clientset, err := c.clientset()
	if err != nil {
		return nil, err
	}
	return rbac{clientset: clientset, host: c.rest.Host}.bindings(ctx, labelSelector)
}

// DeleteBinding deletes the RoleBinding in namespace, or the ClusterRoleBinding when namespace is
// empty; one that does not exist is already deleted.
func (c *Client) DeleteBinding(ctx context.Context, namespace, name string) error {
	clientset, err := c.clientset()
	if err != nil {
		return err
	}
	return rbac{clientset: clientset, host: c.rest.Host}.deleteBinding(ctx, namespace, name)
}

// ClusterRoleExists reports whether the cluster has the ClusterRole.
func (c *Client) ClusterRoleExists(ctx context.Context, name string) (bool, error) {
	clientset, err := c.clientset()
	if err != nil {
		return false, err
	}
	return rbac{clientset: clientset, host: c.rest.Host}.clusterRoleExists(ctx, name)
}

// NamespaceExists reports whether the cluster has the namespace.
func (c *Client) NamespaceExists(ctx context.Context, name string) (bool, error) {
	clientset, err := c.clientset()
	if err != nil {
		return false, err
	}
	return rbac{clientset: clientset, host: c.rest.Host}.namespaceExists(ctx, name)
}

// ReviewAccess asks the API server's authorizers, through a SubjectAccessReview, whether r.User with
// exactly r.Groups may do what r says. The groups are not completed: a caller that wants the answer
// for a real login adds system:authenticated itself.
func (c *Client) ReviewAccess(ctx context.Context, r Review) (Decision, error) {
	clientset, err := c.clientset()
	if err != nil {
		return Decision{}, err
	}
	return rbac{clientset: clientset, host: c.rest.Host}.reviewAccess(ctx, r)
}

// clientset builds typed clients from the client's configuration. It is cheap: client-go shares the
// TLS transports of equal configurations.
func (c *Client) clientset() (kubernetes.Interface, error) {
	clientset, err := kubernetes.NewForConfig(c.rest)
	if err != nil {
		return nil, fmt.Errorf("cannot build a client for %s: %w", c.rest.Host, err)
	}
	return clientset, nil
}

// rbac does the work of the RBAC methods on any clientset, so tests can hand it a fake one.
type rbac struct {
	clientset kubernetes.Interface
	// host names the cluster in errors.
	host string
}

func clusterRoleRef(role string) rbacv1.RoleRef {
	return rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: role}
}

func groupSubjects(groups []string) []*rbacv1ac.SubjectApplyConfiguration {
	subjects := make([]*rbacv1ac.SubjectApplyConfiguration, 0, len(groups))
	for _, group := range groups {
		subjects = append(subjects, rbacv1ac.Subject().WithKind(rbacv1.GroupKind).WithAPIGroup(rbacv1.GroupName).WithName(group))
	}
	return subjects
}

func (r rbac) applyBinding(ctx context.Context, b Binding) error {
	want := clusterRoleRef(b.Role)
	roleRef := rbacv1ac.RoleRef().WithAPIGroup(want.APIGroup).WithKind(want.Kind).WithName(want.Name)
	options := metav1.ApplyOptions{FieldManager: FieldManager, Force: true}
	if b.Namespace == "" {
		bindings := r.clientset.RbacV1().ClusterRoleBindings()
		existing, err := bindings.Get(ctx, b.Name, metav1.GetOptions{})
		switch {
		case apierrors.IsNotFound(err):
		case err != nil:
			return fmt.Errorf("cannot read ClusterRoleBinding %s on %s: %w", b.Name, r.host, err)
		case existing.RoleRef != want:
			if err := r.recreate(ctx, "", b.Name, existing.UID); err != nil {
				return err
			}
		}
		apply := rbacv1ac.ClusterRoleBinding(b.Name).WithLabels(b.Labels).WithAnnotations(b.Annotations).
			WithRoleRef(roleRef).WithSubjects(groupSubjects(b.Groups)...)
		if _, err := bindings.Apply(ctx, apply, options); err != nil {
			return fmt.Errorf("cannot apply ClusterRoleBinding %s on %s: %w", b.Name, r.host, err)
		}
		return nil
	}
	bindings := r.clientset.RbacV1().RoleBindings(b.Namespace)
	existing, err := bindings.Get(ctx, b.Name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("cannot read RoleBinding %s/%s on %s: %w", b.Namespace, b.Name, r.host, err)
	case existing.RoleRef != want:
		if err := r.recreate(ctx, b.Namespace, b.Name, existing.UID); err != nil {
			return err
		}
	}
	apply := rbacv1ac.RoleBinding(b.Name, b.Namespace).WithLabels(b.Labels).WithAnnotations(b.Annotations).
		WithRoleRef(roleRef).WithSubjects(groupSubjects(b.Groups)...)
	if _, err := bindings.Apply(ctx, apply, options); err != nil {
		return fmt.Errorf("cannot apply RoleBinding %s/%s on %s: %w", b.Namespace, b.Name, r.host, err)
	}
	return nil
}

// recreate deletes the binding that was read with uid so that it can be applied with another roleRef.
// The UID precondition keeps it from deleting a binding someone else made in the meantime; a binding
// already gone is fine.
func (r rbac) recreate(ctx context.Context, namespace, name string, uid types.UID) error {
	options := metav1.DeleteOptions{Preconditions: &metav1.Preconditions{UID: &uid}}
	var err error
	if namespace == "" {
		err = r.clientset.RbacV1().ClusterRoleBindings().Delete(ctx, name, options)
	} else {
		err = r.clientset.RbacV1().RoleBindings(namespace).Delete(ctx, name, options)
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot delete %s on %s to change its role: %w", BindingRef(namespace, name), r.host, err)
	}
	return nil
}

// BindingRef names a binding as messages do: "RoleBinding ns/name" or "ClusterRoleBinding name".
func BindingRef(namespace, name string) string {
	if namespace == "" {
		return "ClusterRoleBinding " + name
	}
	return "RoleBinding " + namespace + "/" + name
}

func (r rbac) bindings(ctx context.Context, labelSelector string) ([]Binding, error) {
	options := metav1.ListOptions{LabelSelector: labelSelector}
	clusterBindings, err := r.clientset.RbacV1().ClusterRoleBindings().List(ctx, options)
	if err != nil {
		return nil, fmt.Errorf("cannot list ClusterRoleBindings on %s: %w", r.host, err)
	}
	roleBindings, err := r.clientset.RbacV1().RoleBindings(metav1.NamespaceAll).List(ctx, options)
	if err != nil {
		return nil, fmt.Errorf("cannot list RoleBindings on %s: %w", r.host, err)
	}
	out := make([]Binding, 0, len(clusterBindings.Items)+len(roleBindings.Items))
	for _, item := range clusterBindings.Items {
		out = append(out, bindingFrom(item.ObjectMeta, item.RoleRef, item.Subjects))
	}
	for _, item := range roleBindings.Items {
		out = append(out, bindingFrom(item.ObjectMeta, item.RoleRef, item.Subjects))
	}
	slices.SortFunc(out, func(a, b Binding) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// bindingFrom keeps the roleRef's name whatever its kind: the provider binds only ClusterRoles, and a
// binding of a Role under its labels is still one to report.
func bindingFrom(meta metav1.ObjectMeta, roleRef rbacv1.RoleRef, subjects []rbacv1.Subject) Binding {
	var groups, others []string
	for _, subject := range subjects {
		switch {
		case subject.Kind == rbacv1.GroupKind:
			groups = append(groups, subject.Name)
		case subject.Namespace != "":
			others = append(others, subject.Kind+":"+subject.Namespace+"/"+subject.Name)
		default:
			others = append(others, subject.Kind+":"+subject.Name)
		}
	}
	return Binding{
		Namespace: meta.Namespace, Name: meta.Name, Role: roleRef.Name, Groups: groups, OtherSubjects: others,
		Labels: maps.Clone(meta.Labels), Annotations: maps.Clone(meta.Annotations),
	}
}

func (r rbac) deleteBinding(ctx context.Context, namespace, name string) error {
	var err error
	if namespace == "" {
		err = r.clientset.RbacV1().ClusterRoleBindings().Delete(ctx, name, metav1.DeleteOptions{})
	} else {
		err = r.clientset.RbacV1().RoleBindings(namespace).Delete(ctx, name, metav1.DeleteOptions{})
	}
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot delete %s on %s: %w", BindingRef(namespace, name), r.host, err)
	}
	return nil
}

func (r rbac) clusterRoleExists(ctx context.Context, name string) (bool, error) {
	_, err := r.clientset.RbacV1().ClusterRoles().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot read ClusterRole %s on %s: %w", name, r.host, err)
	}
	return true, nil
}

func (r rbac) namespaceExists(ctx context.Context, name string) (bool, error) {
	_, err := r.clientset.CoreV1().Namespaces().Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("cannot read namespace %s on %s: %w", name, r.host, err)
	}
	return true, nil
}

func (r rbac) reviewAccess(ctx context.Context, review Review) (Decision, error) {
	sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User:   review.User,
		Groups: slices.Clone(review.Groups),
		ResourceAttributes: &authorizationv1.ResourceAttributes{
			Namespace: review.Namespace, Verb: review.Verb, Group: review.APIGroup, Resource: review.Resource,
			Subresource: review.Subresource, Name: review.Name,
		},
	}}
	answer, err := r.clientset.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
	if err != nil {
		return Decision{}, fmt.Errorf("cannot review the access of %s on %s: %w", review.User, r.host, err)
	}
	reason := answer.Status.Reason
	// An authorizer that could not evaluate every rule (a binding of a missing role, say) says so
	// apart from its reason; without it a "no" would hide why.
	if evaluation := answer.Status.EvaluationError; evaluation != "" {
		if reason != "" {
			reason += "; "
		}
		reason += "evaluation error: " + evaluation
	}
	return Decision{Allowed: answer.Status.Allowed, Denied: answer.Status.Denied, Reason: reason}, nil
}
