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
// which is not known before the install.
func StoredSize(ch *chart.Chart, values map[string]any) (int, error) {
	raw, err := storedJSON(ch, values)
	if err != nil {
		return 0, err
	}
	return encodedSize(raw)
}

// TooLargeToStore reports whether a release of ch with values cannot be stored by StoredSize's estimate,
// and that estimate. Compressing is most of the cost, so a release whose JSON would fit even if gzip
// could not shrink it at all is not compressed.
func TooLargeToStore(ch *chart.Chart, values map[string]any) (size int, tooLarge bool, err error) {
	raw, err := storedJSON(ch, values)
	if err != nil {
		return 0, false, err
	}
	// gzip adds at most 5 bytes per 16 KiB block of data it cannot compress, and 18 bytes of framing.
	if bound := base64.StdEncoding.EncodedLen(len(raw) + 5*(len(raw)/16384+1) + 18); bound <= MaxStoredReleaseBytes {
		return 0, false, nil
	}
	if size, err = encodedSize(raw); err != nil {
		return 0, false, err
	}
	return size, size > MaxStoredReleaseBytes, nil
}

func storedJSON(ch *chart.Chart, values map[string]any) ([]byte, error) {
	stored := struct {
		Chart  *chart.Chart   `json:"chart"`
		Config map[string]any `json:"config"`
	}{ch, values}
	raw, err := json.Marshal(stored)
	if err != nil {
		return nil, fmt.Errorf("cannot encode the chart and values as Helm stores them: %w", err)
	}
	return raw, nil
}

// encodedSize is the length of raw gzip-compressed and base64-encoded, as Helm's storage encodes it.
func encodedSize(raw []byte) (int, error) {
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
