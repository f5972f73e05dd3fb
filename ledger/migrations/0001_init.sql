-- 0001: the ledger's first schema. Times are UTC text in one fixed-width layout
-- (2006-01-02T15:04:05.000000000Z) so that they sort and compare as strings.
-- Amounts are INTEGER öre.

CREATE TABLE runs (
	id       INTEGER PRIMARY KEY,
	job      TEXT    NOT NULL,
	started  TEXT    NOT NULL,
	finished TEXT,
	outcome  TEXT,
	counts   TEXT    NOT NULL DEFAULT '{}', -- JSON of ledger.Counts
	host     TEXT    NOT NULL,
	pid      INTEGER NOT NULL
);
CREATE INDEX runs_job ON runs (job, outcome, finished);

CREATE TABLE files (
	id         INTEGER PRIMARY KEY,
	run_id     INTEGER NOT NULL REFERENCES runs (id),
	path       TEXT    NOT NULL,
	size       INTEGER NOT NULL,
	sha256     TEXT    NOT NULL,
	first_seen TEXT    NOT NULL,
	finished   TEXT,
	outcome    TEXT CHECK (outcome IN ('done', 'partial', 'failed', 'duplicate')),
	counts     TEXT    NOT NULL DEFAULT '{}',
	error      TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX files_sha256 ON files (sha256, outcome);
CREATE INDEX files_first_seen ON files (first_seen);
CREATE INDEX files_run ON files (run_id);

CREATE TABLE submissions (
	id              INTEGER PRIMARY KEY,
	kind            TEXT    NOT NULL CHECK (kind IN ('invoice', 'case')),
	creditor        TEXT    NOT NULL,
	state           TEXT    NOT NULL CHECK (state IN ('claimed', 'sending', 'registered', 'uploaded', 'no_pdf', 'rejected')),
	items           INTEGER NOT NULL CHECK (items > 0), -- number of submission_items rows
	registration_id TEXT    NOT NULL DEFAULT '',
	invoice_id      TEXT    NOT NULL DEFAULT '',
	attempts        INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT '',
	file_id         INTEGER REFERENCES files (id),
	line            INTEGER NOT NULL DEFAULT 0,
	run_id          INTEGER REFERENCES runs (id), -- the run working on it now
	created         TEXT    NOT NULL,
	updated         TEXT    NOT NULL
);
CREATE INDEX submissions_state ON submissions (state);
CREATE INDEX submissions_creditor ON submissions (creditor, state);
CREATE INDEX submissions_created ON submissions (created);
CREATE INDEX submissions_updated ON submissions (updated);

CREATE TABLE submission_items (
	submission_id  INTEGER NOT NULL REFERENCES submissions (id),
	position       INTEGER NOT NULL, -- 0-based, the item's place in the registration
	creditor       TEXT    NOT NULL,
	invoice_number TEXT    NOT NULL,
	content_hash   TEXT    NOT NULL,
	amount         INTEGER NOT NULL, -- öre
	currency       TEXT    NOT NULL,
	customer_name  TEXT    NOT NULL DEFAULT '',
	pdf_name       TEXT    NOT NULL DEFAULT '',
	case_id        TEXT    NOT NULL DEFAULT '',
	ocr_number     TEXT    NOT NULL DEFAULT '',
	pdf_state      TEXT    NOT NULL DEFAULT 'pending' CHECK (pdf_state IN ('pending', 'uploaded', 'missing')),
	pdf_error      TEXT    NOT NULL DEFAULT '',
	PRIMARY KEY (submission_id, position),
	UNIQUE (creditor, invoice_number)
) WITHOUT ROWID;

-- events is the append-only history of every submission.
CREATE TABLE events (
	id            INTEGER PRIMARY KEY,
	submission_id INTEGER NOT NULL REFERENCES submissions (id),
	run_id        INTEGER REFERENCES runs (id),
	at            TEXT    NOT NULL,
	from_state    TEXT    NOT NULL, -- '' for the first claim
	to_state      TEXT    NOT NULL, -- equal to from_state for a note (failure, PDF)
	detail        TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX events_submission ON events (submission_id, id);
CREATE INDEX events_run ON events (run_id);
CREATE INDEX events_to_at ON events (to_state, at);
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN
	SELECT RAISE(ABORT, 'events are append-only');
END;

-- claims records every Claim call, item by item, so money can be totalled per file and outcome.
CREATE TABLE claims (
	id             INTEGER PRIMARY KEY,
	run_id         INTEGER REFERENCES runs (id),
	file_id        INTEGER REFERENCES files (id),
	line           INTEGER NOT NULL,
	submission_id  INTEGER REFERENCES submissions (id),
	creditor       TEXT    NOT NULL,
	invoice_number TEXT    NOT NULL,
	amount         INTEGER NOT NULL, -- öre
	currency       TEXT    NOT NULL,
	outcome        TEXT    NOT NULL CHECK (outcome IN ('new', 'resume', 'in_doubt', 'done', 'conflict')),
	state          TEXT    NOT NULL DEFAULT '', -- the submission's state after the claim
	at             TEXT    NOT NULL
);
CREATE INDEX claims_file ON claims (file_id, outcome);
CREATE INDEX claims_at ON claims (at);
CREATE INDEX claims_run ON claims (run_id, submission_id);

CREATE TABLE conflicts (
	id             INTEGER PRIMARY KEY,
	creditor       TEXT    NOT NULL,
	invoice_number TEXT    NOT NULL,
	submission_id  INTEGER REFERENCES submissions (id), -- the submission that holds the number
	file_id        INTEGER REFERENCES files (id),
	line           INTEGER NOT NULL,
	old_hash       TEXT    NOT NULL,
	new_hash       TEXT    NOT NULL,
	reason         TEXT    NOT NULL,
	run_id         INTEGER REFERENCES runs (id),
	at             TEXT    NOT NULL
);
CREATE INDEX conflicts_at ON conflicts (at);
CREATE INDEX conflicts_number ON conflicts (creditor, invoice_number);

CREATE TABLE row_errors (
	id             INTEGER PRIMARY KEY,
	file_id        INTEGER NOT NULL REFERENCES files (id),
	line           INTEGER NOT NULL,
	column_name    TEXT    NOT NULL,
	value          TEXT    NOT NULL, -- already masked by the mapping
	rule           TEXT    NOT NULL,
	invoice_number TEXT    NOT NULL,
	warning        INTEGER NOT NULL CHECK (warning IN (0, 1)),
	at             TEXT    NOT NULL
);
CREATE INDEX row_errors_file ON row_errors (file_id);
CREATE INDEX row_errors_at ON row_errors (at);

-- leases gives one runner per job across processes and hosts.
CREATE TABLE leases (
	name     TEXT    PRIMARY KEY,
	host     TEXT    NOT NULL,
	pid      INTEGER NOT NULL,
	acquired TEXT    NOT NULL,
	expires  TEXT    NOT NULL
);

-- report_deliveries: one row per report period; a period is never delivered twice.
CREATE TABLE report_deliveries (
	id         INTEGER PRIMARY KEY,
	creditor   TEXT    NOT NULL DEFAULT '', -- '' for all creditors
	since      TEXT    NOT NULL,
	until      TEXT    NOT NULL,
	state      TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'failed')),
	path       TEXT    NOT NULL DEFAULT '',
	attempts   INTEGER NOT NULL DEFAULT 0,
	last_error TEXT    NOT NULL DEFAULT '',
	created    TEXT    NOT NULL,
	updated    TEXT    NOT NULL,
	UNIQUE (creditor, since, until)
);
CREATE INDEX report_deliveries_state ON report_deliveries (state);
