package vault

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	vaultapi "github.com/hashicorp/vault/api"
)

// ErrNotFound is returned when the secret asked for does not exist.
var ErrNotFound = errors.New("not found in Vault")

// dns1123Label is the shape of every name the store joins into a path, so no input can reach another
// path (no '/', no '..').
var dns1123Label = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$`)

// Kubeconfig is a cluster's admin kubeconfig as the store keeps it.
type Kubeconfig struct {
	Kubeconfig string
	Endpoint   string
	CA         string
	// Origin says who wrote it: the cloud idp_cluster created the cluster on, or "existing" for a
	// registered cluster. It tells a stale copy of a cluster the provider created from someone else's.
	Origin string
}

// KubeconfigPath is the path of a cluster's kubeconfig inside the KV mount: <prefix>/clusters/<name>/kubeconfig.
func (c *Client) KubeconfigPath(cluster string) (string, error) {
	if !dns1123Label.MatchString(cluster) {
		return "", fmt.Errorf("cluster name %q is not a DNS-1123 label", cluster)
	}
	return c.kubeconfigPath(cluster), nil
}

// kubeconfigPath is the one place the layout of kubeconfig paths is written; callers validate first.
func kubeconfigPath(prefix, cluster string) string {
	return clusterFolder(prefix, cluster) + "/kubeconfig"
}

// clusterFolder is the folder of a cluster's secrets inside the KV mount.
func clusterFolder(prefix, cluster string) string { return prefix + "/clusters/" + cluster }

func (c *Client) kubeconfigPath(cluster string) string { return kubeconfigPath(c.prefix, cluster) }

// KubeconfigLocation is where a cluster's kubeconfig is, as `vault kv get` takes it: <mount>/<path>.
func (c *Client) KubeconfigLocation(cluster string) string {
	return c.kvMount + "/" + c.kubeconfigPath(cluster)
}

// KubeconfigLocationIn is where a store with that KV mount and prefix keeps a cluster's kubeconfig, as
// KubeconfigLocation says it, without a client.
func KubeconfigLocationIn(kvMount, prefix, cluster string) (string, error) {
	if !dns1123Label.MatchString(cluster) {
		return "", fmt.Errorf("cluster name %q is not a DNS-1123 label", cluster)
	}
	return kvMount + "/" + kubeconfigPath(prefix, cluster), nil
}

// PutKubeconfig writes a cluster's admin kubeconfig, replacing any earlier version.
func (c *Client) PutKubeconfig(ctx context.Context, cluster string, kc Kubeconfig) error {
	path, err := c.KubeconfigPath(cluster)
	if err != nil {
		return err
	}
	_, err = c.api.KVv2(c.kvMount).Put(ctx, path, map[string]any{
		"kubeconfig": kc.Kubeconfig,
		"endpoint":   kc.Endpoint,
		"ca":         kc.CA,
		"origin":     kc.Origin,
	})
	if err != nil {
		return fmt.Errorf("cannot write the kubeconfig of cluster %q to %s/%s: %w", cluster, c.kvMount, path, denied(err))
	}
	return nil
}

// GetKubeconfig reads a cluster's admin kubeconfig; ErrNotFound when there is none.
func (c *Client) GetKubeconfig(ctx context.Context, cluster string) (Kubeconfig, error) {
	path, err := c.KubeconfigPath(cluster)
	if err != nil {
		return Kubeconfig{}, err
	}
	secret, err := c.api.KVv2(c.kvMount).Get(ctx, path)
	if errors.Is(err, vaultapi.ErrSecretNotFound) {
		return Kubeconfig{}, fmt.Errorf("kubeconfig of cluster %q: %w", cluster, ErrNotFound)
	}
	if err != nil {
		return Kubeconfig{}, fmt.Errorf("cannot read the kubeconfig of cluster %q from %s/%s: %w", cluster, c.kvMount, path, denied(err))
	}
	field := func(name string) string {
		value, _ := secret.Data[name].(string)
		return value
	}
	return Kubeconfig{Kubeconfig: field("kubeconfig"), Endpoint: field("endpoint"), CA: field("ca"), Origin: field("origin")}, nil
}

// ListClusters lists the clusters whose kubeconfigs the store keeps (<prefix>/clusters/), by name, in
// one request. The login needs list on <mount>/metadata/<prefix>/clusters.
func (c *Client) ListClusters(ctx context.Context) ([]string, error) {
	at := c.kvMount + "/metadata/" + c.prefix + "/clusters"
	listed, err := c.api.Logical().ListWithContext(ctx, at)
	if err != nil {
		return nil, fmt.Errorf("cannot list the clusters at %s: %w", at, denied(err))
	}
	var names []string
	if listed != nil {
		keys, _ := listed.Data["keys"].([]any)
		for _, key := range keys {
			// A cluster is a folder (name/) holding its kubeconfig; anything else is not the store's.
			if name, ok := key.(string); ok && strings.HasSuffix(name, "/") && dns1123Label.MatchString(strings.TrimSuffix(name, "/")) {
				names = append(names, strings.TrimSuffix(name, "/"))
			}
		}
	}
	slices.Sort(names)
	return names, nil
}

// DeleteKubeconfig removes every version and the metadata of a cluster's kubeconfig, so nothing of it
// is left in Vault. Deleting a kubeconfig that is not there is not an error.
func (c *Client) DeleteKubeconfig(ctx context.Context, cluster string) error {
	path, err := c.KubeconfigPath(cluster)
	if err != nil {
		return err
	}
	if err := c.api.KVv2(c.kvMount).DeleteMetadata(ctx, path); err != nil {
		return fmt.Errorf("cannot delete the kubeconfig of cluster %q at %s/%s: %w", cluster, c.kvMount, path, denied(err))
	}
	return nil
}

// credentialsPath matches a credentials name: DNS-1123 labels joined by '/', such as aws/team-payments.
var credentialsPath = regexp.MustCompile(`^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(/[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?){0,3}$`)

// ValidCredentialsName reports whether name can name cloud credentials: DNS-1123 labels joined by '/'.
func ValidCredentialsName(name string) bool { return credentialsPath.MatchString(name) }

// CredentialsLocation is where cloud credentials are, as `vault kv get` takes it: <mount>/<prefix>/credentials/<name>.
func (c *Client) CredentialsLocation(name string) string {
	return c.kvMount + "/" + c.prefix + "/credentials/" + name
}

// GetCredentials reads cloud credentials stored as KV at <prefix>/credentials/<name>; ErrNotFound when
// there are none.
func (c *Client) GetCredentials(ctx context.Context, name string) (map[string]string, error) {
	if !ValidCredentialsName(name) {
		return nil, fmt.Errorf("credentials name %q is not DNS-1123 labels joined by '/'", name)
	}
	path := c.prefix + "/credentials/" + name
	secret, err := c.api.KVv2(c.kvMount).Get(ctx, path)
	if errors.Is(err, vaultapi.ErrSecretNotFound) {
		return nil, fmt.Errorf("credentials %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read credentials %q from %s/%s: %w", name, c.kvMount, path, denied(err))
	}
	fields := map[string]string{}
	for key, value := range secret.Data {
		if s, ok := value.(string); ok {
			fields[key] = s
		}
	}
	return fields, nil
}
