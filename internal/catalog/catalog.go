// Package catalog resolves the platform's standardized charts (`chart = { catalog = "web-service" }`),
// embedded in the provider from charts/ and versioned by their Chart.yaml.
package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"sync"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"

	"github.com/idp-platform/terraform-provider-idp/charts"
)

// ErrUnknownChart is returned for a name the catalog does not ship.
var ErrUnknownChart = errors.New("no such chart in the catalog")

// Names lists the catalog's charts.
func Names() []string {
	entries, err := fs.ReadDir(charts.FS, ".")
	if err != nil {
		return nil
	}
	var names []string
	for _, entry := range entries {
		if entry.IsDir() {
			names = append(names, entry.Name())
		}
	}
	sort.Strings(names)
	return names
}

// Load returns the catalog chart name; when version is not empty it must be the version shipped. The
// chart's files are read once per process; every call loads its own chart from them, since Helm changes
// the charts it installs.
func Load(name, version string) (*chart.Chart, error) {
	files, err := chartFiles(name)
	if err != nil {
		return nil, err
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("cannot load catalog chart %q: %w", name, err)
	}
	if version != "" && version != ch.Metadata.Version {
		return nil, fmt.Errorf("catalog chart %q is at version %s, not %s", name, ch.Metadata.Version, version)
	}
	return ch, nil
}

var (
	filesMu sync.Mutex
	// files are the catalog's charts read so far, by name. The loader does not change them.
	files = map[string][]*archive.BufferedFile{}
)

func chartFiles(name string) ([]*archive.BufferedFile, error) {
	filesMu.Lock()
	defer filesMu.Unlock()
	if cached, ok := files[name]; ok {
		return cached, nil
	}
	if _, err := fs.Stat(charts.FS, path.Join(name, "Chart.yaml")); err != nil {
		return nil, fmt.Errorf("%w: %q (the catalog has %v)", ErrUnknownChart, name, Names())
	}
	var read []*archive.BufferedFile
	err := fs.WalkDir(charts.FS, name, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(charts.FS, p)
		if err != nil {
			return err
		}
		read = append(read, &archive.BufferedFile{Name: p[len(name)+1:], Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read catalog chart %q: %w", name, err)
	}
	files[name] = read
	return read, nil
}
