-- OAuth 2.0 token sessions and browser consent flows.
-- Tokens are stored only by their HMAC signature; data is the authorization
-- server's serialized request (JSON text), opaque to SQL.

-- +goose Up
CREATE TABLE oauth_tokens (
    kind        TEXT NOT NULL,   -- code, access, refresh, pkce
    signature   TEXT NOT NULL,
    request_id  TEXT NOT NULL,   -- the grant; shared by a code and the tokens issued from it
    client_id   TEXT NOT NULL REFERENCES clients (client_id),
    tsp_id      BIGINT NOT NULL REFERENCES tsps (id),
    user_seq_no TEXT REFERENCES users (user_seq_no), -- NULL for institution tokens
    scopes      TEXT NOT NULL,   -- space-separated
    data        TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (kind, signature)
);
CREATE INDEX oauth_tokens_request ON oauth_tokens (request_id);
-- Revoking a user's tokens when they unlink or close (user/unlink, user/close).
CREATE INDEX oauth_tokens_user ON oauth_tokens (tsp_id, user_seq_no);
CREATE INDEX oauth_tokens_expiry ON oauth_tokens (expires_at);

CREATE TABLE consent_flows (
    id           TEXT PRIMARY KEY,
    client_id    TEXT NOT NULL REFERENCES clients (client_id),
    request      TEXT NOT NULL,  -- the authorize parameters, URL-encoded
    step         TEXT NOT NULL,
    bank_code    TEXT NOT NULL DEFAULT '',
    user_ci      TEXT NOT NULL DEFAULT '',
    user_seq_no  TEXT NOT NULL DEFAULT '',
    account_nums TEXT NOT NULL DEFAULT '', -- newline-separated
    attempts     INTEGER NOT NULL DEFAULT 0,
    csrf_hash    TEXT NOT NULL,  -- hex SHA-256
    binding_hash TEXT NOT NULL,  -- hex SHA-256
    version      BIGINT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX consent_flows_expiry ON consent_flows (expires_at);

-- +goose Down
DROP TABLE consent_flows;
DROP TABLE oauth_tokens;
