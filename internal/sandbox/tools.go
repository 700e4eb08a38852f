package sandbox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/mod/modfile"
)

// toolBuilder builds the pinned wrapper modules under tools/ into a cache outside the repository. A build
// is keyed by a hash of the wrapper's go.mod, go.sum, link flags and Go version, so changing a pin builds
// anew and an unchanged pin is never rebuilt.
type toolBuilder struct {
	repoRoot string
	cacheDir string
	log      func(format string, args ...any)
}

// toolBuild is what building one tool takes: its entry, wrapper module, packages and output directory.
type toolBuild struct {
	spec      sandboxTool
	moduleDir string
	packages  []string
	outDir    string
}

// plan reads the wrapper module of tools/<tool> and works out where its build goes, building nothing.
func (b *toolBuilder) plan(ctx context.Context, tool string) (toolBuild, error) {
	spec, ok := toolNamed(tool)
	if !ok {
		return toolBuild{}, fmt.Errorf("the sandbox builds no tool %q", tool)
	}
	moduleDir := filepath.Join(b.repoRoot, "tools", tool)
	goMod, err := os.ReadFile(filepath.Join(moduleDir, "go.mod"))
	if err != nil {
		return toolBuild{}, fmt.Errorf("cannot read the wrapper module of %s: %w", tool, err)
	}
	packages, err := toolPackages(goMod)
	if err != nil {
		return toolBuild{}, fmt.Errorf("cannot parse the go.mod of tools/%s: %w", tool, err)
	}
	if len(packages) == 0 {
		return toolBuild{}, fmt.Errorf("the go.mod of tools/%s names no tool", tool)
	}
	outDir, err := b.outputDir(ctx, spec, goMod)
	if err != nil {
		return toolBuild{}, err
	}
	return toolBuild{spec: spec, moduleDir: moduleDir, packages: packages, outDir: outDir}, nil
}

// build returns the directory that holds the binaries of tools/<tool>, building them first if needed.
func (b *toolBuilder) build(ctx context.Context, tool string) (string, error) {
	planned, err := b.plan(ctx, tool)
	if err != nil {
		return "", err
	}
	spec, moduleDir, packages, outDir := planned.spec, planned.moduleDir, planned.packages, planned.outDir
	done := filepath.Join(outDir, ".complete")
	if _, err := os.Stat(done); err == nil {
		return outDir, nil
	}

	unlock, err := lockFile(ctx, filepath.Join(b.cacheDir, "tools", tool+".lock"))
	if err != nil {
		return "", err
	}
	defer unlock()
	if _, err := os.Stat(done); err == nil { // another process built it while we waited
		return outDir, nil
	}

	b.log("building %s from tools/%s (first time only; kube-apiserver and vault take several minutes)", tool, tool)
	started := time.Now()
	tmpDir := outDir + ".tmp"
	if err := os.RemoveAll(tmpDir); err != nil {
		return "", fmt.Errorf("cannot clear %s: %w", tmpDir, err)
	}
	args := append([]string{"build", "-trimpath", "-tags", spec.tags, "-ldflags", spec.linkFlags(), "-o", tmpDir + "/"}, packages...)
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var output bytes.Buffer
	cmd.Stdout, cmd.Stderr = &output, &output
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("cannot build %s (go %s): %w\n%s", tool, strings.Join(args, " "), err, output.String())
	}
	for from, to := range spec.renames {
		if err := os.Rename(filepath.Join(tmpDir, from), filepath.Join(tmpDir, to)); err != nil {
			return "", fmt.Errorf("cannot rename the %s binary: %w", tool, err)
		}
	}
	if spec.after != nil {
		if err := spec.after(ctx, moduleDir, tmpDir); err != nil {
			return "", err
		}
	}
	if err := os.WriteFile(filepath.Join(tmpDir, ".complete"), nil, 0o644); err != nil {
		return "", fmt.Errorf("cannot mark the build of %s complete: %w", tool, err)
	}
	if err := os.RemoveAll(outDir); err != nil {
		return "", fmt.Errorf("cannot replace %s: %w", outDir, err)
	}
	if err := os.Rename(tmpDir, outDir); err != nil {
		return "", fmt.Errorf("cannot move the build of %s into place: %w", tool, err)
	}
	b.log("built %s in %s", tool, time.Since(started).Round(time.Second))
	return outDir, nil
}

// concurrentToolBuilds is how many tools build at once. One build keeps both cores busy while it
// compiles, but not while it links, runs cgo's C compiler (Gitea's SQLite) or loads its packages; a
// second build beside it fills those stretches.
const concurrentToolBuilds = 2

// buildAll builds the named tools, concurrentToolBuilds at a time, and returns the directory of each.
// The first failure stops the other builds and is the error returned.
func (b *toolBuilder) buildAll(ctx context.Context, tools []string) (map[string]string, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		dirs     = map[string]string{}
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan string)
	for range concurrentToolBuilds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for tool := range next {
				if ctx.Err() != nil {
					continue // stopped: the builds killed by the cancel are not failures of their own
				}
				dir, err := b.build(ctx, tool)
				mu.Lock()
				switch {
				case err == nil:
					dirs[tool] = dir
				case firstErr == nil:
					firstErr = err
					cancel()
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, tool := range tools {
		select {
		case next <- tool:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("gave up building the sandbox's tools: %w", err)
	}
	return dirs, nil
}

// outputDir is where the build of a tool goes: its cache key is a hash of the wrapper's go.mod and
// go.sum, what its build is given and the Go version.
func (b *toolBuilder) outputDir(ctx context.Context, spec sandboxTool, goMod []byte) (string, error) {
	goSum, err := os.ReadFile(filepath.Join(b.repoRoot, "tools", spec.name, "go.sum"))
	if err != nil {
		return "", fmt.Errorf("cannot read the go.sum of %s: %w", spec.name, err)
	}
	goVersion, err := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	if err != nil {
		return "", fmt.Errorf("cannot find the go command to build %s: %w", spec.name, err)
	}
	hash := sha256.New()
	for _, part := range [][]byte{goMod, goSum, []byte(spec.linkFlags()), []byte(fmt.Sprint(spec.renames)), goVersion} {
		hash.Write(part)
		hash.Write([]byte{0})
	}
	if spec.tags != "" { // only then, so that a tool without tags keeps its key
		hash.Write([]byte("tags " + spec.tags))
	}
	return filepath.Join(b.cacheDir, "tools", spec.name+"-"+hex.EncodeToString(hash.Sum(nil))[:16]), nil
}

// linkFlags are the flags the tool is linked with; they are part of its cache key.
func (t sandboxTool) linkFlags() string { return "-s -w" + t.ldflags }

// toolPackages returns the packages named by the `tool` directives of a go.mod.
func toolPackages(goMod []byte) ([]string, error) {
	file, err := modfile.Parse("go.mod", goMod, nil)
	if err != nil {
		return nil, err
	}
	var packages []string
	for _, tool := range file.Tool {
		packages = append(packages, tool.Path)
	}
	return packages, nil
}

// lockFile takes an exclusive lock shared with other processes (two sandboxes, or two test packages,
// building the same tool at once) and returns its release.
func lockFile(ctx context.Context, path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cannot create the directory of lock %s: %w", path, err)
	}
	file, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cannot open lock %s: %w", path, err)
	}
	for {
		err := syscall.Flock(int(file.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { _ = syscall.Flock(int(file.Fd()), syscall.LOCK_UN); _ = file.Close() }, nil
		}
		if err != syscall.EWOULDBLOCK {
			_ = file.Close()
			return nil, fmt.Errorf("cannot lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			_ = file.Close()
			return nil, fmt.Errorf("gave up waiting for lock %s: %w", path, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
