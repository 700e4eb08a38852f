package sandbox

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// cloudSimulator plays AWS, Azure and GCP for the sandbox, the one part of the platform that is
// simulated: it stands in for the Upbound providers, which would call the clouds' APIs. It marks every
// managed resource (*.upbound.io) Synced and Ready with the ids and endpoints a cloud reports, and for
// the resources that publish a cluster's kubeconfig (EKS ClusterAuth, AKS KubernetesCluster, GKE
// Cluster) it starts a real workload cluster and writes its admin kubeconfig as the resource's
// connection secret. When such a resource is deleted, its workload cluster is stopped.
type cloudSimulator struct {
	sandbox   *Sandbox
	bins      map[string]string
	etcdURL   string
	dynamic   dynamic.Interface
	clientset kubernetes.Interface

	mu       sync.Mutex
	clusters map[string]*simulatedCluster // by the publishing resource's kind/name
}

type simulatedCluster struct {
	owner     *Sandbox // holds the workload cluster's processes, so they stop together
	workload  *WorkloadCluster
	secretRef types.NamespacedName
	// client reaches the workload cluster, for the cloud's load balancers.
	client kubernetes.Interface
}

// kubeconfigPublishers are the managed resources whose connection secret is a cluster's kubeconfig.
var kubeconfigPublishers = map[string]bool{
	"eks.aws.upbound.io/ClusterAuth":                      true,
	"containerservice.azure.upbound.io/KubernetesCluster": true,
	"container.gcp.upbound.io/Cluster":                    true,
}

var crds = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}

// run reconciles until ctx ends, then stops the workload clusters it started.
func (c *cloudSimulator) run(ctx context.Context) {
	defer c.stopAll()
	for {
		if err := c.reconcile(ctx); err != nil && ctx.Err() == nil {
			c.sandbox.logf("cloud simulator: %v", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (c *cloudSimulator) reconcile(ctx context.Context) error {
	list, err := c.dynamic.Resource(crds).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("cannot list CRDs: %w", err)
	}
	seen := map[string]bool{}
	for _, crd := range list.Items {
		group, _, _ := unstructured.NestedString(crd.Object, "spec", "group")
		if !strings.HasSuffix(group, ".upbound.io") {
			continue
		}
		kind, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "kind")
		if kind == "ProviderConfig" || kind == "ProviderConfigUsage" || kind == "StoreConfig" {
			continue
		}
		plural, _, _ := unstructured.NestedString(crd.Object, "spec", "names", "plural")
		versions, _, _ := unstructured.NestedSlice(crd.Object, "spec", "versions")
		for _, v := range versions {
			version, _ := v.(map[string]any)
			if storage, _ := version["storage"].(bool); !storage {
				continue
			}
			name, _ := version["name"].(string)
			gvr := schema.GroupVersionResource{Group: group, Version: name, Resource: plural}
			resources, err := c.dynamic.Resource(gvr).List(ctx, metav1.ListOptions{})
			if err != nil {
				return fmt.Errorf("cannot list %s: %w", gvr, err)
			}
			for i := range resources.Items {
				mr := &resources.Items[i]
				key := group + "/" + kind + "/" + mr.GetName()
				seen[key] = true
				if err := c.reconcileOne(ctx, gvr, group+"/"+kind, key, mr); err != nil {
					c.sandbox.logf("cloud simulator: %s: %v", key, err)
				}
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, cluster := range c.clusters {
		if seen[key] {
			if err := assignLoadBalancers(ctx, cluster); err != nil && ctx.Err() == nil {
				c.sandbox.logf("cloud simulator: load balancers of %s: %v", cluster.workload.Name, err)
			}
		}
		if !seen[key] {
			c.sandbox.logf("cloud simulator: %s is gone; stopping workload cluster %s", key, cluster.workload.Name)
			c.stop(ctx, cluster)
			delete(c.clusters, key)
		}
	}
	return nil
}

func (c *cloudSimulator) reconcileOne(ctx context.Context, gvr schema.GroupVersionResource, kind, key string, mr *unstructured.Unstructured) error {
	if mr.GetDeletionTimestamp() != nil {
		return nil
	}
	var endpoint string
	if kubeconfigPublishers[kind] {
		cluster, err := c.publishKubeconfig(ctx, key, mr)
		if err != nil {
			return err
		}
		endpoint = cluster.workload.Host
	}
	if kind == "eks.aws.upbound.io/ClusterAuth" {
		// The cluster's endpoint is the workload cluster's, reported on the EKS Cluster it authenticates to.
		if err := c.reportEKSEndpoint(ctx, mr, endpoint); err != nil {
			return err
		}
	}
	if ConditionTrue(mr, "Ready") {
		return nil
	}
	atProvider, _, _ := unstructured.NestedMap(mr.Object, "status", "atProvider")
	if atProvider == nil {
		atProvider = map[string]any{}
	}
	forProvider, _, _ := unstructured.NestedMap(mr.Object, "spec", "forProvider")
	atProvider["id"] = mr.GetName()
	switch kind {
	case "eks.aws.upbound.io/Cluster":
		atProvider["arn"] = "arn:aws:eks:" + fmt.Sprint(forProvider["region"]) + ":000000000000:cluster/" + mr.GetName()
		atProvider["version"] = forProvider["version"]
		atProvider["status"] = "ACTIVE"
	case "cloudplatform.gcp.upbound.io/ServiceAccount":
		// Named after what composed it rather than the generated name, so that renders are repeatable.
		account := mr.GetName()
		if composite, resource := mr.GetLabels()["crossplane.io/composite"], mr.GetAnnotations()["crossplane.io/composition-resource-name"]; composite != "" && resource != "" {
			account = composite + "-" + resource
		}
		atProvider["email"] = account + "@sandbox-project.iam.gserviceaccount.com"
	case "container.gcp.upbound.io/Cluster":
		atProvider["endpoint"] = strings.TrimPrefix(endpoint, "https://")
		atProvider["masterVersion"] = forProvider["minMasterVersion"]
	case "containerservice.azure.upbound.io/KubernetesCluster":
		atProvider["fqdn"] = strings.TrimPrefix(endpoint, "https://")
		atProvider["currentKubernetesVersion"] = forProvider["kubernetesVersion"]
	}
	now := metav1.Now().UTC().Format(time.RFC3339)
	if err := unstructured.SetNestedMap(mr.Object, atProvider, "status", "atProvider"); err != nil {
		return err
	}
	if err := unstructured.SetNestedSlice(mr.Object, []any{
		map[string]any{"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": now},
		map[string]any{"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": now},
	}, "status", "conditions"); err != nil {
		return err
	}
	_, err := c.dynamic.Resource(gvr).UpdateStatus(ctx, mr, metav1.UpdateOptions{})
	if apierrors.IsConflict(err) {
		return nil // changed meanwhile; the next pass sees the new version
	}
	return err
}

// reportEKSEndpoint sets the endpoint of the EKS Cluster a ClusterAuth names (by its resolved
// clusterName, else by the selector's controller), as EKS would once the control plane is up.
func (c *cloudSimulator) reportEKSEndpoint(ctx context.Context, auth *unstructured.Unstructured, endpoint string) error {
	clusters := schema.GroupVersionResource{Group: "eks.aws.upbound.io", Version: "v1beta1", Resource: "clusters"}
	controller := metav1.GetControllerOf(auth)
	list, err := c.dynamic.Resource(clusters).List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range list.Items {
		cluster := &list.Items[i]
		owner := metav1.GetControllerOf(cluster)
		if controller == nil || owner == nil || owner.UID != controller.UID {
			continue
		}
		if current, _, _ := unstructured.NestedString(cluster.Object, "status", "atProvider", "endpoint"); current == endpoint {
			return nil
		}
		if err := unstructured.SetNestedField(cluster.Object, endpoint, "status", "atProvider", "endpoint"); err != nil {
			return err
		}
		if _, err := c.dynamic.Resource(clusters).UpdateStatus(ctx, cluster, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) {
			return err
		}
	}
	return nil
}

// publishKubeconfig starts the workload cluster of a kubeconfig-publishing resource on first sight and
// writes its admin kubeconfig to the resource's connection secret.
func (c *cloudSimulator) publishKubeconfig(ctx context.Context, key string, mr *unstructured.Unstructured) (*simulatedCluster, error) {
	c.mu.Lock()
	cluster, ok := c.clusters[key]
	c.mu.Unlock()
	if !ok {
		name := "sim-" + mr.GetName()
		if len(name) > 40 {
			name = name[:40]
		}
		c.sandbox.logf("cloud simulator: %s publishes a kubeconfig; starting workload cluster %s", key, name)
		owner := &Sandbox{dir: c.sandbox.dir, cacheDir: c.sandbox.cacheDir, log: c.sandbox.log, oidc: c.sandbox.oidc}
		workload, err := owner.startWorkloadCluster(ctx, c.bins, c.etcdURL, name)
		if err != nil {
			_ = owner.Stop()
			return nil, fmt.Errorf("cannot start the workload cluster: %w", err)
		}
		client, err := workloadClientset(workload)
		if err != nil {
			_ = owner.Stop()
			return nil, err
		}
		cluster = &simulatedCluster{owner: owner, workload: workload, client: client}
		c.mu.Lock()
		c.clusters[key] = cluster
		c.mu.Unlock()
	}
	namespace, _, _ := unstructured.NestedString(mr.Object, "spec", "writeConnectionSecretToRef", "namespace")
	name, _, _ := unstructured.NestedString(mr.Object, "spec", "writeConnectionSecretToRef", "name")
	if name == "" {
		return cluster, nil
	}
	cluster.secretRef = types.NamespacedName{Namespace: namespace, Name: name}
	kubeconfig, err := os.ReadFile(cluster.workload.KubeconfigPath)
	if err != nil {
		return nil, err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: name},
		Type:       "connection.crossplane.io/v1alpha1",
		Data:       map[string][]byte{"kubeconfig": kubeconfig, "endpoint": []byte(cluster.workload.Host), "clusterCA": cluster.workload.CAPEM},
	}
	existing, err := c.clientset.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		_, err = c.clientset.CoreV1().Secrets(namespace).Create(ctx, secret, metav1.CreateOptions{})
	case err == nil && string(existing.Data["kubeconfig"]) != string(kubeconfig):
		existing.Data = secret.Data
		_, err = c.clientset.CoreV1().Secrets(namespace).Update(ctx, existing, metav1.UpdateOptions{})
	}
	if err != nil {
		return nil, fmt.Errorf("cannot write connection secret %s/%s: %w", namespace, name, err)
	}
	return cluster, nil
}

// assignLoadBalancers plays the cloud's load balancer controller: a Service of type LoadBalancer in a
// simulated cluster gets an address, as EKS, AKS and GKE give one (charts and their users wait for it).
// Each pass is bounded, so a stopped workload cluster cannot hold up the simulator.
func assignLoadBalancers(ctx context.Context, cluster *simulatedCluster) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	services, err := cluster.client.CoreV1().Services("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for i := range services.Items {
		service := &services.Items[i]
		if service.Spec.Type != corev1.ServiceTypeLoadBalancer || len(service.Status.LoadBalancer.Ingress) > 0 {
			continue
		}
		hostname := service.Name + "-" + service.Namespace + "." + cluster.workload.Name + ".lb.sandbox.invalid"
		service.Status.LoadBalancer.Ingress = []corev1.LoadBalancerIngress{{Hostname: hostname}}
		if _, err := cluster.client.CoreV1().Services(service.Namespace).UpdateStatus(ctx, service, metav1.UpdateOptions{}); err != nil && !apierrors.IsConflict(err) {
			return fmt.Errorf("cannot give Service %s/%s an address: %w", service.Namespace, service.Name, err)
		}
	}
	return nil
}

func workloadClientset(workload *WorkloadCluster) (kubernetes.Interface, error) {
	config, err := clientcmd.BuildConfigFromFlags("", workload.KubeconfigPath)
	if err != nil {
		return nil, fmt.Errorf("cannot read the kubeconfig of %s: %w", workload.Name, err)
	}
	return kubernetes.NewForConfig(config)
}

func (c *cloudSimulator) stop(ctx context.Context, cluster *simulatedCluster) {
	_ = cluster.owner.Stop()
	if cluster.secretRef.Name != "" {
		err := c.clientset.CoreV1().Secrets(cluster.secretRef.Namespace).Delete(ctx, cluster.secretRef.Name, metav1.DeleteOptions{})
		if err != nil && !apierrors.IsNotFound(err) && ctx.Err() == nil {
			c.sandbox.logf("cloud simulator: cannot delete connection secret %s: %v", cluster.secretRef, err)
		}
	}
}

func (c *cloudSimulator) stopAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for key, cluster := range c.clusters {
		_ = cluster.owner.Stop()
		delete(c.clusters, key)
	}
}

// startCloudSimulator runs the cloud simulator against the management cluster until Stop.
func (s *Sandbox) startCloudSimulator(bins map[string]string, etcdURL string, cp *controlPlane) error {
	config := rest.CopyConfig(cp.restConfig)
	// Status fields differ by kind (not every atProvider has an id); the API server drops what a kind
	// lacks and warns, which is noise here.
	config.WarningHandler = rest.NoWarnings{}
	dynamicClient, err := dynamic.NewForConfig(config)
	if err != nil {
		return fmt.Errorf("cannot build a client for the management cluster: %w", err)
	}
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		return fmt.Errorf("cannot build a client for the management cluster: %w", err)
	}
	sim := &cloudSimulator{sandbox: s, bins: bins, etcdURL: etcdURL, dynamic: dynamicClient, clientset: clientset, clusters: map[string]*simulatedCluster{}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		sim.run(ctx)
	}()
	s.stopSimulator = func() {
		cancel()
		<-done
	}
	return nil
}
