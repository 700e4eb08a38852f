package helm

import (
	"fmt"
	"os"

	"helm.sh/helm/v4/pkg/chart/loader/archive"
	chart "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
)

// Limits on a chart read from disk or a repository. Helm's own loader refuses absolute paths, "../"
// entries and more than archive.MaxDecompressedChartSize; the platform's charts are small, so the
// limits are tighter than Helm's defaults.
const (
	MaxChartArchiveBytes      = 4 << 20
	MaxChartDecompressedBytes = 16 << 20
)

func init() {
	// Helm reads its limit from a package variable; the provider process loads charts only here.
	archive.MaxDecompressedChartSize = MaxChartDecompressedBytes
}

// LoadChart loads a chart directory or .tgz archive, refusing oversized archives before reading them.
func LoadChart(path string) (*chart.Chart, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read chart %s: %w", path, err)
	}
	if !info.IsDir() && info.Size() > MaxChartArchiveBytes {
		return nil, fmt.Errorf("chart archive %s is %d bytes, more than the %d allowed", path, info.Size(), MaxChartArchiveBytes)
	}
	ch, err := loader.Load(path)
	if err != nil {
		return nil, fmt.Errorf("cannot load chart %s: %w", path, err)
	}
	return ch, nil
}
