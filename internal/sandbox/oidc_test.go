package sandbox

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
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
// workload cluster say who their ID tokens make them, groups included.
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
	groupsScope := withGroupsScope(ctx, t)

	for _, entry := range strings.Split(os.Getenv(EnvKeycloakUsers), ",") {
		parts := strings.SplitN(entry, ":", 3)
		if len(parts) != 3 {
			t.Fatalf("malformed %s entry %q", EnvKeycloakUsers, entry)
		}
		user, password, group := parts[0], parts[1], parts[2]
		t.Run(user, func(t *testing.T) {
			form := url.Values{"grant_type": {"password"}, "client_id": {KeycloakKubernetesClient}, "username": {user}, "password": {password}, "scope": {"openid " + groupsScope}}
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

// withGroupsScope gives the kubernetes client an optional client scope of its own that puts group
// membership in the groups claim, and returns its name; the scope goes when the test ends. The realm's
// kubernetes client has no groups mapper (idp_access adds its own and removes only what it added), and
// an optional scope reaches only the tokens that ask for it: the provider's tests, which may share
// this Keycloak at the same time, never see it.
func withGroupsScope(ctx context.Context, t *testing.T) string {
	t.Helper()
	base := os.Getenv("IDP_KEYCLOAK_URL") + "/admin/realms/" + KeycloakRealm
	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"},
		"username": {os.Getenv(EnvKeycloakAdminUser)}, "password": {os.Getenv(EnvKeycloakAdminPass)}}
	var token struct {
		AccessToken string `json:"access_token"`
	}
	adminCall(ctx, t, "", http.MethodPost, os.Getenv("IDP_KEYCLOAK_URL")+"/realms/master/protocol/openid-connect/token", form, http.StatusOK, &token)
	bearer := token.AccessToken

	name := "sandbox-test-groups-" + randomToken(4)
	scope := map[string]any{
		"name": name, "protocol": "openid-connect",
		"attributes": map[string]string{"include.in.token.scope": "true"},
		"protocolMappers": []map[string]any{{
			"name": "groups", "protocol": "openid-connect", "protocolMapper": "oidc-group-membership-mapper",
			"config": map[string]string{"claim.name": "groups", "full.path": "false", "id.token.claim": "true", "access.token.claim": "true"},
		}},
	}
	adminCall(ctx, t, bearer, http.MethodPost, base+"/client-scopes", scope, http.StatusCreated, nil)
	var scopes []struct{ ID, Name string }
	adminCall(ctx, t, bearer, http.MethodGet, base+"/client-scopes", nil, http.StatusOK, &scopes)
	scopeID := ""
	for _, s := range scopes {
		if s.Name == name {
			scopeID = s.ID
		}
	}
	if scopeID == "" {
		t.Fatalf("client scope %s was created but is not listed", name)
	}
	var clients []struct{ ID string }
	adminCall(ctx, t, bearer, http.MethodGet, base+"/clients?clientId="+KeycloakKubernetesClient, nil, http.StatusOK, &clients)
	if len(clients) != 1 {
		t.Fatalf("want one client %s, got %d", KeycloakKubernetesClient, len(clients))
	}
	link := base + "/clients/" + clients[0].ID + "/optional-client-scopes/" + scopeID
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		adminCall(ctx, t, bearer, http.MethodDelete, link, nil, http.StatusNoContent, nil)
		adminCall(ctx, t, bearer, http.MethodDelete, base+"/client-scopes/"+scopeID, nil, http.StatusNoContent, nil)
	})
	adminCall(ctx, t, bearer, http.MethodPut, link, nil, http.StatusNoContent, nil)
	return name
}

// adminCall makes one request of Keycloak's admin API (or, with url.Values, its token endpoint) and
// fails the test unless the answer has status want; into receives the JSON answer.
func adminCall(ctx context.Context, t *testing.T, bearer, method, address string, body any, want int, into any) {
	t.Helper()
	var reader io.Reader
	contentType := "application/json"
	switch b := body.(type) {
	case nil:
	case url.Values:
		reader, contentType = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, address, reader)
	if err != nil {
		t.Fatal(err)
	}
	if reader != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if err := doJSON(req, want, into); err != nil {
		t.Fatalf("Keycloak admin API: %v", err)
	}
}
