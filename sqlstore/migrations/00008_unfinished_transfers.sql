-- The transfers still on their way are listed in a table of their own
-- instead of a partial index on transfers. An index whose predicate reads
-- outcome makes every completion (outcome '' → 'completed') a non-HOT
-- update: PostgreSQL writes the row's new version on another page and a new
-- entry into every index of transfers, and vacuum later removes the old
-- ones. With no index reading a column that a save changes, both of a
-- withdrawal's saves can stay on the row's page and touch no index; a
-- transfer costs one small row here, inserted by the statement that accepts
-- it and deleted by the one that finishes it.
--
-- transfers_remittances loses its predicate for the same reason; queries
-- still name outcome = 'completed', which the heap row answers. Building it
-- blocks writes to transfers until it is built: on a large table, plan the
-- migration for a quiet hour.

-- +goose Up
CREATE TABLE unfinished_transfers (id TEXT PRIMARY KEY);
INSERT INTO unfinished_transfers (id) SELECT id FROM transfers WHERE outcome = '';
DROP INDEX transfers_unfinished;
DROP INDEX transfers_remittances;
CREATE INDEX transfers_remittances ON transfers (tsp_id, credit_account, id);

-- +goose Down
DROP INDEX transfers_remittances;
CREATE INDEX transfers_remittances ON transfers (tsp_id, credit_account, id) WHERE outcome = 'completed';
CREATE INDEX transfers_unfinished ON transfers (lease_until) WHERE outcome = '';
DROP TABLE unfinished_transfers;
