package obx

import (
	"context"
	"errors"
	"time"
)

// ErrTokenExpired: the access token was valid but has expired (KFTC O0003 rather
// than O0002). The oauth package's Introspect returns it wrapped in an
// EUNAUTHORIZED *Error.
var ErrTokenExpired = errors.New("access token expired")

// Kinds of stored token sessions. The authorization server stores one record per
// issued authorization code, access token and refresh token, and one per PKCE
// challenge (keyed by the signature of the code it belongs to).
const (
	TokenCode    = "code"
	TokenAccess  = "access"
	TokenRefresh = "refresh"
	TokenPKCE    = "pkce"
)

// TokenRecord is one stored OAuth 2.0 token session. The token itself is never
// stored: Signature is its HMAC signature, from which the token cannot be
// recovered, so a copy of the database grants nothing.
type TokenRecord struct {
	Kind      string // TokenCode, TokenAccess, TokenRefresh or TokenPKCE
	Signature string // the token's HMAC signature; unique per Kind
	RequestID string // the grant: every token issued from one authorization (and its refreshes) shares it
	ClientID  string
	TSPID     int64
	UserSeqNo string   // "" for institution (oob/sa) tokens
	Scopes    []string // granted scopes
	Data      []byte   // the authorization server's serialized request: UTF-8 text, opaque to storage
	Active    bool     // false once used (codes), rotated (refresh tokens) or revoked
	CreatedAt time.Time
	ExpiresAt time.Time
	// LinkState is the state of the user's link with the token's TSP
	// (LinkActive, …) as read with the token by TokenWithClient, or "" when
	// the token has no user or the user has no link: introspection checks it
	// on every call without a second read.
	LinkState string
}

// TokenStore keeps token sessions for the authorization server.
//
// Transactions: BeginTokenTx returns a context that carries a transaction;
// every TokenStore method called with that context (or one derived from it)
// runs inside it, until CommitTokenTx or RollbackTokenTx ends it. This is the
// shape the OAuth library needs to issue a token pair, or rotate a refresh
// token, atomically. Other stores ignore the transaction.
type TokenStore interface {
	// CreateToken stores r. ECONFLICT if a token of the same kind and
	// signature exists.
	CreateToken(ctx context.Context, r *TokenRecord) error
	// Token returns the token of kind with signature, whether active or not
	// and whether expired or not. ENOTFOUND if there is none.
	Token(ctx context.Context, kind, signature string) (*TokenRecord, error)
	// TokenWithClient returns the token like Token, with its client, the
	// client's TSP and the state of the user's link with that TSP, in one
	// read: introspection does this on every API call. ENOTFOUND if the
	// token, its client or its TSP is missing.
	TokenWithClient(ctx context.Context, kind, signature string) (*TokenRecord, *Client, *TSP, error)
	// DeactivateToken marks a token inactive: a code that was exchanged, a
	// refresh token that was rotated. ENOTFOUND if there is none; ECONFLICT if
	// it was already inactive, so that of two racing uses exactly one wins.
	DeactivateToken(ctx context.Context, kind, signature string) error
	// DeleteToken deletes a token. Deleting a missing token is not an error.
	DeleteToken(ctx context.Context, kind, signature string) error
	// RevokeTokens marks inactive every token of kind ("" for every kind)
	// issued under the grant requestID. Revoking nothing is not an error.
	RevokeTokens(ctx context.Context, requestID, kind string) error
	// DeleteExpiredTokens deletes the tokens that expired before t and
	// returns how many it deleted.
	DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error)

	// BeginTokenTx begins a transaction and returns a context carrying it.
	// EINVALID if ctx already carries one.
	BeginTokenTx(ctx context.Context) (context.Context, error)
	// CommitTokenTx commits the transaction ctx carries. EINVALID if none.
	CommitTokenTx(ctx context.Context) error
	// RollbackTokenTx rolls back the transaction ctx carries; rolling back a
	// finished transaction is not an error. EINVALID if ctx carries none.
	RollbackTokenTx(ctx context.Context) error
}

// ConsentFlow is the server-side state of one browser consent flow (the pages
// between GET /oauth/2.0/authorize and the redirect back to the app). It lives
// in the database, so a flow survives page posts that land on other replicas.
// The browser holds only the flow's ID, a CSRF token and a binding cookie,
// whose SHA-256 hashes the flow stores.
type ConsentFlow struct {
	ID          string // random, URL-safe
	ClientID    string
	Request     string   // the validated authorize request's parameters, URL-encoded
	Step        string   // the page the flow is on; the authorization server defines the steps
	BankCode    string   // the chosen bank; "" before the choice
	UserCI      string   // the signed-in customer's CI; "" before sign-in
	UserSeqNo   string   // the known user of a re-consent (auth_type 2); "" otherwise
	AccountNums []string // the selected account numbers at BankCode: full, never shown or logged
	Attempts    int      // bank sign-in attempts so far, for throttling
	CSRFHash    []byte   // SHA-256 of the CSRF token the flow's forms carry
	BindingHash []byte   // SHA-256 of the value of the browser's flow cookie
	Version     int64    // incremented by every update, for optimistic concurrency
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// ConsentFlowStore keeps consent flows.
type ConsentFlowStore interface {
	// CreateConsentFlow stores f with Version 1. ECONFLICT if the ID is taken.
	CreateConsentFlow(ctx context.Context, f *ConsentFlow) error
	// ConsentFlow returns a flow by ID, expired or not. ENOTFOUND if none.
	ConsentFlow(ctx context.Context, id string) (*ConsentFlow, error)
	// UpdateConsentFlow saves f if the stored flow still has f.Version, and
	// increments f.Version. ENOTFOUND if the flow is gone; ECONFLICT if another
	// request changed it first.
	UpdateConsentFlow(ctx context.Context, f *ConsentFlow) error
	// DeleteConsentFlow deletes the flow if it still has version, so that a
	// flow is completed at most once. ENOTFOUND if it is gone; ECONFLICT if
	// another request changed it first.
	DeleteConsentFlow(ctx context.Context, id string, version int64) error
	// DeleteExpiredConsentFlows deletes the flows that expired before t and
	// returns how many it deleted.
	DeleteExpiredConsentFlows(ctx context.Context, before time.Time) (int64, error)
}
