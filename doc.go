// Package obx is the domain of the obx open banking exchange: a hub through which
// third-party service providers (TSPs, fintech apps) reach the accounts that
// customers hold at many participating banks, through one standard API.
//
// Glossary:
//
//   - TSP (이용기관, "using institution"): a fintech or bank app admitted to the hub.
//     It has a client_use_code (a letter and nine digits) and one or more OAuth clients.
//   - Client: an OAuth 2.0 client (an "app") of a TSP, with a client_id, a hashed
//     secret, registered redirect URIs, and the scopes it may ask for. Sandbox clients
//     reach only simulated banks.
//   - User (사용자): a bank customer known to the hub, identified by their CI
//     (connecting information, an 88-character base64 value issued by identity
//     providers) and numbered by a 10-digit user_seq_no.
//   - Link: the relationship between a TSP and a user (the "login" consent).
//   - Account: a bank account that a user registered with one TSP. The TSP refers
//     to it only by a 24-digit fintech use number, which means nothing elsewhere.
//     Each account carries two consents: inquiry (제3자정보제공동의) and transfer
//     (출금동의), each with its own agreement time and expiry.
//   - Bank: a participating bank, reached through the Bank interface.
//
// This package imports only the standard library. Storage, transport, the OAuth
// protocol and bank connectors live in subpackages that adapt one outside thing
// each, and are wired together in cmd/obx.
package obx
