package obx

import (
	"context"
	"slices"
	"time"
)

// Principal is the caller of an API request, as established from its access token.
type Principal struct {
	ClientID      string
	TSPID         int64
	ClientUseCode string
	Env           string   // EnvSandbox or EnvLive
	UserSeqNo     string   // "" for institution (oob/sa) tokens
	Scopes        []string // granted scopes
	IssuedAt      time.Time
	ExpiresAt     time.Time
	// Linked is set when UserSeqNo's link with the TSP was found active
	// while the token was checked for this request, so that the services
	// need not read it again.
	Linked bool
}

// HasScope reports whether the token grants scope.
func (p *Principal) HasScope(scope string) bool { return slices.Contains(p.Scopes, scope) }

type principalKey struct{}

// NewContextWithPrincipal returns a context carrying p.
func NewContextWithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// PrincipalFromContext returns the request's principal, or nil.
func PrincipalFromContext(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}
