package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"testing"

	"golang.org/x/crypto/ssh"
)

// testSSHServer is a minimal in-process SSH server on 127.0.0.1 that runs
// "exec" requests with /bin/sh -c, honouring "env" requests and stdin.
type testSSHServer struct {
	addr    *net.TCPAddr
	hostKey ssh.Signer
	mu      sync.Mutex
	envSeen map[string]string
	// open counts client connections not yet closed.
	open atomic.Int32
}

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func startTestSSHServer(t *testing.T, password string) *testSSHServer {
	t.Helper()
	return startTestSSHServerWithKey(t, password, newSigner(t))
}

// startTestSSHServerWithKey serves with hostKey (e.g. an RSA key restricted to
// rsa-sha2-256/512, as OpenSSH >= 8.8 offers it).
func startTestSSHServerWithKey(t *testing.T, password string, hostKey ssh.Signer) *testSSHServer {
	t.Helper()
	srv := &testSSHServer{hostKey: hostKey, envSeen: map[string]string{}}
	cfg := &ssh.ServerConfig{
		PasswordCallback: func(c ssh.ConnMetadata, pw []byte) (*ssh.Permissions, error) {
			if c.User() == "tester" && string(pw) == password {
				return nil, nil
			}
			return nil, errors.New("denied")
		},
	}
	cfg.AddHostKey(srv.hostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.addr = ln.Addr().(*net.TCPAddr)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			go srv.serveConn(nc, cfg)
		}
	}()
	return srv
}

func (s *testSSHServer) serveConn(nc net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(nc, cfg)
	if err != nil {
		_ = nc.Close()
		return
	}
	s.open.Add(1)
	defer s.open.Add(-1)
	go ssh.DiscardRequests(reqs)
	for nch := range chans {
		if nch.ChannelType() != "session" {
			_ = nch.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nch.Accept()
		if err != nil {
			continue
		}
		go s.serveSession(ch, creqs)
	}
}

func sshString(b []byte) (string, []byte) {
	if len(b) < 4 {
		return "", nil
	}
	n := binary.BigEndian.Uint32(b)
	if uint32(len(b)-4) < n {
		return "", nil
	}
	return string(b[4 : 4+n]), b[4+n:]
}

func (s *testSSHServer) serveSession(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	env := os.Environ()
	for req := range reqs {
		switch req.Type {
		case "env":
			k, rest := sshString(req.Payload)
			v, _ := sshString(rest)
			s.mu.Lock()
			s.envSeen[k] = v
			s.mu.Unlock()
			env = append(env, k+"="+v)
			_ = req.Reply(true, nil)
		case "exec":
			cmdline, _ := sshString(req.Payload)
			_ = req.Reply(true, nil)
			cmd := exec.Command("/bin/sh", "-c", cmdline)
			cmd.Env = env
			cmd.Stdout = ch
			cmd.Stderr = ch.Stderr()
			stdin, _ := cmd.StdinPipe()
			code := 0
			if err := cmd.Start(); err != nil {
				code = 127
			} else {
				go func() { _, _ = io.Copy(stdin, ch); _ = stdin.Close() }()
				if err := cmd.Wait(); err != nil {
					var ee *exec.ExitError
					if errors.As(err, &ee) {
						code = ee.ExitCode()
					} else {
						code = 1
					}
				}
			}
			status := make([]byte, 4)
			binary.BigEndian.PutUint32(status, uint32(code))
			_, _ = ch.SendRequest("exit-status", false, status)
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}
