package helm

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// digestIterations makes each guess at values cost what a PBKDF2 of this many rounds costs: the digest
// is kept in Terraform state and covers values given as secret (helm --set password=...).
const digestIterations = 100_000

// ValuesDigest is a digest of release values that is the same for equal values however they were
// written (key order, YAML or JSON, integers or floats), so a configuration can be compared with the
// values of a release without keeping those values. It is salted with the release's identity, so the
// same values of two releases have different digests, and slow to compute, so that guessing a secret
// in the values from the digest is costly.
func ValuesDigest(values map[string]any, release string) (string, error) {
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
	key, err := pbkdf2.Key(sha256.New, string(raw), []byte("idp release values "+release), digestIterations, sha256.Size)
	if err != nil {
		return "", fmt.Errorf("cannot digest the values: %w", err)
	}
	return "pbkdf2-sha256:" + hex.EncodeToString(key), nil
}
