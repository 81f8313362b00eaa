package main

import (
	"context"
	"fmt"
	"io"

	"github.com/obxhub/obx/sqlstore"
)

func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("migrate", "Applies the embedded schema migrations to the database and reports what it did.\nRunning it again applies nothing.", stderr)
	dsn := fs.String("db", "", "database URL: postgres://… or sqlite://path (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dsn == "" {
		return fmt.Errorf("--db is required")
	}
	db, err := sqlstore.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := db.Migrate(ctx, nil)
	for _, v := range applied {
		fmt.Fprintf(stdout, "applied migration %d\n", v)
	}
	if err != nil {
		return err
	}
	v, err := db.Version(ctx)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintf(stdout, "schema is up to date at version %d (%s)\n", v, db.Engine())
	} else {
		fmt.Fprintf(stdout, "schema now at version %d (%s)\n", v, db.Engine())
	}
	return nil
}
