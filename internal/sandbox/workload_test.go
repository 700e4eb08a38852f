package sandbox

import (
	"context"
	"os"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/utils/ptr"
)

func TestMain(m *testing.M) {
	os.Exit(RunTests(m))
}

// TestAccWorkloadClusterRunsPods proves the workload cluster is a working cluster: a Deployment's Pods
// are scheduled onto the kwok nodes and become Available, with no container runtime anywhere.
func TestAccWorkloadClusterRunsPods(t *testing.T) {
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1 (make test does)")
	}
	config, err := clientcmd.BuildConfigFromFlags("", os.Getenv(EnvWorkloadKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	// A generated name, so a run against a reused sandbox never meets the last run's namespace still
	// terminating.
	namespace, err := clientset.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{GenerateName: "sandbox-pods-"}}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = clientset.CoreV1().Namespaces().Delete(context.Background(), namespace.Name, metav1.DeleteOptions{})
	})
	labels := map[string]string{"app": "web"}
	deployment := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: namespace.Name},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To[int32](3),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "registry.invalid/web:1"}}},
			},
		},
	}
	if _, err := clientset.AppsV1().Deployments(namespace.Name).Create(ctx, deployment, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var status appsv1.DeploymentStatus
	for {
		got, err := clientset.AppsV1().Deployments(namespace.Name).Get(ctx, "web", metav1.GetOptions{})
		if err == nil {
			status = got.Status
			if status.AvailableReplicas == 3 {
				break
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("the Deployment's 3 replicas did not become available: %+v (last error: %v)", status, err)
		case <-time.After(250 * time.Millisecond):
		}
	}
	pods, err := clientset.CoreV1().Pods(namespace.Name).List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, pod := range pods.Items {
		if pod.Spec.NodeName == "" || pod.Status.Phase != corev1.PodRunning {
			t.Errorf("pod %s: node %q, phase %s; want scheduled and Running", pod.Name, pod.Spec.NodeName, pod.Status.Phase)
		}
	}
}
