-- 0003: who may send. Every sending process is an owner with a heartbeat; a submission it
-- claims carries its id, and no other process takes it over while the owner lives. The times
-- of the last attempt (registration and each PDF) and of a 2xx answer whose body could not be
-- read decide when an in-doubt submission may be sent again.

CREATE TABLE owners (
	id      TEXT    PRIMARY KEY, -- random, one per process (or per daemon life after a lapse)
	host    TEXT    NOT NULL,
	pid     INTEGER NOT NULL,
	started TEXT    NOT NULL,
	expires TEXT    NOT NULL,    -- the heartbeat's reach; a lapsed owner never comes back
	gone    INTEGER NOT NULL DEFAULT 0 CHECK (gone IN (0, 1)) -- left cleanly
);
CREATE INDEX owners_expires ON owners (expires);

ALTER TABLE submissions ADD COLUMN owner TEXT NOT NULL DEFAULT '';
-- attempt_at: when the registration's POST last may have gone on the wire.
ALTER TABLE submissions ADD COLUMN attempt_at TEXT NOT NULL DEFAULT '';
-- accepted: when Amili answered 2xx to a POST whose answer could not be read: never resent.
ALTER TABLE submissions ADD COLUMN accepted TEXT NOT NULL DEFAULT '';
ALTER TABLE submission_items ADD COLUMN pdf_attempt_at TEXT NOT NULL DEFAULT '';

-- A submission in doubt from before this schema: its last change is its last attempt.
UPDATE submissions SET attempt_at = updated WHERE state = 'sending';
