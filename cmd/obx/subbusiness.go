package main

import (
	"context"
	"fmt"
	"io"

	"github.com/obxhub/obx"
	"github.com/obxhub/obx/sqlstore"
)

// runSubBusiness registers or updates a TSP's sub-business (하위사업자), and
// can turn on the rule that the TSP's transfers must name one. The admission
// workflow (a later issue) replaces this with prior approval by staff.
func runSubBusiness(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("subbusiness", "Registers or updates a sub-business of a TSP (a merchant using its payment\nmodule). Only approved sub-businesses may appear on transfers, and a TSP marked\nwith --require must name one on every transfer.", stderr)
	dsn := fs.String("db", "", "database URL (required)")
	code := fs.String("tsp", "", "the TSP's client_use_code (required)")
	num := fs.String("num", "", "sub_frnc_num, the sub-business's number with the TSP (required)")
	name := fs.String("name", "", "sub_frnc_name (required)")
	bizNum := fs.String("business-num", "", "sub_frnc_business_num, 10-digit business registration number (required)")
	approve := fs.Bool("approve", false, "mark the sub-business approved")
	require := fs.Bool("require", false, "also require the TSP's transfers to name an approved sub-business")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dsn == "" || *code == "" || *num == "" || *name == "" || len(*bizNum) != 10 {
		return fmt.Errorf("--db, --tsp, --num, --name and a 10-digit --business-num are required")
	}
	db, err := sqlstore.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	tsp, err := db.TSPByUseCode(ctx, *code)
	if err != nil {
		return err
	}
	sb := &obx.SubBusiness{TSPID: tsp.ID, Num: *num, Name: *name, BusinessNum: *bizNum, Approved: *approve}
	if err := db.PutSubBusiness(ctx, sb); err != nil {
		return err
	}
	if *require {
		c, err := db.Contract(ctx, tsp.ID)
		if err != nil {
			return err
		}
		c.SubBusinesses = true
		if err := db.SetContract(ctx, c); err != nil {
			return err
		}
	}
	fmt.Fprintf(stdout, "sub-business %s (%s) of %s: approved=%v\n", *num, *name, *code, *approve)
	return nil
}
