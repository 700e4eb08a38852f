package sandbox

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// TestAccWorkloadClusterTrustsKeycloak logs the sandbox's users in to Keycloak over https and has the
// workload cluster say who their ID tokens make them.
func TestAccWorkloadClusterTrustsKeycloak(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	caPEM, err := os.ReadFile(os.Getenv(EnvKeycloakCAFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(caPEM) {
		t.Fatal("the Keycloak CA file holds no certificate")
	}
	keycloak := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	admin, err := clientcmd.BuildConfigFromFlags("", os.Getenv(EnvWorkloadKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	for _, entry := range strings.Split(os.Getenv(EnvKeycloakUsers), ",") {
		parts := strings.SplitN(entry, ":", 3)
		if len(parts) != 3 {
			t.Fatalf("malformed %s entry %q", EnvKeycloakUsers, entry)
		}
		user, password, group := parts[0], parts[1], parts[2]
		t.Run(user, func(t *testing.T) {
			form := url.Values{"grant_type": {"password"}, "client_id": {KeycloakKubernetesClient}, "username": {user}, "password": {password}, "scope": {"openid"}}
			resp, err := keycloak.PostForm(os.Getenv(EnvKeycloakIssuer)+"/protocol/openid-connect/token", form)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var tokens struct {
				IDToken string `json:"id_token"`
			}
			if err := json.NewDecoder(resp.Body).Decode(&tokens); err != nil || resp.StatusCode != http.StatusOK || tokens.IDToken == "" {
				t.Fatalf("no ID token for %s from Keycloak: %s (%v)", user, resp.Status, err)
			}
			config := rest.AnonymousClientConfig(admin)
			config.BearerToken = tokens.IDToken
			clientset, err := kubernetes.NewForConfig(config)
			if err != nil {
				t.Fatal(err)
			}
			// The API server fetches the issuer's keys in the background after it starts.
			var review *authenticationv1.SelfSubjectReview
			for {
				review, err = clientset.AuthenticationV1().SelfSubjectReviews().Create(ctx, &authenticationv1.SelfSubjectReview{}, metav1.CreateOptions{})
				if err == nil || ctx.Err() != nil {
					break
				}
				time.Sleep(250 * time.Millisecond)
			}
			if err != nil {
				t.Fatalf("the workload cluster did not accept %s's ID token: %v", user, err)
			}
			if diff := cmp.Diff("oidc:"+user, review.Status.UserInfo.Username); diff != "" {
				t.Errorf("user name (-want +got):\n%s", diff)
			}
			found := false
			for _, g := range review.Status.UserInfo.Groups {
				found = found || g == "oidc:"+group
			}
			if !found {
				t.Errorf("groups %v lack oidc:%s", review.Status.UserInfo.Groups, group)
			}
		})
	}
}
