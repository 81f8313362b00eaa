package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/obxhub/obx"
)

var _ obx.AdmissionStore = (*DB)(nil)

// CreateApplicant implements obx.AdmissionStore.
func (db *DB) CreateApplicant(ctx context.Context, t *obx.TSP, u *obx.PortalUser, e *obx.AuditEntry) error {
	now := db.Now().UTC()
	if t.ID == 0 {
		t.ID = newID()
	}
	if u.ID == 0 {
		u.ID = newID()
	}
	t.CreatedAt, u.CreatedAt, u.TSPID = now, now, t.ID
	return db.transact(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO tsps (id, name, client_use_code, status, self_auth, created_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, t.ID, t.Name, t.ClientUseCode, t.Status, t.SelfAuth, db.ts(now))
		if isUniqueViolation(err) {
			return obx.WrapError(obx.ECONFLICT, "The client use code is already taken.", err)
		}
		if err != nil {
			return fmt.Errorf("insert tsp: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO applications (tsp_id, state, company_name, updated_at)
			VALUES ($1, $2, $3, $4)`, t.ID, obx.AdmDraft, t.Name, db.ts(now)); err != nil {
			return fmt.Errorf("insert application: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO portal_users (id, tsp_id, email, name, phone, password_hash, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, u.ID, t.ID, u.Email, u.Name, u.Phone, u.PasswordHash, db.ts(now))
		if isUniqueViolation(err) {
			return obx.WrapError(obx.ECONFLICT, "That email address is already signed up.", err)
		}
		if err != nil {
			return fmt.Errorf("insert portal user: %w", err)
		}
		e.Subject = fmt.Sprintf("tsp:%d", t.ID)
		return db.appendAudit(ctx, tx, e)
	})
}

const applicationColumns = `tsp_id, state, company_name, business_num, category, activities, services, apis,
	service_plan, sub_business, self_cert, credit_rating, paid_in_capital, annual_revenue, business_months,
	service_months, members, annual_transactions, licences, aml, complaint_handling, account_verification,
	decision, decision_reasons, submitted_at, updated_at`

func scanApplication(row interface{ Scan(...any) error }) (*obx.Application, error) {
	var a obx.Application
	var activities, services, apis, licences string
	err := row.Scan(&a.TSPID, &a.State, &a.CompanyName, &a.BusinessNum, &a.Category, &activities, &services, &apis,
		&a.ServicePlan, &a.SubBusiness, &a.SelfCert, &a.CreditRating, &a.PaidInCapital, &a.AnnualRevenue, &a.BusinessMonths,
		&a.ServiceMonths, &a.Members, &a.AnnualTransactions, &licences, &a.AML, &a.ComplaintHandling, &a.AccountVerification,
		&a.Decision, &a.DecisionReasons, scanTime(&a.SubmittedAt), scanTime(&a.UpdatedAt))
	a.Activities, a.Services, a.APIs, a.Licences = strings.Fields(activities), strings.Fields(services),
		strings.Fields(apis), strings.Fields(licences)
	return &a, err
}

// AdmissionFile implements obx.AdmissionStore.
func (db *DB) AdmissionFile(ctx context.Context, tspID int64) (*obx.AdmissionFile, error) {
	var f *obx.AdmissionFile
	err := db.transact(ctx, func(tx *sql.Tx) error {
		var err error
		f, err = db.readFile(ctx, tx, tspID, false)
		return err
	})
	return f, err
}

// readFile reads a TSP's whole file; with lock, PostgreSQL locks the
// application row until the transaction ends (SQLite's transactions hold
// the database's write lock from BEGIN).
func (db *DB) readFile(ctx context.Context, tx *sql.Tx, tspID int64, lock bool) (*obx.AdmissionFile, error) {
	q := `SELECT ` + applicationColumns + ` FROM applications WHERE tsp_id = $1`
	if lock && db.engine == Postgres {
		q += ` FOR UPDATE`
	}
	app, err := scanApplication(tx.QueryRowContext(ctx, q, tspID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, obx.WrapError(obx.ENOTFOUND, "No such application.", err)
	}
	if err != nil {
		return nil, fmt.Errorf("application: %w", err)
	}
	f := &obx.AdmissionFile{App: app}
	if f.TSP, err = scanTSP(tx.QueryRowContext(ctx, `SELECT `+tspColumns+` FROM tsps WHERE id = $1`, tspID)); err != nil {
		return nil, fmt.Errorf("tsp: %w", err)
	}
	err = eachRow(ctx, tx, `SELECT api, passed_at, confirmed_at, confirmed_by FROM functional_checks WHERE tsp_id = $1 ORDER BY api`,
		[]any{tspID}, func(r *sql.Rows) error {
			var c obx.FunctionalCheck
			if err := r.Scan(&c.API, scanTime(&c.PassedAt), scanTime(&c.ConfirmedAt), &c.ConfirmedBy); err != nil {
				return err
			}
			f.Checks = append(f.Checks, &c)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("functional checks: %w", err)
	}
	err = eachRow(ctx, tx, `SELECT id, part, title, note, found_at, found_by, remedy, remedied_at, closed_at, closed_by
		FROM security_items WHERE tsp_id = $1 ORDER BY found_at, id`, []any{tspID}, func(r *sql.Rows) error {
		s := obx.SecurityItem{TSPID: tspID}
		if err := r.Scan(&s.ID, &s.Part, &s.Title, &s.CreatedNote, scanTime(&s.FoundAt), &s.FoundBy, &s.Remedy,
			scanTime(&s.RemediedAt), scanTime(&s.ClosedAt), &s.ClosedBy); err != nil {
			return err
		}
		f.Security = append(f.Security, &s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("security items: %w", err)
	}
	var c obx.AdmissionContract
	err = tx.QueryRowContext(ctx, `SELECT main_bank, main_bank_fee, daily_withdraw_limit, user_daily_limit,
		per_transfer_limit, daily_deposit_limit, large, guarantee, guarantee_percent, insured_amount, requested_at, signed_at
		FROM admission_contracts WHERE tsp_id = $1`, tspID).Scan(&c.MainBank, &c.MainBankFee, &c.DailyWithdrawLimit,
		&c.UserDailyLimit, &c.PerTransferLimit, &c.DailyDepositLimit, &c.Large, &c.Guarantee, &c.GuaranteePercent,
		&c.InsuredAmount, scanTime(&c.RequestedAt), scanTime(&c.SignedAt))
	switch {
	case err == nil:
		f.Contract = &c
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("admission contract: %w", err)
	}
	if f.Contract != nil {
		err = eachRow(ctx, tx, `SELECT account_num, bank_code, holder_name, kind FROM admission_accounts WHERE tsp_id = $1
			ORDER BY account_num`, []any{tspID}, func(r *sql.Rows) error {
			a := obx.ContractAccount{TSPID: tspID}
			if err := r.Scan(&a.AccountNum, &a.BankCode, &a.HolderName, &a.Kind); err != nil {
				return err
			}
			c.Accounts = append(c.Accounts, a)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("admission accounts: %w", err)
		}
		err = eachRow(ctx, tx, `SELECT bank_code, limit_amount, agreed_at FROM bank_guarantees WHERE tsp_id = $1
			ORDER BY bank_code`, []any{tspID}, func(r *sql.Rows) error {
			var g obx.BankGuarantee
			if err := r.Scan(&g.BankCode, &g.Limit, scanTime(&g.AgreedAt)); err != nil {
				return err
			}
			c.BankGuarantees = append(c.BankGuarantees, g)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("bank guarantees: %w", err)
		}
	}
	err = eachRow(ctx, tx, `SELECT id, at, author, kind, rule, text FROM file_notes WHERE tsp_id = $1 ORDER BY at, id`,
		[]any{tspID}, func(r *sql.Rows) error {
			n := obx.Note{TSPID: tspID}
			if err := r.Scan(&n.ID, scanTime(&n.At), &n.Author, &n.Kind, &n.Rule, &n.Text); err != nil {
				return err
			}
			f.Notes = append(f.Notes, &n)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("notes: %w", err)
	}
	return f, nil
}

// eachRow runs query and calls fn for every row.
func eachRow(ctx context.Context, q queryer, query string, args []any, fn func(*sql.Rows) error) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// UpdateAdmission implements obx.AdmissionStore.
func (db *DB) UpdateAdmission(ctx context.Context, tspID int64, fn func(f *obx.AdmissionFile) (*obx.AuditEntry, error)) (*obx.AdmissionFile, error) {
	var out *obx.AdmissionFile
	err := db.transact(ctx, func(tx *sql.Tx) error {
		f, err := db.readFile(ctx, tx, tspID, true)
		if err != nil {
			return err
		}
		e, err := fn(f)
		if err != nil {
			return err
		}
		if e == nil {
			return fmt.Errorf("update admission: no audit entry")
		}
		if err := db.writeFile(ctx, tx, f); err != nil {
			return err
		}
		if e.Subject == "" {
			e.Subject = fmt.Sprintf("tsp:%d", tspID)
		}
		if err := db.appendAudit(ctx, tx, e); err != nil {
			return err
		}
		out = f
		return nil
	})
	return out, err
}

// writeFile saves every part of f. Rows are inserted or updated, never
// deleted: a security item is closed, not removed.
func (db *DB) writeFile(ctx context.Context, tx *sql.Tx, f *obx.AdmissionFile) error {
	now := db.Now().UTC()
	a := f.App
	a.UpdatedAt = now
	_, err := tx.ExecContext(ctx, `UPDATE applications SET state = $2, company_name = $3, business_num = $4,
		category = $5, activities = $6, services = $7, apis = $8, service_plan = $9, sub_business = $10, self_cert = $11,
		credit_rating = $12, paid_in_capital = $13, annual_revenue = $14, business_months = $15, service_months = $16,
		members = $17, annual_transactions = $18, licences = $19, aml = $20, complaint_handling = $21,
		account_verification = $22, decision = $23, decision_reasons = $24, submitted_at = $25, updated_at = $26
		WHERE tsp_id = $1`,
		a.TSPID, a.State, a.CompanyName, a.BusinessNum, a.Category, strings.Join(a.Activities, " "),
		strings.Join(a.Services, " "), strings.Join(a.APIs, " "), a.ServicePlan, a.SubBusiness, a.SelfCert,
		a.CreditRating, a.PaidInCapital, a.AnnualRevenue, a.BusinessMonths, a.ServiceMonths, a.Members,
		a.AnnualTransactions, strings.Join(a.Licences, " "), a.AML, a.ComplaintHandling, a.AccountVerification,
		a.Decision, a.DecisionReasons, db.ts(a.SubmittedAt), db.ts(now))
	if err != nil {
		return fmt.Errorf("update application: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE tsps SET name = $2, status = $3, self_auth = $4 WHERE id = $1`,
		f.TSP.ID, f.TSP.Name, f.TSP.Status, f.TSP.SelfAuth); err != nil {
		return fmt.Errorf("update tsp: %w", err)
	}
	for _, c := range f.Checks {
		if _, err := tx.ExecContext(ctx, `INSERT INTO functional_checks (tsp_id, api, passed_at, confirmed_at, confirmed_by)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tsp_id, api) DO UPDATE SET
			passed_at = excluded.passed_at, confirmed_at = excluded.confirmed_at, confirmed_by = excluded.confirmed_by`,
			a.TSPID, c.API, db.ts(c.PassedAt), db.ts(c.ConfirmedAt), c.ConfirmedBy); err != nil {
			return fmt.Errorf("save functional check: %w", err)
		}
	}
	for _, s := range f.Security {
		if s.ID == 0 {
			s.ID, s.TSPID = newID(), a.TSPID
			if s.FoundAt.IsZero() {
				s.FoundAt = now
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO security_items (id, tsp_id, part, title, note, found_at, found_by,
			remedy, remedied_at, closed_at, closed_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
			ON CONFLICT (id) DO UPDATE SET remedy = excluded.remedy, remedied_at = excluded.remedied_at,
			closed_at = excluded.closed_at, closed_by = excluded.closed_by`,
			s.ID, a.TSPID, s.Part, s.Title, s.CreatedNote, db.ts(s.FoundAt), s.FoundBy, s.Remedy, db.ts(s.RemediedAt),
			db.ts(s.ClosedAt), s.ClosedBy); err != nil {
			return fmt.Errorf("save security item: %w", err)
		}
	}
	if c := f.Contract; c != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO admission_contracts (tsp_id, main_bank, main_bank_fee,
			daily_withdraw_limit, user_daily_limit, per_transfer_limit, daily_deposit_limit, large, guarantee,
			guarantee_percent, insured_amount, requested_at, signed_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
			ON CONFLICT (tsp_id) DO UPDATE SET main_bank = excluded.main_bank, main_bank_fee = excluded.main_bank_fee,
			daily_withdraw_limit = excluded.daily_withdraw_limit, user_daily_limit = excluded.user_daily_limit,
			per_transfer_limit = excluded.per_transfer_limit, daily_deposit_limit = excluded.daily_deposit_limit,
			large = excluded.large, guarantee = excluded.guarantee, guarantee_percent = excluded.guarantee_percent,
			insured_amount = excluded.insured_amount, requested_at = excluded.requested_at, signed_at = excluded.signed_at`,
			a.TSPID, c.MainBank, c.MainBankFee, c.DailyWithdrawLimit, c.UserDailyLimit, c.PerTransferLimit,
			c.DailyDepositLimit, c.Large, c.Guarantee, c.GuaranteePercent, c.InsuredAmount, db.ts(c.RequestedAt),
			db.ts(c.SignedAt)); err != nil {
			return fmt.Errorf("save admission contract: %w", err)
		}
		for _, ac := range c.Accounts {
			if _, err := tx.ExecContext(ctx, `INSERT INTO admission_accounts (tsp_id, account_num, bank_code, holder_name, kind)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tsp_id, account_num) DO UPDATE SET bank_code = excluded.bank_code,
				holder_name = excluded.holder_name, kind = excluded.kind`,
				a.TSPID, ac.AccountNum, ac.BankCode, ac.HolderName, ac.Kind); err != nil {
				return fmt.Errorf("save admission account: %w", err)
			}
		}
		for _, g := range c.BankGuarantees {
			if _, err := tx.ExecContext(ctx, `INSERT INTO bank_guarantees (tsp_id, bank_code, limit_amount, agreed_at)
				VALUES ($1, $2, $3, $4) ON CONFLICT (tsp_id, bank_code) DO UPDATE SET limit_amount = excluded.limit_amount,
				agreed_at = excluded.agreed_at`, a.TSPID, g.BankCode, g.Limit, db.ts(g.AgreedAt)); err != nil {
				return fmt.Errorf("save bank guarantee: %w", err)
			}
		}
		if f.ActivateContract {
			if err := db.activateContract(ctx, tx, a.TSPID, c); err != nil {
				return err
			}
		}
	}
	for _, n := range f.Notes {
		if n.ID != 0 {
			continue
		}
		n.ID, n.TSPID = newID(), a.TSPID
		if n.At.IsZero() {
			n.At = now
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO file_notes (id, tsp_id, at, author, kind, rule, text)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, n.ID, a.TSPID, db.ts(n.At), n.Author, n.Kind, n.Rule, n.Text); err != nil {
			return fmt.Errorf("save note: %w", err)
		}
	}
	if c := f.IssueClient; c != nil {
		if c.CreatedAt.IsZero() {
			c.CreatedAt = now
		}
		if err := db.insertClient(ctx, tx, c); err != nil {
			return err
		}
	}
	if f.RevokeClients {
		if _, err := tx.ExecContext(ctx, `UPDATE clients SET revoked_at = $2 WHERE tsp_id = $1 AND revoked_at IS NULL`,
			a.TSPID, db.ts(now)); err != nil {
			return fmt.Errorf("revoke clients: %w", err)
		}
	}
	return nil
}

// activateContract writes the money-movement contract and its accounts
// (the tables the transfer engine reads) from the signed admission contract,
// when the TSP goes live or comes back from suspension. An existing contract
// row is replaced; existing accounts stay.
func (db *DB) activateContract(ctx context.Context, tx *sql.Tx, tspID int64, c *obx.AdmissionContract) error {
	var hash string
	err := tx.QueryRowContext(ctx, `SELECT pass_phrase_hash FROM contracts WHERE tsp_id = $1`, tspID).Scan(&hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("contract: %w", err)
	}
	if hash == "" {
		hash = string(obx.HashPassPhrase("NONE"))
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO contracts (tsp_id, main_bank, daily_withdraw_limit, user_daily_limit,
		per_transfer_limit, daily_deposit_limit, pass_phrase_hash, sub_businesses, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, FALSE, $8)
		ON CONFLICT (tsp_id) DO UPDATE SET main_bank = excluded.main_bank,
		daily_withdraw_limit = excluded.daily_withdraw_limit, user_daily_limit = excluded.user_daily_limit,
		per_transfer_limit = excluded.per_transfer_limit, daily_deposit_limit = excluded.daily_deposit_limit,
		updated_at = excluded.updated_at`,
		tspID, c.MainBank, c.DailyWithdrawLimit, c.UserDailyLimit, c.PerTransferLimit, c.DailyDepositLimit,
		hash, db.ts(db.Now())); err != nil {
		return fmt.Errorf("activate contract: %w", err)
	}
	for _, a := range c.Accounts {
		if _, err := tx.ExecContext(ctx, `INSERT INTO contract_accounts (tsp_id, account_num, bank_code, holder_name, kind, created_at)
			VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tsp_id, account_num) DO NOTHING`,
			tspID, a.AccountNum, a.BankCode, a.HolderName, a.Kind, db.ts(db.Now())); err != nil {
			return fmt.Errorf("activate contract account: %w", err)
		}
	}
	return nil
}

// Queue implements obx.AdmissionStore.
func (db *DB) Queue(ctx context.Context, state string, limit int) ([]*obx.AdmissionSummary, error) {
	if limit <= 0 || limit > 500 {
		limit = 100
	}
	var out []*obx.AdmissionSummary
	err := eachRow(ctx, db.db, `SELECT a.tsp_id, t.name, t.client_use_code, a.state, a.company_name, a.updated_at
		FROM applications a JOIN tsps t ON t.id = a.tsp_id WHERE a.state = $1 ORDER BY a.updated_at, a.tsp_id LIMIT $2`,
		[]any{state, limit}, func(r *sql.Rows) error {
			var s obx.AdmissionSummary
			if err := r.Scan(&s.TSPID, &s.TSPName, &s.ClientUseCode, &s.State, &s.CompanyName, scanTime(&s.UpdatedAt)); err != nil {
				return err
			}
			out = append(out, &s)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return out, nil
}

// QueueCounts returns how many files each state holds.
func (db *DB) QueueCounts(ctx context.Context) (map[string]int, error) {
	out := map[string]int{}
	err := eachRow(ctx, db.db, `SELECT state, COUNT(*) FROM applications GROUP BY state`, nil, func(r *sql.Rows) error {
		var s string
		var n int
		if err := r.Scan(&s, &n); err != nil {
			return err
		}
		out[s] = n
		return nil
	})
	return out, err
}

// SeedAdmission implements obx.AdmissionStore.
func (db *DB) SeedAdmission(ctx context.Context, f *obx.AdmissionFile, entries []*obx.AuditEntry) error {
	now := db.Now().UTC()
	t := f.TSP
	return db.transact(ctx, func(tx *sql.Tx) error {
		if t.ID == 0 {
			t.ID, t.CreatedAt = newID(), now
			_, err := tx.ExecContext(ctx, `INSERT INTO tsps (id, name, client_use_code, status, self_auth, created_at)
				VALUES ($1, $2, $3, $4, $5, $6)`, t.ID, t.Name, t.ClientUseCode, t.Status, t.SelfAuth, db.ts(now))
			if isUniqueViolation(err) {
				return obx.WrapError(obx.ECONFLICT, "The client use code is already taken.", err)
			}
			if err != nil {
				return fmt.Errorf("insert tsp: %w", err)
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO applications (tsp_id, state, company_name, updated_at)
			VALUES ($1, $2, $3, $4)`, t.ID, f.App.State, f.App.CompanyName, db.ts(now))
		if isUniqueViolation(err) {
			return obx.WrapError(obx.ECONFLICT, "The TSP already has an admission file.", err)
		}
		if err != nil {
			return fmt.Errorf("insert application: %w", err)
		}
		f.App.TSPID = t.ID
		if f.Contract != nil {
			for i := range f.Contract.Accounts {
				f.Contract.Accounts[i].TSPID = t.ID
			}
		}
		if f.IssueClient != nil {
			f.IssueClient.TSPID = t.ID
		}
		if err := db.writeFile(ctx, tx, f); err != nil {
			return err
		}
		for _, e := range entries {
			if e.Subject == "" {
				e.Subject = fmt.Sprintf("tsp:%d", t.ID)
			}
			if err := db.appendAudit(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
}

// RecordSandboxSuccess implements obx.AdmissionStore. The first success
// counts, whether it comes before or after the application names the API.
// It is not audited: it records the TSP's own calls, not anyone's decision,
// and the reviewer's confirmation of the checklist is.
func (db *DB) RecordSandboxSuccess(ctx context.Context, tspID int64, api string, at time.Time) error {
	_, err := db.q.ExecContext(ctx, `INSERT INTO functional_checks (tsp_id, api, passed_at) VALUES ($1, $2, $3)
		ON CONFLICT (tsp_id, api) DO UPDATE SET passed_at = COALESCE(functional_checks.passed_at, excluded.passed_at)`,
		tspID, api, db.ts(at))
	if err != nil {
		return fmt.Errorf("record sandbox success: %w", err)
	}
	return nil
}

func (db *DB) insertClient(ctx context.Context, q queryer, c *obx.Client) error {
	_, err := q.ExecContext(ctx, `
		INSERT INTO clients (client_id, tsp_id, name, secret_hash, redirect_uris, scopes, env, created_at, revoked_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		c.ID, c.TSPID, c.Name, string(c.SecretHash), strings.Join(c.RedirectURIs, "\n"),
		strings.Join(c.Scopes, " "), c.Env, db.ts(c.CreatedAt), db.ts(c.RevokedAt))
	if isUniqueViolation(err) {
		return obx.WrapError(obx.ECONFLICT, "The client id is already taken.", err)
	}
	if err != nil {
		return fmt.Errorf("insert client: %w", err)
	}
	return nil
}

// CreateClientAudited stores a new client with its audit entry.
func (db *DB) CreateClientAudited(ctx context.Context, c *obx.Client, e *obx.AuditEntry) error {
	if c.CreatedAt.IsZero() {
		c.CreatedAt = db.Now().UTC()
	}
	return db.transact(ctx, func(tx *sql.Tx) error {
		if err := db.insertClient(ctx, tx, c); err != nil {
			return err
		}
		return db.appendAudit(ctx, tx, e)
	})
}

// SaveClientAudited saves a client's name, redirect URIs, secrets and
// revocation with its audit entry.
func (db *DB) SaveClientAudited(ctx context.Context, c *obx.Client, e *obx.AuditEntry) error {
	return db.transact(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE clients SET name = $2, redirect_uris = $3, secret_hash = $4,
			previous_secret_hash = $5, previous_secret_until = $6, revoked_at = $7 WHERE client_id = $1`,
			c.ID, c.Name, strings.Join(c.RedirectURIs, "\n"), string(c.SecretHash), string(c.PreviousSecretHash),
			db.ts(c.PreviousSecretUntil), db.ts(c.RevokedAt))
		if err != nil {
			return fmt.Errorf("save client: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return obx.Errorf(obx.ENOTFOUND, "No such client.")
		}
		return db.appendAudit(ctx, tx, e)
	})
}

// Clients returns a TSP's clients, newest first.
func (db *DB) Clients(ctx context.Context, tspID int64) ([]*obx.Client, error) {
	var out []*obx.Client
	err := eachRow(ctx, db.db, `SELECT `+clientColumns+` FROM clients WHERE tsp_id = $1 ORDER BY created_at DESC, client_id`,
		[]any{tspID}, func(r *sql.Rows) error {
			c, err := scanClient(r)
			if err != nil {
				return err
			}
			out = append(out, c)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("clients: %w", err)
	}
	return out, nil
}

// SubBusinesses returns a TSP's sub-businesses.
func (db *DB) SubBusinesses(ctx context.Context, tspID int64) ([]*obx.SubBusiness, error) {
	var out []*obx.SubBusiness
	err := eachRow(ctx, db.db, `SELECT num, name, business_num, approved, state FROM sub_businesses WHERE tsp_id = $1
		ORDER BY num`, []any{tspID}, func(r *sql.Rows) error {
		s := obx.SubBusiness{TSPID: tspID}
		if err := r.Scan(&s.Num, &s.Name, &s.BusinessNum, &s.Approved, &s.State); err != nil {
			return err
		}
		out = append(out, &s)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sub-businesses: %w", err)
	}
	return out, nil
}

// SaveSubBusinessAudited creates or updates a sub-business, its review state
// and the contract's sub-business rule, with the audit entry. A TSP with a
// sub-business must name one on every transfer (rules.md §6), so the
// contract's flag is set in the same transaction when there is a contract.
func (db *DB) SaveSubBusinessAudited(ctx context.Context, s *obx.SubBusiness, e *obx.AuditEntry) error {
	return db.transact(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sub_businesses (tsp_id, num, name, business_num, approved, state, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tsp_id, num) DO UPDATE SET name = excluded.name,
			business_num = excluded.business_num, approved = excluded.approved, state = excluded.state,
			updated_at = excluded.updated_at`,
			s.TSPID, s.Num, s.Name, s.BusinessNum, s.Approved, s.State, db.ts(db.Now())); err != nil {
			return fmt.Errorf("save sub-business: %w", err)
		}
		if s.Approved {
			if _, err := tx.ExecContext(ctx, `UPDATE contracts SET sub_businesses = TRUE WHERE tsp_id = $1`, s.TSPID); err != nil {
				return fmt.Errorf("contract sub-business rule: %w", err)
			}
		}
		return db.appendAudit(ctx, tx, e)
	})
}

var _ obx.AdmissionRepository = (*DB)(nil)
