package provider

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/echoprovider"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/statecheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestAccClusterInterruptedCreate kills the CLI and the provider while an AWS cluster is being created,
// which leaves its composites in the management cluster and nothing in state. An apply of other
// settings is refused; the next apply of the same configuration adopts the composites and converges,
// without duplicates, and a plan after it is empty.
func TestAccClusterInterruptedCreate(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	storeCredentials(t, "aws/acc-team", map[string]any{"aws_access_key_id": "AKIASANDBOX", "aws_secret_access_key": "sandbox-secret-key"})
	const name = "acc-interrupted-eks"
	config := awsClusterConfig(name, "eu-west-1", "1.33", `{ default = { instance_type = "m6i.large", min_size = 1, max_size = 3 } }`)
	w := newCLIWorkspace(t, t.TempDir())
	w.writeConfig(t, config)
	w.run(t, "init", "-input=false")
	t.Cleanup(func() {
		w.writeConfig(t, config)
		w.run(t, "destroy", "-auto-approve", "-input=false")
		if err := checkCloudClusterGone(t, name, "idp-aws-aws-acc-team")(nil); err != nil {
			t.Error(err)
		}
	})

	apply := w.command("apply", "-auto-approve", "-input=false")
	var output strings.Builder
	apply.Stdout, apply.Stderr = &output, &output
	if err := apply.Start(); err != nil {
		t.Fatal(err)
	}
	client, _ := managementDynamic(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for {
		_, err := client.Resource(kubernetesClusters).Get(ctx, name, metav1.GetOptions{})
		if err == nil {
			break
		}
		if !apierrors.IsNotFound(err) {
			_ = syscall.Kill(-apply.Process.Pid, syscall.SIGKILL)
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			_ = syscall.Kill(-apply.Process.Pid, syscall.SIGKILL)
			t.Fatalf("the composite never appeared:\n%s", output.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	if err := syscall.Kill(-apply.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = apply.Wait()
	// Before its only resource is created, tofu has written no state (or an empty one): "state list"
	// lists nothing, or finds no state at all.
	listed, err := w.command("state", "list").CombinedOutput()
	if text := strings.TrimSpace(string(listed)); (err == nil && text != "") || (err != nil && !strings.Contains(text, "No state file was found")) {
		t.Fatalf("the create finished before the kill, so nothing was interrupted; state list: %v\n%s\n%s", err, text, output.String())
	}
	xr, err := client.Resource(kubernetesClusters).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatalf("the interrupted create left no composite: %v", err)
	}
	if xr.GetAnnotations()["platform.idp.dev/creating"] == "" {
		t.Fatalf("the interrupted create's composite is not marked as being created: %v", xr.GetAnnotations())
	}

	// Other settings than the interrupted create's are refused: the composite may be someone else's.
	w.writeConfig(t, awsClusterConfig(name, "eu-west-1", "1.33", `{ default = { instance_type = "m6i.large", min_size = 1, max_size = 4 } }`))
	refused, err := w.command("apply", "-auto-approve", "-input=false").CombinedOutput()
	if err == nil || !strings.Contains(string(refused), "interrupted create of other settings") {
		t.Fatalf("an apply of other settings over the interrupted create: %v, want it refused\n%s", err, refused)
	}

	w.writeConfig(t, config)
	w.run(t, "apply", "-auto-approve", "-input=false")
	xr, err = client.Resource(kubernetesClusters).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if mark, ok := xr.GetAnnotations()["platform.idp.dev/creating"]; ok {
		t.Errorf("the adopted cluster is still marked as being created (%s)", mark)
	}
	pools, err := client.Resource(kubernetesNodePools).List(ctx, metav1.ListOptions{LabelSelector: "platform.idp.dev/cluster=" + name})
	if err != nil || len(pools.Items) != 1 {
		t.Errorf("the cluster has %v node pool composites (%v), want 1", len(pools.Items), err)
	}
	configs, err := client.Resource(awsProviderConfigs).List(ctx, metav1.ListOptions{LabelSelector: "platform.idp.dev/managed-by=terraform-provider-idp"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range configs.Items {
		names = append(names, c.GetName())
	}
	if fmt.Sprint(names) != "[idp-aws-aws-acc-team]" {
		t.Errorf("AWS ProviderConfigs after convergence: %v, want [idp-aws-aws-acc-team]", names)
	}
	if err := checkVaultKubeconfigReaches(t, name)(nil); err != nil {
		t.Error(err)
	}
	plan := w.command("plan", "-detailed-exitcode", "-input=false")
	if out, err := plan.CombinedOutput(); err != nil {
		t.Errorf("plan after convergence: %v (exit code 2 means changes)\n%s", err, out)
	}
}

// TestAccClusterCredentialsSameApply creates a cluster and hands its credentials to another provider in
// one apply: the documented cluster = idp_cluster.<x>.id is unknown at plan, so the credentials open
// at apply, once the cluster exists.
func TestAccClusterCredentialsSameApply(t *testing.T) {
	requireAcc(t)
	installPlatform(t)
	storeCredentials(t, "aws/acc-team", map[string]any{"aws_access_key_id": "AKIASANDBOX", "aws_secret_access_key": "sandbox-secret-key"})
	const name = "acc-same-apply"
	config := awsClusterConfig(name, "eu-west-1", "1.33", `{ default = { instance_type = "m6i.large", min_size = 1, max_size = 3 } }`) + `
ephemeral "idp_cluster_credentials" "payments" {
  cluster = idp_cluster.payments.id
}

provider "echo" {
  data = {
    endpoint       = ephemeral.idp_cluster_credentials.payments.endpoint
    has_kubeconfig = length(ephemeral.idp_cluster_credentials.payments.kubeconfig) > 0
  }
}

resource "echo" "credentials" {}
`
	resource.Test(t, resource.TestCase{
		ProtoV6ProviderFactories: map[string]func() (tfprotov6.ProviderServer, error){
			"idp":  testProviders["idp"],
			"echo": echoprovider.NewProviderServer(),
		},
		TerraformVersionChecks: writeOnlyCLIs,
		CheckDestroy:           checkCloudClusterGone(t, name, "idp-aws-aws-acc-team"),
		Steps: []resource.TestStep{{
			Config: config,
			ConfigStateChecks: []statecheck.StateCheck{
				statecheck.ExpectKnownValue("echo.credentials", tfjsonpath.New("data").AtMapKey("endpoint"), knownvalue.StringRegexp(regexp.MustCompile(`^https://127\.0\.0\.1:\d+$`))),
				statecheck.ExpectKnownValue("echo.credentials", tfjsonpath.New("data").AtMapKey("has_kubeconfig"), knownvalue.Bool(true)),
				stateHasNoSecrets(),
			},
		}},
	})
}
