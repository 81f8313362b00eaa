// Package oauth is the hub's OAuth 2.0 authorization server, compatible with
// KFTC Open Banking's /oauth/2.0 endpoints, built on ory/fosite.
//
// fosite does the protocol: the authorization code grant (with optional PKCE,
// S256 only), refresh tokens with rotation and replay detection, the client
// credentials grant, RFC 7009 revocation, and introspection. Tokens are opaque
// HMAC-SHA512/256 values signed with Config.Secret; the database holds only
// their signatures (obx.TokenStore). This package adapts fosite to the hub:
//
//   - the KFTC wire format: tolerant decoding of token requests (form body,
//     query parameters, JSON bodies), KFTC's exact response field sets, and
//     failures as {rsp_code, rsp_message} with HTTP 200, mapped in one table
//     (errors.go);
//   - the consent pages: server-rendered, script-free HTML in which the
//     customer chooses a bank, signs in to it, chooses accounts and agrees to
//     what the app may do; the flow's state lives in the database
//     (obx.ConsentFlowStore), so any replica can serve any page;
//   - Introspect, which the API uses to turn a bearer token into an
//     obx.Principal, checking on every call that the client, its TSP and the
//     user's link are still active.
//
// Expiry is checked against Config.Now in this package's storage adapter, and
// against the wall clock by fosite; in production they agree, and tests move
// Config.Now forward to expire codes and tokens.
package oauth
