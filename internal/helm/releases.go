package helm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"

	"helm.sh/helm/v4/pkg/release"
	"helm.sh/helm/v4/pkg/storage/driver"
	apicorev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1 "k8s.io/client-go/kubernetes/typed/core/v1"
)

// releaseLists holds, per namespace, the latest revision of every release, read with one list call.
// A refresh of many releases in one cluster then costs one call per namespace instead of one per
// release. The engine's own writes drop the namespace's list; changes made by others are seen by
// the next provider process.
type releaseLists = listCache[string, map[string]Release]

// Find reads the latest revision of a release through the engine's per-namespace release list: the
// first Find in a namespace lists its releases, later ones are answered from that list until the engine
// changes a release there. ErrReleaseNotFound when there is none. Refresh uses Find; operations that
// act on a release use Get, which always reads the cluster.
func (e *Engine) Find(ctx context.Context, namespace, name string) (Release, error) {
	latest, err := e.releases.load(namespace, func() (map[string]Release, error) { return e.listLatest(ctx, namespace) })
	if err != nil {
		return Release{}, err
	}
	rel, ok := latest[name]
	if !ok {
		// The list leaves superseded revisions out; a release whose newest record was deleted by hand (a
		// common way to unstick one) has a superseded revision as its latest, which only a read finds.
		return e.latestRecord(ctx, namespace, name)
	}
	return rel, nil
}

// latestRecord reads the newest record of a release, whatever its status, with one list of its records.
// It is what Get reads, without the reachability check (a GET /version) Helm's action makes first.
func (e *Engine) latestRecord(ctx context.Context, namespace, name string) (Release, error) {
	if err := ctx.Err(); err != nil {
		return Release{}, err
	}
	storage := driver.NewSecrets(e.core.Secrets(namespace))
	storage.SetLogger(slog.NewTextHandler(io.Discard, nil))
	records, err := storage.Query(map[string]string{"name": name, "owner": "helm"})
	if errors.Is(err, driver.ErrReleaseNotFound) {
		return Release{}, fmt.Errorf("release %s/%s: %w", namespace, name, ErrReleaseNotFound)
	}
	if err != nil {
		return Release{}, fmt.Errorf("cannot read release %s/%s: %w", namespace, name, err)
	}
	var latest Release
	for _, record := range records {
		rel, err := fromHelm(record)
		if err != nil {
			return Release{}, err
		}
		if rel.Revision > latest.Revision {
			latest = rel
		}
	}
	if latest.Revision == 0 {
		return Release{}, fmt.Errorf("release %s/%s: %w", namespace, name, ErrReleaseNotFound)
	}
	return latest, nil
}

// listLatest lists the releases of namespace and keeps the latest revision of each, by name.
func (e *Engine) listLatest(ctx context.Context, namespace string) (map[string]Release, error) {
	releases, err := e.List(ctx, namespace)
	if err != nil {
		return nil, err
	}
	latest := make(map[string]Release, len(releases))
	for _, rel := range releases {
		latest[rel.Name] = rel
	}
	return latest, nil
}

// List reads the latest revision of every release in namespace ("" for every namespace) with one list
// call, sorted by namespace and name. Superseded revisions, the history, are left out of the list: a
// release's latest revision is never superseded, and decoding every revision of a long history (chart
// included) would be most of a refresh's work.
func (e *Engine) List(ctx context.Context, namespace string) ([]Release, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	storage := driver.NewSecrets(withoutHistory{e.core.Secrets(namespace)})
	storage.SetLogger(slog.NewTextHandler(io.Discard, nil))
	all, err := storage.List(func(release.Releaser) bool { return true })
	if err != nil {
		where := "namespace " + strconv.Quote(namespace)
		if namespace == "" {
			where = "every namespace"
		}
		return nil, fmt.Errorf("cannot list the releases of %s: %w", where, err)
	}
	type key struct{ namespace, name string }
	latest := map[key]Release{}
	for _, releaser := range all {
		rel, err := fromHelm(releaser)
		if err != nil {
			return nil, err
		}
		at := key{rel.Namespace, rel.Name}
		if current, ok := latest[at]; !ok || rel.Revision > current.Revision {
			latest[at] = rel
		}
	}
	releases := slices.Collect(maps.Values(latest))
	slices.SortFunc(releases, func(a, b Release) int {
		return cmp.Or(strings.Compare(a.Namespace, b.Namespace), strings.Compare(a.Name, b.Name))
	})
	return releases, nil
}

// withoutHistory lists Helm's release Secrets without the superseded revisions.
type withoutHistory struct {
	corev1.SecretInterface
}

func (s withoutHistory) List(ctx context.Context, options metav1.ListOptions) (*apicorev1.SecretList, error) {
	if options.LabelSelector != "" {
		options.LabelSelector += ","
	}
	options.LabelSelector += "status!=superseded"
	return s.SecretInterface.List(ctx, options)
}
