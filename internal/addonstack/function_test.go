package addonstack

import (
	"context"
	"encoding/json"
	"net"
	"sort"
	"testing"
	"time"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/types/known/structpb"
)

func mustStruct(t *testing.T, v any) *structpb.Struct {
	t.Helper()
	s, err := toStruct(v)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// observedXR is the composite as Crossplane sends it, with the fields Crossplane adds to a spec.
func observedXR(t *testing.T, spec any) *fnv1.Resource {
	t.Helper()
	data, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(data, &fields); err != nil {
		t.Fatal(err)
	}
	if fields != nil {
		fields["crossplane"] = map[string]any{"compositionRef": map[string]any{"name": "addonstack"}}
	}
	return &fnv1.Resource{Resource: mustStruct(t, map[string]any{
		"apiVersion": APIVersion, "kind": Kind,
		"metadata": map[string]any{"name": composite},
		"spec":     fields,
		"status":   map[string]any{"conditions": []any{}},
	})}
}

func observedResource(t *testing.T, conditions ...map[string]any) *fnv1.Resource {
	t.Helper()
	list := make([]any, len(conditions))
	for i, c := range conditions {
		list[i] = c
	}
	return &fnv1.Resource{Resource: mustStruct(t, map[string]any{
		"apiVersion": "x/v1", "kind": "X", "metadata": map[string]any{"name": "x"},
		"status": map[string]any{"conditions": list},
	})}
}

// client serves the function on a loopback port, as the command does without TLS, and connects to it.
func client(t *testing.T) fnv1.FunctionRunnerServiceClient {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	server := NewServer()
	go func() { _ = server.Serve(listener) }()
	t.Cleanup(server.Stop)
	conn, err := grpc.NewClient(listener.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	return fnv1.NewFunctionRunnerServiceClient(conn)
}

func TestRunFunction(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := client(t)

	readyCondition := map[string]any{"type": "Ready", "status": "True", "reason": "Available", "lastTransitionTime": "2026-01-01T00:00:00Z"}
	synced := map[string]any{"type": "Synced", "status": "True", "reason": "ReconcileSuccess", "lastTransitionTime": "2026-01-01T00:00:00Z"}
	req := &fnv1.RunFunctionRequest{
		Meta: &fnv1.RequestMeta{Tag: "tag-1"},
		Observed: &fnv1.State{
			Composite: observedXR(t, stack()),
			Resources: map[string]*fnv1.Resource{
				keyHelmProviderConfig:  observedResource(t),
				"release.cert-manager": observedResource(t, readyCondition, synced),
				"gate.cert-manager.0":  observedResource(t, readyCondition, synced),
				"gate.cert-manager.1": observedResource(t, map[string]any{
					"type": "Ready", "status": "False", "reason": "Unavailable", "message": "0/1 replicas available",
				}, synced),
			},
		},
		// An earlier step's desired state, which must pass through.
		Desired: &fnv1.State{
			Composite: &fnv1.Resource{Resource: mustStruct(t, map[string]any{"status": map[string]any{"note": "earlier step"}})},
			Resources: map[string]*fnv1.Resource{"earlier": {Resource: mustStruct(t, map[string]any{"apiVersion": "v1", "kind": "ConfigMap"})}},
		},
	}
	rsp, err := c.RunFunction(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(rsp.GetResults()) > 0 {
		t.Fatalf("RunFunction(...): unexpected results %v", rsp.GetResults())
	}
	if diff := cmp.Diff("tag-1", rsp.GetMeta().GetTag()); diff != "" {
		t.Errorf("RunFunction(...): response tag (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(ttlProgress, rsp.GetMeta().GetTtl().AsDuration()); diff != "" {
		t.Errorf("RunFunction(...): TTL of a stack on its way (-want +got):\n%s", diff)
	}

	ready := map[string]fnv1.Ready{}
	for key, r := range rsp.GetDesired().GetResources() {
		ready[key] = r.GetReady()
	}
	wantReady := map[string]fnv1.Ready{
		"earlier":                   fnv1.Ready_READY_UNSPECIFIED,
		keyHelmProviderConfig:       fnv1.Ready_READY_TRUE,
		keyKubernetesProviderConfig: fnv1.Ready_READY_FALSE,
		"release.cert-manager":      fnv1.Ready_READY_TRUE,
		"gate.cert-manager.0":       fnv1.Ready_READY_TRUE,
		"gate.cert-manager.1":       fnv1.Ready_READY_FALSE,
		"gate.cert-manager.2":       fnv1.Ready_READY_FALSE,
		"object.storage-classes.0":  fnv1.Ready_READY_FALSE,
	}
	if diff := cmp.Diff(wantReady, ready); diff != "" {
		t.Errorf("RunFunction(...): desired resources and readiness (-want +got):\n%s", diff)
	}
	desiredRelease, _ := Compose(composite, stack(), nil)
	for _, d := range desiredRelease {
		if d.Key != "release.cert-manager" {
			continue
		}
		if diff := cmp.Diff(d.Resource, rsp.GetDesired().GetResources()[d.Key].GetResource().AsMap()); diff != "" {
			t.Errorf("RunFunction(...): the Release differs from what Compose composes (-want +got):\n%s", diff)
		}
	}

	xr := rsp.GetDesired().GetComposite()
	if diff := cmp.Diff(fnv1.Ready_READY_FALSE, xr.GetReady()); diff != "" {
		t.Errorf("RunFunction(...): composite readiness while add-ons wait (-want +got):\n%s", diff)
	}
	wantStatus := map[string]any{
		"note": "earlier step",
		"addons": []any{
			map[string]any{"name": "cert-manager", "phase": "Progressing", "order": float64(1), "gate": "DeploymentAvailable cert-manager-webhook", "message": "0/1 replicas available"},
			map[string]any{"name": "storage-classes", "phase": "Progressing", "order": float64(2), "gate": "StorageClass standard"},
			map[string]any{"name": "ingress-nginx", "phase": "Pending", "order": float64(3), "gate": "waiting for cert-manager",
				"message": "cert-manager is Progressing (DeploymentAvailable cert-manager-webhook)"},
		},
	}
	if diff := cmp.Diff(map[string]any{"status": wantStatus}, xr.GetResource().AsMap()); diff != "" {
		t.Errorf("RunFunction(...): desired composite (-want +got):\n%s", diff)
	}
}

func TestRunFunctionSettled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	spec := Spec{Cluster: "dev", Stack: "platform", KubeconfigSecret: SecretRef{Namespace: "ns", Name: "kc"},
		Addons: []Addon{{Name: "ns", Manifests: []map[string]any{{"apiVersion": "v1", "kind": "Namespace", "metadata": map[string]any{"name": "apps"}}}}}}
	readyCondition := map[string]any{"type": "Ready", "status": "True", "reason": "Available"}
	rsp, err := client(t).RunFunction(ctx, &fnv1.RunFunctionRequest{Observed: &fnv1.State{
		Composite: observedXR(t, spec),
		Resources: map[string]*fnv1.Resource{
			keyHelmProviderConfig: observedResource(t), keyKubernetesProviderConfig: observedResource(t),
			"object.ns.0": observedResource(t, readyCondition),
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got := []any{rsp.GetMeta().GetTtl().AsDuration(), rsp.GetDesired().GetComposite().GetReady()}
	want := []any{ttlSettled, fnv1.Ready_READY_UNSPECIFIED}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RunFunction(...) of a Ready stack: TTL and composite readiness, left to Crossplane (-want +got):\n%s", diff)
	}
}

func TestRunFunctionFatal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := client(t)
	cases := map[string]struct {
		reason    string
		composite *fnv1.Resource
		want      []string
	}{
		"NoComposite": {
			reason: "A request without an observed composite is refused.",
			want:   []string{"the request has no observed composite"},
		},
		"SpecDoesNotParse": {
			reason:    "A spec of the wrong shape is a fatal result, not a crash.",
			composite: observedXR(t, map[string]any{"cluster": "dev", "addons": "cert-manager"}),
			want:      []string{"cannot read the AddonStack spec: json: cannot unmarshal string into Go struct field Spec.spec.addons of type []addonstack.Addon"},
		},
		"SpecInvalid": {
			reason: "A spec the composition cannot compose is a fatal result naming the add-on.",
			composite: observedXR(t, Spec{Cluster: "dev", Stack: "platform", KubeconfigSecret: SecretRef{Namespace: "ns", Name: "kc"},
				Addons: []Addon{{Name: "cert-manager", Namespace: "cert-manager"}}}),
			want: []string{`cannot compose AddonStack "dev.platform": add-on "cert-manager" needs either a chart or manifests`},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			rsp, err := c.RunFunction(ctx, &fnv1.RunFunctionRequest{
				Meta:     &fnv1.RequestMeta{Tag: name},
				Observed: &fnv1.State{Composite: tc.composite},
				Desired:  &fnv1.State{Resources: map[string]*fnv1.Resource{"earlier": {}}},
			})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rsp.GetResults() {
				if r.GetSeverity() == fnv1.Severity_SEVERITY_FATAL {
					got = append(got, r.GetMessage())
				}
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s\nRunFunction(...): fatal results (-want +got):\n%s", tc.reason, diff)
			}
			var keys []string
			for key := range rsp.GetDesired().GetResources() {
				keys = append(keys, key)
			}
			sort.Strings(keys)
			if diff := cmp.Diff([]string{"earlier"}, keys); diff != "" {
				t.Errorf("%s\nRunFunction(...): a fatal result composes nothing new (-want +got):\n%s", tc.reason, diff)
			}
		})
	}
}

func TestObjectMessage(t *testing.T) {
	cases := map[string]struct {
		reason string
		object map[string]any
		want   string
	}{
		"DeploymentUnavailable": {
			reason: "A Deployment's conditions that are not True are the cluster's message.",
			object: map[string]any{"kind": "Deployment", "status": map[string]any{"conditions": []any{
				map[string]any{"type": "Available", "status": "False", "reason": "MinimumReplicasUnavailable", "message": "Deployment does not have minimum availability."},
				map[string]any{"type": "Progressing", "status": "True", "reason": "ReplicaSetUpdated"},
			}}},
			want: "Available=False (MinimumReplicasUnavailable): Deployment does not have minimum availability.",
		},
		"DeploymentAvailable": {
			reason: "Nothing to say of an object whose conditions hold.",
			object: map[string]any{"kind": "Deployment", "status": map[string]any{"conditions": []any{map[string]any{"type": "Available", "status": "True"}}}},
		},
		"EndpointsWithoutAddresses": {
			reason: "Endpoints with only not-ready addresses have no ready endpoints.",
			object: map[string]any{"kind": "Endpoints", "subsets": []any{map[string]any{"notReadyAddresses": []any{map[string]any{"ip": "10.0.0.1"}}}}},
			want:   "no ready endpoints",
		},
		"EndpointsReady": {
			reason: "Endpoints with a ready address hold.",
			object: map[string]any{"kind": "Endpoints", "subsets": []any{map[string]any{"addresses": []any{map[string]any{"ip": "10.0.0.1"}}}}},
		},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, objectMessage(tc.object)); diff != "" {
				t.Errorf("%s\nobjectMessage(...): -want +got:\n%s", tc.reason, diff)
			}
		})
	}
}
