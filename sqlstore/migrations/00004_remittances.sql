-- Remitter lists: the balance after each credit, and an index to page the
-- completed transfers into one account by id (ids are time-ordered).

-- +goose Up
ALTER TABLE transfers ADD COLUMN credit_after_balance BIGINT NOT NULL DEFAULT 0;
CREATE INDEX transfers_remittances ON transfers (tsp_id, credit_account, id) WHERE state = 'completed';

-- +goose Down
DROP INDEX transfers_remittances;
ALTER TABLE transfers DROP COLUMN credit_after_balance;
