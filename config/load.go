package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/amili-import/amili-import/domain"
	"github.com/amili-import/amili-import/schedules"
	"go.yaml.in/yaml/v3"
)

// DefaultPath is where the config is looked for when --config is not given.
const DefaultPath = "./amili-import.yaml"

// Defaults of the keys this package decides. A key left out of the file that configures
// another package (the Amili client's timeouts and rate, the importer's concurrency, the SFTP
// connection, the mail) stays zero here and takes that package's default, which the README
// lists.
const (
	DefaultTimeZone   = "Europe/Stockholm"
	DefaultLedgerPath = "./amili-import.db"
	DefaultBaseURL    = "https://api-sandbox.amili.se"
)

// Error is a config problem tied to one key.
type Error struct {
	File string // "" for the embedded defaults
	Key  string // dotted path, e.g. jobs[1].source.dir
	Line int    // line in the file, 0 when the problem is not at one place
	Msg  string
}

func (e *Error) Error() string {
	f := e.File
	if f == "" {
		f = "config"
	}
	if e.Line > 0 {
		f = fmt.Sprintf("%s:%d", f, e.Line)
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
	cfg, err := Parse(data, path, getenv)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o002 != 0 {
		cfg.Warnings = append(cfg.Warnings, fmt.Sprintf("%s is writable by every user (mode %04o): anyone on this host can point the import elsewhere; run chmod o-w %s",
			path, fi.Mode().Perm(), path))
	}
	return cfg, nil
}

// varRef matches ${NAME}; $$ escapes a dollar sign.
var varRef = regexp.MustCompile(`\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// Parse is Load on bytes already read; name is used in errors. The YAML is parsed first and
// ${VAR} is then substituted inside scalar values only (see expandVars), so the environment
// cannot change the file's structure.
func Parse(data []byte, name string, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	if errs := expandVars(&doc, getenv); len(errs) > 0 {
		return nil, inFile(errs, name)
	}
	if es := unknownKeys(data, name); len(es) > 0 {
		return nil, es
	}
	if err := checkKeys(data); err != nil { // what unknownKeys does not know how to name
		return nil, &Error{File: name, Msg: err.Error()}
	}
	cfg := &Config{}
	if doc.Kind != 0 {
		if err := doc.Decode(cfg); err != nil {
			return nil, &Error{File: name, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		}
	}
	cfg.Path = name
	cfg.applyDefaults()
	if err := cfg.validate(getenv); err != nil {
		return nil, err
	}
	return cfg, nil
}

func inFile(errs Errors, name string) Errors {
	for _, e := range errs {
		e.File = name
	}
	return errs
}

// LoadLedger reads only the ledger block and time_zone of the config file at path, with their
// defaults: what the ledger verbs need. ${VAR} is resolved in those keys only, so variables the
// service sets for other keys (secrets, hosts) need not be set in an operator's shell; the rest
// of the file is not validated.
func LoadLedger(path string, getenv func(string) string) (Ledger, string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Ledger{}, "", fmt.Errorf("read config: %w", err)
	}
	var raw struct {
		Ledger   yaml.Node `yaml:"ledger"`
		TimeZone yaml.Node `yaml:"time_zone"`
	}
	if err := yaml.Unmarshal(data, &raw); err != nil {
		return Ledger{}, "", &Error{File: path, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	l, zone := Ledger{}, ""
	for _, part := range []struct {
		key  string
		node *yaml.Node
		out  any
	}{{"ledger", &raw.Ledger, &l}, {"time_zone", &raw.TimeZone, &zone}} {
		if part.node.IsZero() {
			continue
		}
		if errs := expandVars(part.node, getenv, part.key); len(errs) > 0 {
			return Ledger{}, "", inFile(errs, path)
		}
		if err := part.node.Decode(part.out); err != nil {
			return Ledger{}, "", &Error{File: path, Key: part.key, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
		}
	}
	orDefault(&l.Path, DefaultLedgerPath)
	orDefault(&zone, DefaultTimeZone)
	return l, zone, nil
}

// checkKeys refuses keys the Config does not have, with their lines in the file as written.
// It decodes the text before substitution, so a value's type errors (a ${PORT} not yet a
// number) are left to the decode after it.
func checkKeys(data []byte) error {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(&Config{})
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		return nil // syntax errors were reported by the parse before
	}
	var unknown []string
	for _, e := range te.Errors {
		if strings.Contains(e, " not found in type ") {
			unknown = append(unknown, e)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	return errors.New("unknown keys:\n  " + strings.Join(unknown, "\n  "))
}

func (c *Config) applyDefaults() {
	orDefault(&c.TimeZone, DefaultTimeZone)
	orDefault(&c.Log.Level, "info")
	orDefault(&c.Log.Format, "auto")
	orDefault(&c.Ledger.Path, DefaultLedgerPath)
	a := &c.Amili
	orDefault(&a.BaseURL, DefaultBaseURL)
	a.BaseURL = strings.TrimRight(a.BaseURL, "/")
	for i := range c.Jobs {
		c.Jobs[i].applyDefaults(c)
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
}

// applyDefaults fills in what a job inherits from the rest of the file: its account and
// creditor, its source's type and folders, and its SFTP connection.
func (j *Job) applyDefaults(c *Config) {
	orDefault(&j.Account, c.Amili.Account)
	orDefault(&j.Creditor, c.Amili.Creditor)
	s := &j.Source
	orDefault(&s.Type, "local")
	orDefault(&s.After, "archive")
	if s.ArchivePDFs == nil {
		archive := true
		s.ArchivePDFs = &archive
	}
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

// orDefault sets *v to d when it holds the zero value (the key was not in the file).
func orDefault[T comparable](v *T, d T) {
	var zero T
	if *v == zero {
		*v = d
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
	if over.LegacyAlgorithms {
		out.LegacyAlgorithms = true
	}
	if over.Keepalive != 0 {
		out.Keepalive = over.Keepalive
	}
	if over.Timeout != 0 {
		out.Timeout = over.Timeout
	}
	return out
}

func joinDir(dir, sub string) string { return strings.TrimRight(dir, "/") + "/" + sub }

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
	c.warnPlainText()
	c.SMTP.validate(bad)
	if c.Notify.Email != "" && c.SMTP.Host == "" {
		bad("notify.email", "needs smtp.host: notices are sent through the smtp relay")
	}
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
	case "": // the client picks the method from the credentials given
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
	default:
		bad("amili.auth.method", "must be jwt, api_code or token, not %q", a.Auth.Method)
	}
	if a.Auth.Algorithm != "" && !oneOf(a.Auth.Algorithm, "ES256", "ES384", "ES512", "RS256", "RS384", "RS512") {
		bad("amili.auth.algorithm", "must be one of ES256, ES384, ES512, RS256, RS384, RS512")
	}
	if a.RateLimitPerMinute < 0 || a.Burst < 0 || a.MaxAttempts < 0 || a.Timeout < 0 || a.InDoubtGrace < 0 {
		bad("amili", "timeout, rate_limit_per_minute, burst, max_attempts and in_doubt_grace cannot be negative")
	}
	for k := range a.Paths {
		if !oneOf(k, "invoice_registrations", "case_registrations", "media_upload", "cases", "case", "creditors",
			"authenticate", "creditor_payments", "creditor_creditings", "creditor_cancellations",
			"creditor_payments_lookup", "creditor_creditings_lookup", "creditor_cancellations_lookup") {
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
		if j.Kind != "" && !domain.Kind(j.Kind).Valid() {
			bad(k+".kind", "must be invoice, case, payment, crediting, cancellation or empty (detect), not %q", j.Kind)
		}
		if j.Schedule != "" {
			if _, err := schedules.Parse(j.Schedule, nil); err != nil {
				bad(k+".schedule", "%v", err)
			}
		}
		if j.Concurrency < 0 || j.Concurrency > 64 {
			bad(k+".concurrency", "must be between 1 and 64 (left out: the importer's default), not %d", j.Concurrency)
		}
		if !oneOf(j.PDF, "", "required", "optional") {
			bad(k+".pdf", "must be required or optional, not %q", j.PDF)
		}
		if !oneOf(j.IDNumbers, "", "strict", "warn") {
			bad(k+".id_numbers", "must be strict or warn, not %q", j.IDNumbers)
		}
		if j.MaxRecordSize < 0 || j.MaxRecordSize > 1<<30 {
			bad(k+".max_record_size", "must be between 1B and 1GiB (left out: 4MiB), not %d bytes", j.MaxRecordSize)
		}
		if j.MaxColumns < 0 {
			bad(k+".max_columns", "cannot be negative")
		}
		if j.MaxCellChars < 0 {
			bad(k+".max_cell_chars", "cannot be negative")
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
			if _, err := schedules.Parse(r.Schedule, nil); err != nil {
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

// warnPlainText warns of credentials that would cross the network unencrypted.
func (c *Config) warnPlainText() {
	if u, err := url.Parse(c.Amili.BaseURL); err == nil && u.Scheme == "http" && !isLoopback(u.Host) {
		c.Warnings = append(c.Warnings, fmt.Sprintf("amili.base_url: plain http to %s sends the API credentials and every debtor's data unencrypted; use https://", u.Hostname()))
	}
	m := c.SMTP
	if m.Host != "" && m.TLS == "none" && m.Username != "" && !isLoopback(m.Host+":") {
		c.Warnings = append(c.Warnings, fmt.Sprintf("smtp.tls: none sends the password of %s to %s unencrypted; use starttls or implicit", m.Username, m.Host))
	}
}

func (m SMTP) validate(bad badFunc) {
	if m.Host == "" {
		return
	}
	if !oneOf(m.TLS, "", "starttls", "starttls_optional", "implicit", "none") {
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
