package helm

import (
	"context"
	"errors"
	"fmt"
	"sync"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
)

// listPageSize bounds one list response; a namespace with more objects of a kind costs more calls.
const listPageSize = 500

var secrets = schema.GroupVersionResource{Version: "v1", Resource: "secrets"}

// notHelmStorage selects the Secrets that are not Helm's release records: those hold every revision of every
// release of the namespace, up to 1 MiB each, and are never part of a release.
const notHelmStorage = "owner!=helm"

// objectLists holds the live objects drift compares releases with: per namespace and kind, every object,
// read with one list call. A refresh of many releases in one cluster then costs one call per namespace
// and kind instead of one per object. Cluster-scoped kinds are listed once (namespace ""). As for
// releaseLists, the engine's own writes drop the lists of the release's namespace and the cluster-scoped
// ones; others' changes, and objects a chart places in another namespace, are seen by the next provider
// process (Terraform starts one per plan and per apply).
type objectLists struct {
	client dynamic.Interface
	// lists hold, per namespace and kind, every object by name; nil when the kind cannot be listed, when
	// its objects are read one by one.
	lists listCache[objectListKey, map[string]*unstructured.Unstructured]
}

type objectListKey struct {
	namespace string
	resource  schema.GroupVersionResource
}

// forget drops the lists of namespace and every cluster-scoped list: a release installed in a namespace
// may hold cluster-scoped objects too.
func (l *objectLists) forget(namespace string) {
	l.lists.forget(func(key objectListKey) bool { return key.namespace == namespace || key.namespace == "" })
}

// prefetch reads the lists of keys side by side and returns their failures joined. The first release
// refreshed in a namespace needs a list per kind it holds; read one after another, they would hold up
// every other release of the namespace, which waits for the same lists.
func (l *objectLists) prefetch(ctx context.Context, keys []objectListKey) error {
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i, key := range keys {
		wg.Go(func() {
			_, errs[i] = l.lists.load(key, func() (map[string]*unstructured.Unstructured, error) {
				return l.list(ctx, key.resource, key.namespace)
			})
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// get returns the live object resource/namespace/name, or nil when there is none.
func (l *objectLists) get(ctx context.Context, resource schema.GroupVersionResource, namespace, name string) (*unstructured.Unstructured, error) {
	byName, err := l.lists.load(objectListKey{namespace: namespace, resource: resource}, func() (map[string]*unstructured.Unstructured, error) {
		return l.list(ctx, resource, namespace)
	})
	if err != nil {
		return nil, err
	}
	if byName != nil {
		// The list of Secrets leaves out those labelled as Helm's; a release's own Secret may carry that
		// label too, so one the list lacks is looked for by name before it is called missing.
		if live, ok := byName[name]; ok || resource != secrets {
			return live, nil
		}
	}
	live, err := l.client.Resource(resource).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return live, err
}

// list reads every object of resource in namespace, page by page. A kind that cannot be listed (a
// resource without the list verb, or a list RBAC forbids) yields nil, so that its objects are read one
// by one, as before lists were used.
func (l *objectLists) list(ctx context.Context, resource schema.GroupVersionResource, namespace string) (map[string]*unstructured.Unstructured, error) {
	byName := map[string]*unstructured.Unstructured{}
	options := metav1.ListOptions{Limit: listPageSize}
	if resource == secrets {
		options.LabelSelector = notHelmStorage
	}
	for {
		page, err := l.client.Resource(resource).Namespace(namespace).List(ctx, options)
		if apierrors.IsMethodNotSupported(err) || apierrors.IsForbidden(err) {
			return nil, nil
		}
		if err != nil {
			where := "the cluster"
			if namespace != "" {
				where = "namespace " + namespace
			}
			return nil, fmt.Errorf("cannot list the %s of %s: %w", resource.Resource, where, err)
		}
		for i := range page.Items {
			byName[page.Items[i].GetName()] = &page.Items[i]
		}
		if options.Continue = page.GetContinue(); options.Continue == "" {
			return byName, nil
		}
	}
}
