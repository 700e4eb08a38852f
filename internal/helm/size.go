package helm

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"

	chart "helm.sh/helm/v4/pkg/chart/v2"
)

// MaxStoredReleaseBytes is the most a release's Secret may hold: Kubernetes refuses larger Secrets.
const MaxStoredReleaseBytes = 1 << 20

// StoredSize estimates, from below, the bytes Helm's Secret of a release of ch with values holds. Helm
// stores a release as its JSON (chart, values, rendered manifest, status), gzip-compressed and
// base64-encoded; the estimate encodes the chart and the values the same way and leaves out the manifest,
// which is not known before the install. A release over MaxStoredReleaseBytes by this estimate cannot be
// stored.
func StoredSize(ch *chart.Chart, values map[string]any) (int, error) {
	stored := struct {
		Chart  *chart.Chart   `json:"chart"`
		Config map[string]any `json:"config"`
	}{ch, values}
	raw, err := json.Marshal(stored)
	if err != nil {
		return 0, fmt.Errorf("cannot encode the chart and values as Helm stores them: %w", err)
	}
	var compressed bytes.Buffer
	writer, err := gzip.NewWriterLevel(&compressed, gzip.BestCompression)
	if err != nil {
		return 0, err
	}
	if _, err := writer.Write(raw); err != nil {
		return 0, err
	}
	if err := writer.Close(); err != nil {
		return 0, err
	}
	return base64.StdEncoding.EncodedLen(compressed.Len()), nil
}
