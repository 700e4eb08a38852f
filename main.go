package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/idp-platform/terraform-provider-idp/internal/provider"
)

// version is set by the release build (-ldflags "-X main.version=...").
var version = "dev"

func main() {
	debug := flag.Bool("debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	if !*debug { // in debug mode the CLI's logging variables are set in another shell than the provider's
		provider.SilenceUnrequestedSDKLogs()
	}
	provider.TuneGarbageCollector()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/idp-platform/idp",
		Debug:   *debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
