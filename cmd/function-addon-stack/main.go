// Command function-addon-stack serves the AddonStack composition function over gRPC, as Crossplane's
// function runner expects: TLS with a server certificate, and only callers presenting a client
// certificate signed by the same CA (Crossplane core's).
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
)

// stopGrace is how long a stop waits for running calls before it closes their connections.
const stopGrace = 10 * time.Second

func main() {
	address := flag.String("address", ":9443", "address to serve gRPC on")
	certsDir := flag.String("tls-certs-dir", os.Getenv("TLS_SERVER_CERTS_DIR"),
		"directory holding tls.crt and tls.key (the server's) and ca.crt (the CA clients' certificates must chain to)")
	insecureFlag := flag.Bool("insecure", false, "serve without TLS, for local debugging only")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if err := run(ctx, *address, *certsDir, *insecureFlag); err != nil {
		log.Fatalf("function-addon-stack: %v", err)
	}
}

func run(ctx context.Context, address, certsDir string, insecureMode bool) error {
	creds, err := serverCredentials(certsDir, insecureMode)
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", address)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %w", address, err)
	}
	log.Printf("function-addon-stack: serving on %s", listener.Addr())
	return serve(ctx, listener, addonstack.NewServer(grpc.Creds(creds)))
}

// serve serves until ctx is done, then stops gracefully: running calls finish, within stopGrace.
func serve(ctx context.Context, listener net.Listener, server *grpc.Server) error {
	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	select {
	case err := <-served:
		return fmt.Errorf("cannot serve: %w", err)
	case <-ctx.Done():
	}
	stopped := make(chan struct{})
	go func() { server.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(stopGrace):
		server.Stop()
	}
	if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
		return fmt.Errorf("cannot serve: %w", err)
	}
	return nil
}

func serverCredentials(certsDir string, insecureMode bool) (credentials.TransportCredentials, error) {
	if insecureMode {
		return insecure.NewCredentials(), nil
	}
	if certsDir == "" {
		return nil, errors.New("--tls-certs-dir is required (or --insecure for local debugging)")
	}
	config, err := serverTLS(certsDir)
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(config), nil
}

// serverTLS serves the certificate in dir and requires client certificates signed by dir's ca.crt.
func serverTLS(dir string) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key"))
	if err != nil {
		return nil, fmt.Errorf("cannot load the server certificate from %s: %w", dir, err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.crt"))
	if err != nil {
		return nil, fmt.Errorf("cannot read the client CA: %w", err)
	}
	clientCAs := x509.NewCertPool()
	if !clientCAs.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("no PEM certificate in %s", filepath.Join(dir, "ca.crt"))
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientCAs:    clientCAs,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		MinVersion:   tls.VersionTLS12,
	}, nil
}
