-- TSP admission: applications and their workflow, the operator console's
-- staff and the developer portal's users, web sessions, uploaded documents,
-- and the append-only, hash-chained audit trail. Nothing in the workflow is
-- ever deleted: rows change state, and every change leaves an audit entry.

-- +goose Up
CREATE TABLE applications (
    tsp_id               BIGINT PRIMARY KEY REFERENCES tsps (id),
    state                TEXT NOT NULL,
    company_name         TEXT NOT NULL DEFAULT '',
    business_num         TEXT NOT NULL DEFAULT '',
    category             TEXT NOT NULL DEFAULT '',
    activities           TEXT NOT NULL DEFAULT '', -- space-separated codes
    services             TEXT NOT NULL DEFAULT '',
    apis                 TEXT NOT NULL DEFAULT '',
    service_plan         TEXT NOT NULL DEFAULT '',
    sub_business         BOOLEAN NOT NULL DEFAULT FALSE,
    self_cert            BOOLEAN NOT NULL DEFAULT FALSE,
    credit_rating        TEXT NOT NULL DEFAULT '',
    paid_in_capital      BIGINT NOT NULL DEFAULT 0,
    annual_revenue       BIGINT NOT NULL DEFAULT 0,
    business_months      BIGINT NOT NULL DEFAULT 0,
    service_months       BIGINT NOT NULL DEFAULT 0,
    members              BIGINT NOT NULL DEFAULT 0,
    annual_transactions  BIGINT NOT NULL DEFAULT 0,
    licences             TEXT NOT NULL DEFAULT '',
    aml                  BOOLEAN NOT NULL DEFAULT FALSE,
    complaint_handling   BOOLEAN NOT NULL DEFAULT FALSE,
    account_verification BOOLEAN NOT NULL DEFAULT FALSE,
    decision             TEXT NOT NULL DEFAULT '',
    decision_reasons     TEXT NOT NULL DEFAULT '',
    submitted_at         TIMESTAMPTZ,
    updated_at           TIMESTAMPTZ NOT NULL
);
CREATE INDEX applications_state ON applications (state, updated_at);

CREATE TABLE functional_checks (
    tsp_id       BIGINT NOT NULL REFERENCES tsps (id),
    api          TEXT NOT NULL,
    passed_at    TIMESTAMPTZ,
    confirmed_at TIMESTAMPTZ,
    confirmed_by TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (tsp_id, api)
);

CREATE TABLE security_items (
    id          BIGINT PRIMARY KEY,
    tsp_id      BIGINT NOT NULL REFERENCES tsps (id),
    part        TEXT NOT NULL,
    title       TEXT NOT NULL,
    note        TEXT NOT NULL DEFAULT '',
    found_at    TIMESTAMPTZ NOT NULL,
    found_by    TEXT NOT NULL,
    remedy      TEXT NOT NULL DEFAULT '',
    remedied_at TIMESTAMPTZ,
    closed_at   TIMESTAMPTZ,
    closed_by   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX security_items_tsp ON security_items (tsp_id);

CREATE TABLE admission_contracts (
    tsp_id               BIGINT PRIMARY KEY REFERENCES tsps (id),
    main_bank            TEXT NOT NULL,
    main_bank_fee        BIGINT NOT NULL,
    daily_withdraw_limit BIGINT NOT NULL,
    user_daily_limit     BIGINT NOT NULL,
    per_transfer_limit   BIGINT NOT NULL,
    daily_deposit_limit  BIGINT NOT NULL,
    large                BOOLEAN NOT NULL,
    guarantee            TEXT NOT NULL,
    guarantee_percent    BIGINT NOT NULL,
    insured_amount       BIGINT NOT NULL,
    requested_at         TIMESTAMPTZ NOT NULL,
    signed_at            TIMESTAMPTZ
);

-- Contract accounts agreed in the contract step; copied into
-- contract_accounts at go-live.
CREATE TABLE admission_accounts (
    tsp_id      BIGINT NOT NULL REFERENCES tsps (id),
    account_num TEXT NOT NULL,
    bank_code   TEXT NOT NULL,
    holder_name TEXT NOT NULL,
    kind        TEXT NOT NULL,
    PRIMARY KEY (tsp_id, account_num)
);

CREATE TABLE bank_guarantees (
    tsp_id       BIGINT NOT NULL REFERENCES tsps (id),
    bank_code    TEXT NOT NULL,
    limit_amount BIGINT NOT NULL,
    agreed_at    TIMESTAMPTZ,
    PRIMARY KEY (tsp_id, bank_code)
);

CREATE TABLE file_notes (
    id     BIGINT PRIMARY KEY,
    tsp_id BIGINT NOT NULL REFERENCES tsps (id),
    at     TIMESTAMPTZ NOT NULL,
    author TEXT NOT NULL,
    kind   TEXT NOT NULL,
    rule   TEXT NOT NULL DEFAULT '',
    text   TEXT NOT NULL
);
CREATE INDEX file_notes_tsp ON file_notes (tsp_id, at);

-- A sub-business's review: 'pending', 'approved' or 'rejected'; '' for rows
-- made before the workflow, whose approved flag says it all.
ALTER TABLE sub_businesses ADD COLUMN state TEXT NOT NULL DEFAULT '';

-- Secret rotation: the previous secret keeps working until its time is up.
ALTER TABLE clients ADD COLUMN previous_secret_hash TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN previous_secret_until TIMESTAMPTZ;

CREATE TABLE staff_users (
    id            BIGINT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE portal_users (
    id            BIGINT PRIMARY KEY,
    tsp_id        BIGINT NOT NULL REFERENCES tsps (id),
    email         TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    phone         TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    BIGINT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE signin_failures (
    throttle_key TEXT NOT NULL,
    at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX signin_failures_key ON signin_failures (throttle_key, at);

CREATE TABLE documents (
    id           BIGINT PRIMARY KEY,
    tsp_id       BIGINT NOT NULL REFERENCES tsps (id),
    name         TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       TEXT NOT NULL,
    data         BYTEA NOT NULL,
    uploaded_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX documents_tsp ON documents (tsp_id);

-- Participating banks registered in the console (in addition to those the
-- hub's flags configure); every replica loads them.
CREATE TABLE banks (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    url        TEXT NOT NULL, -- '' for a simulated bank
    env        TEXT NOT NULL, -- '' for both environments
    created_at TIMESTAMPTZ NOT NULL
);

-- Daily maintenance windows of any participating bank, registered or
-- configured by flags.
CREATE TABLE bank_maintenance (
    code    TEXT PRIMARY KEY,
    windows TEXT NOT NULL -- "HH:MM-HH:MM,…" in KST
);

-- Recent API calls per TSP, for the portal's debugging view: written in
-- batches, purged after CallRetention.
CREATE TABLE api_calls (
    id         BIGINT PRIMARY KEY,
    tsp_id     BIGINT NOT NULL,
    client_id  TEXT NOT NULL,
    env        TEXT NOT NULL,
    at         TIMESTAMPTZ NOT NULL,
    api        TEXT NOT NULL,
    status     BIGINT NOT NULL,
    rsp_code   TEXT NOT NULL,
    latency_us BIGINT NOT NULL
);
CREATE INDEX api_calls_tsp ON api_calls (tsp_id, at);

-- The audit trail. audit_head is one row whose update serializes writers,
-- so that each entry's prev_hash is the hash of the one before it.
CREATE TABLE audit_log (
    seq          BIGINT PRIMARY KEY,
    at           TIMESTAMPTZ NOT NULL,
    actor        TEXT NOT NULL,
    action       TEXT NOT NULL,
    subject      TEXT NOT NULL,
    before_state TEXT NOT NULL,
    after_state  TEXT NOT NULL,
    note         TEXT NOT NULL,
    prev_hash    TEXT NOT NULL,
    hash         TEXT NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject, seq);
CREATE INDEX audit_log_actor ON audit_log (actor, seq);

CREATE TABLE audit_head (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    seq  BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '');

-- +goose Down
DROP TABLE audit_head;
DROP TABLE audit_log;
DROP TABLE api_calls;
DROP TABLE bank_maintenance;
DROP TABLE banks;
DROP TABLE documents;
DROP TABLE signin_failures;
DROP TABLE web_sessions;
DROP TABLE portal_users;
DROP TABLE staff_users;
ALTER TABLE clients DROP COLUMN previous_secret_until;
ALTER TABLE clients DROP COLUMN previous_secret_hash;
ALTER TABLE sub_businesses DROP COLUMN state;
DROP TABLE file_notes;
DROP TABLE bank_guarantees;
DROP TABLE admission_accounts;
DROP TABLE admission_contracts;
DROP TABLE security_items;
DROP TABLE functional_checks;
DROP TABLE applications;
