/*
 * fault_load.h - the fault suite's client load: N threads, each with its own
 * libmariadb session through the proxy (level `session`, the suite's
 * default), each looping
 *
 *     INSERT INTO gtidproxy_test.fault_rows (id, val) VALUES (<fresh id>, <val>)
 *     SELECT val FROM gtidproxy_test.fault_rows WHERE id = <that id>
 *
 * and keeping, per attempted id, what the client was told (acknowledged,
 * not run, outcome unknown). Optional reader sessions never write: they
 * read rows seeded before the proxy started (SELECT val FROM fault_seed
 * WHERE id = k), so with no GTID to wait for the gate sends them to any
 * healthy replica -- the reads a hung or dying replica catches in flight. fault_load_stop() then
 * compares that with the rows on the primary and fills a struct fault_report: errors per code,
 * stale reads, replayed writes, lost writes, reconnects, the recovery time
 * after the fault, the longest stall, and the proxy's RSS growth (sampled
 * every 100 ms).
 *
 *   case ── fault_load_start ──▶ threads ──libmariadb──▶ gtidproxy ──▶ cluster
 *        ── fault_load_mark_fault / _restored (timestamps)
 *        ── fault_load_wait_ok  (every session completed N more cycles)
 *        ── fault_load_stop     ──▶ primary: SELECT id, val (the end check)
 *
 * Only the main (cmocka) thread calls these functions; the load threads
 * never call cmocka (its assertions longjmp and must not run elsewhere).
 * The argument for what counts as stale, replayed and lost is in
 * fault_load.c's header comment.
 */
#ifndef GTIDPROXY_FAULT_LOAD_H
#define GTIDPROXY_FAULT_LOAD_H

#include <stdbool.h>

#include "proxy_env.h"

#define FAULT_LOAD_MAX_THREADS 32
#define FAULT_MAX_CODES        24

/* The suite's table (created by fault_load_prepare on the primary). */
#define FAULT_DB        "gtidproxy_test"
#define FAULT_TABLE     "fault_rows"
#define FAULT_SEED      "fault_seed"
#define FAULT_SEED_ROWS 100

struct fault_load_opts {
    const struct proxy_proc *proxy;
    int threads;       /* writing sessions, 1..FAULT_LOAD_MAX_THREADS */
    int readers;       /* reading sessions; threads + readers <= FAULT_LOAD_MAX_THREADS */
    unsigned pause_ms; /* between two cycles of one thread (0: none) */
    /* NULL, or called by fault_load_stop() on the main thread once the load
     * threads are joined and before the end check reads the primary port:
     * e.g. wait until that node has replicated writes the load sent
     * elsewhere. It must not fail the test (fault_load_stop is half done):
     * false makes the end check fail instead ("not run"). */
    bool (*before_end_check)(void);
};

struct fault_code_count {
    unsigned code;
    unsigned long n;
};

struct fault_report {
    unsigned long cycles_ok; /* write acknowledged and read back, or a reader's read */
    unsigned long reads_ok;  /* readers' reads among them */
    unsigned long writes_ok, writes_not_run, writes_unknown;
    unsigned long unknown_applied; /* outcome-unknown writes found on the primary */
    unsigned long errors;          /* every error a client saw, writes, reads, connects */
    struct fault_code_count codes[FAULT_MAX_CODES];
    int n_codes;
    unsigned long undocumented; /* errors outside README "Error codes" and the server's */
    unsigned long stale;        /* a read after an acknowledged write did not see it, or a
                                   reader saw a seeded row wrong */
    unsigned long replays;      /* a write applied more often than the client was told */
    unsigned long lost;         /* an acknowledged write missing (or changed) at the end */
    unsigned long reconnects;   /* sessions reopened after the proxy dropped one */
    long recovery_ms;           /* see fault_load.c; -1: no success after the last error */
    long max_cycle_ms;          /* longest cycle after the fault mark */
    char max_cycle_who[96];     /* which session ran it, when */
    long stall_ms;              /* longest time without any completed cycle after it */
    long rss_base_kb, rss_max_kb, rss_growth_kb;
    long sched_lag_ms; /* fault_rss.h max_lag_ms: the machine's longest stall */
    bool verified;     /* the end check ran against the primary */
    char verify_error[256];
    char first_stale[256], first_undocumented[256], first_replay[256], first_lost[256];
};

/* Drops and re-creates FAULT_DB.FAULT_TABLE (empty) and FAULT_DB.FAULT_SEED
 * (FAULT_SEED_ROWS rows) on the primary, directly, not through the proxy,
 * and waits until the replicas have them. Fails the test on error. */
void fault_load_prepare(const struct cluster_env *env);

struct fault_load;

/* Starts the threads and the RSS sampler (on the proxy's pid; none in
 * direct mode). Fails the test if a thread cannot start. */
struct fault_load *fault_load_start(const struct fault_load_opts *o);

/* The fault happens now: the RSS baseline is taken, recovery, stalls and
 * the longest cycle are measured from here. */
void fault_load_mark_fault(struct fault_load *l);
/* The fault ended now (the node is back): recovery is measured from here
 * instead of from the fault, when this is called. */
void fault_load_mark_restored(struct fault_load *l);

/* True once every thread completed `cycles` more successful cycles than
 * when called; false after timeout_ms. */
bool fault_load_wait_ok(struct fault_load *l, unsigned cycles, unsigned timeout_ms);

/* Stops and joins the threads, runs the end check against the primary,
 * fills *r (may be NULL: a teardown that only cleans up) and frees l.
 * NULL l is a no-op. */
void fault_load_stop(struct fault_load *l, struct fault_report *r);

/* Monotonic milliseconds. */
double fault_now_ms(void);

/* Prints the parseable line
 *   fault <name>: recovered in <ms> ms, errors <n> (codes <c>:<n> ...), stale <n>,
 *   replays <n>, rss +<KB> KB
 * and a second line of details. */
void fault_report_print(const char *name, const struct fault_report *r);

/* max_errors for a case whose fault may fail statements by design (the
 * primary down, a promotion, two writable backends). */
#define FAULT_ANY_ERRORS (~0ul)

/* The suite's pass criteria (fails the test naming the first that does not
 * hold): the end check ran; no stale read, replay, lost write or
 * undocumented error; at most max_errors errors of any code (0: the fault
 * must stay invisible to clients); at least one successful cycle; recovered
 * within recovery_cap_ms; RSS growth at most rss_cap_kb. */
void fault_report_check(const struct fault_report *r, long recovery_cap_ms, long rss_cap_kb,
                        unsigned long max_errors);

#endif
