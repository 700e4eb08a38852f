// Package catalog resolves the platform's standardized charts (`chart = { catalog = "web-service" }`),
// embedded in the provider from charts/ and versioned by their Chart.yaml.
package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"

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

// Load returns the catalog chart name; when version is not empty it must be the version shipped.
func Load(name, version string) (*chart.Chart, error) {
	if _, err := fs.Stat(charts.FS, path.Join(name, "Chart.yaml")); err != nil {
		return nil, fmt.Errorf("%w: %q (the catalog has %v)", ErrUnknownChart, name, Names())
	}
	var files []*archive.BufferedFile
	err := fs.WalkDir(charts.FS, name, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(charts.FS, p)
		if err != nil {
			return err
		}
		rel := p[len(name)+1:]
		files = append(files, &archive.BufferedFile{Name: rel, Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read catalog chart %q: %w", name, err)
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
