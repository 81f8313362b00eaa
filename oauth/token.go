package oauth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/ory/fosite"

	"github.com/obxhub/obx"
)

// maxFormBytes bounds the body of a token or revoke request.
const maxFormBytes = 64 << 10

// api adapts a handler of the token or revoke endpoint: a failure becomes the
// KFTC envelope {rsp_code, rsp_message} with HTTP 200, as KFTC answers.
func (s *Server) api(fn func(w http.ResponseWriter, r *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := fn(w, r)
		if err == nil {
			return
		}
		wire, internal := toWire(err)
		if internal {
			s.logger.Error("oauth endpoint failed", "path", r.URL.Path, "err", describe(err))
		} else {
			s.logger.Info("oauth request refused", "path", r.URL.Path, "rsp_code", wire.RspCode,
				"rsp_message", wire.RspMessage, "err", describe(err))
		}
		writeJSON(w, envelope{RspCode: wire.RspCode, RspMessage: wire.RspMessage})
	})
}

// envelope is the body of a failed token or revoke request.
type envelope struct {
	RspCode    string `json:"rsp_code"`
	RspMessage string `json:"rsp_message"`
}

// writeJSON writes v with HTTP 200 and the headers RFC 6749 requires of token
// responses.
func writeJSON(w http.ResponseWriter, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(v)
}

// handleWrongMethod handles any method but POST on "/oauth/2.0/token" and
// "/oauth/2.0/revoke": O0010, as KFTC answers a GET on /token.
func (s *Server) handleWrongMethod(w http.ResponseWriter, r *http.Request) error {
	return errMethod
}

// decodeForm reads the parameters of a token or revoke request the way real
// KFTC clients send them: a form body (whatever the Content-Type says), or a
// JSON object body under a form Content-Type, with query parameters filling
// in what the body lacks (one client sends the refresh grant as query
// parameters with an empty body). A repeated parameter is errParams.
func decodeForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxFormBytes))
	if err != nil {
		return nil, fmt.Errorf("%w: read body: %w", errParams, err)
	}
	form := url.Values{}
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '{' {
		var obj map[string]any
		if err := json.Unmarshal(trimmed, &obj); err != nil {
			return nil, fmt.Errorf("%w: JSON body: %w", errParams, err)
		}
		for k, v := range obj {
			switch v := v.(type) {
			case string:
				form.Set(k, v)
			case float64:
				form.Set(k, strconv.FormatFloat(v, 'f', -1, 64))
			case bool:
				form.Set(k, strconv.FormatBool(v))
			case nil:
			default:
				return nil, fmt.Errorf("%w: JSON parameter %q is not a string", errParams, k)
			}
		}
	} else if form, err = url.ParseQuery(string(body)); err != nil {
		return nil, fmt.Errorf("%w: form body: %w", errParams, err)
	}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, fmt.Errorf("%w: query: %w", errParams, err)
	}
	for k, v := range query {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	for k, v := range form {
		if len(v) > 1 {
			return nil, fmt.Errorf("%w: %q repeated", errParams, k)
		}
		if strings.ContainsRune(v[0], 0) {
			return nil, fmt.Errorf("%w: %q contains NUL", errParams, k)
		}
	}
	return form, nil
}

// fositeRequest returns a POST request carrying form as a form body, for
// fosite, which reads only PostForm. The original request's Basic credentials
// go with it.
func fositeRequest(r *http.Request, form url.Values) *http.Request {
	fr, _ := http.NewRequestWithContext(r.Context(), http.MethodPost, r.URL.Path, strings.NewReader(form.Encode()))
	fr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if auth := r.Header.Get("Authorization"); auth != "" {
		fr.Header.Set("Authorization", auth)
	}
	return fr
}

// userTokenResponse is the body of a successful authorization_code or
// refresh_token grant: exactly KFTC's field set (no rsp_code: clients read
// its absence as success).
type userTokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"` // a JSON number, as KFTC sends it
	RefreshToken string `json:"refresh_token"`
	Scope        string `json:"scope"`
	UserSeqNo    string `json:"user_seq_no"`
}

// institutionTokenResponse is the body of a successful client_credentials
// grant (scope oob, sa or products).
type institutionTokenResponse struct {
	AccessToken   string `json:"access_token"`
	TokenType     string `json:"token_type"`
	ExpiresIn     int64  `json:"expires_in"`
	Scope         string `json:"scope"`
	ClientUseCode string `json:"client_use_code"`
}

// handleToken handles "POST /oauth/2.0/token": the authorization_code,
// refresh_token and client_credentials grants, client_secret_post or Basic.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	form, err := decodeForm(w, r)
	if err != nil {
		return err
	}
	grant := form.Get("grant_type")
	switch grant {
	case "authorization_code":
		if form.Get("code") == "" {
			return fmt.Errorf("%w: no code", errParams)
		}
	case "refresh_token":
		if form.Get("refresh_token") == "" {
			return fmt.Errorf("%w: no refresh_token", errParams)
		}
	case "client_credentials":
	case "":
		return fmt.Errorf("%w: no grant_type", errParams)
	default:
		return fosite.ErrUnsupportedGrantType
	}
	if grant == "client_credentials" {
		scopes := scopeList(form.Get("scope"))
		if len(scopes) == 0 {
			return fmt.Errorf("%w: no scope", errParams)
		}
		for _, sc := range scopes {
			if sc != obx.ScopeOOB && sc != obx.ScopeSA && sc != obx.ScopeProducts {
				return fmt.Errorf("%w: %q", errUserScope, sc)
			}
		}
	}

	sess := &session{}
	ar, err := s.provider.NewAccessRequest(ctx, fositeRequest(r, form), sess)
	if err != nil {
		return err
	}
	c, ok := ar.GetClient().(*client)
	if !ok {
		return fmt.Errorf("token: client of type %T", ar.GetClient())
	}
	if grant == "client_credentials" {
		// fosite authenticated the client and checked the scopes against its
		// registration; only a self-authenticating TSP may have "sa".
		for _, sc := range ar.GetRequestedScopes() {
			if sc == obx.ScopeSA && !c.tsp.SelfAuth {
				return errSelfAuth
			}
			ar.GrantScope(sc)
		}
	}

	resp, err := s.provider.NewAccessResponse(ctx, ar)
	if err != nil {
		return err
	}
	expiresIn, _ := resp.GetExtra("expires_in").(int64)
	scope := strings.Join(ar.GetGrantedScopes(), " ")
	if grant == "client_credentials" {
		writeJSON(w, institutionTokenResponse{
			AccessToken:   resp.GetAccessToken(),
			TokenType:     "Bearer",
			ExpiresIn:     expiresIn,
			Scope:         scope,
			ClientUseCode: c.tsp.ClientUseCode,
		})
		return nil
	}
	refresh, _ := resp.GetExtra("refresh_token").(string)
	userSess, _ := ar.GetSession().(*session)
	if userSess == nil || userSess.UserSeqNo == "" {
		return fmt.Errorf("token: %s grant without a user", grant)
	}
	writeJSON(w, userTokenResponse{
		AccessToken:  resp.GetAccessToken(),
		TokenType:    "Bearer",
		ExpiresIn:    expiresIn,
		RefreshToken: refresh,
		Scope:        scope,
		UserSeqNo:    userSess.UserSeqNo,
	})
	return nil
}

// revokeResponse is the body of a successful revocation (kftc-api.md §3.3).
// client_secret is always "" (never echo a secret), and refresh_token is ""
// because the hub stores only signatures and cannot name it; access_token
// echoes the token the client sent.
type revokeResponse struct {
	RspCode      string `json:"rsp_code"`
	RspMessage   string `json:"rsp_message"`
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// handleRevoke handles "POST /oauth/2.0/revoke": client_id and client_secret
// (or Basic), and access_token (or RFC 7009's token). It revokes the token
// and every token of its grant, the refresh token included. An unknown or
// already revoked token is a success, as RFC 7009 says.
func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request) error {
	form, err := decodeForm(w, r)
	if err != nil {
		return err
	}
	token := form.Get("access_token")
	if token == "" {
		token = form.Get("token")
	}
	if token == "" {
		return fmt.Errorf("%w: no access_token", errParams)
	}
	rf := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	for _, k := range []string{"client_id", "client_secret"} {
		if v := form.Get(k); v != "" {
			rf.Set(k, v)
		}
	}
	if err := s.provider.NewRevocationRequest(r.Context(), fositeRequest(r, rf)); err != nil {
		return err
	}
	clientID := form.Get("client_id")
	if id, _, ok := r.BasicAuth(); ok && clientID == "" {
		clientID, _ = url.QueryUnescape(id)
	}
	writeJSON(w, revokeResponse{RspCode: "A0000", ClientID: clientID, AccessToken: token})
	return nil
}

// scopeList splits a space-separated scope parameter, dropping duplicates.
func scopeList(s string) []string {
	var out []string
	for _, sc := range strings.Fields(s) {
		if !slices.Contains(out, sc) {
			out = append(out, sc)
		}
	}
	return out
}
