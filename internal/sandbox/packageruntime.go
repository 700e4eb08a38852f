package sandbox

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// StartPackageManagedCluster starts a management cluster with Crossplane core and nothing of the
// platform in it, for tests that install the platform through Crossplane's package manager. Core runs
// the External package runtime, so the sandbox plays that runtime: it runs the composition functions it
// builds, and records a function's address on every FunctionRevision the package manager makes of that
// function's package (compositionFunctions). It returns the cluster's admin kubeconfig path.
func StartPackageManagedCluster(ctx context.Context, opts Options) (_ *Sandbox, kubeconfig string, err error) {
	s, bins, etcdURL, err := startEtcdSandbox(ctx, opts, append([]string{"etcd", "kubernetes"}, crossplaneTools()...)...)
	if err != nil {
		return nil, "", err
	}
	defer s.stopOnError(&err)
	if err := s.buildRepoCommands(ctx, opts.RepoRoot, bins); err != nil {
		return nil, "", err
	}
	cp, err := s.startControlPlane(ctx, bins["kubernetes"], "management", etcdURL)
	if err != nil {
		return nil, "", err
	}
	addresses, err := s.startCrossplaneCore(ctx, bins, cp)
	if err != nil {
		return nil, "", err
	}
	client, err := dynamic.NewForConfig(cp.restConfig)
	if err != nil {
		return nil, "", fmt.Errorf("cannot build a client for the management cluster: %w", err)
	}
	if err := storeFunctionCertificate(ctx, cp, filepath.Join(s.dir, "crossplane", "function-certs")); err != nil {
		return nil, "", err
	}
	endpoints := map[string]string{}
	for _, fn := range compositionFunctions {
		endpoints[fn.pkg] = addresses[fn.name]
	}
	runtimeCtx, stop := context.WithCancel(context.Background())
	s.stopRuntime = stop
	go func() {
		for {
			select {
			case <-runtimeCtx.Done():
				return
			case <-time.After(time.Second):
			}
			if err := recordFunctionEndpoints(runtimeCtx, client, endpoints); err != nil && runtimeCtx.Err() == nil {
				s.logf("package runtime: %v", err)
			}
		}
	}()
	return s, cp.kubeconfigPath, nil
}

// functionTLSSecret holds the functions' server certificate, which a revision names in
// status.tlsServerSecretName: the package manager takes control of a revision only once its runtime has
// named one.
const functionTLSSecret = "sandbox-function-tls"

// storeFunctionCertificate writes the functions' server certificate (from startCrossplaneCore) to
// functionTLSSecret.
func storeFunctionCertificate(ctx context.Context, cp *controlPlane, dir string) error {
	clientset, err := kubernetes.NewForConfig(cp.restConfig)
	if err != nil {
		return fmt.Errorf("cannot build a client for the management cluster: %w", err)
	}
	data := map[string][]byte{}
	for _, name := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if data[name], err = os.ReadFile(filepath.Join(dir, name)); err != nil {
			return fmt.Errorf("cannot read the functions' %s: %w", name, err)
		}
	}
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: functionTLSSecret, Namespace: CrossplaneNamespace}, Data: data}
	if _, err := clientset.CoreV1().Secrets(CrossplaneNamespace).Create(ctx, secret, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("cannot create secret %s/%s: %w", CrossplaneNamespace, functionTLSSecret, err)
	}
	return nil
}

// recordFunctionEndpoints does for every FunctionRevision whose package the sandbox runs what a
// package runtime does once the function serves: it names the function's TLS secret and address and
// marks the runtime healthy. A conflict with the package manager's own status update is left to the
// next round.
func recordFunctionEndpoints(ctx context.Context, client dynamic.Interface, endpoints map[string]string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	revisions, err := client.Resource(functionRevisions).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("cannot list FunctionRevisions: %w", err)
	}
	for i := range revisions.Items {
		revision := &revisions.Items[i]
		image, _, _ := unstructured.NestedString(revision.Object, "spec", "image")
		address := functionAddress(endpoints, image)
		if address == "" {
			continue
		}
		endpoint, _, _ := unstructured.NestedString(revision.Object, "status", "endpoint")
		secret, _, _ := unstructured.NestedString(revision.Object, "status", "tlsServerSecretName")
		if endpoint == address && secret == functionTLSSecret && ConditionTrue(revision, runtimeHealthyCondition) {
			continue
		}
		if err := unstructured.SetNestedField(revision.Object, address, "status", "endpoint"); err != nil {
			return err
		}
		if err := unstructured.SetNestedField(revision.Object, functionTLSSecret, "status", "tlsServerSecretName"); err != nil {
			return err
		}
		if err := setRuntimeHealthy(revision); err != nil {
			return err
		}
		if _, err := client.Resource(functionRevisions).UpdateStatus(ctx, revision, metav1.UpdateOptions{}); err != nil {
			return fmt.Errorf("cannot record the endpoint of FunctionRevision %s: %w", revision.GetName(), err)
		}
	}
	return nil
}

// functionAddress is the address of the function whose package image is, or a mirror's copy of it.
func functionAddress(endpoints map[string]string, image string) string {
	for pkg, address := range endpoints {
		if image == pkg || strings.HasSuffix(image, "/"+pkg) {
			return address
		}
	}
	return ""
}

const runtimeHealthyCondition = "RuntimeHealthy"

func setRuntimeHealthy(revision *unstructured.Unstructured) error {
	conditions, _, _ := unstructured.NestedSlice(revision.Object, "status", "conditions")
	kept := []any{}
	for _, c := range conditions {
		if condition, ok := c.(map[string]any); !ok || condition["type"] != runtimeHealthyCondition {
			kept = append(kept, c)
		}
	}
	kept = append(kept, map[string]any{
		"type": runtimeHealthyCondition, "status": "True", "reason": "HealthyPackageRevision",
		"lastTransitionTime": time.Now().UTC().Format(time.RFC3339),
	})
	return unstructured.SetNestedSlice(revision.Object, kept, "status", "conditions")
}
