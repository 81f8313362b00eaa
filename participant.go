package obx

import (
	"context"
	"time"
)

// TSP states. The admission workflow adds more; these are the ones the API checks.
const (
	TSPActive     = "active"
	TSPSuspended  = "suspended"
	TSPTerminated = "terminated"
)

// TSP is a third-party service provider (이용기관) admitted to the hub.
type TSP struct {
	ID            int64
	Name          string
	ClientUseCode string // a letter and nine digits, e.g. "T991667950"
	Status        string // TSPActive, …
	SelfAuth      bool   // may use the "sa" scope and acnt_num APIs
	CreatedAt     time.Time
}

// Environments a client may reach.
const (
	EnvSandbox = "sandbox" // simulated banks only
	EnvLive    = "live"    // live bank connections only
)

// Client is an OAuth 2.0 client (an app) of a TSP.
type Client struct {
	ID         string // client_id
	TSPID      int64
	Name       string
	SecretHash []byte // a hash of the secret; the secret itself is shown once and never stored
	// PreviousSecretHash is the secret replaced by the last rotation, which
	// keeps working until PreviousSecretUntil so that the TSP can roll the
	// new one out without downtime.
	PreviousSecretHash  []byte
	PreviousSecretUntil time.Time
	RedirectURIs        []string
	Scopes              []string // scopes the client may request
	Env                 string   // EnvSandbox or EnvLive
	CreatedAt           time.Time
	RevokedAt           time.Time // zero while the client is usable
}

// SecretOverlap is how long a rotated-out client secret keeps working.
const SecretOverlap = 24 * time.Hour

// Scopes of the KFTC API.
const (
	ScopeLogin    = "login"    // user and account management
	ScopeInquiry  = "inquiry"  // balance and transaction history
	ScopeTransfer = "transfer" // withdrawal transfers
	ScopeOOB      = "oob"      // the TSP's own (institution) APIs
	ScopeSA       = "sa"       // self-authenticating TSPs: every API
)

// ParticipantStore keeps TSPs and their OAuth clients.
type ParticipantStore interface {
	// CreateTSP stores t and sets its ID. ECONFLICT if the client_use_code is taken.
	CreateTSP(ctx context.Context, t *TSP) error
	// TSP returns a TSP by id. ENOTFOUND if none.
	TSP(ctx context.Context, id int64) (*TSP, error)
	// TSPByUseCode returns a TSP by client_use_code. ENOTFOUND if none.
	TSPByUseCode(ctx context.Context, code string) (*TSP, error)
	// CreateClient stores c. ECONFLICT if the client_id is taken.
	CreateClient(ctx context.Context, c *Client) error
	// Client returns a client by client_id. ENOTFOUND if none.
	Client(ctx context.Context, id string) (*Client, error)
	// UpdateClient saves c's name, redirect URIs, scopes and revocation time.
	// ENOTFOUND if there is no such client.
	UpdateClient(ctx context.Context, c *Client) error
}
