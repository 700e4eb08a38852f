// Package kube builds Kubernetes clients from the provider's configuration and answers the questions the
// provider asks of a cluster.
package kube

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/version"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// Config says how to reach a cluster: a kubeconfig file (and optionally one of its contexts), or a host
// with a bearer token and the CA that signed the host's certificate.
type Config struct {
	// Kubeconfig is the content of a kubeconfig, used before KubeconfigPath when set.
	Kubeconfig        []byte
	KubeconfigPath    string
	KubeconfigContext string
	Host              string
	Token             string
	CACertificatePEM  string
	// RequestTimeout bounds the wait for each response's headers (see BoundedTransport); zero leaves
	// requests bounded only by their contexts.
	RequestTimeout time.Duration
	// Name is what errors call the cluster, e.g. "management cluster"; "cluster" when empty.
	Name string
}

// ErrKubeconfigNotFound is returned when Config.KubeconfigPath names no file.
var ErrKubeconfigNotFound = errors.New("kubeconfig file not found")

// Client talks to one cluster.
type Client struct {
	rest *rest.Config
	http rest.Interface
}

// NewClient builds a client without contacting the cluster.
func NewClient(cfg Config) (*Client, error) {
	restConfig, err := restConfigFor(cfg)
	if err != nil {
		return nil, err
	}
	restConfig.UserAgent = "terraform-provider-idp"
	name := cfg.Name
	if name == "" {
		name = "cluster"
	}
	restConfig.Wrap(BoundedTransport(cfg.RequestTimeout, name))
	httpClient, err := rest.UnversionedRESTClientFor(withCodec(restConfig))
	if err != nil {
		return nil, fmt.Errorf("cannot build a client for %s: %w", restConfig.Host, err)
	}
	return &Client{rest: restConfig, http: httpClient}, nil
}

func restConfigFor(cfg Config) (*rest.Config, error) {
	if len(cfg.Kubeconfig) > 0 {
		restConfig, err := clientcmd.RESTConfigFromKubeConfig(cfg.Kubeconfig)
		if err != nil {
			return nil, fmt.Errorf("cannot load kubeconfig: %w", err)
		}
		return restConfig, nil
	}
	if cfg.KubeconfigPath != "" {
		if _, err := os.Stat(cfg.KubeconfigPath); err != nil {
			return nil, fmt.Errorf("%w: %s", ErrKubeconfigNotFound, cfg.KubeconfigPath)
		}
		rules := &clientcmd.ClientConfigLoadingRules{ExplicitPath: cfg.KubeconfigPath}
		overrides := &clientcmd.ConfigOverrides{CurrentContext: cfg.KubeconfigContext}
		restConfig, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
		if err != nil {
			return nil, fmt.Errorf("cannot load kubeconfig %s: %w", cfg.KubeconfigPath, err)
		}
		return restConfig, nil
	}
	if cfg.Host == "" {
		return nil, errors.New("neither a kubeconfig nor a host is configured")
	}
	return &rest.Config{
		Host:            cfg.Host,
		BearerToken:     cfg.Token,
		TLSClientConfig: rest.TLSClientConfig{CAData: []byte(cfg.CACertificatePEM)},
	}, nil
}

func withCodec(cfg *rest.Config) *rest.Config {
	copied := rest.CopyConfig(cfg)
	copied.NegotiatedSerializer = negotiatedSerializer
	return copied
}

// Host is the API server URL the client talks to.
func (c *Client) Host() string { return c.rest.Host }

// ServerVersion returns the API server's git version, e.g. v1.34.4.
func (c *Client) ServerVersion(ctx context.Context) (string, error) {
	raw, err := c.http.Get().AbsPath("/version").DoRaw(ctx)
	if err != nil {
		return "", fmt.Errorf("cannot read the version of %s: %w", c.rest.Host, err)
	}
	var info version.Info
	if err := json.Unmarshal(raw, &info); err != nil {
		return "", fmt.Errorf("cannot decode the version of %s: %w", c.rest.Host, err)
	}
	return info.GitVersion, nil
}

// HasAPIGroup reports whether the cluster serves the API group, e.g. apiextensions.crossplane.io.
func (c *Client) HasAPIGroup(ctx context.Context, group string) (bool, error) {
	raw, err := c.http.Get().AbsPath("/apis").DoRaw(ctx)
	if err != nil {
		return false, fmt.Errorf("cannot list the API groups of %s: %w", c.rest.Host, err)
	}
	var groups metav1.APIGroupList
	if err := json.Unmarshal(raw, &groups); err != nil {
		return false, fmt.Errorf("cannot decode the API groups of %s: %w", c.rest.Host, err)
	}
	for _, g := range groups.Groups {
		if g.Name == group {
			return true, nil
		}
	}
	return false, nil
}

// RESTConfig is a copy of the client's configuration, for clients of other kinds to the same cluster.
func (c *Client) RESTConfig() *rest.Config { return rest.CopyConfig(c.rest) }
