// Package bankhttp is the bank protocol: how the hub reaches a participating
// bank's adapter over HTTP/JSON. Client implements obx.Bank on the hub's side;
// Server serves any obx.Bank on the bank's side (`obx banksim` serves a
// simulated bank through it). docs/bank-protocol.md specifies the protocol.
//
// Domain errors survive the round trip: a *obx.BankError arrives as a
// *obx.BankError with the bank's response code, and an *obx.Error keeps its
// code and its ErrBankDown or ErrBankMaintenance sentinel. Transport failures
// are classified by what they mean for a debit or credit: a connection that
// could not be made is EUNAVAILABLE wrapping obx.ErrBankDown (nothing was
// sent, so nothing was applied); a request that got no answer in time, or lost
// its answer, is ETIMEOUT (the outcome is unknown and must be settled with
// Operation).
//
// No personal identifier travels in a URL: lookups by CI or account number
// are POSTs with the identifier in the JSON body (read-only, so the client
// marks them safe to retry), and the only path parameter is the hub's
// operation id. URLs are what proxies and access logs record.
//
// The wire structs live here, with their json tags; the domain types of
// package obx carry none.
package bankhttp
