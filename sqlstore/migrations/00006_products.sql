-- Public product data: every published version of each bank's catalog, and
-- every exchange-rate board, so that "what was the rate on date D" has an
-- answer. Rows are never updated; a publication adds one.
--
-- body is the catalog (or board) as encoding/json writes obx.Catalog
-- (obx.RateBoard): a field of those types may be added, never renamed or
-- retyped, or old versions would no longer read back.

-- +goose Up
CREATE TABLE product_catalogs (
    bank_code    TEXT        NOT NULL,
    version      BIGINT      NOT NULL,
    digest       TEXT        NOT NULL, -- SHA-256 of the content: equal content is not stored twice
    published_at TIMESTAMPTZ NOT NULL, -- when the hub put it in service; never decreases per bank
    body         TEXT        NOT NULL,
    PRIMARY KEY (bank_code, version)
);
CREATE INDEX product_catalogs_published ON product_catalogs (bank_code, published_at);

-- Exchange rates change many times a day, the rest of a catalog a few times a
-- year, so boards are versioned apart from catalogs.
CREATE TABLE exchange_rate_boards (
    bank_code    TEXT        NOT NULL,
    quoted_at    TIMESTAMPTZ NOT NULL, -- the bank's time of the quotes
    published_at TIMESTAMPTZ NOT NULL,
    body         TEXT        NOT NULL,
    PRIMARY KEY (bank_code, quoted_at)
);

-- +goose Down
DROP TABLE exchange_rate_boards;
DROP TABLE product_catalogs;
