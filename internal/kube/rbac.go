package kube

// Binding is a RoleBinding (Namespace set) or ClusterRoleBinding (Namespace empty) of a ClusterRole to
// groups.
type Binding struct {
	Namespace   string
	Name        string
	Role        string
	Groups      []string
	Labels      map[string]string
	Annotations map[string]string
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
