package source

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/ssh"
)

// The SSH algorithms offered are those OpenSSH 9's client offers by default, as far as
// golang.org/x/crypto implements them: no SHA-1 key exchange, no SHA-1 ssh-rsa signatures,
// no CBC, 3DES or RC4 ciphers. SFTPConfig.LegacyAlgorithms adds the SHA-1 key exchanges and
// signatures for a server too old to offer anything else; the ciphers stay as they are.
var (
	modernKex = []string{
		ssh.KeyExchangeMLKEM768X25519,
		ssh.KeyExchangeCurve25519,
		"curve25519-sha256@libssh.org",
		ssh.KeyExchangeECDHP256,
		ssh.KeyExchangeECDHP384,
		ssh.KeyExchangeECDHP521,
		ssh.KeyExchangeDHGEXSHA256,
		ssh.KeyExchangeDH16SHA512,
		ssh.KeyExchangeDH14SHA256,
	}
	legacyKex = []string{
		ssh.InsecureKeyExchangeDH14SHA1,
		ssh.InsecureKeyExchangeDHGEXSHA1,
		ssh.InsecureKeyExchangeDH1SHA1,
	}
	// OpenSSH 9's ciphers in x/crypto's own order, AES-GCM first: with AES-NI it is the
	// cheapest in Go, and on a busy machine a download's speed depends on its cipher's.
	modernCiphers = []string{
		ssh.CipherAES128GCM,
		ssh.CipherAES256GCM,
		ssh.CipherChaCha20Poly1305,
		ssh.CipherAES128CTR,
		ssh.CipherAES192CTR,
		ssh.CipherAES256CTR,
	}
	// MACs are OpenSSH 9's default list; hmac-sha1 as a MAC is still in it.
	modernMACs = []string{
		ssh.HMACSHA256ETM,
		ssh.HMACSHA512ETM,
		ssh.HMACSHA256,
		ssh.HMACSHA512,
		ssh.HMACSHA1,
	}
	modernHostKeyAlgos = []string{
		ssh.CertAlgoED25519v01,
		ssh.CertAlgoECDSA256v01,
		ssh.CertAlgoECDSA384v01,
		ssh.CertAlgoECDSA521v01,
		ssh.CertAlgoRSASHA512v01,
		ssh.CertAlgoRSASHA256v01,
		ssh.KeyAlgoED25519,
		ssh.KeyAlgoECDSA256,
		ssh.KeyAlgoECDSA384,
		ssh.KeyAlgoECDSA521,
		ssh.KeyAlgoRSASHA512,
		ssh.KeyAlgoRSASHA256,
	}
	// legacyHostKeyAlgos are SHA-1 signatures: ssh-rsa and its certificate.
	legacyHostKeyAlgos = []string{ssh.CertAlgoRSAv01, ssh.KeyAlgoRSA}
)

// applyAlgorithms sets the key exchanges, ciphers, MACs and host-key algorithms of config.
// wanted is the host-key algorithms the host-key check can verify (nil: any).
func applyAlgorithms(config *ssh.ClientConfig, wanted []string, legacy bool) {
	config.KeyExchanges = slices.Clone(modernKex)
	config.Ciphers = slices.Clone(modernCiphers)
	config.MACs = slices.Clone(modernMACs)
	allowed := slices.Clone(modernHostKeyAlgos)
	if legacy {
		config.KeyExchanges = append(config.KeyExchanges, legacyKex...)
		allowed = append(allowed, legacyHostKeyAlgos...)
	}
	if wanted == nil {
		config.HostKeyAlgorithms = allowed
		return
	}
	var algs []string
	for _, a := range wanted {
		if slices.Contains(allowed, a) {
			algs = append(algs, a)
		}
	}
	if len(algs) == 0 {
		// Only keys signing with SHA-1 are trusted: offering them would be legacy, offering
		// nothing would let x/crypto fall back to its defaults. The server is asked for an
		// algorithm the keys cannot meet, so the handshake fails and says why.
		algs = []string{ssh.KeyAlgoRSASHA512}
	}
	config.HostKeyAlgorithms = algs
}

// signersFor keeps an RSA client key from signing with SHA-1 (ssh-rsa), which OpenSSH 9
// no longer does by default. With legacy the key is offered a second time signing with
// ssh-rsa only: x/crypto tries one algorithm a key, the strongest the server announces,
// and an old server may announce rsa-sha2 yet accept only ssh-rsa.
func signersFor(s ssh.Signer, legacy bool) []ssh.Signer {
	as, ok := s.(ssh.AlgorithmSigner)
	if !ok || s.PublicKey().Type() != ssh.KeyAlgoRSA {
		return []ssh.Signer{s}
	}
	var out []ssh.Signer
	if ms, err := ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256}); err == nil {
		out = append(out, ms)
	}
	if legacy {
		if ms, err := ssh.NewSignerWithAlgorithms(as, []string{ssh.KeyAlgoRSA}); err == nil {
			out = append(out, ms)
		}
	}
	return out
}

// mayUseRSA reports whether authentication may be with an RSA key: the configured key is
// one, or the agent's keys, which are not known in advance, are used.
func (c SFTPConfig) mayUseRSA() bool {
	if c.UseAgent {
		return true
	}
	if len(c.PrivateKey) == 0 {
		return false
	}
	var pub ssh.PublicKey
	if len(c.PrivateKeyPassphrase) > 0 {
		if s, err := ssh.ParsePrivateKeyWithPassphrase(c.PrivateKey, c.PrivateKeyPassphrase); err == nil {
			pub = s.PublicKey()
		}
	} else if s, err := ssh.ParsePrivateKey(c.PrivateKey); err == nil {
		pub = s.PublicKey()
	}
	return pub != nil && pub.Type() == ssh.KeyAlgoRSA
}

// legacyHint is appended to a refusal that sftp.legacy_algorithms would have avoided.
const legacyHint = "the server offers only SSH algorithms OpenSSH 9 refuses (SHA-1 key exchange or " +
	"ssh-rsa SHA-1 signatures); upgrade it, or if that cannot be done set sftp.legacy_algorithms: true"

// ErrLegacyAlgorithms is wrapped by a connection refused because the server offers only
// algorithms that SFTPConfig.LegacyAlgorithms would allow.
var ErrLegacyAlgorithms = errors.New(legacyHint)

// explainAlgorithms turns a failed negotiation, or an RSA key refused for want of an SHA-1
// signature, into an error naming sftp.legacy_algorithms when that setting would help.
func explainAlgorithms(err error, legacy, rsaKey bool) error {
	if legacy || err == nil {
		return err
	}
	var neg *ssh.AlgorithmNegotiationError
	if errors.As(err, &neg) {
		if neg.What == "key exchange" || neg.What == "host key" {
			if offersLegacy(neg.RequestedAlgorithms) {
				return fmt.Errorf("%w: %w", ErrLegacyAlgorithms, err)
			}
		}
		return err
	}
	if rsaKey && (strings.Contains(err.Error(), "no common public key signature algorithm") ||
		strings.Contains(err.Error(), "unable to authenticate")) {
		return fmt.Errorf("%w (if the server accepts the RSA key only with SHA-1 ssh-rsa signatures, "+
			"which OpenSSH 9 does not send, set sftp.legacy_algorithms: true)", err)
	}
	return err
}

// offersLegacy reports whether peer offers an algorithm LegacyAlgorithms adds.
func offersLegacy(peer []string) bool {
	for _, a := range peer {
		if slices.Contains(legacyKex, a) || slices.Contains(legacyHostKeyAlgos, a) {
			return true
		}
	}
	return false
}
