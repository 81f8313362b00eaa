package oauth

import (
	"context"
	"errors"
	"fmt"

	"github.com/ory/fosite"

	"github.com/obxhub/obx"
)

// Introspect validates an access token and returns the principal it stands
// for. It reads the database on every call (no cache), so a revoked token or
// client, a suspended TSP, or a user's unlink or closure takes effect at once
// on every replica.
//
// Errors: EFORBIDDEN wrapping obx.ErrTSPSuspended for a token of a TSP that
// is not active; EUNAUTHORIZED for an unknown, malformed or revoked token, a
// token of a revoked client, or a user token whose
// user's link with the TSP is not active; EUNAUTHORIZED wrapping
// obx.ErrTokenExpired for an expired token; anything else is an internal
// failure of the stores.
func (s *Server) Introspect(ctx context.Context, accessToken string) (*obx.Principal, error) {
	if accessToken == "" {
		return nil, obx.Errorf(obx.EUNAUTHORIZED, "The access token is missing.")
	}
	use, ar, err := s.provider.IntrospectToken(ctx, accessToken, fosite.AccessToken, &session{})
	switch {
	case errors.Is(err, errStore):
		return nil, fmt.Errorf("introspect: %w", err)
	case errors.Is(err, obx.ErrTSPSuspended):
		return nil, obx.WrapError(obx.EFORBIDDEN, "The TSP's service is suspended.", obx.ErrTSPSuspended)
	case errors.Is(err, obx.ErrTokenExpired), errors.Is(err, fosite.ErrTokenExpired):
		return nil, obx.WrapError(obx.EUNAUTHORIZED, "The access token has expired.", obx.ErrTokenExpired)
	case err != nil:
		return nil, obx.WrapError(obx.EUNAUTHORIZED, "The access token is not valid.", err)
	case use != fosite.AccessToken:
		return nil, obx.Errorf(obx.EUNAUTHORIZED, "The token is not an access token.")
	}
	c, ok := ar.GetClient().(*client)
	if !ok {
		return nil, fmt.Errorf("introspect: client of type %T", ar.GetClient())
	}
	sess, ok := ar.GetSession().(*session)
	if !ok || sess.record == nil {
		return nil, fmt.Errorf("introspect: session of type %T", ar.GetSession())
	}
	linked := false
	if sess.UserSeqNo != "" {
		// The link's state was read with the token, in the same query.
		switch sess.record.LinkState {
		case "":
			return nil, obx.WrapError(obx.EUNAUTHORIZED, "The user is not linked with this TSP.", obx.ErrUnknownUser)
		case obx.LinkActive:
			linked = true
		default:
			return nil, obx.Errorf(obx.EUNAUTHORIZED, "The user has withdrawn from this TSP's service.")
		}
	}
	return &obx.Principal{
		ClientID:      c.c.ID,
		TSPID:         c.tsp.ID,
		ClientUseCode: c.tsp.ClientUseCode,
		Env:           c.c.Env,
		UserSeqNo:     sess.UserSeqNo,
		Scopes:        append([]string(nil), ar.GetGrantedScopes()...),
		IssuedAt:      sess.record.CreatedAt,
		ExpiresAt:     sess.record.ExpiresAt,
		Linked:        linked,
	}, nil
}
