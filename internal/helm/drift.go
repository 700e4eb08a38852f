package helm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
)

// Drift compares the live objects of a release with its manifest and describes each difference: an
// object that is gone, or a field the manifest sets that now has another value. Fields the manifest
// does not set (defaults, status, other controllers' fields) are not drift. Live objects are read
// through the engine's lists, one per namespace and kind, shared by every release the engine refreshes.
func (e *Engine) Drift(ctx context.Context, rel Release) ([]string, error) {
	objects, err := e.releaseObjects(rel)
	if err != nil {
		return nil, err
	}
	if err := e.objects.prefetch(ctx, listKeys(objects)); err != nil {
		return nil, err
	}
	var drift []string
	for _, object := range objects {
		desired := object.desired
		id := objectID(object.kind, object.namespace, desired.GetName())
		live, err := e.objects.get(ctx, object.resource, object.namespace, desired.GetName())
		if err != nil {
			return nil, fmt.Errorf("cannot read %s: %w", id, err)
		}
		if live == nil {
			drift = append(drift, id+" is missing")
			continue
		}
		// A Secret's values never appear in a drift report, which ends up in plan and state.
		redact := object.group == "" && object.kind == "Secret"
		for _, field := range fieldDrift(driftView(desired.Object), driftView(live.Object), "", redact) {
			drift = append(drift, id+": "+field)
		}
	}
	sort.Strings(drift)
	return drift, nil
}

// listKeys are the object lists that hold the live objects of objects, each once.
func listKeys(objects []releaseObject) []objectListKey {
	var keys []objectListKey
	for _, object := range objects {
		key := objectListKey{namespace: object.namespace, resource: object.resource}
		if !slices.Contains(keys, key) {
			keys = append(keys, key)
		}
	}
	return keys
}

// Resources names every object of a release as kind/namespace/name (kind/name when cluster-scoped).
func (e *Engine) Resources(rel Release) ([]string, error) {
	objects, err := e.releaseObjects(rel)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(objects))
	for _, object := range objects {
		if object.namespace == "" {
			names = append(names, object.kind+"/"+object.desired.GetName())
			continue
		}
		names = append(names, object.kind+"/"+object.namespace+"/"+object.desired.GetName())
	}
	sort.Strings(names)
	return names, nil
}

// releaseObject is an object of a release's manifest with where it lives in the cluster.
type releaseObject struct {
	desired   *unstructured.Unstructured
	group     string
	kind      string
	resource  schema.GroupVersionResource
	namespace string // empty for cluster-scoped objects
}

// releaseObjects maps the objects of a release's manifest to where they live. A revision's manifest
// never changes, so each revision is parsed once per engine: a refresh asks for the objects twice
// (drift and the resources attribute), and parsing the YAML dominated it.
func (e *Engine) releaseObjects(rel Release) ([]releaseObject, error) {
	// The manifest's digest is in the key: a release uninstalled and installed again starts at revision 1.
	key := fmt.Sprintf("%s/%s#%d@%x", rel.Namespace, rel.Name, rel.Revision, sha256.Sum256([]byte(rel.Manifest)))
	return e.parsed.load(key, func() ([]releaseObject, error) { return e.mapManifest(rel) })
}

// mapManifest parses a release's manifest and maps each object to its resource and namespace. Callers
// share the result, so nothing may change the objects.
func (e *Engine) mapManifest(rel Release) ([]releaseObject, error) {
	manifest, err := manifestObjects(rel.Manifest)
	if err != nil {
		return nil, fmt.Errorf("cannot parse the manifest of release %s/%s: %w", rel.Namespace, rel.Name, err)
	}
	objects := make([]releaseObject, 0, len(manifest))
	for _, desired := range manifest {
		gvk := desired.GroupVersionKind()
		mapping, err := e.driftMapper.RESTMapping(gvk.GroupKind(), gvk.Version)
		if err != nil {
			return nil, fmt.Errorf("cannot map %s of release %s/%s: %w", gvk, rel.Namespace, rel.Name, err)
		}
		namespace := ""
		if mapping.Scope.Name() == meta.RESTScopeNameNamespace {
			namespace = desired.GetNamespace()
			if namespace == "" {
				namespace = rel.Namespace
			}
		}
		objects = append(objects, releaseObject{desired: desired, group: gvk.Group, kind: gvk.Kind, resource: mapping.Resource, namespace: namespace})
	}
	return objects, nil
}

func objectID(kind, namespace, name string) string {
	if namespace == "" {
		return kind + " " + name
	}
	return kind + " " + namespace + "/" + name
}

// manifestObjects splits a release manifest into its objects.
func manifestObjects(manifest string) ([]*unstructured.Unstructured, error) {
	decoder := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	var objects []*unstructured.Unstructured
	for {
		var raw map[string]any
		if err := decoder.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return objects, nil
			}
			return nil, err
		}
		if len(raw) == 0 {
			continue
		}
		objects = append(objects, &unstructured.Unstructured{Object: raw})
	}
}

// driftView keeps what a release sets and drift is about: everything but status and the metadata
// the server owns, with numbers in one representation.
func driftView(object map[string]any) any {
	trimmed := map[string]any{}
	for key, value := range object {
		switch key {
		case "status":
		case "metadata":
			metadata, _ := value.(map[string]any)
			trimmed[key] = map[string]any{"labels": metadata["labels"], "annotations": metadata["annotations"]}
		default:
			trimmed[key] = value
		}
	}
	raw, err := json.Marshal(trimmed)
	if err != nil {
		return trimmed
	}
	var normalized any
	decoder := json.NewDecoder(bytes.NewReader(raw))
	decoder.UseNumber()
	if err := decoder.Decode(&normalized); err != nil {
		return trimmed
	}
	return normalized
}

// fieldDrift lists the fields of desired whose value differs in live. desired's absent or null fields
// are not compared. With redact, the report names the fields but not their values.
func fieldDrift(desired, live any, at string, redact bool) []string {
	switch d := desired.(type) {
	case nil:
		return nil
	case map[string]any:
		l, ok := live.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s is %s, the release has an object", orRoot(at), describe(live))}
		}
		keys := make([]string, 0, len(d))
		for key := range d {
			keys = append(keys, key)
		}
		sort.Strings(keys)
		var out []string
		for _, key := range keys {
			out = append(out, fieldDrift(d[key], l[key], at+"."+key, redact)...)
		}
		return out
	case []any:
		l, ok := live.([]any)
		if !ok || len(l) != len(d) {
			return []string{fmt.Sprintf("%s has %s, the release has %d items", orRoot(at), describe(live), len(d))}
		}
		var out []string
		for i := range d {
			out = append(out, fieldDrift(d[i], l[i], fmt.Sprintf("%s[%d]", at, i), redact)...)
		}
		return out
	default:
		if !reflect.DeepEqual(desired, live) {
			if redact {
				return []string{orRoot(at) + " differs from the release"}
			}
			return []string{fmt.Sprintf("%s is %s, the release has %s", orRoot(at), describe(live), describe(desired))}
		}
		return nil
	}
}

func orRoot(at string) string {
	if at == "" {
		return "the object"
	}
	return strings.TrimPrefix(at, ".")
}

func describe(value any) string {
	switch v := value.(type) {
	case nil:
		return "unset"
	case []any:
		return fmt.Sprintf("%d items", len(v))
	case map[string]any:
		return "an object"
	default:
		raw, _ := json.Marshal(v)
		return string(raw)
	}
}
