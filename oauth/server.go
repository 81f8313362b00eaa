package oauth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/compose"
	fositeoauth2 "github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/token/hmac"

	"github.com/obxhub/obx"
)

// Defaults for Config's lifetimes.
const (
	DefaultAccessTTL  = 90 * 24 * time.Hour // KFTC: expires_in 7776000
	DefaultCodeTTL    = 5 * time.Minute
	DefaultConsentTTL = 365 * 24 * time.Hour
	// refreshGrace is how much longer than the access token a refresh token
	// lives by default: KFTC's refresh tokens expire 10 days after the access
	// token they came with.
	refreshGrace = 10 * 24 * time.Hour
	// flowTTL bounds one browser consent flow, from the first page to the agreement.
	flowTTL = 15 * time.Minute
	// maxSignIns is how many bank sign-in attempts one flow allows.
	maxSignIns = 5
)

// Config configures a Server. The stores and Banks are required.
type Config struct {
	Participants obx.ParticipantStore
	Accounts     obx.AccountStore
	Tokens       obx.TokenStore
	Flows        obx.ConsentFlowStore
	Banks        obx.BankDirectory

	// Secret is the global HMAC key that signs every token; at least 32
	// bytes, the same on every replica.
	Secret []byte
	// Sandbox enables the headless consent endpoint for scripted clients.
	Sandbox bool

	AccessTTL  time.Duration // default DefaultAccessTTL
	RefreshTTL time.Duration // default AccessTTL + 10 days
	CodeTTL    time.Duration // default DefaultCodeTTL
	ConsentTTL time.Duration // expiry of the inquiry/transfer consents; default DefaultConsentTTL

	Now    func() time.Time // default time.Now
	Logger *slog.Logger     // default discards
}

// Server is the hub's OAuth 2.0 authorization server: KFTC's /oauth/2.0
// endpoints on ory/fosite, and the consent pages. Create it with New.
type Server struct {
	participants obx.ParticipantStore
	accounts     obx.AccountStore
	flows        obx.ConsentFlowStore
	banks        obx.BankDirectory
	tokens       obx.TokenStore

	sandbox    bool
	accessTTL  time.Duration
	consentTTL time.Duration
	now        func() time.Time
	logger     *slog.Logger

	provider fosite.OAuth2Provider
	store    *store
	pages    map[string]*template.Template
}

// New validates cfg and returns a Server.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Participants == nil, cfg.Accounts == nil, cfg.Tokens == nil, cfg.Flows == nil, cfg.Banks == nil:
		return nil, errors.New("oauth: Participants, Accounts, Tokens, Flows and Banks are required")
	case len(cfg.Secret) < 32:
		return nil, fmt.Errorf("oauth: Secret must have at least 32 bytes, has %d", len(cfg.Secret))
	case cfg.AccessTTL < 0, cfg.RefreshTTL < 0, cfg.CodeTTL < 0, cfg.ConsentTTL < 0:
		return nil, errors.New("oauth: lifetimes must not be negative")
	}
	if cfg.AccessTTL == 0 {
		cfg.AccessTTL = DefaultAccessTTL
	}
	if cfg.RefreshTTL == 0 {
		cfg.RefreshTTL = cfg.AccessTTL + refreshGrace
	}
	if cfg.CodeTTL == 0 {
		cfg.CodeTTL = DefaultCodeTTL
	}
	if cfg.ConsentTTL == 0 {
		cfg.ConsentTTL = DefaultConsentTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	s := &Server{
		participants: cfg.Participants,
		accounts:     cfg.Accounts,
		flows:        cfg.Flows,
		banks:        cfg.Banks,
		tokens:       cfg.Tokens,
		sandbox:      cfg.Sandbox,
		accessTTL:    cfg.AccessTTL,
		consentTTL:   cfg.ConsentTTL,
		now:          cfg.Now,
		logger:       cfg.Logger,
		pages:        pages,
		store: &store{
			participants: cfg.Participants,
			tokens:       cfg.Tokens,
			now:          cfg.Now,
			ttl: map[string]time.Duration{
				obx.TokenCode:    cfg.CodeTTL,
				obx.TokenPKCE:    cfg.CodeTTL,
				obx.TokenAccess:  cfg.AccessTTL,
				obx.TokenRefresh: cfg.RefreshTTL,
			},
		},
	}
	fc := &fosite.Config{
		AccessTokenLifespan:   cfg.AccessTTL,
		RefreshTokenLifespan:  cfg.RefreshTTL,
		AuthorizeCodeLifespan: cfg.CodeTTL,
		GlobalSecret:          cfg.Secret,
		ClientSecretsHasher:   secretHasher{},
		// Scopes are plain words; the default wildcard strategy would let a
		// registered "login*" or "*" match anything.
		ScopeStrategy: fosite.ExactScopeStrategy,
		// Every user grant gets a refresh token; by default fosite issues one
		// only with the "offline" scope, which KFTC does not have.
		RefreshTokenScopes: []string{},
		// PKCE is optional (KFTC clients do not send it) but S256-only.
		EnforcePKCE:                    false,
		EnablePKCEPlainChallengeMethod: false,
		// Introspect accepts access tokens only.
		DisableRefreshTokenValidation: true,
		SendDebugMessagesToClients:    false,
	}
	// Unprefixed HMAC-SHA512/256 tokens: fosite's default prefixes ("ory_at_")
	// would name the library to every client.
	strategy := fositeoauth2.NewHMACSHAStrategyUnPrefixed(&hmac.HMACStrategy{Config: fc}, fc)
	s.provider = compose.Compose(fc, s.store, strategy,
		compose.OAuth2AuthorizeExplicitFactory,
		compose.OAuth2PKCEFactory, // after the code handler: it needs the code
		compose.OAuth2RefreshTokenGrantFactory,
		compose.OAuth2ClientCredentialsGrantFactory,
		compose.OAuth2TokenRevocationFactory,
		compose.OAuth2TokenIntrospectionFactory,
	)
	return s, nil
}

// Register adds the server's routes to mux:
//
//	GET  /oauth/2.0/authorize               start a consent flow (사용자인증)
//	GET  /oauth/2.0/authorize_account       the same, to register more accounts (계좌등록)
//	POST /oauth/2.0/consent/bank            consent page: choose a bank
//	POST /oauth/2.0/consent/signin          consent page: sign in to the bank
//	POST /oauth/2.0/consent/accounts        consent page: choose accounts
//	POST /oauth/2.0/consent/decide          consent page: agree or refuse (or cancel on any page)
//	GET  /oauth/2.0/static/consent.css      the pages' style sheet
//	POST /oauth/2.0/token                   token endpoint (other methods: O0010)
//	POST /oauth/2.0/revoke                  revocation endpoint (other methods: O0010)
//	POST /oauth/2.0/sandbox/authorize       headless consent, only when Config.Sandbox
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("GET /oauth/2.0/authorize", s.page(s.handleAuthorize))
	mux.Handle("GET /oauth/2.0/authorize_account", s.page(s.handleAuthorize))
	mux.Handle("POST /oauth/2.0/consent/bank", s.page(s.handleConsentBank))
	mux.Handle("POST /oauth/2.0/consent/signin", s.page(s.handleConsentSignIn))
	mux.Handle("POST /oauth/2.0/consent/accounts", s.page(s.handleConsentAccounts))
	mux.Handle("POST /oauth/2.0/consent/decide", s.page(s.handleConsentDecide))
	mux.HandleFunc("GET /oauth/2.0/static/consent.css", s.handleStyle)
	mux.Handle("POST /oauth/2.0/token", s.api(s.handleToken))
	mux.Handle("/oauth/2.0/token", s.api(s.handleWrongMethod))
	mux.Handle("POST /oauth/2.0/revoke", s.api(s.handleRevoke))
	mux.Handle("/oauth/2.0/revoke", s.api(s.handleWrongMethod))
	if s.sandbox {
		mux.Handle("POST /oauth/2.0/sandbox/authorize", s.page(s.handleSandboxAuthorize))
	}
}

// HashSecret hashes a client secret for obx.Client.SecretHash.
func HashSecret(secret string) ([]byte, error) {
	if secret == "" {
		return nil, errors.New("oauth: empty client secret")
	}
	return secretHasher{}.Hash(context.Background(), []byte(secret))
}

// secretHasher is fosite's client secret hasher. Client secrets are 256-bit
// random values issued by the hub (NewClientCredentials), not passwords, so a
// slow password hash adds nothing an attacker could not already not do: no
// guess against a 256-bit space succeeds. It would, however, cost every token
// request tens to hundreds of milliseconds of CPU, capping the token endpoint
// at a few requests per second per core and handing anyone with a client_id a
// cheap way to exhaust it. So secrets are stored as SHA-256 digests (the
// practice for high-entropy API keys) and compared in constant time.
type secretHasher struct{}

const secretHashPrefix = "sha256$"

// Hash implements fosite.Hasher.
func (secretHasher) Hash(_ context.Context, data []byte) ([]byte, error) {
	sum := sha256.Sum256(data)
	return []byte(secretHashPrefix + base64.RawStdEncoding.EncodeToString(sum[:])), nil
}

// Compare implements fosite.Hasher: nil when data hashes to hash.
func (h secretHasher) Compare(ctx context.Context, hash, data []byte) error {
	want, _ := h.Hash(ctx, data)
	if subtle.ConstantTimeCompare(hash, want) != 1 {
		return errors.New("oauth: client secret does not match")
	}
	return nil
}

// NewClientCredentials returns a new client_id, shaped like a random (version
// 4) UUID as KFTC's newer client ids are, and a client secret of 256 random
// bits, base64url-encoded (43 characters).
func NewClientCredentials() (clientID, secret string) {
	var id [16]byte
	rand.Read(id[:])
	id[6] = id[6]&0x0f | 0x40 // version 4
	id[8] = id[8]&0x3f | 0x80 // RFC 4122 variant
	h := hex.EncodeToString(id[:])
	clientID = h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]

	var key [32]byte
	rand.Read(key[:])
	return clientID, base64.RawURLEncoding.EncodeToString(key[:])
}

// PurgeExpired deletes expired tokens and consent flows. Run it periodically
// from one place (any replica); it is safe to run concurrently.
func (s *Server) PurgeExpired(ctx context.Context) error {
	now := s.now()
	nt, err := s.tokens.DeleteExpiredTokens(ctx, now)
	if err != nil {
		return err
	}
	nf, err := s.flows.DeleteExpiredConsentFlows(ctx, now)
	if err != nil {
		return err
	}
	s.logger.Info("purged expired oauth state", "tokens", nt, "consent_flows", nf)
	return nil
}
