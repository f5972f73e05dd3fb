-- Totals counts a claim whose content a later claim of the same submission replaced (a
-- rejected registration corrected by a later file) as rejected: that lookup is by submission.
CREATE INDEX claims_submission ON claims (submission_id, outcome);
