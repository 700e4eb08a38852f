package sandbox

import (
	"context"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// CrossplaneNamespace is where Crossplane core keeps its certificates and where connection secrets go.
const CrossplaneNamespace = "crossplane-system"

// crdsDir is where a tool's build keeps the CRDs it brings: Crossplane's own, which `core init` installs
// (in a pod they are baked into the image), and the providers' managed resources.
const crdsDir = "crds"

// compositionFunctions are the composition functions the sandbox runs as local processes: the program
// (a wrapper module under tools/, or a command of this repository) that builds each, and the package its
// FunctionRevision names.
var compositionFunctions = []struct{ name, tool, pkg string }{
	{"function-patch-and-transform", "function-patch-and-transform", "xpkg.crossplane.io/crossplane-contrib/function-patch-and-transform:" + FunctionPatchAndTransformVersion},
	{"function-auto-ready", "function-auto-ready", "xpkg.crossplane.io/crossplane-contrib/function-auto-ready:" + FunctionAutoReadyVersion},
	{"function-addon-stack", "function-addon-stack", repoFunctionPackage + "function-addon-stack:v0.1.0"},
}

var functionRevisions = schema.GroupVersionResource{Group: "pkg.crossplane.io", Version: "v1", Resource: "functionrevisions"}

// startCrossplane runs Crossplane core against the management cluster the way its Helm chart would, but
// as local processes: `core init` (CRDs, TLS secrets), then `core start` with webhooks off and the
// External package runtime, which leaves running Providers and Functions to someone else. That someone
// is the sandbox: it runs each composition function on loopback with a server certificate from
// Crossplane's CA and records its address in an Active FunctionRevision, which is where core's function
// runner looks for it. The revisions' package cannot be pulled here (no registry access), which core
// reports on them; it does not touch their endpoints.
func (s *Sandbox) startCrossplane(ctx context.Context, bins map[string]string, cp *controlPlane) error {
	addresses, err := s.startCrossplaneCore(ctx, bins, cp)
	if err != nil {
		return err
	}
	dynamicClient, err := dynamic.NewForConfig(cp.restConfig)
	if err != nil {
		return fmt.Errorf("cannot build a client for the management cluster: %w", err)
	}
	for _, fn := range compositionFunctions {
		if err := activateFunction(ctx, dynamicClient, fn.name, fn.pkg, addresses[fn.name]); err != nil {
			return err
		}
	}
	return nil
}

// startCrossplaneCore starts Crossplane core and the composition functions, and returns each function's
// address by name.
func (s *Sandbox) startCrossplaneCore(ctx context.Context, bins map[string]string, cp *controlPlane) (map[string]string, error) {
	clientset, err := kubernetes.NewForConfig(cp.restConfig)
	if err != nil {
		return nil, fmt.Errorf("cannot build a client for the management cluster: %w", err)
	}
	if _, err := clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: CrossplaneNamespace}}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		return nil, fmt.Errorf("cannot create namespace %s: %w", CrossplaneNamespace, err)
	}
	dir := filepath.Join(s.dir, "crossplane")
	noWebhooks := filepath.Join(dir, "no-webhooks")
	for _, d := range []string{noWebhooks, filepath.Join(dir, "cache", "xpkg"), filepath.Join(dir, "cache", "xfn")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("cannot create %s: %w", d, err)
		}
	}
	binary := filepath.Join(bins["crossplane"], "crossplane")
	env := []string{"KUBECONFIG=" + cp.kubeconfigPath, "POD_NAMESPACE=" + CrossplaneNamespace,
		"TLS_CA_SECRET_NAME=crossplane-root-ca", "TLS_SERVER_SECRET_NAME=crossplane-tls-server", "TLS_CLIENT_SECRET_NAME=crossplane-tls-client"}
	// init installs the CRDs and then objects of their kinds; on a fresh API server discovery can lag
	// behind the CRDs, which fails that run, and init is idempotent, so it runs until it succeeds.
	initDeadline := time.Now().Add(2 * time.Minute)
	for {
		init := exec.CommandContext(ctx, binary, "core", "init",
			"--cr-ds-path="+filepath.Join(bins["crossplane"], crdsDir),
			"--webhook-configurations-path="+noWebhooks) // an empty directory: webhooks are off
		init.Env = append(os.Environ(), env...)
		out, err := init.CombinedOutput()
		if err == nil {
			break
		}
		if time.Now().After(initDeadline) || ctx.Err() != nil {
			return nil, fmt.Errorf("crossplane core init: %w\n%s", err, out)
		}
		select {
		case <-ctx.Done():
		case <-time.After(time.Second):
		}
	}

	// In a pod the TLS secrets are mounted; here they are written where core start reads them.
	certDirs := map[string]string{}
	for _, secret := range []string{"crossplane-tls-server", "crossplane-tls-client"} {
		certDirs[secret] = filepath.Join(dir, secret)
		if err := writeSecretFiles(ctx, clientset, secret, certDirs[secret]); err != nil {
			return nil, err
		}
	}
	metricsPort, err := freePort()
	if err != nil {
		return nil, err
	}
	healthPort, err := freePort()
	if err != nil {
		return nil, err
	}
	core, err := s.start("crossplane", append(env,
		"TLS_SERVER_CERTS_DIR="+certDirs["crossplane-tls-server"],
		"TLS_CLIENT_CERTS_DIR="+certDirs["crossplane-tls-client"]),
		binary, "core", "start",
		"--package-runtime=External",
		"--enable-webhooks=false",
		// The sandbox's providers poll every few seconds (ProviderPollInterval), so an AddonStack's
		// composed resources change far more often than the breaker's defaults (100 events, then 1 a
		// second) allow; once open, it holds the composite's reconciles back for 5 minutes.
		"--circuit-breaker-burst=1000",
		"--circuit-breaker-refill-rate=20",
		"--metrics-port="+strconv.Itoa(metricsPort),
		"--health-probe-port="+strconv.Itoa(healthPort),
		"--cache-dir="+filepath.Join(dir, "cache", "xpkg"),
		"--xfn-cache-dir="+filepath.Join(dir, "cache", "xfn"),
	)
	if err != nil {
		return nil, err
	}
	if err := core.waitReady(ctx, 2*time.Minute, func(ctx context.Context) error {
		return httpGetOK(ctx, http.DefaultClient, "http://127.0.0.1:"+strconv.Itoa(healthPort)+"/healthz")
	}); err != nil {
		return nil, err
	}

	ca, err := crossplaneCA(ctx, clientset)
	if err != nil {
		return nil, err
	}
	functionCerts := filepath.Join(dir, "function-certs")
	if err := os.MkdirAll(functionCerts, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create %s: %w", functionCerts, err)
	}
	certPEM, keyPEM, err := ca.issue(certRequest{commonName: "composition-functions", hosts: []string{"127.0.0.1"}})
	if err != nil {
		return nil, err
	}
	for name, data := range map[string][]byte{"tls.crt": certPEM, "tls.key": keyPEM, "ca.crt": ca.certPEM} {
		if err := os.WriteFile(filepath.Join(functionCerts, name), data, 0o600); err != nil {
			return nil, fmt.Errorf("cannot write the functions' %s: %w", name, err)
		}
	}
	addresses := map[string]string{}
	for _, fn := range compositionFunctions {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		address := "127.0.0.1:" + strconv.Itoa(port)
		proc, err := s.start(fn.name, nil, filepath.Join(bins[fn.tool], fn.tool), "--address="+address, "--tls-certs-dir="+functionCerts)
		if err != nil {
			return nil, err
		}
		if err := proc.waitReady(ctx, time.Minute, func(ctx context.Context) error {
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", address)
			if err == nil {
				_ = conn.Close()
			}
			return err
		}); err != nil {
			return nil, err
		}
		addresses[fn.name] = address
	}
	return addresses, nil
}

// writeSecretFiles writes each key of a Secret in the Crossplane namespace to a file in dir.
func writeSecretFiles(ctx context.Context, clientset kubernetes.Interface, name, dir string) error {
	secret, err := clientset.CoreV1().Secrets(CrossplaneNamespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("cannot read secret %s/%s: %w", CrossplaneNamespace, name, err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create %s: %w", dir, err)
	}
	for key, value := range secret.Data {
		if err := os.WriteFile(filepath.Join(dir, key), value, 0o600); err != nil {
			return fmt.Errorf("cannot write %s of secret %s: %w", key, name, err)
		}
	}
	return nil
}

// crossplaneCA loads the CA `core init` generated, which core's function runner trusts.
func crossplaneCA(ctx context.Context, clientset kubernetes.Interface) (*certAuthority, error) {
	secret, err := clientset.CoreV1().Secrets(CrossplaneNamespace).Get(ctx, "crossplane-root-ca", metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("cannot read Crossplane's CA: %w", err)
	}
	certBlock, _ := pem.Decode(secret.Data["tls.crt"])
	keyBlock, _ := pem.Decode(secret.Data["tls.key"])
	if certBlock == nil || keyBlock == nil {
		return nil, errors.New("crossplane's CA secret holds no PEM certificate and key")
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("cannot parse Crossplane's CA certificate: %w", err)
	}
	var key crypto.Signer
	if rsaKey, err := x509.ParsePKCS1PrivateKey(keyBlock.Bytes); err == nil {
		key = rsaKey
	} else if parsed, err := x509.ParsePKCS8PrivateKey(keyBlock.Bytes); err == nil {
		signer, ok := parsed.(crypto.Signer)
		if !ok {
			return nil, errors.New("crossplane's CA key cannot sign")
		}
		key = signer
	} else {
		return nil, fmt.Errorf("cannot parse Crossplane's CA key: %w", err)
	}
	return &certAuthority{cert: cert, key: key, certPEM: secret.Data["tls.crt"]}, nil
}

// activateFunction makes core's function runner find a function at address: an Active FunctionRevision
// labelled with the function's package name, with the endpoint and capabilities the package manager
// would have recorded.
func activateFunction(ctx context.Context, client dynamic.Interface, name, pkg, address string) error {
	revision := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "pkg.crossplane.io/v1",
		"kind":       "FunctionRevision",
		"metadata": map[string]any{
			"name":   name + "-sandbox",
			"labels": map[string]any{"pkg.crossplane.io/package": name},
		},
		"spec": map[string]any{"desiredState": "Active", "image": pkg, "revision": int64(1)},
	}}
	created, err := client.Resource(functionRevisions).Create(ctx, revision, metav1.CreateOptions{})
	if err != nil {
		return fmt.Errorf("cannot create the FunctionRevision of %s: %w", name, err)
	}
	// The package manager reconciles the revision too (and fails to pull its package); retry on conflict.
	for attempt := 0; ; attempt++ {
		if err := unstructured.SetNestedField(created.Object, address, "status", "endpoint"); err != nil {
			return err
		}
		if err := unstructured.SetNestedStringSlice(created.Object, []string{"composition"}, "status", "capabilities"); err != nil {
			return err
		}
		_, err = client.Resource(functionRevisions).UpdateStatus(ctx, created, metav1.UpdateOptions{})
		if err == nil {
			return nil
		}
		if !apierrors.IsConflict(err) || attempt == 10 {
			return fmt.Errorf("cannot record the endpoint of %s: %w", name, err)
		}
		if created, err = client.Resource(functionRevisions).Get(ctx, name+"-sandbox", metav1.GetOptions{}); err != nil {
			return fmt.Errorf("cannot read the FunctionRevision of %s: %w", name, err)
		}
	}
}

// copyModuleCRDs returns a build step that copies the CRDs a module keeps in dir into the tool's build,
// for the sandbox to install: Crossplane's for `core init`, the providers' for their managed resources
// (in a cluster their package would install them).
func copyModuleCRDs(module, dir string) func(ctx context.Context, moduleDir, outDir string) error {
	return func(ctx context.Context, moduleDir, outDir string) error {
		source, err := moduleSource(ctx, moduleDir, module)
		if err != nil {
			return err
		}
		if err := os.CopyFS(filepath.Join(outDir, crdsDir), os.DirFS(filepath.Join(source, dir))); err != nil {
			return fmt.Errorf("cannot copy the CRDs of %s: %w", module, err)
		}
		return nil
	}
}

// moduleSource is the directory of module's source in the module cache, as the wrapper module in
// moduleDir requires it.
func moduleSource(ctx context.Context, moduleDir, module string) (string, error) {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", module)
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	source, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("cannot locate the source of %s: %w", module, err)
	}
	return strings.TrimSpace(string(source)), nil
}
