-- 0005: failure notices. One row per job that is failing now: its first failure opened the
-- incident and was e-mailed once; the row goes when a run of the job succeeds again.

CREATE TABLE incidents (
	job    TEXT PRIMARY KEY,
	since  TEXT NOT NULL, -- the failure that opened it
	reason TEXT NOT NULL
);
