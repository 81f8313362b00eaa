package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/sqlstore"
	"github.com/obxhub/obx/web"
)

// runAdmin runs "obx admin <subcommand>": the center's chores that need no
// console, starting with the first staff account.
func runAdmin(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create-user" {
		fmt.Fprint(stderr, "Usage: obx admin create-user --db URL --email EMAIL --name NAME --role admin|reviewer|auditor [--password-stdin]\n")
		return fmt.Errorf("unknown admin command")
	}
	fs := newFlagSet("admin create-user", "Creates a staff account of the operator console. Without --password-stdin a\nrandom password is generated and printed once. The creation is audited.", stderr)
	dsn := fs.String("db", "", "database URL (required)")
	email := fs.String("email", "", "the staff member's email, used to sign in (required)")
	name := fs.String("name", "", "the staff member's name (required)")
	role := fs.String("role", obx.RoleAdmin, "admin (everything), reviewer (workflow steps) or auditor (read-only, audit trail)")
	fromStdin := fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *dsn == "" || *email == "" || *name == "" {
		return fmt.Errorf("--db, --email and --name are required")
	}
	password := ""
	if *fromStdin {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return fmt.Errorf("read password: %w", err)
		}
		password = strings.TrimRight(line, "\r\n")
	}
	db, err := sqlstore.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := db.Migrate(ctx, nil); err != nil {
		return err
	}
	password, err = createStaff(ctx, db, *email, *name, *role, password, "cli")
	if err != nil {
		return err
	}
	if *fromStdin {
		fmt.Fprintf(stdout, "staff %s (%s) created\n", *email, *role)
	} else {
		fmt.Fprintf(stdout, "staff %s (%s) created; password (shown once): %s\n", *email, *role, password)
	}
	return nil
}

// createStaff creates a staff account, generating a password when none is
// given, and returns the password.
func createStaff(ctx context.Context, db *sqlstore.DB, email, name, role, password, actor string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if !slices.Contains(obx.Roles, role) {
		return "", fmt.Errorf("--role must be one of %s", strings.Join(obx.Roles, ", "))
	}
	if !strings.Contains(email, "@") {
		return "", fmt.Errorf("--email %q is not an email address", email)
	}
	if password == "" {
		var b [15]byte
		rand.Read(b[:])
		password = base64.RawURLEncoding.EncodeToString(b[:])
	}
	if len(password) < web.MinPasswordLen {
		return "", fmt.Errorf("the password needs at least %d characters", web.MinPasswordLen)
	}
	hash, err := web.HashPassword(password)
	if err != nil {
		return "", err
	}
	u := &obx.StaffUser{Email: email, Name: name, Role: role, PasswordHash: hash}
	return password, db.CreateStaff(ctx, u, &obx.AuditEntry{Actor: actor, Action: "staff.create", Subject: "staff:" + email, After: role})
}
