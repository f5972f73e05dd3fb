// Package mail sends reconciliation reports by SMTP: STARTTLS (required or opportunistic) or
// implicit TLS, PLAIN or LOGIN authentication, an HTML body with inline images and attachments.
// Temporary failures (4xx replies, connection errors) are retried with bounded backoff;
// permanent ones (5xx replies, refused authentication) are returned at once as an *Error that
// says which it was. It uses github.com/wneessen/go-mail for the protocol and MIME.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/textproto"
	"os"
	"strings"
	"text/template"
	"time"

	gomail "github.com/wneessen/go-mail"

	"github.com/amili-import/amili-import/config"
)

// TLS modes for Config.TLS.
const (
	TLSStartTLS         = "starttls"          // STARTTLS required (default)
	TLSStartTLSOptional = "starttls_optional" // STARTTLS when offered
	TLSImplicit         = "implicit"          // TLS from the first byte (port 465)
	TLSNone             = "none"              // plain text; for a relay on localhost only
)

// Defaults.
const (
	DefaultSubject     = "Amili reconciliation {{.Since}} – {{.Until}}"
	DefaultTimeout     = 30 * time.Second
	DefaultMaxAttempts = 4
	DefaultBackoff     = 2 * time.Second
	DefaultMaxBackoff  = 30 * time.Second
)

// Config says where and how to send.
type Config struct {
	Host     string
	Port     int    // default 587, 465 for TLSImplicit
	TLS      string // one of the TLS* modes; default TLSStartTLS
	Username string // empty: no authentication
	Password string
	// Auth is "plain" (default) or "login".
	Auth    string
	From    string
	To, Cc  []string
	Subject string // text/template over SubjectData; default DefaultSubject
	Timeout time.Duration
	// TLSConfig, when set, is used as is (tests trust their own CA this way); otherwise CAFile
	// adds a CA to the system roots.
	TLSConfig *tls.Config
	CAFile    string
	// MaxAttempts bounds the attempts for temporary failures (default 4); Backoff is the first
	// wait, doubled each time up to DefaultMaxBackoff, with jitter.
	MaxAttempts int
	Backoff     time.Duration
	// Sleep waits between attempts; tests make it instant. It must return ctx.Err() when ctx
	// ends first.
	Sleep  func(ctx context.Context, d time.Duration) error
	Logger *slog.Logger
}

// FromConfig turns the config file's smtp block into a Config, reading the password from its
// *_env or *_file reference. getenv nil means os.Getenv.
func FromConfig(c config.SMTP, getenv func(string) string) (Config, error) {
	out := Config{Host: c.Host, Port: c.Port, TLS: c.TLS, Username: c.Username, From: c.From,
		To: c.To, Cc: c.Cc, Subject: c.Subject, Timeout: c.Timeout.D(), CAFile: c.CAFile}
	if c.PasswordEnv != "" || c.PasswordFile != "" {
		pw, err := config.ReadSecret(c.PasswordEnv, c.PasswordFile, getenv)
		if err != nil {
			return Config{}, fmt.Errorf("smtp.password: %w", err)
		}
		out.Password = pw
	}
	return out, nil
}

// SubjectData is what the subject template sees.
type SubjectData struct {
	Since, Until string // 2006-01-02 15:04 in the report's zone
	Creditor     string // "" for all creditors
	Name         string // the report's name in the config
}

// Subject renders tmpl (DefaultSubject when empty) over d.
func Subject(tmpl string, d SubjectData) (string, error) {
	if tmpl == "" {
		tmpl = DefaultSubject
	}
	t, err := template.New("subject").Option("missingkey=error").Parse(tmpl)
	if err != nil {
		return "", fmt.Errorf("smtp.subject: %w", err)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", fmt.Errorf("smtp.subject: %w", err)
	}
	return strings.Join(strings.Fields(b.String()), " "), nil
}

// Part is an inline image or an attachment.
type Part struct {
	Name        string // file name; for inline parts also the Content-ID
	ContentType string
	Data        []byte
}

// Message is one e-mail.
type Message struct {
	Subject     string
	HTML        string
	Inline      []Part // referenced from the HTML as cid:<Name>
	Attachments []Part
}

// Error is a failed send: Temporary says whether trying again later may help.
type Error struct {
	Temporary bool
	Attempts  int
	Err       error
}

func (e *Error) Error() string {
	kind := "permanent"
	if e.Temporary {
		kind = "temporary"
	}
	return fmt.Sprintf("send mail (%s failure after %d attempt(s)): %v", kind, e.Attempts, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// Sender sends messages with one configuration.
type Sender struct {
	cfg Config
	tls *tls.Config
	log *slog.Logger
}

// New checks cfg and fills in its defaults; it does not connect.
func New(cfg Config) (*Sender, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp.host is not set")
	}
	if cfg.From == "" {
		return nil, errors.New("smtp.from is not set")
	}
	if len(cfg.To) == 0 {
		return nil, errors.New("smtp.to is not set")
	}
	switch cfg.TLS {
	case "":
		cfg.TLS = TLSStartTLS
	case TLSStartTLS, TLSStartTLSOptional, TLSImplicit, TLSNone:
	default:
		return nil, fmt.Errorf("smtp.tls: %q is not starttls, starttls_optional, implicit or none", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.TLS == TLSImplicit {
			cfg.Port = 465
		}
	}
	switch strings.ToLower(cfg.Auth) {
	case "", "plain":
		cfg.Auth = "plain"
	case "login":
		cfg.Auth = "login"
	default:
		return nil, fmt.Errorf("smtp auth %q is not plain or login", cfg.Auth)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleep
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sender{cfg: cfg, log: cfg.Logger}
	s.tls = cfg.TLSConfig
	if s.tls == nil {
		s.tls = &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("smtp.ca_file: %w", err)
			}
			pool, err := x509.SystemCertPool()
			if err != nil || pool == nil {
				pool = x509.NewCertPool()
			}
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("smtp.ca_file %s: no PEM certificate in it", cfg.CAFile)
			}
			s.tls.RootCAs = pool
		}
	}
	return s, nil
}

// Send delivers m, retrying temporary failures with backoff. The error is an *Error.
func (s *Sender) Send(ctx context.Context, m Message) error {
	msg, err := s.build(m)
	if err != nil {
		return &Error{Err: err, Attempts: 0}
	}
	delay := s.cfg.Backoff
	for attempt := 1; ; attempt++ {
		err := s.once(ctx, msg)
		if err == nil {
			s.log.Info("report e-mailed", "to", strings.Join(s.cfg.To, ", "), "subject", m.Subject, "attempts", attempt)
			return nil
		}
		temp := temporary(err)
		if !temp || attempt >= s.cfg.MaxAttempts || ctx.Err() != nil {
			return &Error{Temporary: temp, Attempts: attempt, Err: err}
		}
		wait := delay/2 + time.Duration(rand.Int64N(int64(delay/2)+1))
		s.log.Warn("sending mail failed; retrying", "attempt", attempt, "error", err.Error(), "delay", wait)
		if err := s.cfg.Sleep(ctx, wait); err != nil {
			return &Error{Temporary: true, Attempts: attempt, Err: err}
		}
		delay = min(delay*2, DefaultMaxBackoff)
	}
}

func (s *Sender) build(m Message) (*gomail.Msg, error) {
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return nil, fmt.Errorf("smtp.from: %w", err)
	}
	if err := msg.To(s.cfg.To...); err != nil {
		return nil, fmt.Errorf("smtp.to: %w", err)
	}
	if len(s.cfg.Cc) > 0 {
		if err := msg.Cc(s.cfg.Cc...); err != nil {
			return nil, fmt.Errorf("smtp.cc: %w", err)
		}
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	// go-mail's own Message-ID may start or end its left part with a dot, which RFC 5322 forbids.
	msg.SetGenHeader(gomail.HeaderMessageID, messageID(s.cfg.From, time.Now()))
	msg.SetBodyString(gomail.TypeTextHTML, m.HTML)
	for _, p := range m.Inline {
		if err := msg.EmbedReader(p.Name, bytes.NewReader(p.Data), gomail.WithFileContentID(p.Name),
			gomail.WithFileContentType(gomail.ContentType(p.ContentType))); err != nil {
			return nil, fmt.Errorf("embed %s: %w", p.Name, err)
		}
	}
	for _, p := range m.Attachments {
		if err := msg.AttachReader(p.Name, bytes.NewReader(p.Data),
			gomail.WithFileContentType(gomail.ContentType(p.ContentType))); err != nil {
			return nil, fmt.Errorf("attach %s: %w", p.Name, err)
		}
	}
	return msg, nil
}

// once makes one connection and sends msg.
func (s *Sender) once(ctx context.Context, msg *gomail.Msg) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	return c.DialAndSendWithContext(ctx, msg)
}

// Check connects to the relay as Send would (TLS as configured, STARTTLS included, and AUTH
// when a username is set) and disconnects without sending anything. One attempt, no retries.
func (s *Sender) Check(ctx context.Context) error {
	c, err := s.client()
	if err != nil {
		return err
	}
	if err := c.DialWithContext(ctx); err != nil {
		return err
	}
	return c.Close()
}

// Describe names the relay and how it is reached, e.g. "smtp.example.se:587 (starttls, AUTH
// as reports@example.se)".
func (s *Sender) Describe() string {
	d := fmt.Sprintf("%s:%d (%s", s.cfg.Host, s.cfg.Port, s.cfg.TLS)
	if s.cfg.Username != "" {
		d += ", AUTH as " + s.cfg.Username
	}
	return d + ")"
}

// client is a go-mail client for one connection with the configured TLS and authentication.
func (s *Sender) client() (*gomail.Client, error) {
	opts := []gomail.Option{gomail.WithPort(s.cfg.Port), gomail.WithTimeout(s.cfg.Timeout),
		gomail.WithTLSConfig(s.tls)}
	switch s.cfg.TLS {
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSStartTLSOptional:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	}
	if s.cfg.Username != "" {
		auth := gomail.SMTPAuthPlain
		if s.cfg.Auth == "login" {
			auth = gomail.SMTPAuthLogin
		}
		opts = append(opts, gomail.WithSMTPAuth(auth), gomail.WithUsername(s.cfg.Username),
			gomail.WithPassword(s.cfg.Password))
	}
	return gomail.NewClient(s.cfg.Host, opts...)
}

// temporary classifies a failure: 4xx replies and network trouble are worth another try; 5xx
// replies, refused authentication and TLS problems are not.
func temporary(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		if se.IsTemp() {
			return true
		}
		if code := se.ErrorCode(); code != 0 {
			return code >= 400 && code < 500
		}
	}
	var tp *textproto.Error
	if errors.As(err, &tp) {
		return tp.Code >= 400 && tp.Code < 500
	}
	if strings.Contains(err.Error(), "SMTP AUTH failed") {
		return false
	}
	var certErr *tls.CertificateVerificationError
	var x509Err x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var recErr tls.RecordHeaderError
	if errors.As(err, &certErr) || errors.As(err, &x509Err) || errors.As(err, &hostErr) || errors.As(err, &recErr) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "EOF") ||
		strings.Contains(err.Error(), "connection reset")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
