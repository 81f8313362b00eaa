package oauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/ory/fosite"
	"github.com/ory/fosite/handler/oauth2"
	"github.com/ory/fosite/handler/pkce"
	fositestorage "github.com/ory/fosite/storage"

	"github.com/obxhub/obx"
)

// errStore marks failures of the stores themselves (as opposed to "no such
// token"), so that Introspect reports them as internal errors rather than as
// a bad token. fosite wraps whatever storage returns.
var errStore = errors.New("token store failure")

// storeError wraps an unexpected storage error with errStore.
func storeError(err error) error { return fmt.Errorf("%w: %w", errStore, err) }

// grantTypes every hub client may use; scopes decide what each grant yields.
var grantTypes = fosite.Arguments{"authorization_code", "refresh_token", "client_credentials"}

// client adapts an obx.Client and its TSP to fosite.Client.
type client struct {
	c       *obx.Client
	tsp     *obx.TSP
	rotated [][]byte // the previous secret's hash while its overlap lasts
}

var (
	_ fosite.Client                   = (*client)(nil)
	_ fosite.ClientWithSecretRotation = (*client)(nil)
)

// GetRotatedHashes lets the secret replaced by the last rotation authenticate
// until its overlap ends (fosite tries these after the current secret).
func (c *client) GetRotatedHashes() [][]byte { return c.rotated }

func (c *client) GetID() string                      { return c.c.ID }
func (c *client) GetHashedSecret() []byte            { return c.c.SecretHash }
func (c *client) GetRedirectURIs() []string          { return c.c.RedirectURIs }
func (c *client) GetGrantTypes() fosite.Arguments    { return grantTypes }
func (c *client) GetResponseTypes() fosite.Arguments { return fosite.Arguments{"code"} }
func (c *client) IsPublic() bool                     { return false }
func (c *client) GetAudience() fosite.Arguments      { return nil }

// GetScopes returns the client's registered scopes plus "sa": whether a TSP
// may use "sa" depends on its SelfAuth flag, which the token handler checks
// itself so that a refusal reads O0011 as KFTC's does.
func (c *client) GetScopes() fosite.Arguments {
	s := fosite.Arguments(slices.Clone(c.c.Scopes))
	if !s.Has(obx.ScopeSA) {
		s = append(s, obx.ScopeSA)
	}
	return s
}

// session is the fosite session stored with every token: who the token speaks
// for, and fosite's expiry bookkeeping.
type session struct {
	UserSeqNo string                         `json:"user_seq_no,omitempty"` // "" for institution tokens
	ExpiresAt map[fosite.TokenType]time.Time `json:"expires_at,omitempty"`

	// record is the stored token this session was loaded from; not serialized.
	record *obx.TokenRecord
}

var _ fosite.Session = (*session)(nil)

func (s *session) SetExpiresAt(key fosite.TokenType, exp time.Time) {
	if s.ExpiresAt == nil {
		s.ExpiresAt = make(map[fosite.TokenType]time.Time)
	}
	s.ExpiresAt[key] = exp
}

func (s *session) GetExpiresAt(key fosite.TokenType) time.Time { return s.ExpiresAt[key] }
func (s *session) GetUsername() string                         { return s.UserSeqNo }
func (s *session) GetSubject() string                          { return s.UserSeqNo }

func (s *session) Clone() fosite.Session {
	if s == nil {
		return nil
	}
	c := *s
	c.ExpiresAt = make(map[fosite.TokenType]time.Time, len(s.ExpiresAt))
	for k, v := range s.ExpiresAt {
		c.ExpiresAt[k] = v
	}
	return &c
}

// storedRequest is the serialized form of a fosite request: TokenRecord.Data.
// The client is stored by id and loaded afresh, so that a revoked client or a
// suspended TSP invalidates its tokens at once.
type storedRequest struct {
	ID                string     `json:"id"`
	RequestedAt       time.Time  `json:"requested_at"`
	ClientID          string     `json:"client_id"`
	RequestedScopes   []string   `json:"requested_scopes,omitempty"`
	GrantedScopes     []string   `json:"granted_scopes,omitempty"`
	RequestedAudience []string   `json:"requested_audience,omitempty"`
	GrantedAudience   []string   `json:"granted_audience,omitempty"`
	Form              url.Values `json:"form,omitempty"` // sanitized by fosite: never secrets or codes
	Session           *session   `json:"session"`
}

// clone copies r deeply enough that changing the copy's slices, form or
// session leaves r as it was.
func (r storedRequest) clone() storedRequest {
	c := r
	c.RequestedScopes = slices.Clone(r.RequestedScopes)
	c.GrantedScopes = slices.Clone(r.GrantedScopes)
	c.RequestedAudience = slices.Clone(r.RequestedAudience)
	c.GrantedAudience = slices.Clone(r.GrantedAudience)
	if r.Form != nil {
		c.Form = make(url.Values, len(r.Form))
		for k, v := range r.Form {
			c.Form[k] = slices.Clone(v)
		}
	}
	if r.Session != nil {
		c.Session = &session{UserSeqNo: r.Session.UserSeqNo, ExpiresAt: maps.Clone(r.Session.ExpiresAt)}
	}
	return c
}

// store adapts the obx stores to the storage interfaces of the fosite handlers
// the server composes. Expiry is checked here against the injected clock (fosite
// checks it again against the wall clock, which in production is the same).
type store struct {
	participants obx.ParticipantStore
	tokens       obx.TokenStore
	now          func() time.Time
	ttl          map[string]time.Duration // by token kind
	decoded      decodedRequests
}

// decodedRequests keeps stored requests decoded, by token kind and signature,
// since every API call loads its token's and decoding the JSON was about 4%
// of the hub's CPU under load (obx bench transfers). Only the decoding is
// kept: the token is still read from the database on every call, so
// revocation, expiry and the client's and TSP's status take effect at once,
// and an entry is used only while the stored bytes are the ones it was
// decoded from. Callers get copies, since fosite may change a request.
type decodedRequests struct {
	mu sync.Mutex
	m  map[string]decodedRequest
}

type decodedRequest struct {
	data []byte
	sr   storedRequest
}

// maxDecoded bounds the cache; a full cache is emptied and refills with the
// tokens in use.
const maxDecoded = 16384

// decode returns data decoded, from the cache when it holds the same bytes
// for kind and signature.
func (d *decodedRequests) decode(kind, signature string, data []byte) (storedRequest, error) {
	key := kind + "\x00" + signature
	d.mu.Lock()
	e, ok := d.m[key]
	d.mu.Unlock()
	if ok && bytes.Equal(e.data, data) {
		return e.sr.clone(), nil
	}
	var sr storedRequest
	if err := json.Unmarshal(data, &sr); err != nil {
		return sr, err
	}
	d.mu.Lock()
	if d.m == nil || len(d.m) >= maxDecoded {
		d.m = make(map[string]decodedRequest)
	}
	d.m[key] = decodedRequest{data: bytes.Clone(data), sr: sr.clone()}
	d.mu.Unlock()
	return sr, nil
}

var (
	_ fosite.Storage                = (*store)(nil)
	_ oauth2.CoreStorage            = (*store)(nil)
	_ oauth2.TokenRevocationStorage = (*store)(nil)
	_ pkce.PKCERequestStorage       = (*store)(nil)
	_ fositestorage.Transactional   = (*store)(nil)
)

// GetClient implements fosite.ClientManager. A revoked client, or a client of a
// TSP that is not active, does not exist as far as OAuth is concerned.
func (s *store) GetClient(ctx context.Context, id string) (fosite.Client, error) {
	c, err := s.client(ctx, id)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func (s *store) client(ctx context.Context, id string) (*client, error) {
	if id == "" {
		return nil, fosite.ErrNotFound
	}
	c, err := s.participants.Client(ctx, id)
	if obx.ErrorCode(err) == obx.ENOTFOUND {
		return nil, fosite.ErrNotFound.WithWrap(err)
	} else if err != nil {
		return nil, storeError(err)
	}
	tsp, err := s.participants.TSP(ctx, c.TSPID)
	if obx.ErrorCode(err) == obx.ENOTFOUND {
		return nil, fosite.ErrNotFound.WithWrap(err)
	} else if err != nil {
		return nil, storeError(err)
	}
	return s.usableClient(c, tsp)
}

// usableClient returns c as an OAuth client, or ErrNotFound if it was revoked
// or its TSP's status does not allow it (clientUsable).
func (s *store) usableClient(c *obx.Client, tsp *obx.TSP) (*client, error) {
	if !c.RevokedAt.IsZero() {
		return nil, fosite.ErrNotFound.WithHint("The client was revoked.")
	}
	if !clientUsable(tsp.Status, c.Env) {
		return nil, fosite.ErrNotFound.WithHint("The client's TSP is not active.").WithWrap(obx.ErrTSPSuspended)
	}
	cl := &client{c: c, tsp: tsp}
	if len(c.PreviousSecretHash) > 0 && s.now().Before(c.PreviousSecretUntil) {
		cl.rotated = [][]byte{c.PreviousSecretHash}
	}
	return cl, nil
}

// clientUsable reports whether a client of env may be used while its TSP has
// status: an active TSP's clients all work; a TSP still going through
// admission (obx.TSPSandbox) has only its sandbox ones; a suspended or
// terminated TSP has none. The status is read from the database on every
// request, so a change takes effect at once on every replica.
func clientUsable(status, env string) bool {
	switch status {
	case obx.TSPActive:
		return true
	case obx.TSPSandbox:
		return env == obx.EnvSandbox
	}
	return false
}

// ClientAssertionJWTValid implements fosite.ClientManager. The hub does not
// accept JWT client assertions, so every JTI counts as known.
func (s *store) ClientAssertionJWTValid(context.Context, string) error { return fosite.ErrJTIKnown }

// SetClientAssertionJWT implements fosite.ClientManager; see ClientAssertionJWTValid.
func (s *store) SetClientAssertionJWT(context.Context, string, time.Time) error {
	return fosite.ErrServerError.WithHint("JWT client assertions are not supported.")
}

// create stores req as a token of kind.
func (s *store) create(ctx context.Context, kind, signature string, req fosite.Requester) error {
	c, ok := req.GetClient().(*client)
	if !ok {
		return fmt.Errorf("store %s token: client of type %T", kind, req.GetClient())
	}
	sess, ok := req.GetSession().(*session)
	if !ok || sess == nil {
		return fmt.Errorf("store %s token: session of type %T", kind, req.GetSession())
	}
	data, err := json.Marshal(storedRequest{
		ID:                req.GetID(),
		RequestedAt:       req.GetRequestedAt(),
		ClientID:          c.GetID(),
		RequestedScopes:   req.GetRequestedScopes(),
		GrantedScopes:     req.GetGrantedScopes(),
		RequestedAudience: req.GetRequestedAudience(),
		GrantedAudience:   req.GetGrantedAudience(),
		Form:              req.GetRequestForm(),
		Session:           sess,
	})
	if err != nil {
		return fmt.Errorf("store %s token: %w", kind, err)
	}
	now := s.now().UTC()
	err = s.tokens.CreateToken(ctx, &obx.TokenRecord{
		Kind:      kind,
		Signature: signature,
		RequestID: req.GetID(),
		ClientID:  c.GetID(),
		TSPID:     c.tsp.ID,
		UserSeqNo: sess.UserSeqNo,
		Scopes:    req.GetGrantedScopes(),
		Data:      data,
		Active:    true,
		CreatedAt: now,
		ExpiresAt: now.Add(s.ttl[kind]),
	})
	if err != nil {
		return storeError(err)
	}
	return nil
}

// load returns the stored token of kind as a fosite request, with its client
// loaded afresh. fosite.ErrNotFound if there is no such token or its client is
// gone.
func (s *store) load(ctx context.Context, kind, signature string) (*fosite.Request, *obx.TokenRecord, error) {
	rec, oc, tsp, err := s.tokens.TokenWithClient(ctx, kind, signature)
	if obx.ErrorCode(err) == obx.ENOTFOUND {
		return nil, nil, fosite.ErrNotFound
	} else if err != nil {
		return nil, nil, storeError(err)
	}
	sr, err := s.decoded.decode(kind, signature, rec.Data)
	if err != nil {
		return nil, nil, storeError(fmt.Errorf("decode %s token: %w", kind, err))
	}
	if sr.ClientID != oc.ID {
		return nil, nil, storeError(fmt.Errorf("%s token: stored for client %q, recorded for %q", kind, sr.ClientID, oc.ID))
	}
	c, err := s.usableClient(oc, tsp)
	if err != nil {
		return nil, nil, err
	}
	if sr.Session == nil {
		sr.Session = &session{}
	}
	sr.Session.record = rec
	req := fosite.NewRequest()
	req.ID = sr.ID
	req.RequestedAt = sr.RequestedAt
	req.Client = c
	req.RequestedScope = sr.RequestedScopes
	req.GrantedScope = sr.GrantedScopes
	req.RequestedAudience = sr.RequestedAudience
	req.GrantedAudience = sr.GrantedAudience
	if sr.Form != nil {
		req.Form = sr.Form
	}
	req.Session = sr.Session
	return req, rec, nil
}

// expired reports whether rec has expired by the injected clock.
func (s *store) expired(rec *obx.TokenRecord) bool { return !s.now().Before(rec.ExpiresAt) }

// CreateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage.
func (s *store) CreateAuthorizeCodeSession(ctx context.Context, signature string, req fosite.Requester) error {
	return s.create(ctx, obx.TokenCode, signature, req)
}

// GetAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage. A used code
// returns its request with fosite.ErrInvalidatedAuthorizeCode, which makes
// fosite revoke every token issued from it.
func (s *store) GetAuthorizeCodeSession(ctx context.Context, signature string, _ fosite.Session) (fosite.Requester, error) {
	req, rec, err := s.load(ctx, obx.TokenCode, signature)
	if err != nil {
		return nil, err
	}
	if !rec.Active {
		return req, fosite.ErrInvalidatedAuthorizeCode
	}
	if s.expired(rec) {
		return nil, fosite.ErrNotFound.WithHint("The authorization code expired.")
	}
	return req, nil
}

// InvalidateAuthorizeCodeSession implements oauth2.AuthorizeCodeStorage. It
// fails if the code was already used, so that of two racing exchanges only
// one issues tokens. The code's PKCE record goes with it.
func (s *store) InvalidateAuthorizeCodeSession(ctx context.Context, signature string) error {
	err := s.tokens.DeactivateToken(ctx, obx.TokenCode, signature)
	switch obx.ErrorCode(err) {
	case "":
	case obx.ECONFLICT:
		return fosite.ErrInvalidatedAuthorizeCode
	case obx.ENOTFOUND:
		return fosite.ErrNotFound
	default:
		return storeError(err)
	}
	if err := s.tokens.DeleteToken(ctx, obx.TokenPKCE, signature); err != nil {
		return storeError(err)
	}
	return nil
}

// CreatePKCERequestSession implements pkce.PKCERequestStorage.
func (s *store) CreatePKCERequestSession(ctx context.Context, signature string, req fosite.Requester) error {
	return s.create(ctx, obx.TokenPKCE, signature, req)
}

// GetPKCERequestSession implements pkce.PKCERequestStorage.
func (s *store) GetPKCERequestSession(ctx context.Context, signature string, _ fosite.Session) (fosite.Requester, error) {
	req, _, err := s.load(ctx, obx.TokenPKCE, signature)
	if err != nil {
		return nil, err
	}
	return req, nil
}

// DeletePKCERequestSession implements pkce.PKCERequestStorage as a no-op.
// fosite v0.49 deletes the PKCE record before it compares the verifier, so
// deleting here would let a second attempt without any verifier pass; the
// record is deleted with the code instead (InvalidateAuthorizeCodeSession).
func (s *store) DeletePKCERequestSession(context.Context, string) error { return nil }

// CreateAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *store) CreateAccessTokenSession(ctx context.Context, signature string, req fosite.Requester) error {
	return s.create(ctx, obx.TokenAccess, signature, req)
}

// GetAccessTokenSession implements oauth2.AccessTokenStorage. A revoked or
// expired token is not found; an expired one wraps obx.ErrTokenExpired, which
// Introspect reports. (fosite.ErrTokenExpired here would make revoking an
// expired token fail, which RFC 7009 says must succeed.)
func (s *store) GetAccessTokenSession(ctx context.Context, signature string, _ fosite.Session) (fosite.Requester, error) {
	req, rec, err := s.load(ctx, obx.TokenAccess, signature)
	if err != nil {
		return nil, err
	}
	if !rec.Active {
		return nil, fosite.ErrNotFound.WithHint("The access token was revoked.")
	}
	if s.expired(rec) {
		return nil, fosite.ErrNotFound.WithWrap(obx.ErrTokenExpired)
	}
	return req, nil
}

// DeleteAccessTokenSession implements oauth2.AccessTokenStorage.
func (s *store) DeleteAccessTokenSession(ctx context.Context, signature string) error {
	if err := s.tokens.DeleteToken(ctx, obx.TokenAccess, signature); err != nil {
		return storeError(err)
	}
	return nil
}

// CreateRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *store) CreateRefreshTokenSession(ctx context.Context, signature, _ string, req fosite.Requester) error {
	return s.create(ctx, obx.TokenRefresh, signature, req)
}

// GetRefreshTokenSession implements oauth2.RefreshTokenStorage. A rotated or
// revoked token returns its request with fosite.ErrInactiveToken, which makes
// fosite treat its use as a replay and revoke the whole grant.
func (s *store) GetRefreshTokenSession(ctx context.Context, signature string, _ fosite.Session) (fosite.Requester, error) {
	req, rec, err := s.load(ctx, obx.TokenRefresh, signature)
	if err != nil {
		return nil, err
	}
	if !rec.Active {
		return req, fosite.ErrInactiveToken
	}
	if s.expired(rec) {
		return nil, fosite.ErrNotFound.WithHint("The refresh token expired.")
	}
	return req, nil
}

// DeleteRefreshTokenSession implements oauth2.RefreshTokenStorage.
func (s *store) DeleteRefreshTokenSession(ctx context.Context, signature string) error {
	if err := s.tokens.DeleteToken(ctx, obx.TokenRefresh, signature); err != nil {
		return storeError(err)
	}
	return nil
}

// RotateRefreshToken implements oauth2.RefreshTokenStorage: the used refresh
// token dies, and so do the grant's access tokens (the new pair is stored next,
// in the same transaction). It fails if the refresh token was already used,
// so that of two racing refreshes only one succeeds.
func (s *store) RotateRefreshToken(ctx context.Context, requestID, signature string) error {
	err := s.tokens.DeactivateToken(ctx, obx.TokenRefresh, signature)
	switch obx.ErrorCode(err) {
	case "":
	case obx.ECONFLICT:
		return fosite.ErrInactiveToken
	case obx.ENOTFOUND:
		return fosite.ErrNotFound
	default:
		return storeError(err)
	}
	return s.RevokeAccessToken(ctx, requestID)
}

// RevokeRefreshToken implements oauth2.TokenRevocationStorage.
func (s *store) RevokeRefreshToken(ctx context.Context, requestID string) error {
	if err := s.tokens.RevokeTokens(ctx, requestID, obx.TokenRefresh); err != nil {
		return storeError(err)
	}
	return nil
}

// RevokeAccessToken implements oauth2.TokenRevocationStorage.
func (s *store) RevokeAccessToken(ctx context.Context, requestID string) error {
	if err := s.tokens.RevokeTokens(ctx, requestID, obx.TokenAccess); err != nil {
		return storeError(err)
	}
	return nil
}

// BeginTX implements storage.Transactional.
func (s *store) BeginTX(ctx context.Context) (context.Context, error) {
	return s.tokens.BeginTokenTx(ctx)
}

// Commit implements storage.Transactional.
func (s *store) Commit(ctx context.Context) error { return s.tokens.CommitTokenTx(ctx) }

// Rollback implements storage.Transactional.
func (s *store) Rollback(ctx context.Context) error { return s.tokens.RollbackTokenTx(ctx) }
