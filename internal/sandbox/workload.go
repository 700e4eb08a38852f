package sandbox

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

// kwokNodeLabel marks the fake nodes kwok manages in a workload cluster.
const kwokNodeLabel = "sandbox.idp.dev/kwok"

// WorkloadCluster is a cluster applications run on: its own kube-apiserver (under its own etcd prefix),
// controller-manager and scheduler, and kwok, which plays the kubelet of a few fake nodes so that Pods
// are scheduled and become Ready without containers.
type WorkloadCluster struct {
	Name           string
	Host           string
	CAPEM          []byte
	KubeconfigPath string
}

func (s *Sandbox) startWorkloadCluster(ctx context.Context, bins map[string]string, etcdURL, name string) (*WorkloadCluster, error) {
	var authn []string
	if s.oidc != nil {
		// The cluster accepts Keycloak's ID tokens, as the platform's clusters do.
		path := filepath.Join(s.dir, name+"-authentication.yaml")
		if err := os.WriteFile(path, []byte(s.oidc.authenticationConfig()), 0o600); err != nil {
			return nil, fmt.Errorf("cannot write the authentication configuration of %s: %w", name, err)
		}
		authn = append(authn, "--authentication-config="+path)
	}
	cp, err := s.startControlPlane(ctx, bins["kubernetes"], name, etcdURL, authn...)
	if err != nil {
		return nil, err
	}
	if _, err := s.start(name+"-scheduler", nil, filepath.Join(bins["kubernetes"], "kube-scheduler"),
		"--kubeconfig="+cp.kubeconfigPath,
		"--authentication-kubeconfig="+cp.kubeconfigPath,
		"--authorization-kubeconfig="+cp.kubeconfigPath,
		"--bind-address=127.0.0.1",
		"--secure-port=0",
		"--leader-elect=false",
	); err != nil {
		return nil, err
	}
	kwok, err := s.start(name+"-kwok", nil, filepath.Join(bins["kwok"], "kwok"),
		"--kubeconfig="+cp.kubeconfigPath,
		"--config="+filepath.Join(bins["kwok"], kwokStagesFile),
		"--manage-nodes-with-label-selector="+kwokNodeLabel+"=true",
		"--node-ip=127.0.0.1",
	)
	if err != nil {
		return nil, err
	}
	clientset, err := kubernetes.NewForConfig(cp.restConfig)
	if err != nil {
		return nil, fmt.Errorf("cannot build a client for %s: %w", name, err)
	}
	nodes := []string{name + "-node-a", name + "-node-b"}
	for _, node := range nodes {
		if err := createFakeNode(ctx, clientset, node); err != nil {
			return nil, err
		}
	}
	if err := kwok.waitReady(ctx, 2*time.Minute, func(ctx context.Context) error {
		for _, node := range nodes {
			if err := untaintWhenReady(ctx, clientset, node); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		return nil, err
	}
	return &WorkloadCluster{Name: name, Host: cp.host, CAPEM: cp.caPEM, KubeconfigPath: cp.kubeconfigPath}, nil
}

func createFakeNode(ctx context.Context, clientset kubernetes.Interface, name string) error {
	capacity := corev1.ResourceList{
		corev1.ResourceCPU:    resource.MustParse("16"),
		corev1.ResourceMemory: resource.MustParse("64Gi"),
		corev1.ResourcePods:   resource.MustParse("110"),
	}
	node := &corev1.Node{
		ObjectMeta: metav1.ObjectMeta{
			Name:        name,
			Labels:      map[string]string{kwokNodeLabel: "true", corev1.LabelHostname: name, corev1.LabelOSStable: "linux", corev1.LabelArchStable: "amd64"},
			Annotations: map[string]string{"kwok.x-k8s.io/node": "fake"},
		},
		Status: corev1.NodeStatus{Capacity: capacity, Allocatable: capacity},
	}
	if _, err := clientset.CoreV1().Nodes().Create(ctx, node, metav1.CreateOptions{}); err != nil {
		return fmt.Errorf("cannot create fake node %s: %w", name, err)
	}
	return nil
}

// untaintWhenReady removes the not-ready taint the API server puts on every new node once kwok has
// made the node Ready. The node lifecycle controller would do it, but it also evicts pods from nodes
// whose kubelet stops reporting, and kwok's fast stages report only once, so that controller is off.
func untaintWhenReady(ctx context.Context, clientset kubernetes.Interface, name string) error {
	node, err := clientset.CoreV1().Nodes().Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return err
	}
	if !nodeReady(node) {
		return fmt.Errorf("node %s is not Ready yet", name)
	}
	if len(node.Spec.Taints) == 0 {
		return nil
	}
	node.Spec.Taints = nil
	if _, err := clientset.CoreV1().Nodes().Update(ctx, node, metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("cannot untaint node %s: %w", name, err)
	}
	return nil
}

func nodeReady(node *corev1.Node) bool {
	for _, condition := range node.Status.Conditions {
		if condition.Type == corev1.NodeReady {
			return condition.Status == corev1.ConditionTrue
		}
	}
	return false
}

// kwokStagesFile is written beside the kwok binary: the node and pod lifecycle stages kwok plays.
const kwokStagesFile = "stages.yaml"

// kwokStageSources are kwok's own "fast" stages, read from its module source: nodes become Ready at
// once, pods Running and Ready, Job pods Succeeded, deleted pods go.
var kwokStageSources = []string{
	"kustomize/stage/node/fast/node-initialize.yaml",
	"kustomize/stage/pod/fast/pod-ready.yaml",
	"kustomize/stage/pod/fast/pod-complete.yaml",
	"kustomize/stage/pod/fast/pod-delete.yaml",
}

// writeKwokStages gathers the stages from the kwok module the wrapper builds into outDir.
func writeKwokStages(ctx context.Context, moduleDir, outDir string) error {
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok")
	cmd.Dir = moduleDir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	dir, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("cannot locate the kwok module source: %w", err)
	}
	var stages []string
	for _, source := range kwokStageSources {
		raw, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(dir)), source))
		if err != nil {
			return fmt.Errorf("cannot read kwok stage %s: %w", source, err)
		}
		stages = append(stages, strings.TrimSpace(string(raw)))
	}
	if err := os.WriteFile(filepath.Join(outDir, kwokStagesFile), []byte(strings.Join(stages, "\n---\n")+"\n"), 0o644); err != nil {
		return fmt.Errorf("cannot write the kwok stages: %w", err)
	}
	return nil
}
