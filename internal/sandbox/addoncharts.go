package sandbox

import (
	"context"
	"embed"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"time"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	chartutil "helm.sh/helm/v4/pkg/chart/v2/util"
	"helm.sh/helm/v4/pkg/registry"

	"github.com/idp-platform/terraform-provider-idp/internal/catalog"
)

// fixtureAddonCharts are the charts of our own making that stand in for the add-on catalog's upstream
// charts (see its README.md), one directory per chart, named as the upstream chart. all: keeps the
// charts' _helpers.tpl.
//
//go:embed all:testdata/fixture-addon-charts
var fixtureAddonCharts embed.FS

const fixtureAddonChartsDir = "testdata/fixture-addon-charts"

// fixtureChartTime stamps every file of a packaged fixture, so the same chart version packages to the
// same bytes (and digest) on every push.
var fixtureChartTime = time.Date(2026, time.January, 1, 0, 0, 0, 0, time.UTC)

// addonMirrorPath is the registry path the fixtures are pushed under: the mirror is
// oci://<registry>/addons, and a chart is oci://<registry>/addons/<chart>:<version>.
const addonMirrorPath = "addons"

// PushAddonCharts pushes the fixture chart of every chart add-on of the catalog, at every version the
// catalog lists, to the OCI registry at registryHost (plain HTTP: the sandbox's registry on loopback),
// and returns the mirror to give the provider as addon_chart_mirror.
func PushAddonCharts(ctx context.Context, registryHost string) (string, error) {
	client, err := registry.NewClient(
		registry.ClientOptWriter(io.Discard),
		registry.ClientOptPlainHTTP(),
		// Push takes no context: a bounded client keeps a stuck registry from hanging the sandbox.
		registry.ClientOptHTTPClient(&http.Client{Timeout: time.Minute}),
	)
	if err != nil {
		return "", fmt.Errorf("cannot build an OCI client: %w", err)
	}
	mirror := "oci://" + registryHost + "/" + addonMirrorPath
	for _, addon := range catalog.Addons() {
		if addon.Chart == nil {
			continue
		}
		for _, v := range addon.Versions {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			data, err := packageFixtureChart(addon.Chart.Name, v)
			if err != nil {
				return "", err
			}
			ref := registryHost + "/" + addonMirrorPath + "/" + addon.Chart.Name + ":" + v.Version
			if _, err := client.Push(data, ref); err != nil {
				return "", fmt.Errorf("cannot push fixture chart %s: %w", ref, err)
			}
		}
	}
	return mirror, nil
}

// loadFixtureChart loads the fixture chart standing in for the upstream chart name, as it is in
// testdata (version 0.0.0).
func loadFixtureChart(name string) (*chart.Chart, error) {
	root := path.Join(fixtureAddonChartsDir, name)
	var files []*archive.BufferedFile
	err := fs.WalkDir(fixtureAddonCharts, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fixtureAddonCharts, p)
		if err != nil {
			return err
		}
		files = append(files, &archive.BufferedFile{Name: p[len(root)+1:], Data: data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("cannot read fixture chart %q: %w", name, err)
	}
	ch, err := loader.LoadFiles(files)
	if err != nil {
		return nil, fmt.Errorf("cannot load fixture chart %q: %w", name, err)
	}
	return ch, nil
}

// packageFixtureChart is the .tgz of the fixture chart name at the catalog's version v.
func packageFixtureChart(name string, v catalog.AddonVersion) ([]byte, error) {
	ch, err := loadFixtureChart(name)
	if err != nil {
		return nil, err
	}
	ch.Metadata.Version = v.Version
	ch.Metadata.AppVersion = v.AppVersion
	if ch.Metadata.AppVersion == "" {
		ch.Metadata.AppVersion = v.Version
	}
	ch.StampModTimes(fixtureChartTime)
	// Helm packages to a directory only.
	dir, err := os.MkdirTemp("", "idp-addon-chart-*")
	if err != nil {
		return nil, fmt.Errorf("cannot package fixture chart %s %s: %w", name, v.Version, err)
	}
	defer os.RemoveAll(dir)
	file, err := chartutil.Save(ch, dir)
	if err != nil {
		return nil, fmt.Errorf("cannot package fixture chart %s %s: %w", name, v.Version, err)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("cannot read packaged fixture chart %s %s: %w", name, v.Version, err)
	}
	return data, nil
}
