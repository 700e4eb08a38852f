package sandbox

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// registryConfig is a distribution registry on loopback, storing on disk in the sandbox's directory.
// It speaks plain HTTP, which OCI clients accept for loopback hosts only.
const registryConfig = `version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: %q
  delete:
    enabled: true
http:
  addr: 127.0.0.1:%d
  secret: %q
`

// startRegistry starts a distribution (OCI) registry and returns its host:port.
func (s *Sandbox) startRegistry(ctx context.Context, binDir string) (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(s.dir, "registry")
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o700); err != nil {
		return "", fmt.Errorf("cannot create %s: %w", dir, err)
	}
	configPath := filepath.Join(dir, "config.yaml")
	config := fmt.Sprintf(registryConfig, filepath.Join(dir, "data"), port, randomToken(16))
	if err := os.WriteFile(configPath, []byte(config), 0o600); err != nil {
		return "", fmt.Errorf("cannot write the registry's configuration: %w", err)
	}
	// The registry exports traces over OTLP unless told not to; nothing listens for them here.
	proc, err := s.start("registry", []string{"OTEL_TRACES_EXPORTER=none"}, filepath.Join(binDir, "registry"), "serve", configPath)
	if err != nil {
		return "", err
	}
	host := "127.0.0.1:" + strconv.Itoa(port)
	if err := proc.waitReady(ctx, time.Minute, func(ctx context.Context) error {
		return httpGetOK(ctx, http.DefaultClient, "http://"+host+"/v2/")
	}); err != nil {
		return "", err
	}
	return host, nil
}
