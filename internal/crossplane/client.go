// Package crossplane drives the platform's clusters through Crossplane in the management cluster: it
// applies KubernetesCluster and KubernetesNodePool composites, reads their state, materialises the
// cloud providers' ProviderConfigs from credentials and reads the kubeconfig a cluster publishes.
package crossplane

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net"
	"sort"
	"strings"
	"syscall"
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
)

// errKubeconfigNotPublished is a connection secret that does not hold the kubeconfig yet.
var errKubeconfigNotPublished = errors.New("no kubeconfig in it yet")

// ErrNotFound is returned when a cluster's composite does not exist.
var ErrNotFound = errors.New("no such cluster in the management cluster")

// Namespace is where ProviderConfig secrets and kubeconfig connection secrets live.
const Namespace = "crossplane-system"

const (
	fieldManager   = "terraform-provider-idp"
	labelManagedBy = "platform.idp.dev/managed-by"
	labelCloud     = "platform.idp.dev/cloud"
	labelCluster   = "platform.idp.dev/cluster"
	// annotationCreating marks a KubernetesCluster whose create has not finished with the digest of the
	// spec that create applied. An apply killed mid-create leaves nothing in Terraform's state; the next
	// create finds its own unfinished composite by this mark and adopts it, while a composite made by
	// someone else, or for other settings, is still refused.
	annotationCreating = "platform.idp.dev/creating"
	// annotationSystemPool names AKS's system pool, which the cluster composite holds without a name.
	annotationSystemPool = "platform.idp.dev/system-pool"
)

var (
	clustersResource = schema.GroupVersionResource{Group: "platform.idp.dev", Version: "v1alpha1", Resource: "kubernetesclusters"}
	poolsResource    = schema.GroupVersionResource{Group: "platform.idp.dev", Version: "v1alpha1", Resource: "kubernetesnodepools"}
	// providerConfigGroups are the API groups of each cloud's Upbound ProviderConfig.
	providerConfigGroups = map[string]string{"aws": "aws.upbound.io", "azure": "azure.upbound.io", "gcp": "gcp.upbound.io"}
)

// Cluster is a cluster as its composite describes it.
type Cluster struct {
	Name              string
	Cloud             string
	Region            string
	KubernetesVersion string
	ProviderConfig    string
	Tags              map[string]string
	Pools             []Pool
}

// Pool is a node pool of a cluster.
type Pool struct {
	Name         string
	InstanceType string
	MinSize      int64
	MaxSize      int64
	Labels       map[string]string
}

// Status is what the management cluster reports of a cluster.
type Status struct {
	Ready             bool
	Message           string // why it is not ready, from the composite's conditions
	Endpoint          string
	KubernetesVersion string
	KubeconfigSecret  string // namespace/name
	// Creating is the spec digest of a create that has not finished (see Create); empty once it has.
	Creating string
}

// Client talks to the management cluster.
type Client struct {
	dynamic dynamic.Interface
	core    kubernetes.Interface
}

// NewClient builds a client from the management cluster's REST configuration.
func NewClient(config *rest.Config) (*Client, error) {
	dynamicClient, err := dynamic.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("cannot build a client for the management cluster: %w", err)
	}
	core, err := kubernetes.NewForConfig(config)
	if err != nil {
		return nil, fmt.Errorf("cannot build a client for the management cluster: %w", err)
	}
	return &Client{dynamic: dynamicClient, core: core}, nil
}

// Apply updates a cluster's composites: the KubernetesCluster and one KubernetesNodePool per pool (on
// AKS the first pool by name is the cluster's system pool instead). Pools the cluster no longer has are
// deleted. An unfinished create's mark goes with the first update, as the provider owns that field.
func (c *Client) Apply(ctx context.Context, cluster Cluster) error {
	return c.applyComposites(ctx, cluster, nil)
}

// Create applies a new cluster's composites marked as being created with the digest of their spec,
// so that a create interrupted before FinishCreate can be adopted by the next one (see Status.Creating).
func (c *Client) Create(ctx context.Context, cluster Cluster) error {
	return c.applyComposites(ctx, cluster, map[string]any{annotationCreating: SpecDigest(cluster)})
}

// FinishCreate removes the mark Create set, once the cluster is ready and its kubeconfig stored.
func (c *Client) FinishCreate(ctx context.Context, name string) error {
	patch := []byte(`{"metadata":{"annotations":{"` + annotationCreating + `":null}}}`)
	if _, err := c.dynamic.Resource(clustersResource).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager}); err != nil {
		return fmt.Errorf("cannot mark composite KubernetesCluster %q created: %w", name, err)
	}
	return nil
}

// SpecDigest is a digest of everything a cluster's composites are applied from, so two creates of the
// same configuration have the same digest and any change of settings gives another.
func SpecDigest(cluster Cluster) string {
	pools := append([]Pool(nil), cluster.Pools...)
	sort.Slice(pools, func(i, j int) bool { return pools[i].Name < pools[j].Name })
	cluster.Pools = pools
	raw, err := json.Marshal(cluster) // maps marshal with sorted keys
	if err != nil {
		panic(fmt.Sprintf("a cluster of strings, numbers and maps of strings always encodes: %v", err))
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

func (c *Client) applyComposites(ctx context.Context, cluster Cluster, annotations map[string]any) error {
	pools := append([]Pool(nil), cluster.Pools...)
	sort.Slice(pools, func(i, j int) bool { return pools[i].Name < pools[j].Name })
	spec := map[string]any{
		"cloud": cluster.Cloud, "region": cluster.Region, "kubernetesVersion": cluster.KubernetesVersion,
		"providerConfigName": cluster.ProviderConfig, "tags": stringMap(cluster.Tags),
		"crossplane": map[string]any{"compositionSelector": map[string]any{"matchLabels": map[string]any{labelCloud: cluster.Cloud}}},
	}
	annotations = maps.Clone(annotations)
	if cluster.Cloud == "azure" && len(pools) > 0 {
		// AKS creates a cluster with its system pool: the first pool by name.
		system := pools[0]
		if annotations == nil {
			annotations = map[string]any{}
		}
		annotations[annotationSystemPool] = system.Name
		spec["systemNodePool"] = map[string]any{"instanceType": system.InstanceType, "minSize": system.MinSize, "maxSize": system.MaxSize, "labels": stringMap(system.Labels)}
		pools = pools[1:]
	}
	xr := composite("KubernetesCluster", cluster.Name, cluster.Cloud, "", spec)
	if len(annotations) > 0 {
		xr.SetAnnotations(stringsOf(annotations))
	}
	if err := c.apply(ctx, clustersResource, xr); err != nil {
		return fmt.Errorf("cannot apply composite KubernetesCluster %q: %w", cluster.Name, err)
	}
	keep := map[string]bool{}
	for _, pool := range pools {
		name := cluster.Name + "-" + pool.Name
		keep[name] = true
		xr := composite("KubernetesNodePool", name, cluster.Cloud, cluster.Name, map[string]any{
			"cloud": cluster.Cloud, "region": cluster.Region, "clusterName": cluster.Name, "poolName": pool.Name,
			"kubernetesVersion": cluster.KubernetesVersion, "providerConfigName": cluster.ProviderConfig,
			"instanceType": pool.InstanceType, "minSize": pool.MinSize, "maxSize": pool.MaxSize,
			"labels": stringMap(pool.Labels), "tags": stringMap(cluster.Tags),
			"crossplane": map[string]any{"compositionSelector": map[string]any{"matchLabels": map[string]any{labelCloud: cluster.Cloud}}},
		})
		if err := c.apply(ctx, poolsResource, xr); err != nil {
			return fmt.Errorf("cannot apply composite KubernetesNodePool %q: %w", name, err)
		}
	}
	existing, err := c.dynamic.Resource(poolsResource).List(ctx, metav1.ListOptions{LabelSelector: labelCluster + "=" + cluster.Name})
	if err != nil {
		return fmt.Errorf("cannot list the node pools of %q: %w", cluster.Name, err)
	}
	for _, pool := range existing.Items {
		if !keep[pool.GetName()] {
			if err := c.dynamic.Resource(poolsResource).Delete(ctx, pool.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
				return fmt.Errorf("cannot delete node pool %q: %w", pool.GetName(), err)
			}
		}
	}
	return nil
}

func composite(kind, name, cloud, cluster string, spec map[string]any) *unstructured.Unstructured {
	labels := map[string]any{labelManagedBy: fieldManager, labelCloud: cloud}
	if cluster != "" {
		labels[labelCluster] = cluster
	}
	return &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "platform.idp.dev/v1alpha1", "kind": kind,
		"metadata": map[string]any{"name": name, "labels": labels},
		"spec":     spec,
	}}
}

func stringsOf(m map[string]any) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func stringMap(m map[string]string) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// apply server-side applies an object as the provider, taking over fields edited out of band.
func (c *Client) apply(ctx context.Context, gvr schema.GroupVersionResource, object *unstructured.Unstructured) error {
	raw, err := json.Marshal(object.Object)
	if err != nil {
		return err
	}
	force := true
	_, err = c.dynamic.Resource(gvr).Patch(ctx, object.GetName(), types.ApplyPatchType, raw, metav1.PatchOptions{FieldManager: fieldManager, Force: &force})
	return err
}

// Get reads a cluster's composites; ErrNotFound when its KubernetesCluster does not exist.
func (c *Client) Get(ctx context.Context, name string) (Cluster, Status, error) {
	xr, err := c.dynamic.Resource(clustersResource).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return Cluster{}, Status{}, fmt.Errorf("cluster %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return Cluster{}, Status{}, fmt.Errorf("cannot read composite KubernetesCluster %q: %w", name, err)
	}
	cluster, status := describe(xr)
	if system, ok, _ := unstructured.NestedMap(xr.Object, "spec", "systemNodePool"); ok {
		// AKS's system pool lives in the cluster composite; its name is in an annotation (Name is "" for
		// composites applied before the annotation was).
		cluster.Pools = append(cluster.Pools, Pool{Name: xr.GetAnnotations()[annotationSystemPool], InstanceType: str(system, "instanceType"), MinSize: integer(system, "minSize"), MaxSize: integer(system, "maxSize"), Labels: strMap(system, "labels")})
	}
	pools, err := c.dynamic.Resource(poolsResource).List(ctx, metav1.ListOptions{LabelSelector: labelCluster + "=" + name})
	if err != nil {
		return Cluster{}, Status{}, fmt.Errorf("cannot list the node pools of %q: %w", name, err)
	}
	for _, pool := range pools.Items {
		cluster.Pools = append(cluster.Pools, Pool{
			Name: str(pool.Object, "spec", "poolName"), InstanceType: str(pool.Object, "spec", "instanceType"),
			MinSize: integer(pool.Object, "spec", "minSize"), MaxSize: integer(pool.Object, "spec", "maxSize"),
			Labels: strMap(pool.Object, "spec", "labels"),
		})
	}
	for _, pool := range pools.Items {
		if ready, message := readiness(&pool); !ready {
			status.Ready, status.Message = false, "node pool "+str(pool.Object, "spec", "poolName")+": "+message
		}
	}
	return cluster, status, nil
}

// ListClusters lists every cluster composite of the management cluster in one request, without their
// node pools (Get reads those).
func (c *Client) ListClusters(ctx context.Context) ([]Cluster, []Status, error) {
	list, err := c.dynamic.Resource(clustersResource).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("cannot list the composite KubernetesClusters: %w", err)
	}
	clusters, statuses := make([]Cluster, len(list.Items)), make([]Status, len(list.Items))
	for i := range list.Items {
		clusters[i], statuses[i] = describe(&list.Items[i])
	}
	return clusters, statuses, nil
}

// describe reads a cluster composite's spec, without pools, and its status.
func describe(xr *unstructured.Unstructured) (Cluster, Status) {
	cluster := Cluster{
		Name: xr.GetName(), Cloud: str(xr.Object, "spec", "cloud"), Region: str(xr.Object, "spec", "region"),
		KubernetesVersion: str(xr.Object, "spec", "kubernetesVersion"), ProviderConfig: str(xr.Object, "spec", "providerConfigName"),
		Tags: strMap(xr.Object, "spec", "tags"),
	}
	status := Status{
		Endpoint: str(xr.Object, "status", "endpoint"), KubernetesVersion: str(xr.Object, "status", "kubernetesVersion"),
		KubeconfigSecret: str(xr.Object, "status", "kubeconfigSecret"),
		Creating:         xr.GetAnnotations()[annotationCreating],
	}
	status.Ready, status.Message = readiness(xr)
	return cluster, status
}

func str(obj map[string]any, fields ...string) string {
	value, _, _ := unstructured.NestedString(obj, fields...)
	return value
}

func integer(obj map[string]any, fields ...string) int64 {
	value, _, _ := unstructured.NestedInt64(obj, fields...)
	return value
}

func strMap(obj map[string]any, fields ...string) map[string]string {
	value, _, _ := unstructured.NestedStringMap(obj, fields...)
	return value
}

func readiness(xr *unstructured.Unstructured) (bool, string) {
	conditions, _, _ := unstructured.NestedSlice(xr.Object, "status", "conditions")
	var messages []string
	ready := false
	for _, c := range conditions {
		condition, _ := c.(map[string]any)
		if condition["type"] == "Ready" && condition["status"] == "True" {
			ready = true
		}
		if condition["status"] != "True" {
			if message, _ := condition["message"].(string); message != "" {
				messages = append(messages, fmt.Sprint(condition["type"], ": ", message))
			}
		}
	}
	if !ready && len(messages) == 0 {
		messages = append(messages, "not ready yet")
	}
	return ready, strings.Join(messages, "; ")
}

// WaitReady waits until the cluster and its pools are Ready and its kubeconfig is published, and returns
// the status; on ctx's end it returns the last status and why it was not ready.
func (c *Client) WaitReady(ctx context.Context, name string, progress func(Status)) (Status, error) {
	var (
		status  Status
		lastErr error
	)
	for {
		_, current, err := c.Get(ctx, name)
		switch {
		case err == nil:
			status, lastErr = current, nil
		case transient(err):
			lastErr = err // the management cluster may answer on the next try
		default:
			return status, err
		}
		if err == nil && status.Ready && status.Endpoint != "" && status.KubeconfigSecret != "" {
			_, err := c.Kubeconfig(ctx, status.KubeconfigSecret)
			switch {
			case err == nil:
				return status, nil
			case errors.Is(err, errKubeconfigNotPublished) || apierrors.IsNotFound(err) || transient(err):
				lastErr = err // the cloud publishes it shortly after it reports the cluster ready
			default:
				return status, err
			}
		}
		if progress != nil {
			progress(status)
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return status, fmt.Errorf("cluster %q is not ready (%s; last error: %w): %w", name, status.Message, lastErr, ctx.Err())
			}
			return status, fmt.Errorf("cluster %q is not ready (%s): %w", name, status.Message, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// Kubeconfig reads the admin kubeconfig a cluster published, from its connection secret (namespace/name).
func (c *Client) Kubeconfig(ctx context.Context, secretRef string) ([]byte, error) {
	namespace, name, ok := cutSecretRef(secretRef)
	if !ok {
		return nil, fmt.Errorf("kubeconfig secret %q is not namespace/name", secretRef)
	}
	secret, err := c.core.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, fmt.Errorf("cannot read kubeconfig secret %s: %w", secretRef, err)
	}
	kubeconfig := secret.Data["kubeconfig"]
	if len(kubeconfig) == 0 {
		return nil, fmt.Errorf("kubeconfig secret %s: %w", secretRef, errKubeconfigNotPublished)
	}
	return kubeconfig, nil
}

// cutSecretRef splits a namespace/name secret reference.
func cutSecretRef(secretRef string) (namespace, name string, ok bool) {
	return strings.Cut(secretRef, "/")
}

// Delete deletes a cluster's composites and waits until they, and so what they composed, are gone.
func (c *Client) Delete(ctx context.Context, name string) error {
	pools, err := c.dynamic.Resource(poolsResource).List(ctx, metav1.ListOptions{LabelSelector: labelCluster + "=" + name})
	if err != nil {
		return fmt.Errorf("cannot list the node pools of %q: %w", name, err)
	}
	for _, pool := range pools.Items {
		if err := c.dynamic.Resource(poolsResource).Delete(ctx, pool.GetName(), metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
			return fmt.Errorf("cannot delete node pool %q: %w", pool.GetName(), err)
		}
	}
	if err := c.dynamic.Resource(clustersResource).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot delete composite KubernetesCluster %q: %w", name, err)
	}
	var lastErr error
	for {
		_, err := c.dynamic.Resource(clustersResource).Get(ctx, name, metav1.GetOptions{})
		remaining, listErr := c.dynamic.Resource(poolsResource).List(ctx, metav1.ListOptions{LabelSelector: labelCluster + "=" + name})
		if apierrors.IsNotFound(err) && listErr == nil && len(remaining.Items) == 0 {
			return nil
		}
		// A refusal (403, 401, a bad request) will not pass by waiting: say so now instead of at the deadline.
		for _, readErr := range []error{err, listErr} {
			if readErr == nil || apierrors.IsNotFound(readErr) {
				continue
			}
			if !transient(readErr) {
				return fmt.Errorf("cannot watch cluster %q being deleted: %w", name, readErr)
			}
			lastErr = readErr
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return fmt.Errorf("cluster %q is still being deleted (last error: %w): %w", name, lastErr, ctx.Err())
			}
			return fmt.Errorf("cluster %q is still being deleted: %w", name, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// transient reports whether an API error may pass by itself, so a poll should keep trying.
func transient(err error) bool {
	return apierrors.IsServerTimeout(err) || apierrors.IsTimeout(err) || apierrors.IsTooManyRequests(err) ||
		apierrors.IsInternalError(err) || apierrors.IsServiceUnavailable(err) || apierrors.IsUnexpectedServerError(err) ||
		errors.Is(err, context.DeadlineExceeded) || isNetworkError(err)
}

// isNetworkError reports failures to reach the server that may pass: a timeout, a refused or reset
// connection. TLS and name resolution failures will not pass by waiting.
func isNetworkError(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return true
	}
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}

// ProviderConfigName is the name of the ProviderConfig for a cloud's credentials at a Vault path.
func ProviderConfigName(cloud, credentials string) string {
	return "idp-" + cloud + "-" + strings.ReplaceAll(credentials, "/", "-")
}

// EnsureProviderConfig creates or updates the ProviderConfig of a cloud and its credentials secret.
// The credentials are in the format the cloud's Upbound provider reads (an AWS shared credentials file,
// Azure's JSON, a GCP service account key); project is GCP's project id.
func (c *Client) EnsureProviderConfig(ctx context.Context, cloud, name string, credentials []byte, project string) error {
	group, ok := providerConfigGroups[cloud]
	if !ok {
		return fmt.Errorf("no ProviderConfig for cloud %q", cloud)
	}
	secret := &corev1.Secret{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: Namespace, Labels: map[string]string{labelManagedBy: fieldManager}},
		Data:       map[string][]byte{"credentials": credentials},
	}
	raw, err := json.Marshal(secret)
	if err != nil {
		return err
	}
	force := true
	if _, err := c.core.CoreV1().Secrets(Namespace).Patch(ctx, name, types.ApplyPatchType, raw, metav1.PatchOptions{FieldManager: fieldManager, Force: &force}); err != nil {
		return fmt.Errorf("cannot write the credentials secret %s/%s: %w", Namespace, name, err)
	}
	spec := map[string]any{"credentials": map[string]any{
		"source":    "Secret",
		"secretRef": map[string]any{"namespace": Namespace, "name": name, "key": "credentials"},
	}}
	if cloud == "gcp" {
		spec["projectID"] = project
	}
	config := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": group + "/v1beta1", "kind": "ProviderConfig",
		"metadata": map[string]any{"name": name, "labels": map[string]any{labelManagedBy: fieldManager}},
		"spec":     spec,
	}}
	if err := c.apply(ctx, providerConfigResource(cloud), config); err != nil {
		return fmt.Errorf("cannot apply ProviderConfig %q: %w", name, err)
	}
	return nil
}

func providerConfigResource(cloud string) schema.GroupVersionResource {
	return schema.GroupVersionResource{Group: providerConfigGroups[cloud], Version: "v1beta1", Resource: "providerconfigs"}
}

// ReleaseProviderConfig deletes a ProviderConfig and its secret when no cluster uses it any more.
func (c *Client) ReleaseProviderConfig(ctx context.Context, cloud, name string) error {
	clusters, err := c.dynamic.Resource(clustersResource).List(ctx, metav1.ListOptions{})
	if err != nil {
		return fmt.Errorf("cannot list the clusters: %w", err)
	}
	for _, cluster := range clusters.Items {
		if used, _, _ := unstructured.NestedString(cluster.Object, "spec", "providerConfigName"); used == name && cluster.GetDeletionTimestamp() == nil {
			return nil
		}
	}
	if err := c.dynamic.Resource(providerConfigResource(cloud)).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot delete ProviderConfig %q: %w", name, err)
	}
	if err := c.core.CoreV1().Secrets(Namespace).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot delete the credentials secret %s/%s: %w", Namespace, name, err)
	}
	return nil
}
