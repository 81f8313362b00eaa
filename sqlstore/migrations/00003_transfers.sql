-- Money movement: contracts and limits, transfers, interbank settlement.

-- +goose Up
CREATE TABLE contracts (
    tsp_id               BIGINT PRIMARY KEY REFERENCES tsps (id),
    main_bank            TEXT NOT NULL,
    daily_withdraw_limit BIGINT NOT NULL,
    user_daily_limit     BIGINT NOT NULL DEFAULT 0,
    per_transfer_limit   BIGINT NOT NULL DEFAULT 0,
    daily_deposit_limit  BIGINT NOT NULL DEFAULT 0,
    pass_phrase_hash     TEXT NOT NULL,
    sub_businesses       BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at           TIMESTAMPTZ NOT NULL
);

CREATE TABLE contract_accounts (
    tsp_id      BIGINT NOT NULL REFERENCES tsps (id),
    account_num TEXT NOT NULL,
    bank_code   TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    kind        TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tsp_id, account_num)
);

CREATE TABLE sub_businesses (
    tsp_id       BIGINT NOT NULL REFERENCES tsps (id),
    num          TEXT NOT NULL,
    name         TEXT NOT NULL,
    business_num TEXT NOT NULL,
    approved     BOOLEAN NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (tsp_id, num)
);

-- One row per transfer; the legs are columns so that a transfer is read and
-- advanced with single-row statements.
CREATE TABLE transfers (
    id                  TEXT PRIMARY KEY,
    tsp_id              BIGINT NOT NULL REFERENCES tsps (id),
    kind                TEXT NOT NULL,
    bank_tran_id        TEXT NOT NULL,
    tran_day            TEXT NOT NULL,
    limit_day           TEXT NOT NULL,
    request_hash        TEXT NOT NULL,
    amount              BIGINT NOT NULL,
    user_seq_no         TEXT NOT NULL,
    debit_bank          TEXT NOT NULL,
    debit_account       TEXT NOT NULL,
    debit_fintech_num   TEXT NOT NULL,
    debit_holder        TEXT NOT NULL,
    debit_print         TEXT NOT NULL,
    debit_rsp_code      TEXT NOT NULL,
    debit_rsp_message   TEXT NOT NULL,
    debit_day           TEXT NOT NULL,
    credit_bank         TEXT NOT NULL,
    credit_account      TEXT NOT NULL,
    credit_fintech_num  TEXT NOT NULL,
    credit_holder       TEXT NOT NULL,
    credit_print        TEXT NOT NULL,
    credit_rsp_code     TEXT NOT NULL,
    credit_rsp_message  TEXT NOT NULL,
    credit_day          TEXT NOT NULL,
    name_check          BOOLEAN NOT NULL,
    echo                TEXT NOT NULL,
    state               TEXT NOT NULL,
    reversed            BOOLEAN NOT NULL,
    rsp_code            TEXT NOT NULL,
    rsp_message         TEXT NOT NULL,
    lease_owner         TEXT NOT NULL,
    lease_until         TIMESTAMPTZ NOT NULL,
    created_at          TIMESTAMPTZ NOT NULL,
    updated_at          TIMESTAMPTZ NOT NULL,
    UNIQUE (tsp_id, tran_day, bank_tran_id)
);
-- Recovery scans only unfinished transfers.
CREATE INDEX transfers_unfinished ON transfers (lease_until) WHERE state NOT IN ('completed', 'failed');

-- What each TSP (user_seq_no '') and each of its customers used of a day's
-- limits; consumed by a conditional UPDATE under the row lock.
CREATE TABLE limit_usage (
    tsp_id      BIGINT NOT NULL,
    day         TEXT NOT NULL,
    kind        TEXT NOT NULL,
    user_seq_no TEXT NOT NULL,
    used        BIGINT NOT NULL,
    PRIMARY KEY (tsp_id, day, kind, user_seq_no)
);

-- Settlement cycles; a movement increments its open cycle's row, which
-- orders it against the cycle's closing.
CREATE TABLE settlement_cycles (
    day        TEXT PRIMARY KEY,
    movements  BIGINT NOT NULL DEFAULT 0,
    closed_at  TIMESTAMPTZ,
    report     TEXT NOT NULL DEFAULT ''
);

CREATE TABLE interbank_movements (
    transfer_id TEXT PRIMARY KEY REFERENCES transfers (id),
    cycle_day   TEXT NOT NULL,
    from_bank   TEXT NOT NULL,
    to_bank     TEXT NOT NULL,
    amount      BIGINT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX interbank_movements_cycle ON interbank_movements (cycle_day);

-- +goose Down
DROP TABLE interbank_movements;
DROP TABLE settlement_cycles;
DROP TABLE limit_usage;
DROP TABLE transfers;
DROP TABLE sub_businesses;
DROP TABLE contract_accounts;
DROP TABLE contracts;
