// Package kftc is the KFTC Open Banking API v2.0 wire format: the response
// envelope, rsp_codes and the one table that maps domain errors onto them,
// field formats (KST timestamps, N(n)/AN(n) strings), and the tolerant request
// decoding that real KFTC clients need (numbers where strings are specified,
// JSON without a Content-Type, forms where JSON is specified, nulls, unknown
// fields).
//
// The reference is ../shared/spec/kftc-api.md; section numbers in comments
// point into it.
package kftc
