package helm

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// ValuesDigest is a digest of release values that is the same for equal values however they were
// written (key order, YAML or JSON, integers or floats), so a configuration can be compared with the
// values of a release without keeping those values.
func ValuesDigest(values map[string]any) (string, error) {
	if values == nil {
		values = map[string]any{}
	}
	raw, err := json.Marshal(values) // maps marshal with sorted keys
	if err != nil {
		return "", fmt.Errorf("cannot encode the values: %w", err)
	}
	// Decoding and encoding again gives every number one representation (2 and 2.0 alike).
	var canonical any
	if err := json.Unmarshal(raw, &canonical); err != nil {
		return "", fmt.Errorf("cannot decode the values: %w", err)
	}
	if raw, err = json.Marshal(canonical); err != nil {
		return "", fmt.Errorf("cannot encode the values: %w", err)
	}
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:]), nil
}
