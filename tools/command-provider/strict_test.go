package main

// Where pulumi-command 1.2.1 is stricter than a lenient SSH runner, the
// stand-in must be too (measured against the real binary, 2026-12-06).

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"golang.org/x/crypto/ssh"
)

func TestLineOf64KiBWithLoggingFails(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startTestSSHServer(t, "pw")
	// 65536 bytes on one line: bufio.Scanner's limit, where 1.2.1 hangs for good.
	long := `head -c 65536 /dev/zero | tr '\0' x; echo`
	done := make(chan error, 1)
	go func() {
		_, err := create(t, newCommandProvider(nil), resource.PropertyMap{
			"connection": sshConn(srv, nil), "create": str(long), "logging": str("stdoutAndStderr"),
		})
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "64 KiB") || !strings.Contains(err.Error(), "bufio.Scanner") {
			t.Fatalf("expected the 64 KiB line failure naming its cause, got %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("hung on a 64 KiB line (as 1.2.1 does); the stand-in must fail instead")
	}

	// One byte less fits the scanner; logging "none" reads no lines at all.
	out, err := create(t, newCommandProvider(nil), resource.PropertyMap{
		"connection": sshConn(srv, nil), "create": str(`head -c 65535 /dev/zero | tr '\0' x; echo`), "logging": str("stdout"),
	})
	if err != nil || len(out["stdout"].StringValue()) != 65535 {
		t.Fatalf("a 65535-byte line must pass: err=%v", err)
	}
	out, err = create(t, newCommandProvider(nil), resource.PropertyMap{
		"connection": sshConn(srv, nil), "create": str(long), "logging": str("none"),
	})
	if err != nil || len(out["stdout"].StringValue()) != 65536 {
		t.Fatalf("logging none reads no lines, so it must pass: err=%v", err)
	}
}

// An RSA host key is offered as ssh-rsa (SHA-1) only, so a server that no
// longer signs with SHA-1 (OpenSSH >= 8.8) has no algorithm in common.
func TestRSAHostKeyNegotiatesSHA1Only(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(key)
	if err != nil {
		t.Fatal(err)
	}
	modern, err := ssh.NewSignerWithAlgorithms(signer.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSASHA512})
	if err != nil {
		t.Fatal(err)
	}
	srv := startTestSSHServerWithKey(t, "pw", modern)
	pinned := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(signer.PublicKey())))
	_, err = create(t, newCommandProvider(nil), resource.PropertyMap{
		"connection": sshConn(srv, resource.PropertyMap{"hostKey": str(pinned)}), "create": str("echo connected"),
	})
	if err == nil || !strings.Contains(err.Error(), "no common algorithm for host key") {
		t.Fatalf("expected no common host key algorithm, got %v", err)
	}

	// A server that still signs with SHA-1 connects.
	legacy, err := ssh.NewSignerWithAlgorithms(signer.(ssh.AlgorithmSigner), []string{ssh.KeyAlgoRSA})
	if err != nil {
		t.Fatal(err)
	}
	srv = startTestSSHServerWithKey(t, "pw", legacy)
	if _, err := create(t, newCommandProvider(nil), resource.PropertyMap{
		"connection": sshConn(srv, resource.PropertyMap{"hostKey": str(pinned)}), "create": str("echo connected"),
	}); err != nil {
		t.Fatalf("ssh-rsa server refused: %v", err)
	}
}

func TestEmptyHostKeyIsAnError(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startTestSSHServer(t, "pw")
	_, err := create(t, newCommandProvider(nil), resource.PropertyMap{
		"connection": sshConn(srv, resource.PropertyMap{"hostKey": str("")}), "create": str("echo ran"),
	})
	if err == nil || !strings.Contains(err.Error(), "failed to parse host key: ssh: no key found") {
		t.Fatalf("expected failed to parse host key, got %v", err)
	}
}

func TestHostKeyParsedAsAuthorizedKeyOnly(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startTestSSHServer(t, "pw")
	key := strings.TrimSpace(string(ssh.MarshalAuthorizedKey(srv.hostKey.PublicKey())))
	// A known_hosts line parses as an authorized_keys line with the host as an option.
	if _, err := create(t, newCommandProvider(nil), resource.PropertyMap{
		"connection": sshConn(srv, resource.PropertyMap{"hostKey": str("127.0.0.1 " + key)}), "create": str("echo ok"),
	}); err != nil {
		t.Fatalf("known_hosts line: %v", err)
	}
	// A fingerprint is not a key.
	_, err := create(t, newCommandProvider(nil), resource.PropertyMap{
		"connection": sshConn(srv, resource.PropertyMap{"hostKey": str(ssh.FingerprintSHA256(srv.hostKey.PublicKey()))}), "create": str("echo ok"),
	})
	if err == nil || !strings.Contains(err.Error(), "failed to parse host key") {
		t.Fatalf("expected a parse failure, got %v", err)
	}
}

func TestConnectionsStayOpenPerCommand(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startTestSSHServer(t, "pw")
	p := newCommandProvider(nil)
	before := openConnections()
	for i := 0; i < 3; i++ {
		if _, err := create(t, p, resource.PropertyMap{"connection": sshConn(srv, nil), "create": str("true")}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if got := srv.open.Load(); got != 3 || openConnections()-before != 3 {
		t.Fatalf("1.2.1 keeps one connection per command open: server sees %d, provider holds %d", got, openConnections()-before)
	}

	t.Setenv(closeConnectionsEnv, "1")
	srv = startTestSSHServer(t, "pw")
	if _, err := create(t, p, resource.PropertyMap{"connection": sshConn(srv, nil), "create": str("true")}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.open.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if got := srv.open.Load(); got != 0 {
		t.Fatalf("with %s=1 the connection must close: %d open", closeConnectionsEnv, got)
	}
}

func TestCancelDoesNotStopARunningCommand(t *testing.T) {
	t.Setenv("SSH_AUTH_SOCK", "")
	srv := startTestSSHServer(t, "pw")
	p := newCommandProvider(nil)
	go func() {
		time.Sleep(300 * time.Millisecond)
		_, _ = p.Cancel(context.Background(), nil)
	}()
	out, err := create(t, p, resource.PropertyMap{"connection": sshConn(srv, nil), "create": str("sleep 1; echo finished")})
	if err != nil || out["stdout"].StringValue() != "finished" {
		t.Fatalf("1.2.1 lets a running command finish after Cancel: out=%v err=%v", out, err)
	}
}

func TestCheckRefusesUnknownInputKeys(t *testing.T) {
	_, fails := runCheck(t, resource.PropertyMap{
		"connection": obj(resource.PropertyMap{"host": str("h")}),
		"create":     str("true"),
		"comand":     str("typo"),
	})
	if len(fails) != 1 || fails[0].GetProperty() != "comand" || !strings.Contains(fails[0].GetReason(), "Unrecognized field") {
		t.Fatalf("expected Unrecognized field 'comand', got %v", fails)
	}
}

func TestIgnoreChangesOnKeyAbsentFromStateKeepsNewValue(t *testing.T) {
	olds := baseState()
	delete(olds, "stdin")
	olds["stdout"], olds["stderr"] = str(""), str("")
	o, _ := marshal(olds, "o")
	n, _ := marshal(baseState(), "n")
	resp, err := newCommandProvider(nil).Update(context.Background(), &pulumirpc.UpdateRequest{
		Urn: testURN, Olds: o, News: n, Preview: true, IgnoreChanges: []string{"stdin"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out, _ := unmarshal(resp.GetProperties(), "out")
	if v, ok := out["stdin"]; !ok || !v.IsSecret() || v.SecretValue().Element.StringValue() != "in" {
		t.Fatalf("stdin must keep its new value: %v", out["stdin"])
	}
}
