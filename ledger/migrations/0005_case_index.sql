-- 0005: items by case id, so that recording a registration can check at once that no other
-- invoice number already holds the case Amili named.
CREATE INDEX submission_items_case ON submission_items (case_id) WHERE case_id != '';
