package access

import (
	"context"
	"encoding/json"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/rest"
)

// RecordsFieldManager owns what is written to AccessGrants, their spec by idp_access and their status
// by idp_access and the access controller alike: one manager, so that each SetStatus replaces the
// whole status (a field the last writer left out is dropped, not kept for another manager).
const RecordsFieldManager = ManagedBy

var recordsResource = schema.GroupVersionResource{Group: RecordGroup, Version: RecordVersion, Resource: RecordResource}

// Records reads and writes the AccessGrant records of the management cluster.
type Records struct {
	dynamic dynamic.Interface
	secrets corev1client.SecretsGetter
}

// NewRecords builds a client from the management cluster's REST configuration without contacting it.
func NewRecords(config *rest.Config) (*Records, error) {
	dynamicClient, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("cannot build a client for the management cluster: %w", err)
	}
	core, err := corev1client.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("cannot build a client for the management cluster: %w", err)
	}
	return &Records{dynamic: dynamicClient, secrets: core}, nil
}

// Apply creates or updates a record's spec (server-side apply); its status is SetStatus's.
func (r *Records) Apply(ctx context.Context, record Record) error {
	record.Status = RecordStatus{}
	object, err := RecordToObject(record)
	if err != nil {
		return err
	}
	return r.apply(ctx, object)
}

// SetStatus replaces a record's status (server-side apply to the status subresource).
func (r *Records) SetStatus(ctx context.Context, record Record) error {
	object, err := RecordToObject(record)
	if err != nil {
		return err
	}
	status := &unstructured.Unstructured{Object: map[string]any{"status": map[string]any{}}}
	if s, ok := object.Object["status"]; ok {
		status.Object["status"] = s
	}
	status.SetAPIVersion(RecordAPIVersion)
	status.SetKind(RecordKind)
	status.SetName(object.GetName())
	return r.apply(ctx, status, "status")
}

func (r *Records) apply(ctx context.Context, object *unstructured.Unstructured, subresource ...string) error {
	raw, err := json.Marshal(object.Object)
	if err != nil {
		return fmt.Errorf("cannot encode AccessGrant %s: %w", object.GetName(), err)
	}
	force := true
	if _, err := r.dynamic.Resource(recordsResource).Patch(ctx, object.GetName(), types.ApplyPatchType, raw,
		metav1.PatchOptions{FieldManager: RecordsFieldManager, Force: &force}, subresource...); err != nil {
		what := "AccessGrant " + object.GetName()
		if len(subresource) > 0 {
			what = "the status of " + what
		}
		return fmt.Errorf("cannot apply %s: %w", what, err)
	}
	return nil
}

// Get reads a record; false when there is none.
func (r *Records) Get(ctx context.Context, name string) (Record, bool, error) {
	object, err := r.dynamic.Resource(recordsResource).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Record{}, false, nil
	}
	if err != nil {
		return Record{}, false, fmt.Errorf("cannot read AccessGrant %s: %w", name, err)
	}
	record, err := RecordFromObject(object)
	if err != nil {
		return Record{}, false, err
	}
	return record, true, nil
}

// Delete removes a record; one that is already gone is no error.
func (r *Records) Delete(ctx context.Context, name string) error {
	err := r.dynamic.Resource(recordsResource).Delete(ctx, name, metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot delete AccessGrant %s: %w", name, err)
	}
	return nil
}

// List reads every record.
func (r *Records) List(ctx context.Context) ([]Record, error) {
	list, err := r.dynamic.Resource(recordsResource).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("cannot list AccessGrants: %w", err)
	}
	records := make([]Record, 0, len(list.Items))
	for i := range list.Items {
		record, err := RecordFromObject(&list.Items[i])
		if err != nil {
			return nil, err
		}
		records = append(records, record)
	}
	return records, nil
}

// Kubeconfig reads the kubeconfig a record's KubeconfigSecret names.
func (r *Records) Kubeconfig(ctx context.Context, ref SecretRef) ([]byte, error) {
	secret, err := r.secrets.Secrets(ref.Namespace).Get(ctx, ref.Name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("cannot read the kubeconfig secret %s/%s: %w", ref.Namespace, ref.Name, err)
	}
	kubeconfig := secret.Data[ref.Key]
	if len(kubeconfig) == 0 {
		return nil, fmt.Errorf("the kubeconfig secret %s/%s has no key %q", ref.Namespace, ref.Name, ref.Key)
	}
	return kubeconfig, nil
}
