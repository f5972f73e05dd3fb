package source

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// HostKeyError refuses a server whose host key is unknown or differs from the one expected.
// Its message shows the key the server offered and how to pin it.
type HostKeyError struct {
	Addr        string // host:port
	KeyType     string // e.g. ssh-ed25519
	Fingerprint string // SHA256:… of the key the server offered
	Line        string // authorized_keys form of that key (public, safe to show)
	Changed     bool   // a different key is on record for this host
	Expected    []string
	// KnownHosts is the known_hosts file the check read; "" for a pinned key.
	KnownHosts string
}

func (e *HostKeyError) Error() string {
	host, port, _ := net.SplitHostPort(e.Addr)
	var b strings.Builder
	if e.Changed {
		fmt.Fprintf(&b, "sftp: HOST KEY CHANGED for %s: server offered %s %s but %s is expected; "+
			"this may be an attack; if the server's key was really replaced, ", e.Addr, e.KeyType,
			e.Fingerprint, strings.Join(e.Expected, ", "))
		file := "<known_hosts>"
		if e.KnownHosts != "" {
			file = shellQuote(e.KnownHosts)
		}
		fmt.Fprintf(&b, "remove the old entry (ssh-keygen -R %s -f %s) and ", knownhosts.Normalize(e.Addr), file)
	} else {
		fmt.Fprintf(&b, "sftp: host key of %s is not known (server offered %s %s); "+
			"after checking it with the server's administrator (ssh-keygen -lf /etc/ssh/ssh_host_%s_key.pub on the server), ",
			e.Addr, e.KeyType, e.Fingerprint, keygenType(e.KeyType))
	}
	// The file to add to is the one this config reads; with a pinned key none is read, so
	// sftp.known_hosts would have to name the file the hint adds to.
	kh, target := "known_hosts", "~/.ssh/known_hosts"
	if e.KnownHosts != "" {
		kh, target = e.KnownHosts, shellQuote(e.KnownHosts)
	} else {
		kh = "known_hosts (and point sftp.known_hosts at it)"
	}
	fmt.Fprintf(&b, "pin it with sftp.host_key: %q in the config, or add it to %s: "+
		"ssh-keyscan -p %s -t %s %s >> %s",
		e.Fingerprint, kh, port, keygenType(e.KeyType), host, target)
	return b.String()
}

// shellQuote quotes p for a POSIX shell when it needs it, so the hint can be pasted as it is.
func shellQuote(p string) string {
	if strings.ContainsAny(p, " \t'\"$`\\;&|<>()*?[]#~!{}") {
		return "'" + strings.ReplaceAll(p, "'", `'\''`) + "'"
	}
	return p
}

// keygenType maps a key algorithm to ssh-keyscan's -t name.
func keygenType(t string) string {
	switch {
	case strings.Contains(t, "ed25519"):
		return "ed25519"
	case strings.HasPrefix(t, "ecdsa"):
		return "ecdsa"
	case strings.Contains(t, "rsa"):
		return "rsa"
	}
	return t
}

// hostKeyCheck is the host-key callback and the algorithms to ask the server for.
type hostKeyCheck struct {
	callback   ssh.HostKeyCallback
	algorithms []string // nil leaves x/crypto's defaults
}

// newHostKeyCheck builds the verification from a pinned key (authorized_keys line or
// SHA256 fingerprint) or, without a pin, a known_hosts file. Neither is an error: there is
// no way to accept any host key.
func newHostKeyCheck(addr, pinned, knownHostsFile string) (*hostKeyCheck, error) {
	pinned = strings.TrimSpace(pinned)
	switch {
	case pinned != "":
		return pinnedCheck(addr, pinned)
	case knownHostsFile != "":
		cb, err := knownhosts.New(knownHostsFile)
		if err != nil {
			return nil, fmt.Errorf("sftp: known_hosts: %w", err)
		}
		return &hostKeyCheck{callback: knownHostsCallback(addr, knownHostsFile, cb), algorithms: knownAlgorithms(addr, cb)}, nil
	default:
		return nil, errors.New("sftp: no host key verification configured: set sftp.known_hosts " +
			"or pin the server's key with sftp.host_key")
	}
}

func pinnedCheck(addr, pinned string) (*hostKeyCheck, error) {
	if strings.HasPrefix(pinned, "SHA256:") {
		return &hostKeyCheck{callback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if ssh.FingerprintSHA256(key) == pinned {
				return nil
			}
			return newHostKeyError(addr, key, true, []string{pinned})
		}}, nil
	}
	want, _, _, _, err := ssh.ParseAuthorizedKey([]byte(pinned))
	if err != nil {
		// Also accept a known_hosts line ("host keytype base64").
		var kerr error
		if _, _, want, _, _, kerr = ssh.ParseKnownHosts([]byte(pinned)); kerr != nil {
			return nil, fmt.Errorf("sftp: host_key: want an authorized_keys line or a SHA256: fingerprint: %w", err)
		}
	}
	return &hostKeyCheck{
		callback: func(_ string, _ net.Addr, key ssh.PublicKey) error {
			if bytes.Equal(key.Marshal(), want.Marshal()) {
				return nil
			}
			return newHostKeyError(addr, key, true, []string{want.Type() + " " + ssh.FingerprintSHA256(want)})
		},
		algorithms: algorithmsFor(want.Type()),
	}, nil
}

// knownHostsCallback turns knownhosts' KeyError into a HostKeyError that says what to do.
func knownHostsCallback(addr, file string, cb ssh.HostKeyCallback) ssh.HostKeyCallback {
	return func(hostname string, remote net.Addr, key ssh.PublicKey) error {
		err := cb(hostname, remote, key)
		var ke *knownhosts.KeyError
		if errors.As(err, &ke) {
			var want []string
			for _, k := range ke.Want {
				want = append(want, fmt.Sprintf("%s %s (%s:%d)", k.Key.Type(), ssh.FingerprintSHA256(k.Key), k.Filename, k.Line))
			}
			e := newHostKeyError(addr, key, len(ke.Want) > 0, want)
			e.KnownHosts = file
			return e
		}
		return err
	}
}

// knownAlgorithms asks known_hosts which key types it holds for addr, by checking a key it
// cannot hold, so the server is asked for a key we can verify (OpenSSH otherwise may offer
// one we have no entry for).
func knownAlgorithms(addr string, cb ssh.HostKeyCallback) []string {
	_, probe, _ := ed25519.GenerateKey(nil)
	signer, err := ssh.NewSignerFromKey(probe)
	if err != nil {
		return nil
	}
	err = cb(addr, &net.TCPAddr{IP: net.IPv4zero}, signer.PublicKey())
	var ke *knownhosts.KeyError
	if !errors.As(err, &ke) || len(ke.Want) == 0 {
		return nil
	}
	var algs []string
	seen := map[string]bool{}
	for _, k := range ke.Want {
		for _, a := range algorithmsFor(k.Key.Type()) {
			if !seen[a] {
				seen[a] = true
				algs = append(algs, a)
			}
		}
	}
	return algs
}

// algorithmsFor lists the signature algorithms a key type can be verified with, strongest
// first: an RSA key is used with rsa-sha2-512/256 by modern servers.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

func newHostKeyError(addr string, key ssh.PublicKey, changed bool, want []string) *HostKeyError {
	return &HostKeyError{
		Addr:        addr,
		KeyType:     key.Type(),
		Fingerprint: ssh.FingerprintSHA256(key),
		Line:        strings.TrimSpace(string(ssh.MarshalAuthorizedKey(key))),
		Changed:     changed,
		Expected:    want,
	}
}

// joinHostPort is net.JoinHostPort with a numeric port.
func joinHostPort(host string, port int) string {
	return net.JoinHostPort(host, strconv.Itoa(port))
}
