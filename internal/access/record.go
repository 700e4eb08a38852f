package access

import "time"

// API coordinates of the AccessGrant record: a plain custom resource in the management cluster (not
// a composite), written by idp_access for time-bound grants and read by the access controller.
const (
	RecordGroup      = "platform.idp.dev"
	RecordVersion    = "v1alpha1"
	RecordKind       = "AccessGrant"
	RecordResource   = "accessgrants"
	RecordAPIVersion = RecordGroup + "/" + RecordVersion
)

// Record is an AccessGrant's spec and status: the grant as applied, and where the controller finds the
// workload cluster's admin kubeconfig.
type Record struct {
	// Name is the object's name, Grant.Name().
	Name  string `json:"-"`
	Grant Grant  `json:"grant"`
	// KubeconfigSecret is a Secret in the management cluster holding the workload cluster's admin
	// kubeconfig under Key (the cluster's connection secret, or the one written for a registered cluster).
	KubeconfigSecret SecretRef    `json:"kubeconfigSecret"`
	Status           RecordStatus `json:"-"`
}

// SecretRef names a key of a Secret in the management cluster.
type SecretRef struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Key       string `json:"key"`
}

// RecordStatus is what the controller reports on an AccessGrant.
type RecordStatus struct {
	// Phase is Active until the controller has revoked the grant, then Expired.
	Phase     string     `json:"phase,omitempty"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	// Message says what the controller did or why it could not revoke the grant yet.
	Message string `json:"message,omitempty"`
}

// Phases of an AccessGrant.
const (
	PhaseActive  = "Active"
	PhaseExpired = "Expired"
)
