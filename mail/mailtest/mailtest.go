// Package mailtest runs a real SMTP server on 127.0.0.1 for tests: STARTTLS with a self-signed
// certificate made at start, AUTH PLAIN and LOGIN against one user, and every accepted message
// kept for inspection. Replies can be forced to fail, to test temporary and permanent errors.
package mailtest

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one accepted message.
type Message struct {
	From string
	To   []string // envelope recipients
	Data []byte   // the message as received (headers and body)
	TLS  bool     // received over TLS
	Auth string   // the user that authenticated
	Mech string   // the SASL mechanism it authenticated with: PLAIN or LOGIN
}

// Server is a running SMTP server.
type Server struct {
	Host     string
	Port     int
	CertPEM  []byte // the self-signed certificate, to trust as a CA
	Username string
	Password string

	srv *smtp.Server
	ln  net.Listener

	mu       sync.Mutex
	messages []Message
	failNext []*smtp.SMTPError // replies to DATA, used up one per message
}

// NewServer starts a server on 127.0.0.1:0 that offers STARTTLS and accepts username and
// password.
func NewServer(username, password string) (*Server, error) {
	return newServer(username, password, modeStartTLS)
}

// NewImplicitTLSServer starts a server that speaks TLS from the first byte (port 465 style).
func NewImplicitTLSServer(username, password string) (*Server, error) {
	return newServer(username, password, modeImplicit)
}

// NewPlainServer starts a server without TLS that allows authentication in the clear, like an
// old relay: clients requiring STARTTLS must refuse it.
func NewPlainServer(username, password string) (*Server, error) {
	return newServer(username, password, modePlain)
}

type mode int

const (
	modeStartTLS mode = iota
	modeImplicit
	modePlain
)

func newServer(username, password string, m mode) (*Server, error) {
	cert, certPEM, err := selfSigned()
	if err != nil {
		return nil, err
	}
	s := &Server{Username: username, Password: password, CertPEM: certPEM}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c}, nil
	}))
	srv.Domain = "127.0.0.1"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	srv.MaxMessageBytes = 10 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	switch m {
	case modeImplicit:
		ln = tls.NewListener(ln, srv.TLSConfig)
	case modePlain:
		srv.TLSConfig = nil
		srv.AllowInsecureAuth = true
	}
	s.srv, s.ln = srv, ln
	s.Host = "127.0.0.1"
	s.Port = ln.Addr().(*net.TCPAddr).Port // tls.listener reports the TCP address
	go srv.Serve(ln)
	return s, nil
}

// Addr is host:port.
func (s *Server) Addr() string { return net.JoinHostPort(s.Host, strconv.Itoa(s.Port)) }

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages...)
}

// FailNext makes the next len(codes) messages fail at DATA with these reply codes (e.g. 451
// for a temporary, 554 for a permanent failure).
func (s *Server) FailNext(codes ...int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range codes {
		s.failNext = append(s.failNext, &smtp.SMTPError{Code: c, Message: "forced failure " + strconv.Itoa(c)})
	}
}

type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	mech string
	from string
	to   []string
}

func (se *session) AuthMechanisms() []string { return []string{sasl.Plain, sasl.Login} }

func (se *session) Auth(mech string) (sasl.Server, error) {
	check := func(user, pass string) error {
		if user != se.s.Username || pass != se.s.Password {
			return smtp.ErrAuthFailed
		}
		se.user, se.mech = user, mech
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (se *session) Mail(from string, _ *smtp.MailOptions) error {
	if se.user == "" {
		return smtp.ErrAuthRequired
	}
	se.from = from
	return nil
}

func (se *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	se.to = append(se.to, to)
	return nil
}

func (se *session) Data(r io.Reader) error {
	var b bytes.Buffer
	if _, err := io.Copy(&b, r); err != nil {
		return err
	}
	se.s.mu.Lock()
	defer se.s.mu.Unlock()
	if len(se.s.failNext) > 0 {
		e := se.s.failNext[0]
		se.s.failNext = se.s.failNext[1:]
		return e
	}
	_, isTLS := se.conn.TLSConnectionState()
	se.s.messages = append(se.s.messages, Message{From: se.from, To: se.to, Data: b.Bytes(), TLS: isTLS, Auth: se.user, Mech: se.mech})
	return nil
}

func (se *session) Reset() { se.from, se.to = "", nil }

func (se *session) Logout() error { return nil }

// loginServer is the LOGIN mechanism: username, then password, each after a prompt.
type loginServer struct {
	check    func(user, pass string) error
	user     string
	gotUser  bool
	prompted bool
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	switch {
	case !l.prompted:
		l.prompted = true
		if len(resp) > 0 { // initial response carries the username
			l.user, l.gotUser = string(resp), true
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case !l.gotUser:
		l.user, l.gotUser = string(resp), true
		return []byte("Password:"), false, nil
	}
	if err := l.check(l.user, string(resp)); err != nil {
		return nil, true, err
	}
	return nil, true, nil
}

// selfSigned makes a certificate for 127.0.0.1 valid for a day.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "mailtest"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	if der == nil {
		return tls.Certificate{}, nil, errors.New("no certificate")
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return cert, certPEM, err
}
