package crossplane

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"

	"github.com/idp-platform/terraform-provider-idp/internal/access"
	"github.com/idp-platform/terraform-provider-idp/internal/addonstack"
)

// ErrStackNotFound is returned when a stack's AddonStack composite does not exist.
var ErrStackNotFound = errors.New("no such add-on stack in the management cluster")

var stacksResource = schema.GroupVersionResource{Group: addonstack.Group, Version: addonstack.Version, Resource: addonstack.Resource}

// accessGrantsResource are the records of time-bound grants, which share a registered cluster's
// kubeconfig secret with its stacks.
var accessGrantsResource = schema.GroupVersionResource{Group: access.RecordGroup, Version: access.RecordVersion, Resource: access.RecordResource}

// stackComposed are the kinds an AddonStack composes, managed resources first.
var stackComposed = func() []schema.GroupVersionResource {
	var gvrs []schema.GroupVersionResource
	for _, kind := range addonstack.ComposedResources {
		gvrs = append(gvrs, schema.GroupVersionResource{Group: kind.Group, Version: kind.Version, Resource: kind.Resource})
	}
	return gvrs
}()

// StackState is what the management cluster reports of an add-on stack.
type StackState struct {
	Spec   addonstack.Spec
	Status addonstack.Status
	// Current is true when Crossplane has composed the composite's latest spec (its Synced condition
	// observed the latest generation) and reported on it.
	Current bool
	// Message is why the composite is not Ready, from its conditions.
	Message string
	// Requested is what the provider recorded with the spec (ApplyStack's requested): the user's input,
	// which the spec holds only resolved and merged with the catalog's defaults.
	Requested string
	// ManagedByProvider is false for a composite someone else made.
	ManagedByProvider bool
	// Creating marks a composite whose create has not finished (ApplyStack with creating, no
	// FinishStack yet): an apply interrupted before it saved state, which the next create may take over.
	// A finished stack is someone's state, and a create that finds one must not.
	Creating bool
}

// stackComposition is the Composition of AddonStack composites (crossplane/addonstack/composition.yaml).
const stackComposition = "addonstack"

// annotationRequested records, on an AddonStack composite, the input the spec was resolved from.
const annotationRequested = "platform.idp.dev/requested"

// Ready reports whether every add-on of the spec is Ready, as of the latest spec.
func (s StackState) Ready() bool {
	if !s.Current || len(s.Status.Addons) != len(s.Spec.Addons) {
		return false
	}
	for _, addon := range s.Status.Addons {
		if addon.Phase != addonstack.PhaseReady {
			return false
		}
	}
	return true
}

// AddonStatus is the reported state of one add-on, if the function reported it.
func (s StackState) AddonStatus(name string) (addonstack.AddonStatus, bool) {
	for _, addon := range s.Status.Addons {
		if addon.Name == name {
			return addon, true
		}
	}
	return addonstack.AddonStatus{}, false
}

// ApplyStack server-side applies a stack's AddonStack composite with the given spec and the input it
// was resolved from (kept in an annotation for import); creating marks it as not finished (see
// StackState.Creating) until an apply without it.
func (c *Client) ApplyStack(ctx context.Context, spec addonstack.Spec, requested string, creating bool) error {
	raw, err := json.Marshal(spec)
	if err != nil {
		return err
	}
	var specMap map[string]any
	if err := json.Unmarshal(raw, &specMap); err != nil {
		return err
	}
	annotations := map[string]any{annotationRequested: requested}
	if creating {
		annotations[annotationCreating] = "true"
	}
	// The platform ships one Composition for the kind; naming it spares Crossplane a selection.
	specMap["crossplane"] = map[string]any{"compositionRef": map[string]any{"name": stackComposition}}
	name := addonstack.CompositeName(spec.Cluster, spec.Stack)
	xr := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": addonstack.APIVersion,
		"kind":       addonstack.Kind,
		"metadata": map[string]any{
			"name":        name,
			"annotations": annotations,
			"labels": map[string]any{
				addonstack.LabelManagedBy: addonstack.ManagedBy,
				addonstack.LabelCluster:   spec.Cluster,
				addonstack.LabelStack:     spec.Stack,
			},
		},
		"spec": specMap,
	}}
	if err := c.apply(ctx, stacksResource, xr); err != nil {
		return fmt.Errorf("cannot apply composite AddonStack %q: %w", name, err)
	}
	return nil
}

// GetStack reads a stack's composite; ErrStackNotFound when it does not exist.
func (c *Client) GetStack(ctx context.Context, cluster, stack string) (StackState, error) {
	name := addonstack.CompositeName(cluster, stack)
	xr, err := c.dynamic.Resource(stacksResource).Get(ctx, name, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return StackState{}, fmt.Errorf("add-on stack %q: %w", name, ErrStackNotFound)
	}
	if err != nil {
		return StackState{}, fmt.Errorf("cannot read composite AddonStack %q: %w", name, err)
	}
	return stackState(xr)
}

// stackState reads a composite's spec, status and marks.
func stackState(xr *unstructured.Unstructured) (StackState, error) {
	name := xr.GetName()
	var state StackState
	if err := convert(xr.Object["spec"], &state.Spec); err != nil {
		return StackState{}, fmt.Errorf("cannot read the spec of composite AddonStack %q: %w", name, err)
	}
	if status, ok := xr.Object["status"]; ok {
		if err := convert(status, &state.Status); err != nil {
			return StackState{}, fmt.Errorf("cannot read the status of composite AddonStack %q: %w", name, err)
		}
	}
	_, state.Message = readiness(xr)
	state.Requested = xr.GetAnnotations()[annotationRequested]
	state.ManagedByProvider = xr.GetLabels()[addonstack.LabelManagedBy] == addonstack.ManagedBy
	state.Creating = xr.GetAnnotations()[annotationCreating] != ""
	state.Current = observedGeneration(xr, "Synced") >= xr.GetGeneration() && state.Status.Addons != nil
	return state, nil
}

// FinishStack removes the mark of an unfinished create (whichever way it was set), so that the stack is
// this state's from now on and another create refuses it.
func (c *Client) FinishStack(ctx context.Context, cluster, stack string) error {
	name := addonstack.CompositeName(cluster, stack)
	patch := []byte(`{"metadata":{"annotations":{"` + annotationCreating + `":null}}}`)
	if _, err := c.dynamic.Resource(stacksResource).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager}); err != nil {
		return fmt.Errorf("cannot mark composite AddonStack %q created: %w", name, err)
	}
	return nil
}

// ReleaseStack marks a finished stack as open to the next create, for a state that lets go of it (its
// cluster is gone from Vault, so refresh drops the stack from state and plans it again).
func (c *Client) ReleaseStack(ctx context.Context, cluster, stack string) error {
	name := addonstack.CompositeName(cluster, stack)
	patch := []byte(`{"metadata":{"annotations":{"` + annotationCreating + `":"true"}}}`)
	_, err := c.dynamic.Resource(stacksResource).Patch(ctx, name, types.MergePatchType, patch, metav1.PatchOptions{FieldManager: fieldManager})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot release composite AddonStack %q: %w", name, err)
	}
	return nil
}

// ListStacks reads every add-on stack of a cluster.
func (c *Client) ListStacks(ctx context.Context, cluster string) ([]StackState, error) {
	list, err := c.dynamic.Resource(stacksResource).List(ctx, metav1.ListOptions{LabelSelector: addonstack.LabelCluster + "=" + cluster})
	if err != nil {
		return nil, fmt.Errorf("cannot list the add-on stacks of cluster %q: %w", cluster, err)
	}
	states := make([]StackState, 0, len(list.Items))
	for i := range list.Items {
		state, err := stackState(&list.Items[i])
		if err != nil {
			return nil, err
		}
		states = append(states, state)
	}
	return states, nil
}

// observedGeneration is the generation a condition of an object was set for (0 when it has none).
func observedGeneration(object *unstructured.Unstructured, conditionType string) int64 {
	conditions, _, _ := unstructured.NestedSlice(object.Object, "status", "conditions")
	for _, c := range conditions {
		condition, _ := c.(map[string]any)
		if condition["type"] == conditionType && condition["status"] == "True" {
			generation, _ := condition["observedGeneration"].(int64)
			return generation
		}
	}
	return 0
}

func convert(from any, to any) error {
	raw, err := json.Marshal(from)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, to)
}

// WaitStack polls a stack until done holds, reporting each state to progress; at ctx's end it returns
// the last state and why done did not hold.
func (c *Client) WaitStack(ctx context.Context, cluster, stack string, done func(StackState) (bool, error), progress func(StackState)) (StackState, error) {
	var (
		state   StackState
		lastErr error
	)
	for {
		current, err := c.GetStack(ctx, cluster, stack)
		switch {
		case err == nil:
			state, lastErr = current, nil
			ok, doneErr := done(state)
			if doneErr != nil {
				return state, doneErr
			}
			if ok {
				return state, nil
			}
		case transient(err):
			lastErr = err
		default:
			return state, err
		}
		if progress != nil {
			progress(state)
		}
		select {
		case <-ctx.Done():
			if lastErr != nil {
				return state, fmt.Errorf("last error: %w: %w", lastErr, ctx.Err())
			}
			return state, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// RemoveAddons takes add-ons out of an applied stack one at a time, last installed first, and waits
// until Crossplane has deleted each one's releases and objects (so uninstalled it) before the next:
// an add-on is never removed while one that depends on it still runs. It returns the spec left applied.
func (c *Client) RemoveAddons(ctx context.Context, spec addonstack.Spec, requested string, creating bool, remove []string) (addonstack.Spec, error) {
	for i := len(spec.Addons) - 1; i >= 0; i-- {
		name := spec.Addons[i].Name
		if !slices.Contains(remove, name) {
			continue
		}
		spec.Addons = slices.Delete(slices.Clone(spec.Addons), i, i+1)
		if err := c.ApplyStack(ctx, spec, requested, creating); err != nil {
			return spec, err
		}
		if err := c.waitComposedGone(ctx, spec.Cluster, spec.Stack, name); err != nil {
			return spec, fmt.Errorf("cannot remove add-on %q: %w", name, err)
		}
	}
	return spec, nil
}

// DeleteStack removes a stack's add-ons in reverse install order, deletes its composite and waits until
// nothing it composed is left (the ProviderConfigs go last).
func (c *Client) DeleteStack(ctx context.Context, cluster, stack string) error {
	state, err := c.GetStack(ctx, cluster, stack)
	if err != nil && !errors.Is(err, ErrStackNotFound) {
		return err
	}
	if err == nil {
		var names []string
		for _, addon := range state.Spec.Addons {
			names = append(names, addon.Name)
		}
		if _, err := c.RemoveAddons(ctx, state.Spec, state.Requested, state.Creating, names); err != nil {
			return err
		}
	}
	name := addonstack.CompositeName(cluster, stack)
	if err := c.dynamic.Resource(stacksResource).Delete(ctx, name, metav1.DeleteOptions{}); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot delete composite AddonStack %q: %w", name, err)
	}
	return c.waitComposedGone(ctx, cluster, stack, "")
}

// waitComposedGone waits until no resource composed for the stack (for one add-on, when addon is set)
// is left, and with the whole stack also its composite.
func (c *Client) waitComposedGone(ctx context.Context, cluster, stack, addon string) error {
	selector := addonstack.LabelCluster + "=" + cluster + "," + addonstack.LabelStack + "=" + stack
	if addon != "" {
		selector += "," + addonstack.LabelAddon + "=" + addon
	}
	var lastErr error
	for {
		left, err := c.composedLeft(ctx, selector)
		if err == nil && left == "" && addon == "" {
			_, err = c.dynamic.Resource(stacksResource).Get(ctx, addonstack.CompositeName(cluster, stack), metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return nil
			}
			if err == nil {
				left = "the composite"
			}
		} else if err == nil && left == "" {
			return nil
		}
		switch {
		case err == nil:
			lastErr = fmt.Errorf("%s still there", left)
		case transient(err):
			lastErr = err
		default:
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("still being deleted (%w): %w", lastErr, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}

// composedLeft names one resource matching selector among the kinds a stack composes ("" when none).
func (c *Client) composedLeft(ctx context.Context, selector string) (string, error) {
	for _, gvr := range stackComposed {
		list, err := c.dynamic.Resource(gvr).List(ctx, metav1.ListOptions{LabelSelector: selector})
		if err != nil {
			return "", fmt.Errorf("cannot list %s: %w", gvr.GroupResource(), err)
		}
		if len(list.Items) > 0 {
			return list.Items[0].GetKind() + " " + list.Items[0].GetName(), nil
		}
	}
	return "", nil
}

// registeredKubeconfigSecret is the Secret that holds a registered cluster's kubeconfig for the stacks'
// ProviderConfigs (a created cluster's composite publishes its own).
func registeredKubeconfigSecret(cluster string) string {
	return "idp-registered-" + cluster + "-kubeconfig"
}

// StackKubeconfigSecret returns the Secret whose kubeconfig a cluster's stacks use: the connection
// secret a KubernetesCluster composite published, or else one written here from kubeconfig (a
// registered cluster's, from Vault).
func (c *Client) StackKubeconfigSecret(ctx context.Context, cluster string, kubeconfig []byte) (addonstack.SecretRef, error) {
	_, status, err := c.Get(ctx, cluster)
	switch {
	case err == nil && status.KubeconfigSecret != "":
		namespace, name, _ := cutSecretRef(status.KubeconfigSecret)
		return addonstack.SecretRef{Namespace: namespace, Name: name, Key: "kubeconfig"}, nil
	case err != nil && !errors.Is(err, ErrNotFound):
		return addonstack.SecretRef{}, err
	}
	if err := c.writeRegisteredKubeconfig(ctx, cluster, kubeconfig); err != nil {
		return addonstack.SecretRef{}, err
	}
	return addonstack.SecretRef{Namespace: Namespace, Name: registeredKubeconfigSecret(cluster), Key: "kubeconfig"}, nil
}

// UpdateStackKubeconfigSecret rewrites a registered cluster's kubeconfig Secret, if its stacks have one,
// when the cluster's kubeconfig changes (a rotation), so Crossplane keeps reaching the cluster.
func (c *Client) UpdateStackKubeconfigSecret(ctx context.Context, cluster string, kubeconfig []byte) error {
	_, err := c.core.CoreV1().Secrets(Namespace).Get(ctx, registeredKubeconfigSecret(cluster), metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot read the kubeconfig secret of cluster %q: %w", cluster, err)
	}
	return c.writeRegisteredKubeconfig(ctx, cluster, kubeconfig)
}

func (c *Client) writeRegisteredKubeconfig(ctx context.Context, cluster string, kubeconfig []byte) error {
	secret := &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{
			Name: registeredKubeconfigSecret(cluster), Namespace: Namespace,
			Labels: map[string]string{addonstack.LabelManagedBy: addonstack.ManagedBy, addonstack.LabelCluster: cluster},
		},
		Data: map[string][]byte{"kubeconfig": kubeconfig},
	}
	raw, err := json.Marshal(secret)
	if err != nil {
		return err
	}
	force := true
	if _, err := c.core.CoreV1().Secrets(Namespace).Patch(ctx, secret.Name, types.ApplyPatchType, raw, metav1.PatchOptions{FieldManager: fieldManager, Force: &force}); err != nil {
		return fmt.Errorf("cannot write the kubeconfig secret of cluster %q: %w", cluster, err)
	}
	return nil
}

// ReleaseStackKubeconfigSecret deletes the kubeconfig Secret written for a registered cluster once no
// stack of the cluster is left.
func (c *Client) ReleaseStackKubeconfigSecret(ctx context.Context, cluster string) error {
	stacks, err := c.dynamic.Resource(stacksResource).List(ctx, metav1.ListOptions{LabelSelector: addonstack.LabelCluster + "=" + cluster})
	switch {
	case apierrors.IsNotFound(err):
		// No AddonStack definition: no stack can use it.
	case err != nil:
		return fmt.Errorf("cannot list the add-on stacks of cluster %q: %w", cluster, err)
	case len(stacks.Items) > 0:
		return nil
	}
	// The access controller reads the same secret for the cluster's time-bound grants.
	grants, err := c.dynamic.Resource(accessGrantsResource).List(ctx, metav1.ListOptions{LabelSelector: addonstack.LabelCluster + "=" + cluster})
	switch {
	case apierrors.IsNotFound(err):
		// No AccessGrant definition: no grant can use it.
	case err != nil:
		return fmt.Errorf("cannot list the access grants of cluster %q: %w", cluster, err)
	case len(grants.Items) > 0:
		return nil
	}
	err = c.core.CoreV1().Secrets(Namespace).Delete(ctx, registeredKubeconfigSecret(cluster), metav1.DeleteOptions{})
	if err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("cannot delete the kubeconfig secret of cluster %q: %w", cluster, err)
	}
	return nil
}
