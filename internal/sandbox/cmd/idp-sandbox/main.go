// Command idp-sandbox starts and stops the local platform for the demo and for development:
//
//	idp-sandbox build [sandbox|late]  build the pinned tools (every set, or one; the sandbox's with Keycloak), start nothing
//	idp-sandbox up     build what is missing, start everything, write <dir>/env
//	idp-sandbox down   stop what `up` started
//	idp-sandbox env    print the env file of the running sandbox
//	idp-sandbox prefetch  download the pinned tools' modules, build nothing
//	idp-sandbox path TOOL [BINARY]  build one pinned tool if needed and print its binary's path
//	idp-sandbox simulate  run the cloud simulator of the sandbox (`up` starts it)
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/idp-platform/terraform-provider-idp/crossplane"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

func main() {
	dir := flag.String("dir", ".sandbox", "state directory of the sandbox (logs, certificates, env file)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: idp-sandbox [-dir DIR] build [sandbox|late]|prefetch|up|down|env|simulate|path TOOL [BINARY]\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() != 1 && flag.Arg(0) != "path" && (flag.Arg(0) != "build" || flag.NArg() != 2) {
		flag.Usage()
		os.Exit(2)
	}
	stateDir, err := filepath.Abs(*dir)
	if err != nil {
		fail(err)
	}
	envFile := filepath.Join(stateDir, "env")
	switch flag.Arg(0) {
	case "up":
		if sandbox.DetachedRunning(stateDir) {
			fmt.Printf("sandbox already up; its environment: source %s\n", envFile)
			return
		}
		// Whatever is left of an earlier sandbox that died (a reboot, a killed process) is cleared.
		if err := sandbox.StopDetached(stateDir); err != nil {
			fail(err)
		}
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
		defer cancel()
		if _, err := sandbox.Start(ctx, sandbox.Options{StateDir: stateDir, Detached: true, AddonProviders: true, Log: os.Stderr}); err != nil {
			fail(err)
		}
		self, err := os.Executable()
		if err != nil {
			fail(err)
		}
		if err := sandbox.StartDetachedSimulator(stateDir, self, "-dir", stateDir, "simulate"); err != nil {
			fail(err)
		}
		manifests, order, err := crossplane.Manifests()
		if err != nil {
			fail(err)
		}
		if err := sandbox.InstallPlatform(ctx, stateDir, manifests, order); err != nil {
			fail(fmt.Errorf("cannot install the platform's Crossplane manifests: %w", err))
		}
		fmt.Printf("sandbox up; its environment: source %s\n", envFile)
	case "simulate":
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer cancel()
		if err := sandbox.RunCloudSimulator(ctx, stateDir, os.Stderr); err != nil {
			fail(err)
		}
	case "build":
		ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
		defer cancel()
		var sets []sandbox.ToolSet
		if flag.NArg() == 2 {
			sets = append(sets, sandbox.ToolSet(flag.Arg(1)))
		}
		if err := sandbox.Prepare(ctx, sandbox.Options{Log: os.Stderr}, sets...); err != nil {
			fail(err)
		}
		fmt.Println("sandbox tools ready")
	case "prefetch":
		if err := sandbox.Prefetch(context.Background(), sandbox.Options{}); err != nil {
			fail(err)
		}
	case "path":
		if flag.NArg() < 2 || flag.NArg() > 3 {
			flag.Usage()
			os.Exit(2)
		}
		binary := flag.Arg(1)
		if flag.NArg() == 3 {
			binary = flag.Arg(2)
		}
		path, err := sandbox.ToolPath(context.Background(), sandbox.Options{Log: os.Stderr}, flag.Arg(1), binary)
		if err != nil {
			fail(err)
		}
		fmt.Println(path)
	case "down":
		if err := sandbox.StopDetached(stateDir); err != nil {
			fail(err)
		}
		fmt.Println("sandbox down")
	case "env":
		raw, err := os.ReadFile(envFile)
		if errors.Is(err, os.ErrNotExist) {
			fail(fmt.Errorf("no sandbox is up in %s; run `idp-sandbox up`", stateDir))
		} else if err != nil {
			fail(err)
		}
		os.Stdout.Write(raw)
	default:
		flag.Usage()
		os.Exit(2)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "idp-sandbox: %v\n", err)
	os.Exit(1)
}
