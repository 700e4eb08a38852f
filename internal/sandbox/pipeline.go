package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Pipeline is the pull-request workflow on loopback: Gitea as the Git server and Atlantis planning and
// applying on its webhooks. Owner owns the repositories and opens the pull requests; Atlantis
// comments as Bot, a collaborator the owner adds to each repository it should plan.
type Pipeline struct {
	GiteaURL    string // with a trailing slash, as Gitea's ROOT_URL
	AtlantisURL string
	Owner       string
	OwnerToken  string
	Bot         string
	// WebhookSecret signs Gitea's webhooks; Atlantis refuses any it cannot verify.
	WebhookSecret string

	sandbox  *Sandbox
	client   *http.Client
	atlantis *process
}

// PipelineOptions configure StartPipeline.
type PipelineOptions struct {
	Options
	// RepoConfig is Atlantis's server-side repository configuration (repos.yaml).
	RepoConfig string
	// Env is added to the environment Atlantis runs tofu and conftest with, PATH included.
	Env []string
}

// The Gitea users StartPipeline creates.
const (
	pipelineOwner = "platform"
	pipelineBot   = "atlantis"
)

// giteaConfig runs Gitea for its API alone: SQLite in the state directory, no SSH, no mailer, an
// in-memory queue and database indexers (nothing to compact in the background), and webhooks allowed
// to loopback, where Atlantis listens.
const giteaConfig = `WORK_PATH = %[1]s
RUN_MODE = prod
%[5]s
[server]
PROTOCOL = http
HTTP_ADDR = 127.0.0.1
HTTP_PORT = %[2]d
ROOT_URL = http://127.0.0.1:%[2]d/
DISABLE_SSH = true
START_SSH_SERVER = false
LFS_START_SERVER = false
APP_DATA_PATH = %[1]s/data
STATIC_ROOT_PATH = %[3]s

[database]
DB_TYPE = sqlite3
PATH = %[1]s/data/gitea.db

[repository]
ROOT = %[1]s/repositories

[security]
INSTALL_LOCK = true
SECRET_KEY = %[4]s
INTERNAL_TOKEN = %[4]s

[service]
DISABLE_REGISTRATION = true

[webhook]
ALLOWED_HOST_LIST = loopback

[queue]
TYPE = channel

[indexer]
ISSUE_INDEXER_TYPE = db
REPO_INDEXER_ENABLED = false

[actions]
ENABLED = false

[cron.update_checker]
ENABLED = false

[log]
MODE = console
LEVEL = Warn
`

// giteaAssets are the directories of Gitea's source that a build without the bindata tag reads at run
// time (STATIC_ROOT_PATH): page templates, the licence and README templates repositories start from,
// and the icons it loads at start.
var giteaAssets = []string{"templates", "options", "public"}

// copyGiteaAssets puts Gitea's run-time assets beside its binary, under static/.
func copyGiteaAssets(ctx context.Context, moduleDir, outDir string) error {
	source, err := moduleSource(ctx, moduleDir, "code.gitea.io/gitea")
	if err != nil {
		return err
	}
	for _, dir := range giteaAssets {
		if err := os.CopyFS(filepath.Join(outDir, "static", dir), os.DirFS(filepath.Join(source, dir))); err != nil {
			return fmt.Errorf("cannot copy Gitea's %s: %w", dir, err)
		}
	}
	return nil
}

// StartPipeline builds Gitea and Atlantis if they are not built yet, starts Gitea with its two users,
// then Atlantis, and returns once both answer. On error it stops whatever it had started.
func StartPipeline(ctx context.Context, opts PipelineOptions) (_ *Pipeline, err error) {
	if opts.RepoRoot == "" {
		if opts.RepoRoot, err = findRepoRoot(); err != nil {
			return nil, err
		}
	}
	s, err := newSandbox(opts.Options)
	if err != nil {
		return nil, err
	}
	defer s.stopOnError(&err)
	builder := &toolBuilder{repoRoot: opts.RepoRoot, cacheDir: s.cacheDir, log: s.logf}
	bins, err := builder.buildAll(ctx, pipelineTools)
	if err != nil {
		return nil, err
	}
	p := &Pipeline{sandbox: s, client: &http.Client{Timeout: 30 * time.Second}, Owner: pipelineOwner, Bot: pipelineBot, WebhookSecret: randomToken(16)}
	botToken, err := p.startGitea(ctx, bins["gitea"])
	if err != nil {
		return nil, err
	}
	if err := p.startAtlantis(ctx, filepath.Join(bins["atlantis"], "atlantis"), botToken, opts); err != nil {
		return nil, err
	}
	return p, nil
}

// Stop stops Atlantis and Gitea and removes their state.
func (p *Pipeline) Stop() error { return p.sandbox.Stop() }

// AtlantisLog is the path of Atlantis's log, for a test's diagnostics.
func (p *Pipeline) AtlantisLog() string { return p.atlantis.logPath }

// startGitea starts Gitea with the owner and the bot, and returns the bot's token.
func (p *Pipeline) startGitea(ctx context.Context, binDir string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	work := filepath.Join(p.sandbox.dir, "gitea")
	if err := os.MkdirAll(filepath.Join(work, "data"), 0o700); err != nil {
		return "", fmt.Errorf("cannot create %s: %w", work, err)
	}
	// Gitea refuses to run as root unless told that it may; CI runs as root.
	asRoot := ""
	if os.Geteuid() == 0 {
		asRoot = "I_AM_BEING_UNSAFE_RUNNING_AS_ROOT = true"
	}
	config := filepath.Join(work, "app.ini")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(giteaConfig, work, port, filepath.Join(binDir, "static"), randomToken(32), asRoot)), 0o600); err != nil {
		return "", fmt.Errorf("cannot write Gitea's configuration: %w", err)
	}
	bin := filepath.Join(binDir, "gitea")
	env := []string{"HOME=" + work, "GITEA_WORK_DIR=" + work}
	gitea := func(args ...string) (string, error) {
		ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, append(args, "--config", config, "--work-path", work)...)
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return "", fmt.Errorf("gitea %s: %w\n%s", strings.Join(args, " "), err, out)
		}
		return string(out), nil
	}
	if _, err := gitea("migrate"); err != nil {
		return "", err
	}
	tokens := map[string]string{}
	for user, admin := range map[string]bool{pipelineOwner: true, pipelineBot: false} {
		args := []string{"admin", "user", "create", "--username", user, "--email", user + "@idp.test",
			"--password", randomToken(16), "--must-change-password=false", "--access-token", "--access-token-scopes", "all"}
		if admin {
			args = append(args, "--admin")
		}
		out, err := gitea(args...)
		if err != nil {
			return "", err
		}
		token := regexp.MustCompile(`\b[0-9a-f]{40}\b`).FindString(out)
		if token == "" {
			return "", fmt.Errorf("gitea made user %s but printed no access token:\n%s", user, out)
		}
		tokens[user] = token
	}
	p.OwnerToken = tokens[pipelineOwner]
	proc, err := p.sandbox.start("gitea", env, bin, "web", "--config", config, "--work-path", work)
	if err != nil {
		return "", err
	}
	p.GiteaURL = "http://127.0.0.1:" + strconv.Itoa(port) + "/"
	if err := proc.waitReady(ctx, 2*time.Minute, func(ctx context.Context) error {
		return httpGetOK(ctx, p.client, p.GiteaURL+"api/healthz")
	}); err != nil {
		return "", err
	}
	return tokens[pipelineBot], nil
}

// startAtlantis starts Atlantis as the bot, with policy checks on, OpenTofu from PATH and no downloads.
func (p *Pipeline) startAtlantis(ctx context.Context, bin, botToken string, opts PipelineOptions) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	data := filepath.Join(p.sandbox.dir, "atlantis")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", data, err)
	}
	p.AtlantisURL = "http://127.0.0.1:" + strconv.Itoa(port)
	args := []string{"server",
		"--port", strconv.Itoa(port),
		"--atlantis-url", p.AtlantisURL,
		"--data-dir", data,
		"--gitea-base-url", strings.TrimSuffix(p.GiteaURL, "/"),
		"--gitea-user", pipelineBot,
		// The host of the clone URL, whose port Atlantis drops.
		"--repo-allowlist", "127.0.0.1/" + pipelineOwner + "/*",
		"--repo-config", opts.RepoConfig,
		"--enable-policy-checks",
		"--default-tf-distribution", "opentofu",
		"--tf-download=false",
		"--log-level", "info",
	}
	// The token and the webhook secret go in the environment, not on a command line any process may
	// read. Atlantis's git and tofu get a home of their own, not the user's ~/.gitconfig or ~/.terraformrc.
	env := append([]string{"ATLANTIS_GITEA_TOKEN=" + botToken, "ATLANTIS_GITEA_WEBHOOK_SECRET=" + p.WebhookSecret, "HOME=" + data}, opts.Env...)
	proc, err := p.sandbox.start("atlantis", env, bin, args...)
	if err != nil {
		return err
	}
	p.atlantis = proc
	return proc.waitReady(ctx, 2*time.Minute, func(ctx context.Context) error {
		return httpGetOK(ctx, p.client, p.AtlantisURL+"/healthz")
	})
}

// Gitea calls Gitea's API as the owner: method on /api/v1/<path> with in as the JSON body (nil for
// none), decoding the response into out (nil to drop it). Any status but 2xx is an error with the body.
func (p *Pipeline) Gitea(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("cannot encode the body of %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.GiteaURL+"api/v1/"+strings.TrimPrefix(path, "/"), body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "token "+p.OwnerToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return fmt.Errorf("Gitea at %s: %s %s: %w", p.GiteaURL, method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("Gitea at %s: cannot read the response to %s %s: %w", p.GiteaURL, method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("Gitea at %s: %s %s: %s: %s", p.GiteaURL, method, path, resp.Status, raw)
	}
	if out == nil || len(raw) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("Gitea at %s: cannot decode the response to %s %s: %w", p.GiteaURL, method, path, err)
	}
	return nil
}
