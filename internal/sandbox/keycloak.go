package sandbox

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"text/template"
	"time"
)

// realmTemplate is the sandbox realm. Its kubernetes client has no mapper of its own that puts group
// membership in the tokens: idp_access adds one (keycloak.GroupsClaimMapper) when a grant needs it and
// removes only what it added, which its tests check. The provider's service account has the
// realm-management roles idp_access and the access controller use: manage-users (create and delete
// groups, set their attributes, add and remove members, log users out), view-users and query-users
// (find users and a group's members), query-groups (list and search groups), view-clients and
// manage-clients (the groups claim mapper on the kubernetes client), and view-realm (the realm itself).
//
//go:embed testdata/realm.json.tmpl
var realmTemplate string

// The realm the sandbox creates: the provider's confidential client, two groups and a user in each.
const (
	KeycloakRealm    = "idp"
	KeycloakClientID = "terraform-provider-idp"
)

// SandboxUser is a Keycloak user of the sandbox realm, for tests of access and OIDC log-in.
type SandboxUser struct {
	Username string
	Password string
	Group    string
}

type keycloakEndpoint struct {
	url           string
	adminUser     string
	adminPassword string
	clientSecret  string
	users         []SandboxUser
}

// installKeycloak fetches the Keycloak distribution from Maven Central with mvn, once per version, and
// unpacks it into the cache.
func (s *Sandbox) installKeycloak(ctx context.Context) (string, error) {
	home := filepath.Join(s.cacheDir, "keycloak-"+KeycloakVersion)
	done := filepath.Join(home, ".complete")
	if _, err := os.Stat(done); err == nil {
		return home, nil
	}
	unlock, err := lockFile(ctx, home+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(done); err == nil {
		return home, nil
	}
	s.logf("fetching Keycloak %s from Maven Central (first time only)", KeycloakVersion)
	downloadDir, err := os.MkdirTemp(s.cacheDir, "keycloak-download-")
	if err != nil {
		return "", fmt.Errorf("cannot create a download directory for Keycloak: %w", err)
	}
	defer os.RemoveAll(downloadDir)
	cmd := exec.CommandContext(ctx, "mvn", "--batch-mode", "--quiet", "dependency:copy",
		"-Dartifact="+keycloakArtifact, "-DoutputDirectory="+downloadDir)
	cmd.Dir = downloadDir
	if output, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("cannot fetch %s with mvn: %w\n%s", keycloakArtifact, err, output)
	}
	archive := filepath.Join(downloadDir, "keycloak-quarkus-dist-"+KeycloakVersion+".zip")
	if err := os.RemoveAll(home); err != nil {
		return "", fmt.Errorf("cannot clear %s: %w", home, err)
	}
	if err := unzipStripped(archive, home); err != nil {
		return "", err
	}
	if err := os.WriteFile(done, nil, 0o644); err != nil {
		return "", fmt.Errorf("cannot mark the Keycloak install complete: %w", err)
	}
	return home, nil
}

// unzipStripped unpacks archive into dest, dropping the archive's top-level directory and refusing
// entries that would land outside dest.
func unzipStripped(archive, dest string) error {
	reader, err := zip.OpenReader(archive)
	if err != nil {
		return fmt.Errorf("cannot open %s: %w", archive, err)
	}
	defer reader.Close()
	root := filepath.Clean(dest) + string(os.PathSeparator)
	for _, file := range reader.File {
		_, rest, found := strings.Cut(file.Name, "/")
		if !found || rest == "" {
			continue
		}
		target := filepath.Join(dest, rest)
		if !strings.HasPrefix(target, root) {
			return fmt.Errorf("archive %s has an entry outside its root: %q", archive, file.Name)
		}
		if file.FileInfo().IsDir() {
			if err := os.MkdirAll(target, 0o755); err != nil {
				return fmt.Errorf("cannot create %s: %w", target, err)
			}
			continue
		}
		if err := extractFile(file, target); err != nil {
			return err
		}
	}
	return nil
}

func extractFile(file *zip.File, target string) error {
	if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
		return fmt.Errorf("cannot create %s: %w", filepath.Dir(target), err)
	}
	src, err := file.Open()
	if err != nil {
		return fmt.Errorf("cannot read %s from the archive: %w", file.Name, err)
	}
	defer src.Close()
	dst, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, file.Mode().Perm()|0o200)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", target, err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		_ = dst.Close()
		return fmt.Errorf("cannot write %s: %w", target, err)
	}
	return dst.Close()
}

// startKeycloak runs `kc.sh start-dev` with an in-memory database, then creates the sandbox realm.
func (s *Sandbox) startKeycloak(ctx context.Context) (*keycloakEndpoint, error) {
	home, err := s.installKeycloak(ctx)
	if err != nil {
		return nil, err
	}
	javaHome, err := findJavaHome()
	if err != nil {
		return nil, err
	}
	httpPort, err := freePort()
	if err != nil {
		return nil, err
	}
	managementPort, err := freePort()
	if err != nil {
		return nil, err
	}
	endpoint := &keycloakEndpoint{
		url:           "http://127.0.0.1:" + strconv.Itoa(httpPort),
		adminUser:     "admin",
		adminPassword: randomToken(16),
		clientSecret:  randomToken(24),
		users: []SandboxUser{
			{Username: "alice", Password: randomToken(12), Group: "platform-admins"},
			{Username: "bob", Password: randomToken(12), Group: "developers"},
		},
	}
	// Two sandboxes starting Keycloak from one install at once would both rewrite its build
	// (lib/quarkus) on first start, so starts are serialised.
	unlock, err := lockFile(ctx, home+".start.lock")
	if err != nil {
		return nil, err
	}
	defer unlock()
	proc, err := s.start("keycloak", []string{
		"JAVA_HOME=" + javaHome,
		"KC_BOOTSTRAP_ADMIN_USERNAME=" + endpoint.adminUser,
		"KC_BOOTSTRAP_ADMIN_PASSWORD=" + endpoint.adminPassword,
		"JAVA_OPTS_APPEND=-Xms64m -Xmx768m -XX:TieredStopAtLevel=1",
	}, filepath.Join(home, "bin", "kc.sh"),
		"start-dev",
		"--http-host=127.0.0.1",
		"--http-port="+strconv.Itoa(httpPort),
		"--http-management-port="+strconv.Itoa(managementPort),
		// https beside http: API servers only accept an https issuer.
		"--https-port="+strconv.Itoa(s.oidc.httpsPort),
		"--https-certificate-file="+s.oidc.certFile,
		"--https-certificate-key-file="+s.oidc.keyFile,
		"--health-enabled=true",
		"--db=dev-mem",
	)
	if err != nil {
		return nil, err
	}
	// With https on, the management interface serves https too, with the same certificate.
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(s.oidc.caPEM)
	management := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	// On a quiet machine Keycloak is ready in about a minute; beside other sandboxes starting and tools
	// building it took over 3 minutes on CI (2026-12-03), most of it in Quarkus's augmentation.
	if err := proc.waitReady(ctx, 6*time.Minute, func(ctx context.Context) error {
		return httpGetOK(ctx, management, "https://127.0.0.1:"+strconv.Itoa(managementPort)+"/health/ready")
	}); err != nil {
		return nil, err
	}
	if err := createRealm(ctx, endpoint); err != nil {
		return nil, err
	}
	return endpoint, nil
}

// createRealm imports the sandbox realm through the admin REST API, logged in as the bootstrap admin.
func createRealm(ctx context.Context, endpoint *keycloakEndpoint) error {
	var realm bytes.Buffer
	tmpl, err := template.New("realm").Parse(realmTemplate)
	if err != nil {
		return fmt.Errorf("cannot parse the realm template: %w", err)
	}
	if err := tmpl.Execute(&realm, map[string]any{
		"Realm": KeycloakRealm, "ClientID": KeycloakClientID, "ClientSecret": endpoint.clientSecret, "Users": endpoint.users,
	}); err != nil {
		return fmt.Errorf("cannot render the realm template: %w", err)
	}

	form := url.Values{"grant_type": {"password"}, "client_id": {"admin-cli"}, "username": {endpoint.adminUser}, "password": {endpoint.adminPassword}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint.url+"/realms/master/protocol/openid-connect/token", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	var token struct {
		AccessToken string `json:"access_token"`
	}
	if err := doJSON(req, http.StatusOK, &token); err != nil {
		return fmt.Errorf("cannot log in to Keycloak as the bootstrap admin: %w", err)
	}

	req, err = http.NewRequestWithContext(ctx, http.MethodPost, endpoint.url+"/admin/realms", &realm)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token.AccessToken)
	if err := doJSON(req, http.StatusCreated, nil); err != nil {
		return fmt.Errorf("cannot create Keycloak realm %q: %w", KeycloakRealm, err)
	}
	return nil
}

func doJSON(req *http.Request, wantStatus int, into any) error {
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode != wantStatus {
		return fmt.Errorf("%s %s: %s: %s", req.Method, req.URL, resp.Status, body)
	}
	if into == nil {
		return nil
	}
	return json.Unmarshal(body, into)
}

// findJavaHome picks the JDK Keycloak runs on: IDP_SANDBOX_JAVA_HOME, else the first of javaHomes present.
func findJavaHome() (string, error) {
	if home := os.Getenv("IDP_SANDBOX_JAVA_HOME"); home != "" {
		return home, nil
	}
	for _, home := range javaHomes {
		if _, err := os.Stat(filepath.Join(home, "bin", "java")); err == nil {
			return home, nil
		}
	}
	return "", fmt.Errorf("no JDK for Keycloak %s: looked in %s; install one (apt-get install openjdk-17-jdk-headless) or set IDP_SANDBOX_JAVA_HOME", KeycloakVersion, strings.Join(javaHomes, ", "))
}
