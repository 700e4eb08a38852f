// Command idp-access-controller revokes time-bound idp_access grants when they expire, without
// Terraform: it watches the AccessGrant records in the management cluster and, at each grant's
// expiry, deletes its bindings in the workload cluster and removes the members it manages from the
// Keycloak group, logging out their sessions (internal/access.Controller).
//
// Keycloak's client secret comes from the environment (IDP_ACCESS_CONTROLLER_KEYCLOAK_CLIENT_SECRET),
// never from a flag, which every user of the machine could read in the process list.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/keycloak"
	"github.com/idp-platform/terraform-provider-idp/internal/kube"
)

// EnvClientSecret holds the secret of the Keycloak client the controller logs in as.
const EnvClientSecret = "IDP_ACCESS_CONTROLLER_KEYCLOAK_CLIENT_SECRET"

type config struct {
	kubeconfig     string
	keycloak       keycloak.Config
	loginClientID  string
	resync         time.Duration
	requestTimeout time.Duration
	revokeTimeout  time.Duration
}

func main() {
	var cfg config
	flag.StringVar(&cfg.kubeconfig, "kubeconfig", "", "kubeconfig of the management cluster; empty for the in-cluster configuration")
	flag.StringVar(&cfg.keycloak.URL, "keycloak-url", "", "base URL of Keycloak, e.g. https://keycloak.example.com")
	flag.StringVar(&cfg.keycloak.Realm, "keycloak-realm", "", "the realm idp_access manages")
	flag.StringVar(&cfg.keycloak.ClientID, "keycloak-client-id", "", "the confidential client (with a service account) the controller logs in as; its secret is read from $"+EnvClientSecret)
	flag.StringVar(&cfg.loginClientID, "login-client-id", "kubernetes", "the client users log in to clusters with")
	flag.DurationVar(&cfg.resync, "resync", 30*time.Second, "how often to list the grants (expiries in between are met on time)")
	flag.DurationVar(&cfg.requestTimeout, "request-timeout", 30*time.Second, "bound of each request to Keycloak or a cluster")
	flag.DurationVar(&cfg.revokeTimeout, "revoke-timeout", access.DefaultRevokeTimeout, "bound of the revoke of one grant (several requests)")
	flag.Parse()
	cfg.keycloak.ClientSecret = os.Getenv(EnvClientSecret)
	cfg.keycloak.AuthRealm = cfg.keycloak.Realm
	cfg.keycloak.RequestTimeout = cfg.requestTimeout

	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("idp-access-controller failed", "error", err)
		os.Exit(1)
	}
	log.Info("stopped")
}

func run(ctx context.Context, cfg config, log *slog.Logger) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	restConfig, err := managementConfig(cfg.kubeconfig)
	if err != nil {
		return err
	}
	restConfig.Wrap(kube.BoundedTransport(cfg.requestTimeout, "management cluster"))
	records, err := access.NewRecords(restConfig)
	if err != nil {
		return err
	}
	realm, err := connectKeycloak(ctx, cfg.keycloak, log)
	if err != nil {
		return nil // stopped while waiting for Keycloak, which is no failure
	}
	controller := &access.Controller{
		Records: records,
		Engine:  access.Engine{Realm: realm, LoginClient: cfg.loginClientID},
		ClusterFor: func(ctx context.Context, secret access.SecretRef) (access.Cluster, error) {
			kubeconfig, err := records.Kubeconfig(ctx, secret)
			if err != nil {
				return nil, err
			}
			client, err := kube.NewClient(kube.Config{
				Kubeconfig:     kubeconfig,
				RequestTimeout: cfg.requestTimeout,
				Name:           fmt.Sprintf("the workload cluster of secret %s/%s", secret.Namespace, secret.Name),
			})
			if err != nil {
				return nil, err
			}
			return client, nil
		},
		Log:           log,
		CallTimeout:   cfg.requestTimeout,
		RevokeTimeout: cfg.revokeTimeout,
	}
	log.Info("revoking grants at expiry", "realm", cfg.keycloak.Realm, "loginClient", cfg.loginClientID, "resync", cfg.resync)
	return controller.Run(ctx, cfg.resync)
}

func (cfg config) validate() error {
	var errs []error
	for _, required := range []struct{ name, value string }{
		{"--keycloak-url", cfg.keycloak.URL}, {"--keycloak-realm", cfg.keycloak.Realm},
		{"--keycloak-client-id", cfg.keycloak.ClientID}, {"--login-client-id", cfg.loginClientID},
		{"$" + EnvClientSecret, cfg.keycloak.ClientSecret},
	} {
		if required.value == "" {
			errs = append(errs, fmt.Errorf("%s is required", required.name))
		}
	}
	for _, bound := range []struct {
		name  string
		value time.Duration
	}{{"--resync", cfg.resync}, {"--request-timeout", cfg.requestTimeout}, {"--revoke-timeout", cfg.revokeTimeout}} {
		if bound.value <= 0 {
			errs = append(errs, fmt.Errorf("%s must be positive, not %s", bound.name, bound.value))
		}
	}
	return errors.Join(errs...)
}

func managementConfig(kubeconfig string) (*rest.Config, error) {
	if kubeconfig == "" {
		config, err := rest.InClusterConfig()
		if err != nil {
			return nil, fmt.Errorf("no --kubeconfig, and not in a cluster: %w", err)
		}
		return config, nil
	}
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return nil, fmt.Errorf("cannot load the management cluster's kubeconfig %s: %w", kubeconfig, err)
	}
	return config, nil
}

// connectKeycloak logs in to Keycloak, trying again until it can (Keycloak may start after the
// controller, or be down for a while). It fails only when ctx is done first.
func connectKeycloak(ctx context.Context, cfg keycloak.Config, log *slog.Logger) (*keycloak.Client, error) {
	backoff := time.Second
	for {
		client, err := keycloak.NewClient(ctx, cfg)
		if err == nil {
			log.Info("logged in to Keycloak", "url", cfg.URL, "realm", cfg.Realm, "client", cfg.ClientID)
			return client, nil
		}
		log.Warn("cannot log in to Keycloak yet; trying again", "in", backoff, "error", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 30*time.Second)
	}
}
