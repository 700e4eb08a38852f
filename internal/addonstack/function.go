package addonstack

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	fnv1 "github.com/crossplane/function-sdk-go/proto/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
)

// Time-to-live of a response: Crossplane runs the function again after it even when nothing it watches
// changed. Shorter while an add-on is on its way, so a stack moves to its next add-on soon after a gate
// holds.
const (
	ttlSettled  = 60 * time.Second
	ttlProgress = 15 * time.Second
)

// Function is the AddonStack composition function (function-addon-stack): it composes an AddonStack
// composite's ProviderConfigs, Releases and Objects from its spec and reports each add-on's state in the
// composite's status.addons.
type Function struct {
	fnv1.UnimplementedFunctionRunnerServiceServer
}

// NewServer is a gRPC server serving the function.
func NewServer(options ...grpc.ServerOption) *grpc.Server {
	server := grpc.NewServer(options...)
	fnv1.RegisterFunctionRunnerServiceServer(server, &Function{})
	return server
}

// RunFunction composes one AddonStack composite. A spec it cannot compose is a fatal result, which
// stops the pipeline and leaves the composed resources as they are (nothing is garbage collected).
func (f *Function) RunFunction(_ context.Context, req *fnv1.RunFunctionRequest) (*fnv1.RunFunctionResponse, error) {
	rsp := &fnv1.RunFunctionResponse{
		Meta: &fnv1.ResponseMeta{Tag: req.GetMeta().GetTag(), Ttl: durationpb.New(ttlSettled)},
		// What earlier steps of the pipeline desired passes through.
		Desired: &fnv1.State{},
	}
	if d := req.GetDesired(); d != nil {
		rsp.Desired = proto.Clone(d).(*fnv1.State)
	}
	if rsp.Desired.Resources == nil {
		rsp.Desired.Resources = map[string]*fnv1.Resource{}
	}

	name, spec, err := readComposite(req.GetObserved().GetComposite().GetResource())
	if err != nil {
		return fatal(rsp, err), nil
	}
	if err := Validate(spec); err != nil {
		return fatal(rsp, fmt.Errorf("cannot compose AddonStack %q: %w", name, err)), nil
	}

	observed := map[string]Observed{}
	for key, resource := range req.GetObserved().GetResources() {
		observed[key] = readObserved(resource.GetResource())
	}
	desired, status := Compose(name, spec, observed)

	for _, composed := range desired {
		resource, err := toStruct(composed.Resource)
		if err != nil {
			return fatal(rsp, fmt.Errorf("cannot encode composed resource %q: %w", composed.Key, err)), nil
		}
		ready := fnv1.Ready_READY_FALSE
		if composed.Ready {
			ready = fnv1.Ready_READY_TRUE
		}
		rsp.Desired.Resources[composed.Key] = &fnv1.Resource{Resource: resource, Ready: ready}
	}

	if err := setStatus(rsp.Desired, status); err != nil {
		return fatal(rsp, fmt.Errorf("cannot encode the status of AddonStack %q: %w", name, err)), nil
	}
	for _, addon := range status.Addons {
		if addon.Phase != PhaseReady {
			// Composed resources that are all Ready do not make the stack Ready while an add-on waits
			// to be composed at all.
			rsp.Desired.Composite.Ready = fnv1.Ready_READY_FALSE
			rsp.Meta.Ttl = durationpb.New(ttlProgress)
			break
		}
	}
	return rsp, nil
}

// readComposite reads the observed composite's name and spec.
func readComposite(xr *structpb.Struct) (string, Spec, error) {
	var composite struct {
		Metadata struct {
			Name string `json:"name"`
		} `json:"metadata"`
		Spec Spec `json:"spec"`
	}
	if xr == nil {
		return "", Spec{}, fmt.Errorf("the request has no observed composite")
	}
	data, err := protojson.Marshal(xr)
	if err != nil {
		return "", Spec{}, fmt.Errorf("cannot encode the observed composite: %w", err)
	}
	// Unknown fields are allowed: Crossplane adds its own (spec.crossplane).
	if err := json.Unmarshal(data, &composite); err != nil {
		return "", Spec{}, fmt.Errorf("cannot read the AddonStack spec: %w", err)
	}
	if composite.Metadata.Name == "" {
		return "", Spec{}, fmt.Errorf("the observed composite has no name")
	}
	return composite.Metadata.Name, composite.Spec, nil
}

// objectMessage says what does not hold yet of an object a gate observes, in the cluster's words: its
// conditions that are not True (a Deployment's Available, a CRD's Established), or for Endpoints that
// no address is ready.
func objectMessage(object map[string]any) string {
	if object["kind"] == "Endpoints" {
		subsets, _ := object["subsets"].([]any)
		for _, subset := range subsets {
			if addresses, _ := subset.(map[string]any)["addresses"].([]any); len(addresses) > 0 {
				return ""
			}
		}
		return "no ready endpoints"
	}
	status, _ := object["status"].(map[string]any)
	conditions, _ := status["conditions"].([]any)
	var parts []string
	for _, c := range conditions {
		condition, _ := c.(map[string]any)
		if condition["status"] == "True" {
			continue
		}
		part := fmt.Sprintf("%v=%v", condition["type"], condition["status"])
		if reason, _ := condition["reason"].(string); reason != "" {
			part += " (" + reason + ")"
		}
		if message, _ := condition["message"].(string); message != "" {
			part += ": " + message
		}
		parts = append(parts, part)
	}
	return strings.Join(parts, "; ")
}

// readObserved reads the conditions and failure count of an observed composed resource; what it cannot
// read it leaves out, which reads as not Ready.
func readObserved(resource *structpb.Struct) Observed {
	o := Observed{Conditions: map[string]Condition{}}
	status := resource.GetFields()["status"].GetStructValue()
	for _, c := range status.GetFields()["conditions"].GetListValue().GetValues() {
		fields := c.GetStructValue().GetFields()
		if kind := fields["type"].GetStringValue(); kind != "" {
			o.Conditions[kind] = Condition{
				Status:  fields["status"].GetStringValue(),
				Reason:  fields["reason"].GetStringValue(),
				Message: fields["message"].GetStringValue(),
			}
		}
	}
	o.Failed = int64(status.GetFields()["failed"].GetNumberValue())
	generation := resource.GetFields()["metadata"].GetStructValue().GetFields()["generation"].GetNumberValue()
	for _, c := range status.GetFields()["conditions"].GetListValue().GetValues() {
		fields := c.GetStructValue().GetFields()
		// A condition without observedGeneration (a provider that does not record it) is taken as current.
		if observed, ok := fields["observedGeneration"]; ok && observed.GetNumberValue() < generation {
			o.Stale = true
		}
	}
	if forProvider := resource.GetFields()["spec"].GetStructValue().GetFields()["forProvider"].GetStructValue(); forProvider != nil {
		o.ForProvider = forProvider.AsMap()
	}
	if manifest := status.GetFields()["atProvider"].GetStructValue().GetFields()["manifest"].GetStructValue(); manifest != nil {
		o.ObjectMessage = objectMessage(manifest.AsMap())
	}
	return o
}

// setStatus sets the desired composite's status.addons, keeping the rest of what earlier steps desired.
func setStatus(desired *fnv1.State, status Status) error {
	if desired.Composite == nil {
		desired.Composite = &fnv1.Resource{}
	}
	if desired.Composite.Resource == nil {
		desired.Composite.Resource = &structpb.Struct{Fields: map[string]*structpb.Value{}}
	}
	xr := desired.Composite.Resource
	if xr.Fields == nil {
		xr.Fields = map[string]*structpb.Value{}
	}
	current := xr.Fields["status"].GetStructValue()
	if current == nil {
		current = &structpb.Struct{Fields: map[string]*structpb.Value{}}
		xr.Fields["status"] = structpb.NewStructValue(current)
	}
	encoded, err := toStruct(map[string]any{"addons": status.Addons})
	if err != nil {
		return err
	}
	current.Fields["addons"] = encoded.Fields["addons"]
	return nil
}

// toStruct encodes a JSON-like value as a protobuf Struct, through JSON so typed slices and maps work.
func toStruct(v any) (*structpb.Struct, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := &structpb.Struct{}
	if err := protojson.Unmarshal(data, s); err != nil {
		return nil, err
	}
	return s, nil
}

func fatal(rsp *fnv1.RunFunctionResponse, err error) *fnv1.RunFunctionResponse {
	rsp.Results = append(rsp.Results, &fnv1.Result{Severity: fnv1.Severity_SEVERITY_FATAL, Message: err.Error()})
	return rsp
}
