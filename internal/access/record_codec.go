package access

import (
	"fmt"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// recordSpec is the spec of an AccessGrant: Record without its name and status, which live elsewhere
// in the object.
type recordSpec struct {
	Grant            Grant     `json:"grant"`
	KubeconfigSecret SecretRef `json:"kubeconfigSecret"`
}

// RecordToObject is the AccessGrant object of a record: its spec, its status when it has one, and the
// labels and annotation every object of a grant carries. An empty Name is the grant's Name().
func RecordToObject(record Record) (*unstructured.Unstructured, error) {
	name := record.Name
	if name == "" {
		name = record.Grant.Name()
	}
	spec, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&recordSpec{Grant: record.Grant, KubeconfigSecret: record.KubeconfigSecret})
	if err != nil {
		return nil, fmt.Errorf("cannot encode AccessGrant %s: %w", name, err)
	}
	object := &unstructured.Unstructured{Object: map[string]any{"spec": spec}}
	object.SetAPIVersion(RecordAPIVersion)
	object.SetKind(RecordKind)
	object.SetName(name)
	object.SetLabels(map[string]string{
		LabelManagedBy: ManagedBy,
		LabelAccess:    record.Grant.Group,
		LabelGrant:     name,
		// The label the cluster's kubeconfig secret is released by (see crossplane.ReleaseStackKubeconfigSecret).
		LabelCluster: record.Grant.Cluster,
	})
	object.SetAnnotations(map[string]string{AnnotationGrant: record.Grant.ID()})
	if record.Status != (RecordStatus{}) {
		status, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&record.Status)
		if err != nil {
			return nil, fmt.Errorf("cannot encode the status of AccessGrant %s: %w", name, err)
		}
		object.Object["status"] = status
	}
	return object, nil
}

// RecordFromObject reads a record from an AccessGrant object.
func RecordFromObject(object *unstructured.Unstructured) (Record, error) {
	if object.GetAPIVersion() != RecordAPIVersion || object.GetKind() != RecordKind {
		return Record{}, fmt.Errorf("%s %s is not a %s %s", object.GetAPIVersion(), object.GetKind(), RecordAPIVersion, RecordKind)
	}
	record := Record{Name: object.GetName()}
	var spec recordSpec
	if raw, ok := object.Object["spec"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &spec); err != nil {
			return Record{}, fmt.Errorf("cannot decode AccessGrant %s: %w", record.Name, err)
		}
	}
	record.Grant, record.KubeconfigSecret = spec.Grant, spec.KubeconfigSecret
	if raw, ok := object.Object["status"].(map[string]any); ok {
		if err := runtime.DefaultUnstructuredConverter.FromUnstructured(raw, &record.Status); err != nil {
			return Record{}, fmt.Errorf("cannot decode the status of AccessGrant %s: %w", record.Name, err)
		}
	}
	return record, nil
}
