package crossplane

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// credentialFields are the fields each cloud's credentials must have in Vault.
var credentialFields = map[string][]string{
	"aws":   {"aws_access_key_id", "aws_secret_access_key"},
	"azure": {"clientId", "clientSecret", "subscriptionId", "tenantId"},
	"gcp":   {"credentials"},
}

// ErrIncompleteCredentials is returned when stored credentials lack fields their cloud needs.
var ErrIncompleteCredentials = errors.New("incomplete credentials")

// ErrInvalidCredentials is returned when stored credentials have the fields but not their shape.
var ErrInvalidCredentials = errors.New("invalid credentials")

// RenderCredentials turns the fields of cloud credentials, as stored in Vault, into the secret the
// cloud's Upbound provider reads: an AWS shared credentials file, Azure's JSON, or a GCP service account
// key, whose project is returned too (the GCP ProviderConfig names it).
func RenderCredentials(cloud string, fields map[string]string) (credentials []byte, project string, err error) {
	need, ok := credentialFields[cloud]
	if !ok {
		return nil, "", fmt.Errorf("no credentials format for cloud %q", cloud)
	}
	var missing []string
	for _, field := range need {
		if fields[field] == "" {
			missing = append(missing, field)
		}
	}
	if len(missing) > 0 {
		return nil, "", fmt.Errorf("%w: the %s credentials lack %s", ErrIncompleteCredentials, cloud, strings.Join(missing, ", "))
	}
	switch cloud {
	case "aws":
		return []byte(fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n", fields["aws_access_key_id"], fields["aws_secret_access_key"])), "", nil
	case "azure":
		raw, err := json.Marshal(map[string]string{
			"clientId": fields["clientId"], "clientSecret": fields["clientSecret"], "subscriptionId": fields["subscriptionId"], "tenantId": fields["tenantId"],
		})
		if err != nil {
			return nil, "", fmt.Errorf("cannot encode the Azure credentials: %w", err)
		}
		return raw, "", nil
	default:
		var key struct {
			ProjectID string `json:"project_id"`
		}
		if err := json.Unmarshal([]byte(fields["credentials"]), &key); err != nil || key.ProjectID == "" {
			// The JSON error could quote the key, so it is not passed on.
			return nil, "", fmt.Errorf("%w: the credentials field must be a GCP service account key (JSON with project_id)", ErrInvalidCredentials)
		}
		return []byte(fields["credentials"]), key.ProjectID, nil
	}
}
