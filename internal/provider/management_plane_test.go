package provider

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/idp-platform/terraform-provider-idp/crossplane"
	"github.com/idp-platform/terraform-provider-idp/internal/sandbox"
)

// managementPlaneObjects are the kinds the management-plane module makes Crossplane's package manager
// install, with the names it must install (nil: whatever it names, which must be gone after destroy).
var managementPlaneObjects = []struct {
	resource   schema.GroupVersionResource
	names      []string
	conditions []string
}{
	{schema.GroupVersionResource{Group: "pkg.crossplane.io", Version: "v1", Resource: "configurations"}, []string{"idp-platform"}, []string{"Installed", "Healthy"}},
	{schema.GroupVersionResource{Group: "pkg.crossplane.io", Version: "v1", Resource: "functions"},
		[]string{"function-addon-stack", "function-auto-ready", "function-patch-and-transform"}, []string{"Installed", "Healthy"}},
	{schema.GroupVersionResource{Group: "apiextensions.crossplane.io", Version: "v2", Resource: "compositeresourcedefinitions"},
		[]string{"addonstacks.platform.idp.dev", "kubernetesclusters.platform.idp.dev", "kubernetesnodepools.platform.idp.dev"}, []string{"Established"}},
	{schema.GroupVersionResource{Group: "apiextensions.crossplane.io", Version: "v1", Resource: "compositions"},
		[]string{"addonstack", "kubernetesclusters-aws", "kubernetesclusters-azure", "kubernetesclusters-gcp", "kubernetesnodepools-aws", "kubernetesnodepools-azure", "kubernetesnodepools-gcp"}, nil},
	{schema.GroupVersionResource{Group: "pkg.crossplane.io", Version: "v1", Resource: "configurationrevisions"}, nil, nil},
	{schema.GroupVersionResource{Group: "pkg.crossplane.io", Version: "v1", Resource: "functionrevisions"}, nil, nil},
	{schema.GroupVersionResource{Group: "pkg.crossplane.io", Version: "v1beta1", Resource: "imageconfigs"},
		[]string{"platform-configuration-mirror-xpkg-crossplane-io", "platform-configuration-mirror-xpkg-idp-dev"}, nil},
}

// TestAccManagementPlane applies the management-plane module to an empty management cluster running
// Crossplane core: the package manager pulls the platform's Configuration package (built from the
// crossplane folder) and the functions' packages from the sandbox registry's mirror, installs the
// definitions and Compositions, and the sandbox, playing the External package runtime, serves the
// functions. It checks that every package is healthy, that a composite composes through them, that a
// second plan is empty, and that destroy leaves no package, definition, Composition or registration
// behind; then it runs the module's tests/*.tftest.hcl suite on the same cluster and checks the same.
func TestAccManagementPlane(t *testing.T) {
	requireAcc(t)
	if os.Getenv(sandbox.EnvTestCLI) == "terraform" {
		t.Skip("the module registers its cluster with a write-only attribute, which Terraform supports from 1.11; the sandbox's Terraform is 1.5.7")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 15*time.Minute)
	defer cancel()
	mirror := pushPlatformPackages(ctx, t)
	sb, kubeconfig, err := sandbox.StartPackageManagedCluster(ctx, sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Stop() })
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	client, err := dynamic.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}

	root := t.TempDir()
	if err := os.CopyFS(filepath.Join(root, "modules"), os.DirFS(filepath.Join("..", "..", "modules"))); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(root, "platform")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	const cluster = "acc-management-plane"
	w := newCLIWorkspace(t, dir)
	w.writeConfig(t, fmt.Sprintf(`
module "management_plane" {
  source         = "../modules/management-plane"
  name           = %q
  kubeconfig     = file(%q)
  package_mirror = %q
}
`, cluster, kubeconfig, mirror))
	w.run(t, "init", "-input=false")
	destroyed := false
	t.Cleanup(func() {
		if !destroyed {
			_, _ = w.command("destroy", "-auto-approve", "-input=false").CombinedOutput()
		}
	})
	w.run(t, "apply", "-auto-approve", "-input=false")

	if err := awaitInstalled(ctx, client); err != nil {
		t.Error(err)
	}
	if err := composeThroughPackages(ctx, t, config, client); err != nil {
		t.Error(err)
	}
	if _, err := sandboxVault(t).GetMetadata(ctx, kubeconfigPath(cluster)); err != nil {
		t.Errorf("the management cluster is not registered in Vault: %v", err)
	}
	plan := w.command("plan", "-detailed-exitcode", "-input=false")
	if out, err := plan.CombinedOutput(); err != nil {
		t.Errorf("plan after apply: %v (exit code 2 means changes)\n%s", err, out)
	}

	w.run(t, "destroy", "-auto-approve", "-input=false")
	destroyed = true
	if err := awaitUninstalled(ctx, client); err != nil {
		t.Error(err)
	}
	if err := checkClustersGone(t, cluster)(nil); err != nil {
		t.Error(err)
	}

	// The module's own sandbox suite, on the same management cluster: tofu test applies it, checks the
	// release and reapplies it, then destroys it, which must again leave nothing.
	contents, err := os.ReadFile(kubeconfig)
	if err != nil {
		t.Fatal(err)
	}
	runModuleSuite(t, filepath.Join("..", "..", "modules"), "management-plane", []string{"TF_VAR_kubeconfig=" + string(contents), "TF_VAR_package_mirror=" + mirror})
	if err := awaitUninstalled(ctx, client); err != nil {
		t.Errorf("after the module's suite: %v", err)
	}
	if err := checkClustersGone(t, "module-management-plane")(nil); err != nil {
		t.Error(err)
	}
}

// pushPlatformPackages pushes to the sandbox registry's mirror the platform's Configuration package,
// built from the crossplane folder as `crossplane xpkg build` would, and a fixture package per function.
func pushPlatformPackages(ctx context.Context, t *testing.T) string {
	t.Helper()
	mirror := sandbox.XpkgMirror(os.Getenv(sandbox.EnvRegistryHost))
	configuration, err := crossplane.PackageYAML()
	if err != nil {
		t.Fatal(err)
	}
	if err := sandbox.PushPackage(ctx, mirror+"/"+crossplane.ConfigurationPackage, configuration); err != nil {
		t.Fatal(err)
	}
	functions, err := crossplane.Functions()
	if err != nil {
		t.Fatal(err)
	}
	for _, function := range functions {
		if err := sandbox.PushPackage(ctx, mirror+"/"+function.Package, sandbox.FunctionFixturePackage(function.Name)); err != nil {
			t.Fatal(err)
		}
	}
	return mirror
}

// composeThroughPackages creates an AWS KubernetesCluster in the package-managed cluster and waits until
// Crossplane composed its resources: the installed Composition runs through the installed Functions'
// revisions, so the package manager's objects and the sandbox's runtime work together. It deletes the
// composite again, before destroy removes its definition.
func composeThroughPackages(ctx context.Context, t *testing.T, config *rest.Config, client dynamic.Interface) error {
	t.Helper()
	files, err := sandbox.ProviderCRDFiles()
	if err != nil {
		return err
	}
	// The providers' kinds, which their packages would bring; no provider runs here.
	if _, err := sandbox.InstallCRDs(ctx, config, files); err != nil {
		return err
	}
	clusters := schema.GroupVersionResource{Group: "platform.idp.dev", Version: "v1alpha1", Resource: "kubernetesclusters"}
	xr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "platform.idp.dev/v1alpha1", "kind": "KubernetesCluster",
		"metadata": map[string]any{"name": "acc-management-plane-aws"},
		"spec": map[string]any{
			"cloud": "aws", "region": "eu-west-1", "kubernetesVersion": "1.33", "providerConfigName": "idp-aws-team-payments",
			"networkCIDR": "10.20.0.0/16", "tags": map[string]any{"team": "payments"},
			"crossplane": map[string]any{"compositionSelector": map[string]any{"matchLabels": map[string]any{"platform.idp.dev/cloud": "aws"}}},
		},
	}}
	if _, err := client.Resource(clusters).Create(ctx, xr, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("cannot create KubernetesCluster %s: %w", xr.GetName(), err)
	}
	composed := awaitPackages(ctx, func() error {
		live, err := client.Resource(clusters).Get(ctx, xr.GetName(), metav1.GetOptions{})
		if err != nil {
			return err
		}
		refs, _, _ := unstructured.NestedSlice(live.Object, "spec", "crossplane", "resourceRefs")
		if len(refs) == 0 {
			return fmt.Errorf("KubernetesCluster %s has composed nothing: %v", xr.GetName(), live.Object["status"])
		}
		t.Logf("KubernetesCluster %s composed %d resources", xr.GetName(), len(refs))
		return nil
	})
	if err := client.Resource(clusters).Delete(ctx, xr.GetName(), metav1.DeleteOptions{}); err != nil {
		return errors.Join(composed, fmt.Errorf("cannot delete KubernetesCluster %s: %w", xr.GetName(), err))
	}
	gone := awaitPackages(ctx, func() error {
		_, err := client.Resource(clusters).Get(ctx, xr.GetName(), metav1.GetOptions{})
		if err == nil {
			return fmt.Errorf("KubernetesCluster %s is still there", xr.GetName())
		}
		if !apierrors.IsNotFound(err) {
			return err
		}
		return nil
	})
	return errors.Join(composed, gone)
}

// awaitInstalled waits until every object the module makes the package manager install exists with
// its conditions true, and reports what is missing when the wait ends.
func awaitInstalled(ctx context.Context, client dynamic.Interface) error {
	return awaitPackages(ctx, func() error {
		for _, kind := range managementPlaneObjects {
			if kind.names == nil {
				continue
			}
			list, err := client.Resource(kind.resource).List(ctx, metav1.ListOptions{})
			if err != nil {
				return fmt.Errorf("cannot list %s: %w", kind.resource.Resource, err)
			}
			var names []string
			for i := range list.Items {
				object := &list.Items[i]
				for _, condition := range kind.conditions {
					if !sandbox.ConditionTrue(object, condition) {
						return fmt.Errorf("%s %s is not %s: %v", kind.resource.Resource, object.GetName(), condition, object.Object["status"])
					}
				}
				names = append(names, object.GetName())
			}
			sort.Strings(names)
			if diff := cmp.Diff(kind.names, names); diff != "" {
				return fmt.Errorf("%s installed (-want +got):\n%s", kind.resource.Resource, diff)
			}
		}
		return nil
	})
}

// awaitUninstalled waits until none of the objects is left, and the AccessGrant definition is gone.
func awaitUninstalled(ctx context.Context, client dynamic.Interface) error {
	crds := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	return awaitPackages(ctx, func() error {
		for _, kind := range managementPlaneObjects {
			list, err := client.Resource(kind.resource).List(ctx, metav1.ListOptions{})
			if err != nil {
				return fmt.Errorf("cannot list %s: %w", kind.resource.Resource, err)
			}
			if len(list.Items) > 0 {
				return fmt.Errorf("%s %s is left", kind.resource.Resource, list.Items[0].GetName())
			}
		}
		for _, crd := range []string{"accessgrants.platform.idp.dev", "kubernetesclusters.platform.idp.dev", "addonstacks.platform.idp.dev"} {
			_, err := client.Resource(crds).Get(ctx, crd, metav1.GetOptions{})
			switch {
			case err == nil:
				return fmt.Errorf("CRD %s is left", crd)
			case !apierrors.IsNotFound(err):
				return fmt.Errorf("cannot tell whether CRD %s is left: %w", crd, err)
			}
		}
		return nil
	})
}

// awaitPackages polls check until it passes or three minutes pass, and then returns its last error.
func awaitPackages(ctx context.Context, check func() error) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("crossplane's package manager did not get there in 3 minutes: %w", err)
		case <-time.After(2 * time.Second):
		}
	}
}
