// Package workload is a Jepsen-style bank workload for the hub: concurrent
// TSP clients that move money through the KFTC transfer APIs and retry as
// real clients do, a nemesis that injects bank faults and kills processes,
// and a checker that audits the outcome against the banks' ledgers and the
// hub's database.
//
// The pieces are independent of how the hub and banks run; the workload test
// in cmd/obx wires them to real processes (Proc) and a real database:
//
//   - Runner: workers that each ask for one withdrawal or deposit after
//     another, and resend a request whose outcome is open (no answer, a
//     timeout, A0001) with the same bank_tran_id and body, or look it up with
//     transfer/result. Every attempt and what it said is kept in History.
//   - LimitController: keeps the TSP's daily withdrawal limit just out of
//     reach, so that acceptances race for the last of it again and again.
//   - Schedule and Nemesis: bank faults (latency, errors, timeouts, lost
//     responses after the bank applied the operation, outages, maintenance),
//     SIGKILLs of the hub's replicas and of banks, and slow spells of the
//     TSP's bank that outlive the hub's transfer leases.
//   - Check: the invariants of a bank, audited after the faults stop and
//     every transfer is final: money is conserved; no balance goes negative;
//     each transfer moved money at most once, in the legs its final state
//     says, and nothing else moved money; every transfer is final; every
//     answer a client got agrees with the final state; limits hold, at the
//     end and before each raise, and limit_usage matches the transfers; the
//     interbank movements net to zero and match the banks' balances.
//
// Every random choice comes from a seed, so a run's schedule (which
// transfers, amounts, faults and kills, and when) can be replayed. The
// interleavings that real time and real processes produce cannot: a replay
// explores the same schedule, not the same execution.
package workload
