-- The simulated bank's private ledger. Created by Open; the bank owns this file
-- alone, so the schema is applied idempotently rather than migrated.

CREATE TABLE IF NOT EXISTS meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS customers (
	ci     TEXT PRIMARY KEY,
	name   TEXT NOT NULL,
	birth  TEXT NOT NULL, -- YYYYMMDD
	gender TEXT NOT NULL, -- M or F
	cell   TEXT NOT NULL,
	email  TEXT NOT NULL
) STRICT;

CREATE TABLE IF NOT EXISTS logins (
	login         TEXT PRIMARY KEY,
	ci            TEXT NOT NULL REFERENCES customers (ci),
	password_hash TEXT NOT NULL -- bcrypt; never the password
) STRICT;

CREATE TABLE IF NOT EXISTS accounts (
	number       TEXT PRIMARY KEY,
	branch_code  TEXT NOT NULL,
	holder_ci    TEXT NOT NULL, -- '' for business holders, who have no CI
	holder_name  TEXT NOT NULL,
	holder_type  TEXT NOT NULL CHECK (holder_type IN ('P', 'B')),
	type         TEXT NOT NULL,
	product_name TEXT NOT NULL,
	currency     TEXT NOT NULL,
	opened       TEXT NOT NULL, -- YYYYMMDD
	matures      TEXT NOT NULL, -- YYYYMMDD or ''
	balance      INTEGER NOT NULL,
	closed       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX IF NOT EXISTS accounts_holder_ci ON accounts (holder_ci);

CREATE TABLE IF NOT EXISTS transactions (
	id            INTEGER PRIMARY KEY,
	account       TEXT NOT NULL REFERENCES accounts (number),
	at            INTEGER NOT NULL, -- unix microseconds, UTC
	inout         TEXT NOT NULL CHECK (inout IN ('I', 'O')),
	type          TEXT NOT NULL,
	print_content TEXT NOT NULL,
	amount        INTEGER NOT NULL CHECK (amount > 0),
	after_balance INTEGER NOT NULL,
	branch_name   TEXT NOT NULL
) STRICT;

-- History pages are read by keyset on this index, never by OFFSET, so a page
-- deep in a long history costs the same as the first.
CREATE INDEX IF NOT EXISTS transactions_account_at_id ON transactions (account, at, id);

-- One row per hub operation id: the idempotency record of Debit and Credit,
-- rejections included, so that a repeat returns the first outcome.
CREATE TABLE IF NOT EXISTS operations (
	id             TEXT PRIMARY KEY,
	kind           TEXT NOT NULL CHECK (kind IN ('debit', 'credit')),
	account        TEXT NOT NULL,
	amount         INTEGER NOT NULL,
	status         TEXT NOT NULL CHECK (status IN ('applied', 'rejected')),
	rsp_code       TEXT NOT NULL,
	message        TEXT NOT NULL,
	after_balance  INTEGER NOT NULL,
	holder_name    TEXT NOT NULL,
	bank_tran_day  TEXT NOT NULL,
	transaction_id INTEGER REFERENCES transactions (id), -- NULL when rejected
	created        INTEGER NOT NULL -- unix microseconds, UTC
) STRICT, WITHOUT ROWID;
