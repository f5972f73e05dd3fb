package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"go.yaml.in/yaml/v3"
)

// DefaultPath is where the config is looked for when --config is not given.
const DefaultPath = "./amili-import.yaml"

// Defaults of keys that have one, also listed in the README.
const (
	DefaultTimeZone     = "Europe/Stockholm"
	DefaultLedgerPath   = "./amili-import.db"
	DefaultBaseURL      = "https://api-sandbox.amili.se"
	DefaultConcurrency  = 4
	DefaultPDFMaxSize   = 20 << 20
	DefaultMinAge       = 60 * time.Second
	DefaultRateLimit    = 100
	DefaultBurst        = 10
	DefaultDrainTimeout = 30 * time.Second
	// DefaultInDoubtGrace is amili.in_doubt_grace's default.
	DefaultInDoubtGrace = 10 * time.Minute
)

// Error is a config problem tied to one key.
type Error struct {
	File string // "" for the embedded defaults
	Key  string // dotted path, e.g. jobs[1].source.dir
	Msg  string
}

func (e *Error) Error() string {
	f := e.File
	if f == "" {
		f = "config"
	}
	if e.Key == "" {
		return f + ": " + e.Msg
	}
	return fmt.Sprintf("%s: %s: %s", f, e.Key, e.Msg)
}

// Errors is every problem found in one file.
type Errors []*Error

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Load reads, expands, decodes, defaults and validates the config file at path. getenv
// resolves ${VAR} (nil means os.Getenv).
func Load(path string, getenv func(string) string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path, getenv)
}

// varRef matches ${NAME}; $$ escapes a dollar sign.
var varRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Parse is Load on bytes already read; name is used in errors.
func Parse(data []byte, name string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var missing []string
	expanded := varRef.ReplaceAllFunc(data, func(m []byte) []byte {
		if string(m) == "$$" {
			return []byte("$")
		}
		v := string(m[2 : len(m)-1])
		val := getenv(v)
		if val == "" {
			missing = append(missing, v)
		}
		return []byte(val)
	})
	if len(missing) > 0 {
		return nil, &Error{File: name, Msg: fmt.Sprintf("${%s} is not set in the environment", strings.Join(missing, "}, ${"))}
	}
	cfg := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil && !errors.Is(err, io.EOF) {
		return nil, &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	cfg.Path = name
	cfg.applyDefaults()
	if err := cfg.validate(getenv); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *Config) applyDefaults() {
	orDefault(&c.TimeZone, DefaultTimeZone)
	orDefault(&c.Log.Level, "info")
	orDefault(&c.Log.Format, "auto")
	orDefault(&c.Ledger.Path, DefaultLedgerPath)
	orDefault(&c.Ledger.BusyTimeout, Duration(5*time.Second))
	a := &c.Amili
	orDefault(&a.BaseURL, DefaultBaseURL)
	a.BaseURL = strings.TrimRight(a.BaseURL, "/")
	orDefault(&a.Timeout, Duration(30*time.Second))
	orDefault(&a.RateLimitPerMinute, DefaultRateLimit)
	orDefault(&a.Burst, DefaultBurst)
	orDefault(&a.MaxAttempts, 5)
	orDefault(&a.MaxRetryTime, Duration(2*time.Minute))
	orDefault(&a.InDoubtGrace, Duration(DefaultInDoubtGrace))
	if a.Auth.Method == "" {
		switch {
		case a.Auth.PrivateKeyFile != "":
			a.Auth.Method = "jwt"
		case a.Auth.TokenEnv != "" || a.Auth.TokenFile != "":
			a.Auth.Method = "token"
		case a.Auth.APICodeEnv != "" || a.Auth.APICodeFile != "":
			a.Auth.Method = "api_code"
		}
	}
	orDefault(&a.Auth.APICodeField, "api_code")
	c.SFTP.applyDefaults()
	d := &c.Daemon
	orDefault(&d.DrainTimeout, Duration(DefaultDrainTimeout))
	orDefault(&d.LeaseTTL, Duration(2*time.Minute))
	for i := range c.Jobs {
		j := &c.Jobs[i]
		orDefault(&j.Account, a.Account)
		orDefault(&j.Creditor, a.Creditor)
		orDefault(&j.Concurrency, DefaultConcurrency)
		orDefault(&j.PDF, "required")
		orDefault(&j.PDFMaxSize, DefaultPDFMaxSize)
		orDefault(&j.IDNumbers, "strict")
		s := &j.Source
		orDefault(&s.Type, "local")
		if len(s.Patterns) == 0 {
			s.Patterns = []string{"*.csv"}
		}
		orDefault(&s.MinAge, Duration(DefaultMinAge))
		orDefault(&s.After, "archive")
		if s.Dir != "" && s.ArchiveDir == "" {
			s.ArchiveDir = joinDir(s.Dir, "archive")
		}
		if s.Dir != "" && s.ErrorDir == "" {
			s.ErrorDir = joinDir(s.Dir, "error")
		}
		if s.Type == "sftp" {
			merged := c.SFTP
			if s.SFTP != nil {
				merged = mergeSFTP(c.SFTP, *s.SFTP)
			}
			s.SFTP = &merged
		}
	}
	for i := range c.Reports {
		r := &c.Reports[i]
		orDefault(&r.OutDir, "./reports")
		if r.CSVSeparator == "" {
			r.CSVSeparator = ","
			if r.DecimalComma {
				r.CSVSeparator = ";"
			}
		}
		if r.Send == nil {
			send := c.SMTP.Host != ""
			r.Send = &send
		}
	}
	m := &c.SMTP
	orDefault(&m.TLS, "starttls")
	if m.Port == 0 {
		m.Port = 587
		if m.TLS == "implicit" {
			m.Port = 465
		}
	}
	orDefault(&m.Subject, "Amili reconciliation {{.Since}} – {{.Until}}")
	orDefault(&m.Timeout, Duration(30*time.Second))
}

// orDefault sets *v to d when it holds the zero value (the key was not in the file).
func orDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
	}
}

func (s *SFTP) applyDefaults() {
	if s.Port == 0 {
		s.Port = 22
	}
	if s.Keepalive == 0 {
		s.Keepalive = Duration(30 * time.Second)
	}
	if s.Timeout == 0 {
		s.Timeout = Duration(30 * time.Second)
	}
}

// mergeSFTP returns base with every key set in over replacing it.
func mergeSFTP(base, over SFTP) SFTP {
	out := base
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&out.Host, over.Host)
	set(&out.User, over.User)
	set(&out.PrivateKeyFile, over.PrivateKeyFile)
	set(&out.PrivateKeyPassphraseEnv, over.PrivateKeyPassphraseEnv)
	set(&out.PrivateKeyPassphraseFile, over.PrivateKeyPassphraseFile)
	set(&out.PasswordEnv, over.PasswordEnv)
	set(&out.PasswordFile, over.PasswordFile)
	set(&out.KnownHosts, over.KnownHosts)
	set(&out.HostKey, over.HostKey)
	if over.Port != 0 {
		out.Port = over.Port
	}
	if over.UseAgent {
		out.UseAgent = true
	}
	if over.Keepalive != 0 {
		out.Keepalive = over.Keepalive
	}
	if over.Timeout != 0 {
		out.Timeout = over.Timeout
	}
	out.applyDefaults()
	return out
}

func joinDir(dir, sub string) string { return strings.TrimRight(dir, "/") + "/" + sub }

// cronParser accepts what the daemon accepts: 5 fields, descriptors, CRON_TZ=.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseSchedule parses a job's or report's schedule as the daemon will.
func ParseSchedule(spec string) (cron.Schedule, error) { return cronParser.Parse(spec) }

// badFunc records one problem with key.
type badFunc func(key, format string, args ...any)

func (c *Config) validate(getenv func(string) string) error {
	var errs Errors
	bad := func(key, format string, args ...any) {
		errs = append(errs, &Error{File: c.Path, Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if _, err := time.LoadLocation(c.TimeZone); err != nil {
		bad("time_zone", "unknown time zone %q", c.TimeZone)
	}
	if !oneOf(c.Log.Level, "debug", "info", "warn", "error") {
		bad("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	if !oneOf(c.Log.Format, "auto", "text", "json") {
		bad("log.format", "must be auto, text or json, not %q", c.Log.Format)
	}
	c.Amili.validate(bad)
	if c.Daemon.Listen != "" && !c.Daemon.AllowRemoteListen && !isLoopback(c.Daemon.Listen) {
		bad("daemon.listen", "%q is not a loopback address; use 127.0.0.1:PORT or set allow_remote_listen", c.Daemon.Listen)
	}
	c.validateJobs(bad)
	c.validateReports(bad)
	c.SMTP.validate(bad)
	// Secret references must resolve now, not at 3 a.m. on the first scheduled run.
	for _, ref := range c.secretRefs() {
		if _, warn, err := readSecret(ref.env, ref.file, getenv); err != nil {
			bad(ref.key, "%v", err)
		} else if warn != "" {
			c.Warnings = append(c.Warnings, ref.key+": "+warn)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func (a Amili) validate(bad badFunc) {
	if !strings.HasPrefix(a.BaseURL, "https://") && !strings.HasPrefix(a.BaseURL, "http://") {
		bad("amili.base_url", "must start with https:// (or http:// for a local sandbox), got %q", a.BaseURL)
	}
	switch a.Auth.Method {
	case "", "jwt", "api_code", "token":
	default:
		bad("amili.auth.method", "must be jwt, api_code or token, not %q", a.Auth.Method)
	}
	switch a.Auth.Method {
	case "jwt":
		if a.Auth.PrivateKeyFile == "" {
			bad("amili.auth.private_key_file", "required for method jwt")
		}
		if a.Auth.APICodeEnv == "" && a.Auth.APICodeFile == "" {
			bad("amili.auth.api_code_env", "set api_code_env or api_code_file for method jwt")
		}
	case "api_code":
		if a.Auth.APICodeEnv == "" && a.Auth.APICodeFile == "" {
			bad("amili.auth.api_code_env", "set api_code_env or api_code_file for method api_code")
		}
	case "token":
		if a.Auth.TokenEnv == "" && a.Auth.TokenFile == "" {
			bad("amili.auth.token_env", "set token_env or token_file for method token")
		}
	}
	if a.Auth.Algorithm != "" && !oneOf(a.Auth.Algorithm, "ES256", "ES384", "ES512", "RS256", "RS384", "RS512") {
		bad("amili.auth.algorithm", "must be one of ES256, ES384, ES512, RS256, RS384, RS512")
	}
	if a.InDoubtGrace < 2*a.Timeout {
		bad("amili.in_doubt_grace", "%v is too short: at least twice amili.timeout (%v), so that a request the client gave up on has had time to land",
			a.InDoubtGrace.D(), a.Timeout.D())
	}
	if a.RateLimitPerMinute < 0 || a.Burst < 0 || a.MaxAttempts < 0 {
		bad("amili", "rate_limit_per_minute, burst and max_attempts cannot be negative")
	}
	for k := range a.Paths {
		if !oneOf(k, "invoice_registrations", "case_registrations", "media_upload", "cases", "case", "creditors",
			"authenticate", "creditor_payments", "creditor_creditings", "creditor_cancellations") {
			bad("amili.paths."+k, "unknown endpoint")
		}
	}
}

func (c *Config) validateJobs(bad badFunc) {
	names := map[string]bool{}
	for i, j := range c.Jobs {
		k := fmt.Sprintf("jobs[%d]", i)
		if j.Name == "" {
			bad(k+".name", "required")
		} else if names[j.Name] {
			bad(k+".name", "%q is used by another job", j.Name)
		}
		names[j.Name] = true
		if j.Name != "" {
			k = fmt.Sprintf("jobs[%d] (%s)", i, j.Name)
		}
		if !oneOf(j.Kind, "", "invoice", "case") {
			bad(k+".kind", "must be invoice, case or empty (detect), not %q", j.Kind)
		}
		if j.Schedule != "" {
			if _, err := ParseSchedule(j.Schedule); err != nil {
				bad(k+".schedule", "%v", err)
			}
		}
		if j.Concurrency < 1 || j.Concurrency > 64 {
			bad(k+".concurrency", "must be between 1 and 64, not %d", j.Concurrency)
		}
		if !oneOf(j.PDF, "required", "optional") {
			bad(k+".pdf", "must be required or optional, not %q", j.PDF)
		}
		if !oneOf(j.IDNumbers, "strict", "warn") {
			bad(k+".id_numbers", "must be strict or warn, not %q", j.IDNumbers)
		}
		s := j.Source
		if !oneOf(s.Type, "local", "sftp") {
			bad(k+".source.type", "must be local or sftp, not %q", s.Type)
		}
		if s.Dir == "" {
			bad(k+".source.dir", "required")
		}
		if !oneOf(s.After, "archive", "leave") {
			bad(k+".source.after", "must be archive or leave, not %q", s.After)
		}
		if s.Type == "sftp" && s.SFTP != nil {
			validateSFTP(*s.SFTP, k+".source.sftp (merged with sftp)", bad)
		}
	}
}

func (c *Config) validateReports(bad badFunc) {
	rnames := map[string]bool{}
	for i, r := range c.Reports {
		k := fmt.Sprintf("reports[%d]", i)
		if r.Name == "" {
			bad(k+".name", "required")
		} else if rnames[r.Name] {
			bad(k+".name", "%q is used by another report", r.Name)
		}
		rnames[r.Name] = true
		if r.Schedule != "" {
			if _, err := ParseSchedule(r.Schedule); err != nil {
				bad(k+".schedule", "%v", err)
			}
		}
		if !oneOf(r.CSVSeparator, ",", ";", "\t") {
			bad(k+".csv_separator", `must be ",", ";" or a tab`)
		}
		if *r.Send && c.SMTP.Host == "" {
			bad(k+".send", "needs smtp.host")
		}
	}
}

func (m SMTP) validate(bad badFunc) {
	if m.Host == "" {
		return
	}
	if !oneOf(m.TLS, "starttls", "starttls_optional", "implicit", "none") {
		bad("smtp.tls", "must be starttls, starttls_optional, implicit or none, not %q", m.TLS)
	}
	if m.From == "" {
		bad("smtp.from", "required when smtp.host is set")
	}
	if len(m.To) == 0 {
		bad("smtp.to", "at least one recipient is required when smtp.host is set")
	}
	if m.Username != "" && m.PasswordEnv == "" && m.PasswordFile == "" {
		bad("smtp.password_env", "set password_env or password_file when smtp.username is set")
	}
}

func validateSFTP(s SFTP, key string, bad badFunc) {
	if s.Host == "" {
		bad(key+".host", "required for an sftp source")
	}
	if s.User == "" {
		bad(key+".user", "required for an sftp source")
	}
	if s.PrivateKeyFile == "" && s.PasswordEnv == "" && s.PasswordFile == "" && !s.UseAgent {
		bad(key, "set private_key_file, password_env/password_file or use_agent")
	}
}

func oneOf(v string, options ...string) bool {
	for _, o := range options {
		if v == o {
			return true
		}
	}
	return false
}

func isLoopback(addr string) bool {
	host := addr
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host = addr[:i]
	}
	host = strings.Trim(host, "[]")
	return host == "localhost" || strings.HasPrefix(host, "127.") || host == "::1"
}

// Default returns a config with every default applied and no jobs: what the demo and the
// sandbox start from.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}
