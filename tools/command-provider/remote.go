package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/retry"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

const (
	envStdout            = "PULUMI_COMMAND_STDOUT"
	envStderr            = "PULUMI_COMMAND_STDERR"
	sshAgentSocketEnvVar = "SSH_AUTH_SOCK"

	dialErrorDefault   = 10
	dialErrorUnlimited = -1
	perDialDefault     = 15
)

// engineLogger is the part of the engine host client the provider uses; it is
// satisfied by *provider.HostClient.
type engineLogger interface {
	Log(ctx context.Context, sev diag.Severity, urn resource.URN, msg string) error
	LogStatus(ctx context.Context, sev diag.Severity, urn resource.URN, msg string) error
}

// opLogger sends messages about one resource operation to the engine.
type opLogger struct {
	host engineLogger
	urn  resource.URN
}

func (l opLogger) log(ctx context.Context, sev diag.Severity, msg string) {
	if l.host != nil {
		_ = l.host.Log(ctx, sev, l.urn, msg)
	}
}

func (l opLogger) status(ctx context.Context, sev diag.Severity, msg string) {
	if l.host != nil {
		_ = l.host.LogStatus(ctx, sev, l.urn, msg)
	}
}

// hostKeyAlgorithms returns the algorithms able to present key, so the server
// is asked for the key type that was pinned.
func hostKeyAlgorithms(key ssh.PublicKey) []string {
	switch key.Type() {
	case ssh.KeyAlgoRSA:
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	default:
		return []string{key.Type()}
	}
}

// parseHostKey accepts an authorized_keys style line ("ssh-ed25519 AAAA...
// [comment]") or a known_hosts line ("host ssh-ed25519 AAAA...").
func parseHostKey(s string) (ssh.PublicKey, error) {
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err == nil {
		return key, nil
	}
	if _, _, k, _, _, kerr := ssh.ParseKnownHosts([]byte(s)); kerr == nil {
		return k, nil
	}
	return nil, fmt.Errorf("failed to parse hostKey: %w", err)
}

// sshConfig builds the client configuration for one hop: user (default
// "root"), perDialTimeout seconds as the TCP dial timeout (0 = none), host key
// pinning when hostKey is set (ignored otherwise), and auth methods in the
// real provider's order: privateKey (with privateKeyPassword when set),
// password + keyboard-interactive answering every question with the password,
// then the SSH agent at agentSocketPath or $SSH_AUTH_SOCK.
func (c *connectionBase) sshConfig() (*ssh.ClientConfig, error) {
	user := "root"
	if c.User != nil {
		user = *c.User
	}
	timeout := perDialDefault
	if c.PerDialTimeout != nil {
		timeout = *c.PerDialTimeout
	}
	config := &ssh.ClientConfig{
		User:            user,
		HostKeyCallback: ssh.InsecureIgnoreHostKey(), //nolint:gosec // same as pulumi-command when hostKey is unset
		Timeout:         time.Second * time.Duration(timeout),
	}
	if c.HostKey != nil && strings.TrimSpace(*c.HostKey) != "" {
		expected, err := parseHostKey(*c.HostKey)
		if err != nil {
			return nil, err
		}
		config.HostKeyAlgorithms = hostKeyAlgorithms(expected)
		want := expected.Marshal()
		config.HostKeyCallback = func(hostname string, remote net.Addr, got ssh.PublicKey) error {
			if bytes.Equal(got.Marshal(), want) {
				return nil
			}
			return fmt.Errorf("ssh: host key mismatch for %s (%v): expected %s %s, server presented %s %s",
				hostname, remote, expected.Type(), ssh.FingerprintSHA256(expected), got.Type(), ssh.FingerprintSHA256(got))
		}
	}
	if c.PrivateKey != nil {
		var signer ssh.Signer
		var err error
		if c.PrivateKeyPassword != nil {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(*c.PrivateKey), []byte(*c.PrivateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(*c.PrivateKey))
		}
		if err != nil {
			return nil, err
		}
		config.Auth = append(config.Auth, ssh.PublicKeys(signer))
	}
	if c.Password != nil {
		pw := *c.Password
		config.Auth = append(config.Auth, ssh.Password(pw))
		config.Auth = append(config.Auth, ssh.KeyboardInteractive(
			func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range questions {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	var agentPath string
	if c.AgentSocketPath != nil {
		agentPath = *c.AgentSocketPath
	} else if env := os.Getenv(sshAgentSocketEnvVar); env != "" {
		agentPath = env
	}
	if agentPath != "" {
		conn, err := net.Dial("unix", agentPath)
		if err != nil {
			return nil, err
		}
		config.Auth = append(config.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	return config, nil
}

func (c *connectionBase) dialErrorLimit() int {
	if c.DialErrorLimit == nil {
		return dialErrorDefault
	}
	return *c.DialErrorLimit
}

func (c *connectionBase) endpoint() string {
	host := ""
	if c.Host != nil {
		host = *c.Host
	}
	port := 22
	if c.Port != nil {
		port = int(*c.Port)
	}
	return net.JoinHostPort(host, fmt.Sprintf("%d", port))
}

func reachedDialingErrorLimit(dials, limit int) bool {
	return limit > dialErrorUnlimited && dials > limit
}

// dialWithRetry calls f until it succeeds, or until it failed limit+1 times
// (limit -1 = forever), sleeping with the SDK's retry.Until default backoff
// (100ms, x1.5, at most 5s) in between, and reporting each failure as an info
// status message "<msg> <n>/<limit> failed: retrying".
func dialWithRetry[T any](ctx context.Context, log opLogger, msg string, limit int, f func() (T, error)) (T, error) {
	var userErr error
	ok, data, err := retry.Until(ctx, retry.Acceptor{
		Accept: func(try int, _ time.Duration) (bool, any, error) {
			var result T
			result, userErr = f()
			if userErr == nil {
				return true, result, nil
			}
			dials := try + 1
			if reachedDialingErrorLimit(dials, limit) {
				return true, nil, fmt.Errorf("after %d failed attempts: %w", try, userErr)
			}
			lim := "inf"
			if limit != dialErrorUnlimited {
				lim = fmt.Sprintf("%d", limit)
			}
			log.status(ctx, diag.Info, fmt.Sprintf("%s %d/%s failed: retrying", msg, dials, lim))
			return false, nil, nil
		},
	})
	if ok && err == nil {
		return data.(T), nil
	}
	var zero T
	if err == nil {
		err = ctx.Err()
		if err == nil {
			err = errors.New("dial cancelled")
		}
	}
	return zero, err
}

// dial connects to the target, directly or through one proxy (bastion) hop.
func (c *connection) dial(ctx context.Context, log opLogger) (*ssh.Client, func(), error) {
	config, err := c.sshConfig()
	if err != nil {
		return nil, nil, err
	}
	endpoint := c.endpoint()
	tries := c.dialErrorLimit()
	if c.Proxy == nil {
		client, err := dialWithRetry(ctx, log, "Dial", tries, func() (*ssh.Client, error) {
			return ssh.Dial("tcp", endpoint, config)
		})
		if err != nil {
			return nil, nil, err
		}
		return client, func() { _ = client.Close() }, nil
	}

	proxyConfig, err := c.Proxy.sshConfig()
	if err != nil {
		return nil, nil, fmt.Errorf("proxy: %w", err)
	}
	proxyClient, err := dialWithRetry(ctx, log, "Dial proxy", c.Proxy.dialErrorLimit(), func() (*ssh.Client, error) {
		return ssh.Dial("tcp", c.Proxy.endpoint(), proxyConfig)
	})
	if err != nil {
		return nil, nil, fmt.Errorf("proxy: %w", err)
	}
	conn, err := dialWithRetry(ctx, log, "Dial from proxy", tries, func() (net.Conn, error) {
		return proxyClient.Dial("tcp", endpoint)
	})
	if err != nil {
		_ = proxyClient.Close()
		return nil, nil, fmt.Errorf("proxy: %w", err)
	}
	var chans <-chan ssh.NewChannel
	var reqs <-chan *ssh.Request
	sshConn, err := dialWithRetry(ctx, log, "Dial", tries, func() (ssh.Conn, error) {
		cc, ch, rq, err := ssh.NewClientConn(conn, endpoint, config)
		chans, reqs = ch, rq
		return cc, err
	})
	if err != nil {
		_ = proxyClient.Close()
		return nil, nil, fmt.Errorf("proxy: %w", err)
	}
	client := ssh.NewClient(sshConn, chans, reqs)
	return client, func() { _ = client.Close(); _ = proxyClient.Close() }, nil
}

const setenvHint = `Unable to set '%s'. This only works if your SSH server is configured to accept
	these variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could
	prefix the command itself with the variables in the form 'VAR=value command'`

// logLines sends each line read from r to the engine as an info status message.
func logLines(ctx context.Context, log opLogger, r io.Reader, done chan<- struct{}) {
	defer close(done)
	br := bufio.NewReader(r)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			log.status(ctx, diag.Info, strings.TrimRight(line, "\r\n"))
		}
		if err != nil {
			_, _ = io.Copy(io.Discard, r)
			return
		}
	}
}

// run executes cmd on the remote host in one SSH session and, on success,
// sets s.Stdout / s.Stderr (each with one trailing newline removed).
func (s *commandState) run(ctx context.Context, log opLogger, cmd string) error {
	if s.Connection == nil {
		return errors.New("connection is required")
	}
	client, closeAll, err := s.Connection.dial(ctx, log)
	if err != nil {
		return err
	}
	defer closeAll()

	session, err := client.NewSession()
	if err != nil {
		return err
	}
	defer session.Close()

	for k, v := range s.Environment {
		if err := session.Setenv(k, v); err != nil {
			log.log(ctx, diag.Error, fmt.Sprintf(setenvHint, k))
			return fmt.Errorf("could not set environment variable %q: %w", k, err)
		}
	}
	if s.AddPreviousOutputInEnv == nil || *s.AddPreviousOutputInEnv {
		if s.Stdout != "" {
			if err := session.Setenv(envStdout, s.Stdout); err != nil {
				log.log(ctx, diag.Warning, fmt.Sprintf(setenvHint, envStdout))
			}
		}
		if s.Stderr != "" {
			if err := session.Setenv(envStderr, s.Stderr); err != nil {
				log.log(ctx, diag.Warning, fmt.Sprintf(setenvHint, envStderr))
			}
		}
	}

	if s.Stdin != nil && len(*s.Stdin) > 0 {
		session.Stdin = strings.NewReader(*s.Stdin)
	}

	var stdoutBuf, stderrBuf, combined bytes.Buffer
	cw := &lockedWriter{w: &combined}
	r, w := io.Pipe()
	lw := &lockedWriter{w: w}
	outWriters := []io.Writer{&stdoutBuf, cw}
	if s.shouldLogStdout() {
		outWriters = append(outWriters, lw)
	}
	errWriters := []io.Writer{&stderrBuf, cw}
	if s.shouldLogStderr() {
		errWriters = append(errWriters, lw)
	}
	session.Stdout = io.MultiWriter(outWriters...)
	session.Stderr = io.MultiWriter(errWriters...)

	done := make(chan struct{})
	go logLines(ctx, log, r, done)

	err = runWithContext(ctx, session, cmd)

	_ = w.Close()
	<-done

	if err != nil {
		return fmt.Errorf("%w: running %q:\n%s", err, cmd, combined.String())
	}
	s.Stdout = strings.TrimSuffix(stdoutBuf.String(), "\n")
	s.Stderr = strings.TrimSuffix(stderrBuf.String(), "\n")
	return nil
}

// runWithContext runs cmd and closes the session if ctx is cancelled (the
// engine's Cancel), so a hung command does not block the provider forever.
func runWithContext(ctx context.Context, session *ssh.Session, cmd string) error {
	errCh := make(chan error, 1)
	go func() { errCh <- session.Run(cmd) }()
	select {
	case err := <-errCh:
		return err
	case <-ctx.Done():
		_ = session.Signal(ssh.SIGTERM)
		_ = session.Close()
		<-errCh
		return ctx.Err()
	}
}

// lockedWriter serialises writes from the stdout and stderr copiers.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
