package main

import (
	"context"
	_ "embed"
	"fmt"
	"sort"
	"sync"

	"github.com/pulumi/pulumi/pkg/v3/resource/provider"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// commandType is the only resource type this stand-in implements.
const commandType = "command:remote:Command"

//go:embed schema.json
var schemaJSON string

// commandProvider implements pulumirpc.ResourceProviderServer for
// command:remote:Command with the semantics of pulumi-command 1.2.1.
type commandProvider struct {
	pulumirpc.UnimplementedResourceProviderServer

	mu   sync.Mutex
	host engineLogger

	cancelCtx context.Context
	cancel    context.CancelFunc
}

func newCommandProvider(host engineLogger) *commandProvider {
	ctx, cancel := context.WithCancel(context.Background())
	return &commandProvider{host: host, cancelCtx: ctx, cancel: cancel}
}

func (p *commandProvider) logger(urn string) opLogger {
	p.mu.Lock()
	defer p.mu.Unlock()
	return opLogger{host: p.host, urn: resource.URN(urn)}
}

// opContext is the request context, also cancelled by the engine's Cancel.
func (p *commandProvider) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(p.cancelCtx, cancel)
	return ctx, func() { stop(); cancel() }
}

// Properties are read and written keeping secrets and unknowns, and keeping
// resource references and assets as they are, so that every input value -
// and its secretness - is returned exactly.
func unmarshal(s *structpb.Struct, label string) (resource.PropertyMap, error) {
	return plugin.UnmarshalProperties(s, plugin.MarshalOptions{
		Label: label, KeepUnknowns: true, KeepSecrets: true, KeepResources: true,
		SkipNulls: false, KeepOutputValues: false,
	})
}

func marshal(m resource.PropertyMap, label string) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, plugin.MarshalOptions{
		Label: label, KeepUnknowns: true, KeepSecrets: true, KeepResources: true,
	})
}

func checkType(typ, urn string) error {
	t := typ
	if t == "" {
		t = string(resource.URN(urn).Type())
	}
	if t != commandType {
		return status.Errorf(codes.InvalidArgument,
			"unknown resource type %q: this stand-in for pulumi-command 1.2.1 implements only %s", t, commandType)
	}
	return nil
}

func resourceName(name, urn string) string {
	if name != "" {
		return name
	}
	return resource.URN(urn).Name()
}

// ---------------------------------------------------------------- plugin-level

func (p *commandProvider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: providerVersion}, nil
}

func (p *commandProvider) Handshake(
	_ context.Context, req *pulumirpc.ProviderHandshakeRequest,
) (*pulumirpc.ProviderHandshakeResponse, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.host == nil && req.GetEngineAddress() != "" {
		host, err := provider.NewHostClient(req.GetEngineAddress())
		if err != nil {
			return nil, err
		}
		p.host = host
	}
	return &pulumirpc.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true}, nil
}

func (p *commandProvider) Attach(_ context.Context, req *pulumirpc.PluginAttach) (*emptypb.Empty, error) {
	host, err := provider.NewHostClient(req.GetAddress())
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	p.host = host
	p.mu.Unlock()
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) GetSchema(_ context.Context, req *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	if req.GetSubpackageName() != "" {
		return nil, status.Errorf(codes.NotFound, "no subpackage %q", req.GetSubpackageName())
	}
	return &pulumirpc.GetSchemaResponse{Schema: schemaJSON}, nil
}

func (p *commandProvider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	// The provider has no configuration; hand the inputs back.
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *commandProvider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true}, nil
}

func (p *commandProvider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{
		AcceptSecrets:   true,
		SupportsPreview: true,
		AcceptResources: true,
		AcceptOutputs:   false,
	}, nil
}

func (p *commandProvider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	p.cancel()
	return &emptypb.Empty{}, nil
}

// ---------------------------------------------------------------- resource

func (p *commandProvider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := checkType(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "check.news")
	if err != nil {
		return nil, err
	}
	inputs, fails := checkInputs(news)
	out, err := marshal(inputs, "check.inputs")
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.CheckResponse{Inputs: out}
	for _, f := range fails {
		resp.Failures = append(resp.Failures, &pulumirpc.CheckFailure{Property: f.property, Reason: f.reason})
	}
	return resp, nil
}

// diffInputs is the real provider's (pulumi-go-provider infer) default diff:
// the old state restricted to the input properties is compared with the new
// inputs; secrets compare by their wrapped value; every change is an update
// except changes under `triggers`, which replace.
func diffInputs(olds, news resource.PropertyMap, ignoreChanges []string) *pulumirpc.DiffResponse {
	news = news.Copy()
	ignoreOldValues(olds, news, ignoreChanges)
	oldInputs := resource.PropertyMap{}
	for _, k := range inputKeys {
		oldInputs[k] = olds[k]
	}
	objDiff := oldInputs.Diff(news)
	detailed := plugin.NewDetailedDiffFromObjectDiff(objDiff, false)

	resp := &pulumirpc.DiffResponse{
		Changes:         pulumirpc.DiffResponse_DIFF_NONE,
		HasDetailedDiff: true,
		DetailedDiff:    map[string]*pulumirpc.PropertyDiff{},
	}
	if objDiff.AnyChanges() {
		resp.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	keys := make([]string, 0, len(detailed))
	for k := range detailed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		d := detailed[k]
		kind := d.Kind
		if isReplaceKey(k) {
			kind = kind.AsReplace()
		}
		var rk pulumirpc.PropertyDiff_Kind
		switch kind {
		case plugin.DiffAdd:
			rk = pulumirpc.PropertyDiff_ADD
		case plugin.DiffAddReplace:
			rk = pulumirpc.PropertyDiff_ADD_REPLACE
		case plugin.DiffDelete:
			rk = pulumirpc.PropertyDiff_DELETE
		case plugin.DiffDeleteReplace:
			rk = pulumirpc.PropertyDiff_DELETE_REPLACE
		case plugin.DiffUpdate:
			rk = pulumirpc.PropertyDiff_UPDATE
		case plugin.DiffUpdateReplace:
			rk = pulumirpc.PropertyDiff_UPDATE_REPLACE
		default:
			continue
		}
		resp.DetailedDiff[k] = &pulumirpc.PropertyDiff{Kind: rk, InputDiff: d.InputDiff}
		resp.Diffs = append(resp.Diffs, k)
		if kind.IsReplace() {
			resp.Replaces = append(resp.Replaces, k)
		}
	}
	return resp
}

func (p *commandProvider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	if err := checkType(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds(), "diff.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "diff.news")
	if err != nil {
		return nil, err
	}
	return diffInputs(olds, news, req.GetIgnoreChanges()), nil
}

func (p *commandProvider) Create(ctx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if err := checkType(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	inputs, err := unmarshal(req.GetProperties(), "create.properties")
	if err != nil {
		return nil, err
	}
	id, err := resource.NewUniqueHex(resourceName(req.GetName(), req.GetUrn()), 8, 0)
	if err != nil {
		return nil, err
	}
	outs := outputsFromInputs(inputs)
	if req.GetPreview() {
		// Outputs mirroring inputs stay as they are; stdout/stderr are unknown.
		outs[keyStdout] = resource.MakeComputed(resource.NewStringProperty(""))
		outs[keyStderr] = resource.MakeComputed(resource.NewStringProperty(""))
	} else {
		state, err := decodeState(inputs)
		if err != nil {
			return nil, fmt.Errorf("invalid inputs: %w", err)
		}
		if state.Create != nil {
			ctx, done := p.opContext(ctx)
			defer done()
			if err := state.run(ctx, p.logger(req.GetUrn()), *state.Create); err != nil {
				return nil, err
			}
		}
		outs[keyStdout] = resource.NewStringProperty(state.Stdout)
		outs[keyStderr] = resource.NewStringProperty(state.Stderr)
	}
	props, err := marshal(outs, "create.outputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (p *commandProvider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if err := checkType(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	// The real provider's default Read returns the state and inputs unchanged.
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

func (p *commandProvider) Update(ctx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	if err := checkType(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	olds, err := unmarshal(req.GetOlds(), "update.olds")
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews(), "update.news")
	if err != nil {
		return nil, err
	}
	ignoreOldValues(olds, news, req.GetIgnoreChanges())
	outs := outputsFromInputs(news)
	// The previous stdout/stderr carry over (and feed PULUMI_COMMAND_STDOUT/STDERR).
	oldStdout, oldStderr := olds[keyStdout], olds[keyStderr]
	if oldStdout.IsNull() {
		oldStdout = resource.NewStringProperty("")
	}
	if oldStderr.IsNull() {
		oldStderr = resource.NewStringProperty("")
	}
	if req.GetPreview() {
		changed := false
		for _, k := range inputKeys {
			nv, has := news[k]
			if has && nv.ContainsUnknowns() {
				changed = true
			}
			if ov, hadOld := olds[k]; hadOld && !nv.DeepEquals(ov) {
				changed = true
			}
		}
		if changed {
			outs[keyStdout] = resource.MakeComputed(resource.NewStringProperty(""))
			outs[keyStderr] = resource.MakeComputed(resource.NewStringProperty(""))
		} else {
			outs[keyStdout], outs[keyStderr] = oldStdout, oldStderr
		}
	} else {
		state, err := decodeState(news)
		if err != nil {
			return nil, fmt.Errorf("invalid inputs: %w", err)
		}
		old, _ := decodeState(resource.PropertyMap{keyStdout: oldStdout, keyStderr: oldStderr})
		state.Stdout, state.Stderr = old.Stdout, old.Stderr
		cmd := state.Update
		if cmd == nil {
			cmd = state.Create
		}
		if cmd != nil {
			ctx, done := p.opContext(ctx)
			defer done()
			if err := state.run(ctx, p.logger(req.GetUrn()), *cmd); err != nil {
				return nil, err
			}
		}
		outs[keyStdout] = resource.NewStringProperty(state.Stdout)
		outs[keyStderr] = resource.NewStringProperty(state.Stderr)
	}
	props, err := marshal(outs, "update.outputs")
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (p *commandProvider) Delete(ctx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	if err := checkType(req.GetType(), req.GetUrn()); err != nil {
		return nil, err
	}
	props, err := unmarshal(req.GetProperties(), "delete.properties")
	if err != nil {
		return nil, err
	}
	state, err := decodeState(props)
	if err != nil {
		return nil, err
	}
	if state.Delete == nil {
		return &emptypb.Empty{}, nil
	}
	ctx, done := p.opContext(ctx)
	defer done()
	if err := state.run(ctx, p.logger(req.GetUrn()), *state.Delete); err != nil {
		return nil, err
	}
	return &emptypb.Empty{}, nil
}

func (p *commandProvider) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	return nil, status.Errorf(codes.Unimplemented,
		"invoke %q is not implemented by this stand-in for pulumi-command 1.2.1's remote.Command", req.GetTok())
}

// ignoreOldValues applies ignoreChanges as 1.2.1 (infer) does: a key present
// in the old state keeps its old value; a key absent from it keeps the new one.
func ignoreOldValues(olds, news resource.PropertyMap, ignoreChanges []string) {
	for _, k := range ignoreChanges {
		key := resource.PropertyKey(k)
		if v, ok := olds[key]; ok {
			news[key] = v
		}
	}
}
