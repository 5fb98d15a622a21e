/*
 * gate.h - the pure parts of the consistency gate (DESIGN.md section 3):
 * which level a read runs at, what it needs, which replica gets it, the SQL
 * of a catch-up wait, and the counters of every outcome. No I/O, no locks:
 * the session applies the decisions (session_gate.c), the monitor supplies
 * what replicas are known to have applied (monitor.h).
 *
 *   level  = hint ▸ session statement ▸ user ▸ listener ▸ consistency.default_level
 *   need   = eventual: ∅   session: W   global: W ∪ G   strong: W ∪ P   token: W ∪ T
 *            (W: this session's writes, G: every write through this proxy,
 *             P: the primary's executed set looked up for this read,
 *             T: a token the application handed in; a token handed in by
 *             the session statement also joins session/global/strong)
 *   pick   = a usable replica whose known set ⊇ need (weighted round robin:
 *            no extra round trip), else the usable replica missing the
 *            fewest transactions of need (wait there), else none (fallback)
 */
#ifndef GTIDPROXY_GATE_H
#define GTIDPROXY_GATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "gtidproxy/classify.h"
#include "gtidproxy/gtid_set.h"
#include "gtidproxy/proto_reply.h"
#include "gtidproxy/proto_rw.h"

/* The first four equal enum consistency_level's values. */
#define GATE_LEVEL_LIST(X)                                                                         \
    X(GATE_EVENTUAL, "eventual")                                                                   \
    X(GATE_SESSION, "session")                                                                     \
    X(GATE_GLOBAL, "global")                                                                       \
    X(GATE_STRONG, "strong")                                                                       \
    X(GATE_TOKEN, "token")

enum gate_level {
#define GATE_LEVEL_ENUM(name, text) name,
    GATE_LEVEL_LIST(GATE_LEVEL_ENUM)
#undef GATE_LEVEL_ENUM
    GATE_LEVEL_N
};
const char *gate_level_name(enum gate_level l);

/* What happened to a read (counted once per read that reached the gate). */
#define GATE_OUTCOME_LIST(X)                                                                       \
    X(GATE_DIRECT, "direct")                 /* a replica known to be caught up */                 \
    X(GATE_WAITED, "waited")                 /* caught up within the budget, then read there */    \
    X(GATE_FB_PRIMARY, "fallback_primary")   /* read on the primary */                             \
    X(GATE_FB_CACHE, "fallback_cache")       /* served from the cache */                           \
    X(GATE_FB_ERROR, "fallback_error")       /* answered with GP_ER_CONSISTENCY */                 \
    X(GATE_FB_STALE, "fallback_stale")       /* read on a replica that may be behind */

enum gate_outcome {
#define GATE_OUTCOME_ENUM(name, text) name,
    GATE_OUTCOME_LIST(GATE_OUTCOME_ENUM)
#undef GATE_OUTCOME_ENUM
    GATE_OUTCOME_N
};
const char *gate_outcome_name(enum gate_outcome o);

/* Wait durations: bucket i counts waits of at most gate_hist_bound_us[i]
 * microseconds (and more than bucket i-1's); the last bucket is +Inf. */
#define GATE_HIST_N 13
extern const uint64_t gate_hist_bound_us[GATE_HIST_N - 1];

/* Per worker; the admin API and the stats log line sum them. One writer
 * (the worker: relaxed load + store, no locked instruction); readers on
 * other threads load each field atomically (relaxed). */
struct gate_counters {
    _Atomic uint64_t reads[GATE_LEVEL_N][GATE_OUTCOME_N];
    _Atomic uint64_t waits;         /* waits sent to a replica */
    _Atomic uint64_t wait_timeouts; /* ... that did not reach the need in time */
    _Atomic uint64_t wait_us_sum;   /* their total duration */
    _Atomic uint64_t wait_hist[GATE_HIST_N];
};

void gate_count(struct gate_counters *c, enum gate_level l, enum gate_outcome o);
void gate_count_wait(struct gate_counters *c, uint64_t us, bool reached);
void gate_counters_add(struct gate_counters *sum, const struct gate_counters *c);

/*
 * The stats lines (SIGUSR1 and shutdown; tests and bench/ parse them), one
 * per level that counted a read, then one for waits, each ending in '\n':
 *   consistency[session]: reads=12 direct=9 waited=2 fallback_primary=1 fallback_cache=0 fallback_error=0 fallback_stale=0
 *   consistency waits: count=3 reached=2 timeouts=1 avg_us=5310 le_1ms=1 le_2ms=0 ... le_inf=0
 * Returns the length needed (like snprintf); buf always NUL-terminated
 * when cap > 0.
 */
size_t gate_counters_format(const struct gate_counters *c, char *buf, size_t cap);

/*
 * The level a read runs at: a valid hint's consistency (HINT_CONS_TOKEN =>
 * GATE_TOKEN), else the session's own setting (override >= 0: an enum
 * consistency_level value), else `configured` (user, listener or default).
 * An invalid hint (hint->error) does not decide (the caller refuses the
 * statement); hint may be NULL; an override past CONSISTENCY_STRONG counts
 * as not set.
 */
enum gate_level gate_level_for(enum consistency_level configured, int override,
                               const struct hint_set *hint);

/*
 * need := what a read at level l must see (picture above). writes, global,
 * strong and token may be NULL (= empty); global is used at GATE_GLOBAL,
 * strong at GATE_STRONG, token at GATE_TOKEN and, when `token_always`
 * (handed in by the session statement), at session/global/strong too;
 * eventual is always ∅. need keeps its flavor and must not be one of the
 * inputs (it is cleared first). A set that joins at level l and has another
 * flavor than need's is an error (PROTO_EUNSUPPORTED); sets that do not join
 * are not looked at. A level out of range is PROTO_EBAD.
 * 0 or a gtid_set error code; need is empty on error.
 */
int gate_need(struct gtid_set *need, enum gate_level l, const struct gtid_set *writes,
              const struct gtid_set *global, const struct gtid_set *strong,
              const struct gtid_set *token, bool token_always) __attribute__((warn_unused_result));

/*
 * The GTIDs an OK from the primary reports committed (MySQL: the
 * SESSION_TRACK_GTIDS set of session_track_gtids=OWN_GTID; MariaDB: the
 * last_gtid system variable), parsed into out, whose flavor says which
 * grammar. 1: out holds them; 0: the OK reports none; negative: the state
 * block or the GTID text is malformed (a proto/gtid status code).
 */
int gate_ok_gtids(const struct proto_ok *ok, struct gtid_set *out)
    __attribute__((warn_unused_result));

/* One replica as the session sees it for this read. */
struct gate_replica {
    bool usable;      /* may take this read (health, lag, weight, not tried) */
    bool caught_up;   /* known ⊇ need */
    unsigned weight;  /* > 0 when usable */
    uint64_t missing; /* transactions of need it lacks (when !caught_up) */
};

/*
 * Picks a replica: among usable caught-up ones by weighted round robin
 * (rr: the worker's counter, advanced by the caller), *direct = true; else
 * the usable one missing the fewest (ties: the lower index after rr
 * rotation), *direct = false; SIZE_MAX when none is usable. direct may be
 * NULL. (A usable caught-up replica of weight 0 gets no round-robin share;
 * if only such ones are caught up, one is still picked with *direct = true.)
 */
size_t gate_pick(const struct gate_replica *r, size_t n, uint64_t rr, bool *direct);

/*
 * Appends the catch-up wait statement for `need` with a timeout of
 * timeout_ms (seconds with three decimals; MySQL gets at least 0.001,
 * as 0 waits forever there):
 *   SET @gtidproxy_wait=(SELECT CASE WHEN MASTER_GTID_WAIT('<need>', <s>)=0 THEN 1
 *                        ELSE (SELECT 1 UNION ALL SELECT 2) END)
 * (MySQL: WAIT_FOR_EXECUTED_GTID_SET). Reached: an OK. Timed out: ERR 1242
 * (GATE_WAIT_TIMEOUT_ERRNO) and, sent as the first statement of a
 * multi-statement, the statements after it do not run (checked on MariaDB
 * 10.11.19 with a real multi-statement; the UNION is not evaluated unless
 * the CASE takes that branch). No ';' is appended: the caller adds
 * "; <the read>". Do not wait for an empty need (MariaDB returns 0 at once
 * for ''; MySQL's answer was not checked).
 * Errors: the writer's (check proto_wr_finish).
 */
void gate_wait_sql(struct proto_wr *w, const struct gtid_set *need, unsigned timeout_ms);
/* At most this many bytes of it are not the need's text (size a buffer
 * as gtid_set_format_len(need) + GATE_WAIT_SQL_FIXED). */
#define GATE_WAIT_SQL_FIXED 160

#define GATE_WAIT_TIMEOUT_ERRNO 1242

#endif
