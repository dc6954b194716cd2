package main

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
)

const testURN = "urn:pulumi:dev::proj::command:remote:Command::cmd"

type recordingLogger struct {
	mu     sync.Mutex
	status []string
	logs   []string
}

func (r *recordingLogger) Log(_ context.Context, sev diag.Severity, _ resource.URN, msg string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, string(sev)+": "+msg)
	return nil
}

func (r *recordingLogger) LogStatus(_ context.Context, _ diag.Severity, _ resource.URN, msg string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.status = append(r.status, msg)
	return nil
}

func str(s string) resource.PropertyValue                    { return resource.NewStringProperty(s) }
func num(f float64) resource.PropertyValue                   { return resource.NewNumberProperty(f) }
func obj(m resource.PropertyMap) resource.PropertyValue      { return resource.NewObjectProperty(m) }
func secret(v resource.PropertyValue) resource.PropertyValue { return resource.MakeSecret(v) }

func mustMarshal(t *testing.T, m resource.PropertyMap) *pulumirpc.CheckRequest {
	t.Helper()
	s, err := marshal(m, "test")
	if err != nil {
		t.Fatal(err)
	}
	return &pulumirpc.CheckRequest{Urn: testURN, News: s}
}

func runCheck(t *testing.T, news resource.PropertyMap) (resource.PropertyMap, []*pulumirpc.CheckFailure) {
	t.Helper()
	p := newCommandProvider(nil)
	resp, err := p.Check(context.Background(), mustMarshal(t, news))
	if err != nil {
		t.Fatal(err)
	}
	out, err := unmarshal(resp.GetInputs(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return out, resp.GetFailures()
}

func TestCheckFillsDefaults(t *testing.T) {
	news := resource.PropertyMap{
		"create": str("echo hi"),
		"connection": secret(obj(resource.PropertyMap{
			"host":       str("10.0.0.5"),
			"privateKey": secret(str("KEY")),
			"proxy":      obj(resource.PropertyMap{"host": str("bastion")}),
		})),
	}
	out, fails := runCheck(t, news)
	if len(fails) != 0 {
		t.Fatalf("unexpected failures: %v", fails)
	}
	if v, ok := out["addPreviousOutputInEnv"]; ok {
		t.Fatalf("addPreviousOutputInEnv has no default in 1.2.1: got %v", v)
	}
	c := out["connection"]
	if !c.IsSecret() {
		t.Fatalf("connection must stay secret, got %v", c)
	}
	co := c.SecretValue().Element.ObjectValue()
	want := map[resource.PropertyKey]resource.PropertyValue{
		"user": str("root"), "port": num(22), "dialErrorLimit": num(10), "perDialTimeout": num(15), "host": str("10.0.0.5"),
	}
	for k, w := range want {
		if !co[k].DeepEquals(w) {
			t.Errorf("connection.%s: got %v want %v", k, co[k], w)
		}
	}
	if !co["privateKey"].IsSecret() {
		t.Errorf("nested secret privateKey lost its secretness: %v", co["privateKey"])
	}
	po := co["proxy"].ObjectValue()
	for k, w := range map[resource.PropertyKey]resource.PropertyValue{
		"user": str("root"), "port": num(22), "dialErrorLimit": num(10), "perDialTimeout": num(15),
	} {
		if !po[k].DeepEquals(w) {
			t.Errorf("proxy.%s: got %v want %v", k, po[k], w)
		}
	}
}

func TestCheckKeepsUserValuesAndReportsMissingConnection(t *testing.T) {
	out, fails := runCheck(t, resource.PropertyMap{
		"addPreviousOutputInEnv": resource.NewBoolProperty(false),
		"connection":             obj(resource.PropertyMap{"host": str("h"), "port": num(2222), "dialErrorLimit": num(0), "user": str("ubuntu")}),
	})
	if len(fails) != 0 {
		t.Fatalf("unexpected failures: %v", fails)
	}
	if out["addPreviousOutputInEnv"].BoolValue() {
		t.Errorf("explicit false must be kept")
	}
	co := out["connection"].SecretValue().Element.ObjectValue()
	if co["port"].NumberValue() != 2222 || co["dialErrorLimit"].NumberValue() != 0 || co["user"].StringValue() != "ubuntu" {
		t.Errorf("user values overwritten: %v", co)
	}
	_, fails = runCheck(t, resource.PropertyMap{"create": str("x")})
	if len(fails) != 1 || fails[0].GetProperty() != "connection" {
		t.Fatalf("expected a failure on connection, got %v", fails)
	}
}

func baseState() resource.PropertyMap {
	return resource.PropertyMap{
		"addPreviousOutputInEnv": resource.NewBoolProperty(true),
		"connection": secret(obj(resource.PropertyMap{
			"host": str("h"), "user": str("root"), "port": num(22), "dialErrorLimit": num(10), "perDialTimeout": num(15),
		})),
		"create":   str("echo a"),
		"triggers": resource.NewArrayProperty([]resource.PropertyValue{str("t1")}),
		"stdin":    secret(str("in")),
	}
}

func diffOf(t *testing.T, olds, news resource.PropertyMap) *pulumirpc.DiffResponse {
	t.Helper()
	o, err := marshal(olds, "olds")
	if err != nil {
		t.Fatal(err)
	}
	n, err := marshal(news, "news")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := newCommandProvider(nil).Diff(context.Background(), &pulumirpc.DiffRequest{Urn: testURN, Olds: o, News: n})
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestDiff(t *testing.T) {
	olds := baseState()
	olds["stdout"] = str("a")
	olds["stderr"] = str("")

	t.Run("no diff when inputs equal (secrets compare by value)", func(t *testing.T) {
		r := diffOf(t, olds, baseState())
		if r.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE || len(r.GetReplaces()) != 0 {
			t.Fatalf("expected no changes, got %v", r)
		}
	})
	t.Run("create change is an update", func(t *testing.T) {
		news := baseState()
		news["create"] = str("echo b")
		r := diffOf(t, olds, news)
		if r.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || len(r.GetReplaces()) != 0 {
			t.Fatalf("expected update, got %v", r)
		}
		if r.GetDetailedDiff()["create"].GetKind() != pulumirpc.PropertyDiff_UPDATE {
			t.Fatalf("detailed diff: %v", r.GetDetailedDiff())
		}
	})
	t.Run("connection change is an update", func(t *testing.T) {
		news := baseState()
		c := news["connection"].SecretValue().Element.ObjectValue().Copy()
		c["host"] = str("other")
		news["connection"] = secret(obj(c))
		r := diffOf(t, olds, news)
		if r.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || len(r.GetReplaces()) != 0 {
			t.Fatalf("expected update, got %v", r)
		}
	})
	t.Run("a triggers element change is an update from the provider (the SDK's replaceOnChanges replaces)", func(t *testing.T) {
		news := baseState()
		news["triggers"] = resource.NewArrayProperty([]resource.PropertyValue{str("t2")})
		r := diffOf(t, olds, news)
		if r.GetChanges() != pulumirpc.DiffResponse_DIFF_SOME || len(r.GetReplaces()) != 0 {
			t.Fatalf("expected an update, got %v", r)
		}
		if r.GetDetailedDiff()["triggers[0]"].GetKind() != pulumirpc.PropertyDiff_UPDATE {
			t.Fatalf("detailed diff: %v", r.GetDetailedDiff())
		}
	})
	t.Run("triggers added replaces", func(t *testing.T) {
		o := olds.Copy()
		delete(o, "triggers")
		r := diffOf(t, o, baseState())
		if len(r.GetReplaces()) != 1 || r.GetReplaces()[0] != "triggers" {
			t.Fatalf("expected triggers replace, got %v", r)
		}
	})
	t.Run("stdout in olds is not an input", func(t *testing.T) {
		o := olds.Copy()
		o["stdout"] = str("changed")
		r := diffOf(t, o, baseState())
		if r.GetChanges() != pulumirpc.DiffResponse_DIFF_NONE {
			t.Fatalf("expected no changes, got %v", r)
		}
	})
}

func TestCreatePreviewOutputsUnknown(t *testing.T) {
	in := baseState()
	s, err := marshal(in, "in")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := newCommandProvider(nil).Create(context.Background(),
		&pulumirpc.CreateRequest{Urn: testURN, Properties: s, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := unmarshal(resp.GetProperties(), "out")
	if err != nil {
		t.Fatal(err)
	}
	if !out["stdout"].IsComputed() || !out["stderr"].IsComputed() {
		t.Fatalf("stdout/stderr must be unknown in preview: %v", out)
	}
	if !out["connection"].IsSecret() || !out["stdin"].IsSecret() || !out["create"].IsString() {
		t.Fatalf("inputs must be mirrored with their secretness: %v", out)
	}
	if !strings.HasPrefix(resp.GetId(), "cmd") || len(resp.GetId()) != len("cmd")+8 {
		t.Fatalf("id: %q", resp.GetId())
	}
}

// --- real SSH against an in-process server on 127.0.0.1 --------------------

func sshConn(srv *testSSHServer, extra resource.PropertyMap) resource.PropertyValue {
	c := resource.PropertyMap{
		"host": str("127.0.0.1"), "port": num(float64(srv.addr.Port)), "user": str("tester"),
		"password": str("pw"), "dialErrorLimit": num(0), "perDialTimeout": num(5),
	}
	for k, v := range extra {
		c[k] = v
	}
	return secret(obj(c))
}

func create(t *testing.T, p *commandProvider, in resource.PropertyMap) (resource.PropertyMap, error) {
	t.Helper()
	s, err := marshal(in, "in")
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Create(context.Background(), &pulumirpc.CreateRequest{Urn: testURN, Properties: s})
	if err != nil {
		return nil, err
	}
	out, err := unmarshal(resp.GetProperties(), "out")
	if err != nil {
		t.Fatal(err)
	}
	return out, nil
}

func TestSSHRunStdinAndOutputs(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startTestSSHServer(t, "pw")
	logs := &recordingLogger{}
	p := newCommandProvider(logs)
	out, err := create(t, p, resource.PropertyMap{
		"connection":             sshConn(srv, nil),
		"create":                 str("cat; echo to-stderr >&2"),
		"stdin":                  secret(str("hello from stdin\n")),
		"environment":            obj(resource.PropertyMap{"FOO": str("bar")}),
		"addPreviousOutputInEnv": resource.NewBoolProperty(true),
		"logging":                str("stdout"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out["stdout"].StringValue() != "hello from stdin" {
		t.Errorf("stdout: %q", out["stdout"].StringValue())
	}
	if out["stderr"].StringValue() != "to-stderr" {
		t.Errorf("stderr: %q", out["stderr"].StringValue())
	}
	if out["stdout"].IsSecret() || out["stderr"].IsSecret() {
		t.Errorf("stdout/stderr must be plain")
	}
	if !out["stdin"].IsSecret() || !out["connection"].IsSecret() {
		t.Errorf("input secretness must be kept: %v", out)
	}
	if srv.envSeen["FOO"] != "bar" {
		t.Errorf("environment not sent with setenv: %v", srv.envSeen)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	joined := strings.Join(logs.status, "\n")
	if !strings.Contains(joined, "hello from stdin") || strings.Contains(joined, "to-stderr") {
		t.Errorf("logging=stdout must log stdout only, got %q", joined)
	}
}

func TestSSHNonZeroExit(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startTestSSHServer(t, "pw")
	_, err := create(t, newCommandProvider(nil), resource.PropertyMap{
		"connection": sshConn(srv, nil),
		"create":     str("echo boom-out; echo boom-err >&2; exit 3"),
	})
	if err == nil {
		t.Fatal("expected an error")
	}
	msg := err.Error()
	for _, want := range []string{"Process exited with status 3", `running "echo boom-out; echo boom-err >&2; exit 3"`, "boom-out", "boom-err"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q lacks %q", msg, want)
		}
	}
}

func TestSSHUpdatePassesPreviousOutput(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startTestSSHServer(t, "pw")
	olds := resource.PropertyMap{
		"connection": sshConn(srv, nil), "create": str("echo first"),
		"addPreviousOutputInEnv": resource.NewBoolProperty(true),
		"stdout":                 str("first"), "stderr": str(""),
	}
	news := resource.PropertyMap{
		"connection": sshConn(srv, nil), "create": str("echo first"),
		"update":                 str(`echo "prev=$PULUMI_COMMAND_STDOUT"`),
		"addPreviousOutputInEnv": resource.NewBoolProperty(true),
	}
	o, _ := marshal(olds, "o")
	n, _ := marshal(news, "n")
	resp, err := newCommandProvider(nil).Update(context.Background(),
		&pulumirpc.UpdateRequest{Urn: testURN, Olds: o, News: n})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := unmarshal(resp.GetProperties(), "out")
	if out["stdout"].StringValue() != "prev=first" {
		t.Fatalf("stdout: %q", out["stdout"].StringValue())
	}
}

func TestSSHHostKey(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startTestSSHServer(t, "pw")
	good := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(srv.hostKey.PublicKey())))
	bad := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(newSigner(t).PublicKey())))

	out, err := create(t, newCommandProvider(nil), resource.PropertyMap{
		"connection": sshConn(srv, resource.PropertyMap{"hostKey": str(good)}),
		"create":     str("echo pinned"),
	})
	if err != nil {
		t.Fatalf("matching host key refused: %v", err)
	}
	if out["stdout"].StringValue() != "pinned" {
		t.Fatalf("stdout: %q", out["stdout"].StringValue())
	}

	_, err = create(t, newCommandProvider(nil), resource.PropertyMap{
		"connection": sshConn(srv, resource.PropertyMap{"hostKey": str(bad)}),
		"create":     str("echo should-not-run"),
	})
	if err == nil || !strings.Contains(err.Error(), "host key mismatch") {
		t.Fatalf("expected host key mismatch, got %v", err)
	}
}

func TestDialErrorLimitCountsAttempts(t *testing.T) {
	attempts := 0
	_, err := dialWithRetry(context.Background(), opLogger{}, "Dial", 2, func() (int, error) {
		attempts++
		return 0, errTest
	})
	if err == nil || attempts != 3 || !strings.Contains(err.Error(), "after 2 failed attempts") {
		t.Fatalf("attempts=%d err=%v", attempts, err)
	}
}

var errTest = &testError{}

type testError struct{}

func (*testError) Error() string { return "dial failed" }
