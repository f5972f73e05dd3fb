-- 0004: what the report shows beside the money. The creditor's name as Amili last gave it
-- (GET /creditors/{id}, once per creditor per report), kept so that a report still names a
-- creditor when Amili cannot be asked. And the VAT split of each content an invoice number was
-- claimed with: net and VAT per rate, from the invoice's lines (a case's debt has no rate and
-- no row here).

CREATE TABLE creditor_names (
	creditor TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	fetched  TEXT NOT NULL -- when Amili last gave it
);

CREATE TABLE claim_vat (
	claim_id INTEGER NOT NULL REFERENCES claims (id),
	rate     TEXT    NOT NULL, -- as Amili spells it: 25%, 12%, 6%, 0%
	net      INTEGER NOT NULL, -- öre
	vat      INTEGER NOT NULL, -- öre
	PRIMARY KEY (claim_id, rate)
) WITHOUT ROWID;
