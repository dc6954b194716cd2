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
	"sync/atomic"
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

// hostKeyAlgorithms is what 1.2.1 offers for a pinned key: its type name
// only. For an RSA key that is "ssh-rsa" (SHA-1 signatures), which OpenSSH
// 8.8 and later no longer accept: no rsa-sha2-256/512.
func hostKeyAlgorithms(key ssh.PublicKey) []string {
	return []string{key.Type()}
}

// parseHostKey parses hostKey as 1.2.1 does: ssh.ParseAuthorizedKey only (a
// known_hosts line still parses, its host read as an option); an empty string
// is an error ("ssh: no key found"), not "no pinning".
func parseHostKey(s string) (ssh.PublicKey, error) {
	key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("failed to parse host key: %w", err)
	}
	return key, nil
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
	if c.HostKey != nil {
		expected, err := parseHostKey(*c.HostKey)
		if err != nil {
			return nil, err
		}
		config.HostKeyAlgorithms = hostKeyAlgorithms(expected)
		config.HostKeyCallback = ssh.FixedHostKey(expected)
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

// errLineTooLong is returned for a command that printed a line of 64 KiB or
// more with logging on. pulumi-command 1.2.1 reads log lines with a
// bufio.Scanner (64 KiB token limit): its reader stops, the pipe fills and
// session.Run never returns, so the real provider hangs for good. The
// stand-in must not pass where the real one cannot, so it fails, naming why.
var errLineTooLong = errors.New("the command printed an output line of 64 KiB or more with logging on: " +
	"pulumi-command 1.2.1 reads log lines with a bufio.Scanner (64 KiB limit) and hangs for good on such a line " +
	"(this stand-in fails instead); fold or cap the command's output lines, or set logging to none")

// logLines sends each line read from r to the engine as an info status
// message, reading as 1.2.1 does (bufio.Scanner). On a line too long for it,
// tooLong is called, and the rest is drained so the command's writers do not
// block here.
func logLines(ctx context.Context, log opLogger, r io.Reader, tooLong func(), done chan<- struct{}) {
	defer close(done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		log.status(ctx, diag.Info, sc.Text())
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		tooLong()
	}
	_, _ = io.Copy(io.Discard, r)
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
	defer keepOpen(closeAll)

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

	var tooLong atomic.Bool
	done := make(chan struct{})
	go logLines(ctx, log, r, func() { tooLong.Store(true); _ = session.Close() }, done)

	// As in 1.2.1, a running command is not cancelled: Cancel stops dial retries only.
	err = session.Run(cmd)

	_ = w.Close()
	<-done

	if tooLong.Load() {
		return fmt.Errorf("running %q: %w", cmd, errLineTooLong)
	}
	if err != nil {
		return fmt.Errorf("%w: running %q:\n%s", err, cmd, combined.String())
	}
	s.Stdout = strings.TrimSuffix(stdoutBuf.String(), "\n")
	s.Stderr = strings.TrimSuffix(stderrBuf.String(), "\n")
	return nil
}

// closeConnectionsEnv, set to "1", makes the stand-in close each command's SSH
// client when the command ends. By default it keeps them open until the plugin
// exits, as 1.2.1 does (remote/commandOutputs.go never closes its client): one
// connection, and one sshd process or two, per command run.
const closeConnectionsEnv = "PULUMI_COMMAND_STANDIN_CLOSE_CONNECTIONS"

var (
	openMu      sync.Mutex
	openClients []func()
)

// keepOpen closes a command's connection now only when closeConnectionsEnv
// asks for it; otherwise it is kept (referenced) until the plugin exits.
func keepOpen(closeAll func()) {
	if os.Getenv(closeConnectionsEnv) == "1" {
		closeAll()
		return
	}
	openMu.Lock()
	openClients = append(openClients, closeAll)
	openMu.Unlock()
}

// openConnections counts the clients kept open (for tests).
func openConnections() int {
	openMu.Lock()
	defer openMu.Unlock()
	return len(openClients)
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
