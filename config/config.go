// Package config reads amili-import's one YAML file: the Amili connection, the ledger, the
// jobs with their sources and schedules, the reports and the mail server. Secrets never stand
// in the file itself: each is a reference, a *_file path or an *_env variable name. ${VAR} is
// expanded everywhere, unknown keys are errors (a typo is caught, not ignored), and every
// problem names the key it is about.
package config

// Config is the whole file. The zero values of optional keys are replaced by the defaults
// documented on each field (and in the README) when the file is loaded.
type Config struct {
	// TimeZone is the IANA zone for schedules, archive folders and report periods.
	// Default Europe/Stockholm.
	TimeZone string   `yaml:"time_zone"`
	Log      Log      `yaml:"log"`
	Ledger   Ledger   `yaml:"ledger"`
	Amili    Amili    `yaml:"amili"`
	SFTP     SFTP     `yaml:"sftp"`
	Daemon   Daemon   `yaml:"daemon"`
	Jobs     []Job    `yaml:"jobs"`
	Reports  []Report `yaml:"reports"`
	SMTP     SMTP     `yaml:"smtp"`
	Notify   Notify   `yaml:"notify"`

	// Warnings are problems that do not stop loading (a key file others can read, …).
	Warnings []string `yaml:"-"`
	// Path is the file the config was read from ("" for the embedded defaults).
	Path string `yaml:"-"`
}

// Notify configures failure notices, sent through the smtp block's relay.
type Notify struct {
	// Email is the operator address told once when a job starts failing or a file is
	// quarantined. Default none: no notices.
	Email string `yaml:"email"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`  // debug, info (default), warn, error
	Format string `yaml:"format"` // auto (default: tint on a terminal, JSON otherwise), text, json
}

// Ledger configures the SQLite ledger.
type Ledger struct {
	Path        string   `yaml:"path"`         // default ./amili-import.db
	BusyTimeout Duration `yaml:"busy_timeout"` // default 5s
}

// Amili configures the API client.
type Amili struct {
	BaseURL            string   `yaml:"base_url"` // default https://api-sandbox.amili.se
	Account            string   `yaml:"account"`  // required for imports
	Creditor           string   `yaml:"creditor"` // default creditor of every job
	Auth               Auth     `yaml:"auth"`
	Timeout            Duration `yaml:"timeout"`               // per request, default 30s
	RateLimitPerMinute int      `yaml:"rate_limit_per_minute"` // default 98
	Burst              int      `yaml:"burst"`                 // default 9
	MaxAttempts        int      `yaml:"max_attempts"`          // default 5
	MaxRetryTime       Duration `yaml:"max_retry_time"`        // default 2m
	// InDoubtGrace is how long after its last attempt a registration whose answer was lost
	// stays in doubt although Amili does not list it (a slow server may still store it); only
	// a lookup after it that finds nothing lets it be sent again. Default 10m; at least twice
	// timeout.
	InDoubtGrace Duration `yaml:"in_doubt_grace"`
	// CreditorCheckTTL is how long a creditor Amili said is active is taken to stay so by the
	// runs of one process, unless Amili refuses one of its registrations. Default 1h.
	CreditorCheckTTL Duration `yaml:"creditor_check_ttl"`
	UserAgent        string   `yaml:"user_agent"` // default amili-import/<version>
	// Paths overrides endpoint paths (keys: invoice_registrations, case_registrations,
	// media_upload, cases, creditors, authenticate, creditor_payments, creditor_creditings,
	// creditor_cancellations; and creditor_payments_lookup, creditor_creditings_lookup,
	// creditor_cancellations_lookup, the listings an event whose answer was lost is looked up
	// in, default the event's POST path, "none" for an API that lists none). Default: the
	// reference spelling, e.g. /invoice--registrations.
	Paths map[string]string `yaml:"paths"`
}

// Auth says how to obtain an access token. Exactly one method applies.
type Auth struct {
	// Method is jwt (sign the API code with a private key; default when private_key_file is
	// set), api_code (the simple method, from a registered static IP) or token (pre-issued).
	Method         string   `yaml:"method"`
	APICodeEnv     string   `yaml:"api_code_env"`
	APICodeFile    string   `yaml:"api_code_file"`
	PrivateKeyFile string   `yaml:"private_key_file"` // PEM, EC or RSA, for jwt
	Algorithm      string   `yaml:"algorithm"`        // ES256…ES512, RS256…RS512; default from the key
	APICodeField   string   `yaml:"api_code_field"`   // the simple method's JSON field; default api_code
	TokenEnv       string   `yaml:"token_env"`
	TokenFile      string   `yaml:"token_file"`
	TokenFields    []string `yaml:"token_fields"` // names of the token in the auth response; default: see README
	// TokenTTL is the token's assumed lifetime when the auth response states none; 0 (default)
	// keeps a token until Amili answers 401.
	TokenTTL Duration `yaml:"token_ttl"`
}

// SFTP is the default SFTP connection of jobs whose source is sftp.
type SFTP struct {
	Host                     string   `yaml:"host"`
	Port                     int      `yaml:"port"` // default 22
	User                     string   `yaml:"user"`
	PrivateKeyFile           string   `yaml:"private_key_file"`
	PrivateKeyPassphraseEnv  string   `yaml:"private_key_passphrase_env"`
	PrivateKeyPassphraseFile string   `yaml:"private_key_passphrase_file"`
	PasswordEnv              string   `yaml:"password_env"`
	PasswordFile             string   `yaml:"password_file"`
	UseAgent                 bool     `yaml:"use_agent"`
	KnownHosts               string   `yaml:"known_hosts"` // default ~/.ssh/known_hosts unless host_key is set
	HostKey                  string   `yaml:"host_key"`    // pinned key (authorized_keys line) or SHA256:… fingerprint
	Keepalive                Duration `yaml:"keepalive"`   // default 30s
	Timeout                  Duration `yaml:"timeout"`     // per operation, default 30s
	// LegacyAlgorithms (default false) also offers the SHA-1 key exchanges and ssh-rsa
	// signatures OpenSSH 9 refuses, for a server that offers nothing newer.
	LegacyAlgorithms bool `yaml:"legacy_algorithms"`
}

// Daemon configures the long-running service.
type Daemon struct {
	// Listen is the address of the /healthz, /readyz and /metrics listener. Off when empty;
	// it must be a loopback address unless allow_remote_listen is set.
	Listen            string   `yaml:"listen"`
	AllowRemoteListen bool     `yaml:"allow_remote_listen"`
	DrainTimeout      Duration `yaml:"drain_timeout"` // default 30s
	// CatchUp runs, at start, each job whose last successful run is older than one interval.
	// Default true.
	CatchUp *bool `yaml:"catch_up"`
	// LeaseTTL is how long a job's lease lasts without renewal. Default 2m.
	LeaseTTL Duration `yaml:"lease_ttl"`
}

// Job is one import: where files come from, how they are read, and when.
type Job struct {
	Name        string `yaml:"name"`     // required, unique
	Enabled     *bool  `yaml:"enabled"`  // default true
	Kind        string `yaml:"kind"`     // invoice, case, payment, crediting, cancellation, or empty to detect from the header
	Schedule    string `yaml:"schedule"` // cron spec or descriptor; required for the daemon
	Mapping     string `yaml:"mapping"`  // mapping file; default the canonical layout
	Account     string `yaml:"account"`  // default amili.account
	Creditor    string `yaml:"creditor"` // default amili.creditor
	Concurrency int    `yaml:"concurrency"`
	PDF         string `yaml:"pdf"`          // required (default) or optional
	PDFMaxSize  Size   `yaml:"pdf_max_size"` // default 20MiB
	IDNumbers   string `yaml:"id_numbers"`   // strict (default) or warn
	// The limits of one CSV file: past a record's size or the header's columns the file is
	// refused, past a cell's characters the row. Zero takes the default.
	MaxRecordSize Size `yaml:"max_record_size"` // default 4MiB
	MaxColumns    int  `yaml:"max_columns"`     // default 1000
	MaxCellChars  int  `yaml:"max_cell_chars"`  // default 10000
	// MaxFileSize refuses (quarantines) a larger file before a byte of it is read.
	MaxFileSize Size   `yaml:"max_file_size"` // default 1GiB
	Source      Source `yaml:"source"`
}

// IsEnabled reports whether the job runs (default true).
func (j Job) IsEnabled() bool { return j.Enabled == nil || *j.Enabled }

// Source says where a job's files are.
type Source struct {
	Type       string   `yaml:"type"` // local (default) or sftp
	Dir        string   `yaml:"dir"`  // required
	Patterns   []string `yaml:"patterns"`
	MinAge     Duration `yaml:"min_age"`     // default 60s
	DoneMarker string   `yaml:"done_marker"` // e.g. ".done": take X.csv only when X.csv.done exists
	PDFDir     string   `yaml:"pdf_dir"`     // default the CSV's directory
	ArchiveDir string   `yaml:"archive_dir"` // default <dir>/archive
	ErrorDir   string   `yaml:"error_dir"`   // default <dir>/error
	After      string   `yaml:"after"`       // archive (default) or leave
	// ArchivePDFs moves the PDFs a done file used into its archive folder with it (after:
	// archive only); false leaves them in pdf_dir. Default true.
	ArchivePDFs *bool `yaml:"archive_pdfs"`
	// AllowSymlinksOutside lets a local source follow links that lead out of its directories.
	AllowSymlinksOutside bool `yaml:"allow_symlinks_outside"` // default false
	// SFTP overrides keys of the top-level sftp block for this job.
	SFTP *SFTP `yaml:"sftp"`
}

// Report is a scheduled reconciliation report.
type Report struct {
	Name         string `yaml:"name"`     // required, unique
	Schedule     string `yaml:"schedule"` // cron spec; required for the daemon
	Creditor     string `yaml:"creditor"` // empty: all creditors
	OutDir       string `yaml:"out_dir"`  // default ./reports
	Send         *bool  `yaml:"send"`     // e-mail it; default true when smtp.host is set
	CSVSeparator string `yaml:"csv_separator"`
	DecimalComma bool   `yaml:"decimal_comma"` // for Swedish Excel: ";" and "1234,56"
}

// SMTP configures the mail server reports go through.
type SMTP struct {
	Host         string   `yaml:"host"`
	Port         int      `yaml:"port"` // default 587 (465 for tls: implicit)
	TLS          string   `yaml:"tls"`  // starttls (default, required), starttls_optional, implicit, none
	Username     string   `yaml:"username"`
	PasswordEnv  string   `yaml:"password_env"`
	PasswordFile string   `yaml:"password_file"`
	From         string   `yaml:"from"`
	To           []string `yaml:"to"`
	Cc           []string `yaml:"cc"`
	Subject      string   `yaml:"subject"` // Go template; default "Amili reconciliation {{.Since}} – {{.Until}}"
	Timeout      Duration `yaml:"timeout"` // default 30s
	// CAFile adds a CA certificate to trust (a private mail relay).
	CAFile string `yaml:"ca_file"`
}
