package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/obxhub/obx"
)

var _ obx.AccountStore = (*DB)(nil)

// randomDigits returns n random decimal digits from crypto/rand, so that user
// and fintech use numbers cannot be guessed from one another.
func randomDigits(n int) string {
	b := make([]byte, n)
	for i := range b {
		d, _ := rand.Int(rand.Reader, big.NewInt(10))
		b[i] = byte('0' + d.Int64())
	}
	return string(b)
}

// Register implements obx.AccountStore.
func (db *DB) Register(ctx context.Context, reg *obx.Registration) (*obx.User, []*obx.Account, error) {
	if len(reg.ClientUseCode) != 10 {
		return nil, nil, obx.Errorf(obx.EINVALID, "client use code %q must have 10 characters", reg.ClientUseCode)
	}
	var user *obx.User
	var accounts []*obx.Account
	err := db.transact(ctx, func(tx *sql.Tx) error {
		var err error
		if user, err = db.upsertUser(ctx, tx, reg.User, reg.AgreedAt); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `
			INSERT INTO user_links (tsp_id, user_seq_no, state, linked_at, changed_at)
			VALUES ($1, $2, $3, $4, $4)
			ON CONFLICT (tsp_id, user_seq_no) DO UPDATE SET
				linked_at = CASE WHEN user_links.state = $3 THEN user_links.linked_at ELSE excluded.linked_at END,
				state = excluded.state,
				changed_at = excluded.changed_at`,
			reg.TSPID, user.SeqNo, obx.LinkActive, db.ts(reg.AgreedAt))
		if err != nil {
			return fmt.Errorf("link user: %w", err)
		}
		accounts = accounts[:0]
		if !reg.Inquiry && !reg.Transfer {
			return nil
		}
		for _, ba := range reg.Accounts {
			a, err := db.registerAccount(ctx, tx, reg, user.SeqNo, ba)
			if err != nil {
				return err
			}
			accounts = append(accounts, a)
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return user, accounts, nil
}

// upsertUser finds the user by CI, refreshing their profile, or creates them
// with a new random user_seq_no.
func (db *DB) upsertUser(ctx context.Context, tx *sql.Tx, u obx.User, at time.Time) (*obx.User, error) {
	if u.CI == "" {
		return nil, obx.Errorf(obx.EINVALID, "The user has no CI.")
	}
	var seq string
	err := tx.QueryRowContext(ctx, `SELECT user_seq_no FROM users WHERE user_ci = $1`, u.CI).Scan(&seq)
	switch {
	case err == nil:
		_, err = tx.ExecContext(ctx, `
			UPDATE users SET name = $1, birth_date = $2, gender = $3, cell_no = $4, email = $5
			WHERE user_seq_no = $6`, u.Name, u.BirthDate, u.Gender, u.CellNo, u.Email, seq)
		if err != nil {
			return nil, fmt.Errorf("update user: %w", err)
		}
		return db.userBy(ctx, tx, "user_seq_no", seq)
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("find user by ci: %w", err)
	}
	for range 10 {
		seq = "1" + randomDigits(9)
		// DO NOTHING on any conflict: a taken user_seq_no is retried, and a
		// CI registered meanwhile by a concurrent consent is reused.
		res, err := tx.ExecContext(ctx, `
			INSERT INTO users (user_seq_no, user_ci, name, birth_date, gender, cell_no, email, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT DO NOTHING`,
			seq, u.CI, u.Name, u.BirthDate, u.Gender, u.CellNo, u.Email, db.ts(at))
		if err != nil {
			return nil, fmt.Errorf("insert user: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return db.userBy(ctx, tx, "user_seq_no", seq)
		}
		if existing, err := db.userBy(ctx, tx, "user_ci", u.CI); err == nil {
			return existing, nil
		}
	}
	return nil, errors.New("insert user: no free user_seq_no after 10 tries")
}

// registerAccount creates or renews one account registration.
func (db *DB) registerAccount(ctx context.Context, tx *sql.Tx, reg *obx.Registration, seq string, ba obx.BankAccount) (*obx.Account, error) {
	var inqAt, inqExp, trAt, trExp any
	if reg.Inquiry {
		inqAt, inqExp = db.ts(reg.AgreedAt), db.ts(reg.ExpiresAt)
	}
	if reg.Transfer {
		trAt, trExp = db.ts(reg.AgreedAt), db.ts(reg.ExpiresAt)
	}
	for range 10 {
		var num, owner string
		err := tx.QueryRowContext(ctx, `
			SELECT fintech_use_num, user_seq_no FROM accounts
			WHERE tsp_id = $1 AND bank_code = $2 AND account_num = $3 AND account_seq = $4`,
			reg.TSPID, ba.BankCode, ba.Number, ba.Seq).Scan(&num, &owner)
		switch {
		case err == nil:
			if owner != seq {
				return nil, obx.Errorf(obx.ECONFLICT, "The account is registered to another user.")
			}
			// A renewal keeps the consent that was not asked for this time.
			_, err = tx.ExecContext(ctx, `
				UPDATE accounts SET
					state = $1, branch_code = $2, holder_name = $3, holder_type = $4, account_type = $5,
					inquiry_agreed_at = COALESCE($6, CASE WHEN state = $1 THEN inquiry_agreed_at END),
					inquiry_expires_at = COALESCE($7, CASE WHEN state = $1 THEN inquiry_expires_at END),
					transfer_agreed_at = COALESCE($8, CASE WHEN state = $1 THEN transfer_agreed_at END),
					transfer_expires_at = COALESCE($9, CASE WHEN state = $1 THEN transfer_expires_at END)
				WHERE fintech_use_num = $10`,
				obx.AccountStateActive, ba.BranchCode, ba.HolderName, ba.HolderType, ba.Type,
				inqAt, inqExp, trAt, trExp, num)
			if err != nil {
				return nil, fmt.Errorf("renew account: %w", err)
			}
			return db.account(ctx, tx, reg.TSPID, num)
		case !errors.Is(err, sql.ErrNoRows):
			return nil, fmt.Errorf("find account: %w", err)
		}
		// "1" + the nine digits of the TSP's code + 14 random digits, the shape
		// real fintech use numbers have. DO NOTHING on any conflict: a taken
		// number is retried, and an account registered meanwhile by a
		// concurrent consent is found and renewed on the next turn.
		num = "1" + reg.ClientUseCode[1:] + randomDigits(14)
		res, err := tx.ExecContext(ctx, `
			INSERT INTO accounts (fintech_use_num, tsp_id, user_seq_no, bank_code, branch_code, account_num,
				account_seq, alias, holder_name, holder_type, account_type, state,
				inquiry_agreed_at, inquiry_expires_at, transfer_agreed_at, transfer_expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, '', $8, $9, $10, $11, $12, $13, $14, $15, $16)
			ON CONFLICT DO NOTHING`,
			num, reg.TSPID, seq, ba.BankCode, ba.BranchCode, ba.Number, ba.Seq,
			ba.HolderName, ba.HolderType, ba.Type, obx.AccountStateActive,
			inqAt, inqExp, trAt, trExp, db.ts(reg.AgreedAt))
		if err != nil {
			return nil, fmt.Errorf("insert account: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 1 {
			return db.account(ctx, tx, reg.TSPID, num)
		}
	}
	return nil, errors.New("insert account: no free fintech use number after 10 tries")
}

const userColumns = `user_seq_no, user_ci, name, birth_date, gender, cell_no, email, created_at`

// userBy returns the user whose column (user_seq_no or user_ci) equals value.
func (db *DB) userBy(ctx context.Context, q queryer, column, value string) (*obx.User, error) {
	var u obx.User
	err := q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE `+column+` = $1`, value).
		Scan(&u.SeqNo, &u.CI, &u.Name, &u.BirthDate, &u.Gender, &u.CellNo, &u.Email, scanTime(&u.CreatedAt))
	if err != nil {
		return nil, notFound(fmt.Errorf("user: %w", err), "No such user.")
	}
	return &u, nil
}

// User implements obx.AccountStore.
func (db *DB) User(ctx context.Context, seqNo string) (*obx.User, error) {
	return db.userBy(ctx, db.q, "user_seq_no", seqNo)
}

// UserByCI implements obx.AccountStore.
func (db *DB) UserByCI(ctx context.Context, ci string) (*obx.User, error) {
	return db.userBy(ctx, db.q, "user_ci", ci)
}

// Link implements obx.AccountStore.
func (db *DB) Link(ctx context.Context, tspID int64, seqNo string) (*obx.Link, error) {
	l := obx.Link{TSPID: tspID, UserSeqNo: seqNo}
	err := db.q.QueryRowContext(ctx, `
		SELECT state, linked_at, changed_at FROM user_links WHERE tsp_id = $1 AND user_seq_no = $2`,
		tspID, seqNo).Scan(&l.State, scanTime(&l.LinkedAt), scanTime(&l.ChangedAt))
	if err != nil {
		return nil, notFound(fmt.Errorf("link: %w", err), "The user is not linked with this TSP.")
	}
	return &l, nil
}

const accountColumns = `fintech_use_num, tsp_id, user_seq_no, bank_code, branch_code, account_num, account_seq,
	alias, holder_name, holder_type, account_type, state,
	inquiry_agreed_at, inquiry_expires_at, transfer_agreed_at, transfer_expires_at, created_at`

func scanAccount(row interface{ Scan(...any) error }) (*obx.Account, error) {
	var a obx.Account
	err := row.Scan(accountDest(&a)...)
	return &a, err
}

// accountDest is where a row of accountColumns scans into a.
func accountDest(a *obx.Account) []any {
	return []any{&a.FintechUseNum, &a.TSPID, &a.UserSeqNo, &a.BankCode, &a.BranchCode, &a.Number, &a.Seq,
		&a.Alias, &a.HolderName, &a.HolderType, &a.Type, &a.State,
		scanTime(&a.InquiryAgreedAt), scanTime(&a.InquiryExpiresAt),
		scanTime(&a.TransferAgreedAt), scanTime(&a.TransferExpiresAt), scanTime(&a.CreatedAt)}
}

func (db *DB) account(ctx context.Context, q queryer, tspID int64, num string) (*obx.Account, error) {
	var a *obx.Account
	var err error
	if q == db.q && db.accountReads != nil {
		a, err = db.accountReads.get(ctx, accountKey{tspID, num})
	} else {
		a, err = scanAccount(q.QueryRowContext(ctx,
			`SELECT `+accountColumns+` FROM accounts WHERE fintech_use_num = $1 AND tsp_id = $2`, num, tspID))
	}
	if errors.Is(err, sql.ErrNoRows) {
		return nil, obx.WrapError(obx.ENOTFOUND, "No account with this fintech use number.", obx.ErrUnknownFintechNum)
	}
	if err != nil {
		return nil, fmt.Errorf("account: %w", err)
	}
	return a, nil
}

// accountKey names a registered account: the TSP's fintech use number.
type accountKey struct {
	tsp int64
	num string
}

// newAccountReads coalesces the reads of accounts by fintech use number:
// every call about an account makes one.
func newAccountReads(db *DB) *lookup[accountKey, *obx.Account] {
	return newLookup(db, `SELECT q.n, `+columnsOf("a", accountColumns)+`
		FROM unnest($1::bigint[], $2::text[]) WITH ORDINALITY AS q(tsp, num, n)
		JOIN accounts a ON a.fintech_use_num = q.num AND a.tsp_id = q.tsp`,
		func(keys []accountKey) []any {
			tsps, nums := make([]int64, len(keys)), make([]string, len(keys))
			for i, k := range keys {
				tsps[i], nums[i] = k.tsp, k.num
			}
			return []any{tsps, nums}
		},
		func(rows *sql.Rows, n *int) (*obx.Account, error) { return scanAccount(numbered{rows, n}) })
}

// Account implements obx.AccountStore. On PostgreSQL, concurrent calls share
// one query (see lookup).
func (db *DB) Account(ctx context.Context, tspID int64, fintechUseNum string) (*obx.Account, error) {
	return db.account(ctx, db.q, tspID, fintechUseNum)
}

// AccountByNumber implements obx.AccountStore.
func (db *DB) AccountByNumber(ctx context.Context, tspID int64, bankCode, accountNum string) (*obx.Account, error) {
	a, err := scanAccount(db.q.QueryRowContext(ctx, `SELECT `+accountColumns+` FROM accounts
		WHERE tsp_id = $1 AND bank_code = $2 AND account_num = $3 ORDER BY account_seq LIMIT 1`, tspID, bankCode, accountNum))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, obx.WrapError(obx.ENOTFOUND, "The account is not registered with this TSP.", obx.ErrUnknownFintechNum)
	}
	if err != nil {
		return nil, fmt.Errorf("account by number: %w", err)
	}
	return a, nil
}

// Accounts implements obx.AccountStore.
func (db *DB) Accounts(ctx context.Context, tspID int64, seqNo string, includeCancelled bool) ([]*obx.Account, error) {
	q := `SELECT ` + accountColumns + ` FROM accounts WHERE tsp_id = $1 AND user_seq_no = $2`
	if !includeCancelled {
		q += ` AND state <> '` + obx.AccountStateCancelled + `'`
	}
	rows, err := db.q.QueryContext(ctx, q+` ORDER BY created_at, fintech_use_num`, tspID, seqNo)
	if err != nil {
		return nil, fmt.Errorf("list accounts: %w", err)
	}
	defer rows.Close()
	var out []*obx.Account
	for rows.Next() {
		a, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("scan account: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// UpdateAlias implements obx.AccountStore.
func (db *DB) UpdateAlias(ctx context.Context, tspID int64, fintechUseNum, alias string) (*obx.Account, error) {
	var a *obx.Account
	err := db.transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET alias = $1 WHERE fintech_use_num = $2 AND tsp_id = $3`,
			alias, fintechUseNum, tspID)
		if err != nil {
			return fmt.Errorf("update alias: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return obx.WrapError(obx.ENOTFOUND, "No account with this fintech use number.", obx.ErrUnknownFintechNum)
		}
		a, err = db.account(ctx, tx, tspID, fintechUseNum)
		return err
	})
	return a, err
}

// CancelAccount implements obx.AccountStore.
func (db *DB) CancelAccount(ctx context.Context, tspID int64, fintechUseNum, scope string, at time.Time) (*obx.Account, error) {
	var set string
	switch scope {
	case obx.ScopeInquiry:
		set = `inquiry_agreed_at = NULL, inquiry_expires_at = NULL`
	case obx.ScopeTransfer:
		set = `transfer_agreed_at = NULL, transfer_expires_at = NULL`
	default:
		return nil, obx.Errorf(obx.EINVALID, "scope must be inquiry or transfer")
	}
	var a *obx.Account
	err := db.transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE accounts SET `+set+` WHERE fintech_use_num = $1 AND tsp_id = $2`,
			fintechUseNum, tspID)
		if err != nil {
			return fmt.Errorf("cancel account: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return obx.WrapError(obx.ENOTFOUND, "No account with this fintech use number.", obx.ErrUnknownFintechNum)
		}
		_, err = tx.ExecContext(ctx, `
			UPDATE accounts SET state = $1
			WHERE fintech_use_num = $2 AND inquiry_agreed_at IS NULL AND transfer_agreed_at IS NULL`,
			obx.AccountStateCancelled, fintechUseNum)
		if err != nil {
			return fmt.Errorf("cancel account: %w", err)
		}
		a, err = db.account(ctx, tx, tspID, fintechUseNum)
		return err
	})
	return a, err
}

// SetLinkState implements obx.AccountStore.
func (db *DB) SetLinkState(ctx context.Context, tspID int64, seqNo, state string, at time.Time) error {
	if state != obx.LinkUnlinked && state != obx.LinkClosed {
		return obx.Errorf(obx.EINVALID, "link state must be unlinked or closed")
	}
	return db.transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `
			UPDATE user_links SET state = $1, changed_at = $2 WHERE tsp_id = $3 AND user_seq_no = $4`,
			state, db.ts(at), tspID, seqNo)
		if err != nil {
			return fmt.Errorf("set link state: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return obx.Errorf(obx.ENOTFOUND, "The user is not linked with this TSP.")
		}
		if state == obx.LinkClosed {
			_, err = tx.ExecContext(ctx, `
				UPDATE accounts SET state = $1, inquiry_agreed_at = NULL, inquiry_expires_at = NULL,
					transfer_agreed_at = NULL, transfer_expires_at = NULL
				WHERE tsp_id = $2 AND user_seq_no = $3`, obx.AccountStateCancelled, tspID, seqNo)
			if err != nil {
				return fmt.Errorf("cancel accounts of closed user: %w", err)
			}
		}
		return revokeUserTokens(ctx, tx, tspID, seqNo)
	})
}
