package sqlstore

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

var (
	_ obx.TokenStore       = (*DB)(nil)
	_ obx.ConsentFlowStore = (*DB)(nil)
)

// tokenTxKey is the context key of the transaction BeginTokenTx starts.
type tokenTxKey struct{}

// tokenQ returns the transaction ctx carries, or the pool.
func (db *DB) tokenQ(ctx context.Context) queryer {
	if tx, ok := ctx.Value(tokenTxKey{}).(*sql.Tx); ok {
		return tx
	}
	return db.q
}

// BeginTokenTx implements obx.TokenStore.
func (db *DB) BeginTokenTx(ctx context.Context) (context.Context, error) {
	if _, ok := ctx.Value(tokenTxKey{}).(*sql.Tx); ok {
		return ctx, obx.Errorf(obx.EINVALID, "a token transaction is already open")
	}
	tx, err := db.db.BeginTx(ctx, nil)
	if err != nil {
		return ctx, fmt.Errorf("begin token transaction: %w", err)
	}
	return context.WithValue(ctx, tokenTxKey{}, tx), nil
}

// CommitTokenTx implements obx.TokenStore.
func (db *DB) CommitTokenTx(ctx context.Context) error {
	tx, ok := ctx.Value(tokenTxKey{}).(*sql.Tx)
	if !ok {
		return obx.Errorf(obx.EINVALID, "no token transaction to commit")
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit token transaction: %w", err)
	}
	return nil
}

// RollbackTokenTx implements obx.TokenStore.
func (db *DB) RollbackTokenTx(ctx context.Context) error {
	tx, ok := ctx.Value(tokenTxKey{}).(*sql.Tx)
	if !ok {
		return obx.Errorf(obx.EINVALID, "no token transaction to roll back")
	}
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("roll back token transaction: %w", err)
	}
	return nil
}

// CreateToken implements obx.TokenStore.
func (db *DB) CreateToken(ctx context.Context, r *obx.TokenRecord) error {
	var seq any
	if r.UserSeqNo != "" {
		seq = r.UserSeqNo
	}
	_, err := db.tokenQ(ctx).ExecContext(ctx, `
		INSERT INTO oauth_tokens (kind, signature, request_id, client_id, tsp_id, user_seq_no,
			scopes, data, active, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		r.Kind, r.Signature, r.RequestID, r.ClientID, r.TSPID, seq,
		strings.Join(r.Scopes, " "), string(r.Data), r.Active, db.ts(r.CreatedAt), db.ts(r.ExpiresAt))
	if isUniqueViolation(err) {
		return obx.WrapError(obx.ECONFLICT, "The token exists.", err)
	}
	if err != nil {
		return fmt.Errorf("insert %s token: %w", r.Kind, err)
	}
	return nil
}

// Token implements obx.TokenStore.
func (db *DB) Token(ctx context.Context, kind, signature string) (*obx.TokenRecord, error) {
	r := obx.TokenRecord{Kind: kind, Signature: signature}
	var seq sql.NullString
	var scopes, data string
	err := db.tokenQ(ctx).QueryRowContext(ctx, `
		SELECT request_id, client_id, tsp_id, user_seq_no, scopes, data, active, created_at, expires_at
		FROM oauth_tokens WHERE kind = $1 AND signature = $2`, kind, signature).
		Scan(&r.RequestID, &r.ClientID, &r.TSPID, &seq, &scopes, &data, &r.Active,
			scanTime(&r.CreatedAt), scanTime(&r.ExpiresAt))
	if err != nil {
		return nil, notFound(fmt.Errorf("%s token: %w", kind, err), "No such token.")
	}
	r.UserSeqNo = seq.String
	r.Scopes = strings.Fields(scopes)
	r.Data = []byte(data)
	return &r, nil
}

// TokenWithClient implements obx.TokenStore. Outside a token transaction,
// on PostgreSQL, concurrent calls share one query (see lookup).
func (db *DB) TokenWithClient(ctx context.Context, kind, signature string) (*obx.TokenRecord, *obx.Client, *obx.TSP, error) {
	var tc *tokenWithClient
	var err error
	_, inTx := ctx.Value(tokenTxKey{}).(*sql.Tx)
	switch {
	case db.tokenReads != nil && !inTx:
		if h := obx.PayerHintFromContext(ctx); h != nil && payerHintUsable(h) {
			var r *tokenAndPayer
			r, err = db.tokenPayerReads.get(ctx, tokenPayerKey{tokenKey{kind, signature}, h.FintechUseNum, h.CntrAccountNum})
			if err == nil {
				tc = r.token
				h.Read = &hintedPayer{payerKey{r.token.r.TSPID, h.FintechUseNum, h.CntrAccountNum}, r.payer}
				break
			}
			if !errors.Is(err, sql.ErrNoRows) {
				break
			}
			// No such token, or no such payer or contract for its TSP: the
			// token alone, and the payer's own read will say what is missing.
		}
		tc, err = db.tokenReads.get(ctx, tokenKey{kind, signature})
	default:
		var dest []any
		dest, tc = newTokenWithClient()
		err = db.tokenQ(ctx).QueryRowContext(ctx, `SELECT `+tokenWithClientColumns+`
			FROM oauth_tokens k `+tokenWithClientJoins+`
			WHERE k.kind = $1 AND k.signature = $2`, kind, signature).Scan(dest...)
	}
	if err != nil {
		return nil, nil, nil, notFound(fmt.Errorf("%s token: %w", kind, err), "No such token.")
	}
	rec, client, tsp := tc.finish(kind, signature)
	return rec, client, tsp, nil
}

// tokenKey names a stored token.
type tokenKey struct{ kind, signature string }

// tokenWithClient is one row of TokenWithClient's join, as scanned.
type tokenWithClient struct {
	r            obx.TokenRecord
	t            obx.TSP
	seq, link    sql.NullString
	scopes, data string
	client       func() *obx.Client
}

// TokenWithClient's join: the token k with its client c, TSP t and the
// user's link l, every column that newTokenWithClient scans.
var (
	tokenWithClientColumns = `k.request_id, k.client_id, k.tsp_id, k.user_seq_no, k.scopes, k.data, k.active,
		k.created_at, k.expires_at, l.state, ` + columnsOf("c", clientColumns) + `, ` + columnsOf("t", tspColumns)
	tokenWithClientJoins = `JOIN clients c ON c.client_id = k.client_id
		JOIN tsps t ON t.id = c.tsp_id
		LEFT JOIN user_links l ON l.tsp_id = t.id AND l.user_seq_no = k.user_seq_no`
)

// newTokenWithClient returns a row to scan into and the destinations that
// fill it, in tokenWithClientColumns' order.
func newTokenWithClient() ([]any, *tokenWithClient) {
	tc := &tokenWithClient{}
	r := &tc.r
	dest := []any{&r.RequestID, &r.ClientID, &r.TSPID, &tc.seq, &tc.scopes, &tc.data, &r.Active,
		scanTime(&r.CreatedAt), scanTime(&r.ExpiresAt), &tc.link}
	clientDest, client := clientDest()
	tc.client = client
	return append(append(dest, clientDest...), tspDest(&tc.t)...), tc
}

// finish completes the scanned row's token, client and TSP.
func (tc *tokenWithClient) finish(kind, signature string) (*obx.TokenRecord, *obx.Client, *obx.TSP) {
	r := &tc.r
	r.Kind, r.Signature = kind, signature
	r.UserSeqNo, r.LinkState = tc.seq.String, tc.link.String
	r.Scopes = strings.Fields(tc.scopes)
	r.Data = []byte(tc.data)
	return r, tc.client(), &tc.t
}

// newTokenReads coalesces TokenWithClient's reads: every API call makes one.
func newTokenReads(db *DB) *lookup[tokenKey, *tokenWithClient] {
	return newLookup(db, `SELECT q.n, `+tokenWithClientColumns+`
		FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS q(kind, signature, n)
		JOIN oauth_tokens k ON k.kind = q.kind AND k.signature = q.signature `+tokenWithClientJoins,
		func(keys []tokenKey) []any {
			kinds, sigs := make([]string, len(keys)), make([]string, len(keys))
			for i, k := range keys {
				kinds[i], sigs[i] = k.kind, k.signature
			}
			return []any{kinds, sigs}
		},
		func(rows *sql.Rows, n *int) (*tokenWithClient, error) {
			dest, tc := newTokenWithClient()
			return tc, numbered{rows, n}.Scan(dest...)
		})
}

// tokenPayerKey names a token and the payer a withdrawal hints at (see
// obx.PayerHint).
type tokenPayerKey struct {
	token     tokenKey
	fin, cntr string
}

// tokenAndPayer is one row of the token-and-payer read.
type tokenAndPayer struct {
	token *tokenWithClient
	payer *payerRow
}

// hintedPayer is what a PayerHint holds once the token's read has read the
// payer: the key PayerAndContract must be called with to use it.
type hintedPayer struct {
	key payerKey
	row *payerRow
}

// payerHintUsable reports whether a hint may join a shared read: a value
// PostgreSQL would refuse as text (a NUL byte, invalid UTF-8) would fail the
// query of every caller in the batch. Fintech use numbers and account
// numbers are short and printable ASCII; the request's own validation says
// what is wrong with anything else.
func payerHintUsable(h *obx.PayerHint) bool {
	printable := func(s string, max int) bool {
		if s == "" || len(s) > max {
			return false
		}
		for i := range len(s) {
			if s[i] < 0x21 || s[i] > 0x7e {
				return false
			}
		}
		return true
	}
	return printable(h.FintechUseNum, 24) && printable(h.CntrAccountNum, 16)
}

// newTokenPayerReads coalesces the reads of a token together with the payer
// and contract a withdrawal hints at (obx.PayerHint): one query answers both
// reads of a withdrawal by fintech use number. The payer is joined as the
// token's TSP's account only, so a hint can never read another TSP's. A key
// whose payer or contract is missing returns no row; its caller then reads
// the token alone.
func newTokenPayerReads(db *DB) *lookup[tokenPayerKey, *tokenAndPayer] {
	return newLookup(db, `SELECT q.n, `+tokenWithClientColumns+`, p.*
		FROM unnest($1::text[], $2::text[], $4::text[], $5::text[]) WITH ORDINALITY AS q(kind, signature, fin, num, n)
		JOIN oauth_tokens k ON k.kind = q.kind AND k.signature = q.signature `+tokenWithClientJoins+`
		CROSS JOIN LATERAL (SELECT `+columnsOf("acct", accountColumns)+`, `+contractColumns+`
			FROM accounts acct JOIN contracts c ON c.tsp_id = acct.tsp_id `+contractJoins("q.num")+`
			WHERE acct.fintech_use_num = q.fin AND acct.tsp_id = t.id) p`,
		func(keys []tokenPayerKey) []any {
			kinds, sigs := make([]string, len(keys)), make([]string, len(keys))
			fins, nums := make([]string, len(keys)), make([]string, len(keys))
			for i, k := range keys {
				kinds[i], sigs[i], fins[i], nums[i] = k.token.kind, k.token.signature, k.fin, k.cntr
			}
			return []any{kinds, sigs, obx.GuaranteeIndividual, fins, nums}
		},
		func(rows *sql.Rows, n *int) (*tokenAndPayer, error) {
			dest, tc := newTokenWithClient()
			r := &tokenAndPayer{token: tc, payer: &payerRow{account: &obx.Account{}}}
			contract, row := newContractRow()
			r.payer.contract = row
			dest = append(append(dest, accountDest(r.payer.account)...), contract...)
			return r, numbered{rows, n}.Scan(dest...)
		})
}

// DeactivateToken implements obx.TokenStore.
func (db *DB) DeactivateToken(ctx context.Context, kind, signature string) error {
	q := db.tokenQ(ctx)
	res, err := q.ExecContext(ctx, `
		UPDATE oauth_tokens SET active = FALSE WHERE kind = $1 AND signature = $2 AND active`,
		kind, signature)
	if err != nil {
		return fmt.Errorf("deactivate %s token: %w", kind, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("deactivate %s token: %w", kind, err)
	} else if n == 1 {
		return nil
	}
	var active bool
	err = q.QueryRowContext(ctx, `SELECT active FROM oauth_tokens WHERE kind = $1 AND signature = $2`,
		kind, signature).Scan(&active)
	if err != nil {
		return notFound(fmt.Errorf("deactivate %s token: %w", kind, err), "No such token.")
	}
	return obx.Errorf(obx.ECONFLICT, "The token was already used or revoked.")
}

// DeleteToken implements obx.TokenStore.
func (db *DB) DeleteToken(ctx context.Context, kind, signature string) error {
	_, err := db.tokenQ(ctx).ExecContext(ctx,
		`DELETE FROM oauth_tokens WHERE kind = $1 AND signature = $2`, kind, signature)
	if err != nil {
		return fmt.Errorf("delete %s token: %w", kind, err)
	}
	return nil
}

// RevokeTokens implements obx.TokenStore.
func (db *DB) RevokeTokens(ctx context.Context, requestID, kind string) error {
	var err error
	if kind == "" {
		_, err = db.tokenQ(ctx).ExecContext(ctx,
			`UPDATE oauth_tokens SET active = FALSE WHERE request_id = $1 AND active`, requestID)
	} else {
		_, err = db.tokenQ(ctx).ExecContext(ctx,
			`UPDATE oauth_tokens SET active = FALSE WHERE request_id = $1 AND kind = $2 AND active`,
			requestID, kind)
	}
	if err != nil {
		return fmt.Errorf("revoke tokens of grant: %w", err)
	}
	return nil
}

// DeleteExpiredTokens implements obx.TokenStore.
func (db *DB) DeleteExpiredTokens(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.tokenQ(ctx).ExecContext(ctx, `DELETE FROM oauth_tokens WHERE expires_at < $1`, db.ts(before))
	if err != nil {
		return 0, fmt.Errorf("delete expired tokens: %w", err)
	}
	return res.RowsAffected()
}

// revokeUserTokens marks inactive, inside tx, every token (codes, access and
// refresh tokens) that the TSP's clients hold for the user. SetLinkState calls
// it in the transaction that unlinks or closes the user, so the change and the
// revocation commit together.
func revokeUserTokens(ctx context.Context, tx *sql.Tx, tspID int64, seqNo string) error {
	_, err := tx.ExecContext(ctx, `
		UPDATE oauth_tokens SET active = FALSE WHERE tsp_id = $1 AND user_seq_no = $2 AND active`,
		tspID, seqNo)
	if err != nil {
		return fmt.Errorf("revoke user tokens: %w", err)
	}
	return nil
}

// CreateConsentFlow implements obx.ConsentFlowStore.
func (db *DB) CreateConsentFlow(ctx context.Context, f *obx.ConsentFlow) error {
	f.Version = 1
	_, err := db.q.ExecContext(ctx, `
		INSERT INTO consent_flows (id, client_id, request, step, bank_code, user_ci, user_seq_no,
			account_nums, attempts, csrf_hash, binding_hash, version, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		f.ID, f.ClientID, f.Request, f.Step, f.BankCode, f.UserCI, f.UserSeqNo,
		strings.Join(f.AccountNums, "\n"), f.Attempts, hex.EncodeToString(f.CSRFHash),
		hex.EncodeToString(f.BindingHash), f.Version, db.ts(f.CreatedAt), db.ts(f.ExpiresAt))
	if isUniqueViolation(err) {
		return obx.WrapError(obx.ECONFLICT, "The consent flow exists.", err)
	}
	if err != nil {
		return fmt.Errorf("insert consent flow: %w", err)
	}
	return nil
}

// ConsentFlow implements obx.ConsentFlowStore.
func (db *DB) ConsentFlow(ctx context.Context, id string) (*obx.ConsentFlow, error) {
	f := obx.ConsentFlow{ID: id}
	var nums, csrf, binding string
	err := db.q.QueryRowContext(ctx, `
		SELECT client_id, request, step, bank_code, user_ci, user_seq_no, account_nums, attempts,
			csrf_hash, binding_hash, version, created_at, expires_at
		FROM consent_flows WHERE id = $1`, id).
		Scan(&f.ClientID, &f.Request, &f.Step, &f.BankCode, &f.UserCI, &f.UserSeqNo, &nums, &f.Attempts,
			&csrf, &binding, &f.Version, scanTime(&f.CreatedAt), scanTime(&f.ExpiresAt))
	if err != nil {
		return nil, notFound(fmt.Errorf("consent flow: %w", err), "The consent flow has ended or expired.")
	}
	f.AccountNums = splitNonEmpty(nums, "\n")
	if f.CSRFHash, err = hex.DecodeString(csrf); err != nil {
		return nil, fmt.Errorf("consent flow csrf hash: %w", err)
	}
	if f.BindingHash, err = hex.DecodeString(binding); err != nil {
		return nil, fmt.Errorf("consent flow binding hash: %w", err)
	}
	return &f, nil
}

// UpdateConsentFlow implements obx.ConsentFlowStore. The ID, client, request,
// hashes and creation time never change; everything else is saved.
func (db *DB) UpdateConsentFlow(ctx context.Context, f *obx.ConsentFlow) error {
	res, err := db.q.ExecContext(ctx, `
		UPDATE consent_flows SET step = $1, bank_code = $2, user_ci = $3, user_seq_no = $4,
			account_nums = $5, attempts = $6, expires_at = $7, version = version + 1
		WHERE id = $8 AND version = $9`,
		f.Step, f.BankCode, f.UserCI, f.UserSeqNo, strings.Join(f.AccountNums, "\n"), f.Attempts,
		db.ts(f.ExpiresAt), f.ID, f.Version)
	if err != nil {
		return fmt.Errorf("update consent flow: %w", err)
	}
	if err := db.flowChanged(ctx, res, f.ID); err != nil {
		return err
	}
	f.Version++
	return nil
}

// DeleteConsentFlow implements obx.ConsentFlowStore.
func (db *DB) DeleteConsentFlow(ctx context.Context, id string, version int64) error {
	res, err := db.q.ExecContext(ctx, `DELETE FROM consent_flows WHERE id = $1 AND version = $2`, id, version)
	if err != nil {
		return fmt.Errorf("delete consent flow: %w", err)
	}
	return db.flowChanged(ctx, res, id)
}

// flowChanged classifies a version-checked write of flow id that may have
// matched no row: ENOTFOUND if the flow is gone, ECONFLICT if its version moved.
func (db *DB) flowChanged(ctx context.Context, res sql.Result, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("consent flow: %w", err)
	}
	if n == 1 {
		return nil
	}
	var v int64
	err = db.q.QueryRowContext(ctx, `SELECT version FROM consent_flows WHERE id = $1`, id).Scan(&v)
	if err != nil {
		return notFound(fmt.Errorf("consent flow: %w", err), "The consent flow has ended or expired.")
	}
	return obx.Errorf(obx.ECONFLICT, "The consent flow was changed by another request.")
}

// DeleteExpiredConsentFlows implements obx.ConsentFlowStore.
func (db *DB) DeleteExpiredConsentFlows(ctx context.Context, before time.Time) (int64, error) {
	res, err := db.q.ExecContext(ctx, `DELETE FROM consent_flows WHERE expires_at < $1`, db.ts(before))
	if err != nil {
		return 0, fmt.Errorf("delete expired consent flows: %w", err)
	}
	return res.RowsAffected()
}
