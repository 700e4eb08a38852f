package backstage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Validate runs Backstage's own validators (@backstage/catalog-model, installed by `npm ci` in
// validatorDir, tools/backstage of the repository) on the entities, given as JSON: the policies and
// kind validators the catalog applies when it ingests catalog-info.yaml. It returns the validator's
// report, a line per entity, and an error when any entity is invalid or the validator cannot run.
// Tests use it; the provider does not.
func Validate(ctx context.Context, validatorDir string, entities []string) (string, error) {
	if _, err := os.Stat(filepath.Join(validatorDir, "node_modules", "@backstage", "catalog-model")); err != nil {
		return "", fmt.Errorf("the Backstage validator is not installed in %s (make prereqs runs npm ci there): %w", validatorDir, err)
	}
	cmd := exec.CommandContext(ctx, "node", "validate.mjs")
	cmd.Dir = validatorDir
	cmd.Stdin = strings.NewReader("[" + strings.Join(entities, ",") + "]")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit) && exit.ExitCode() == 1 && stderr.Len() == 0:
		return stdout.String(), fmt.Errorf("backstage's validators reject entities:\n%s", stdout.String())
	case err != nil:
		return stdout.String(), fmt.Errorf("cannot run Backstage's validators: %w\n%s", err, stderr.String())
	}
	if got := strings.Count(stdout.String(), "\n"); got != len(entities) {
		return stdout.String(), fmt.Errorf("backstage's validators reported on %d entities of %d:\n%s", got, len(entities), stdout.String())
	}
	return stdout.String(), nil
}
