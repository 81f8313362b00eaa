-- A transfer's final state, or '' while it is on its way. The partial
-- indexes are keyed on it instead of on state, so that a step forward
-- (debiting → crediting) changes no indexed column: PostgreSQL can then
-- write the row's new version on the same page as a HOT update and leave
-- every index alone. Each withdrawal takes one such step; before, every
-- save inserted into all four indexes. Only a transfer's last save, which
-- sets outcome, still updates them.

-- +goose Up
ALTER TABLE transfers ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
UPDATE transfers SET outcome = state WHERE state IN ('completed', 'failed');
DROP INDEX transfers_unfinished;
CREATE INDEX transfers_unfinished ON transfers (lease_until) WHERE outcome = '';
DROP INDEX transfers_remittances;
CREATE INDEX transfers_remittances ON transfers (tsp_id, credit_account, id) WHERE outcome = 'completed';

-- +goose Down
DROP INDEX transfers_remittances;
CREATE INDEX transfers_remittances ON transfers (tsp_id, credit_account, id) WHERE state = 'completed';
DROP INDEX transfers_unfinished;
CREATE INDEX transfers_unfinished ON transfers (lease_until) WHERE state NOT IN ('completed', 'failed');
ALTER TABLE transfers DROP COLUMN outcome;
