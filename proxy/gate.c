/*
 * gate.c - the consistency gate's pure decisions (gate.h): a read's level,
 * the GTID set it needs, the replica it goes to, the catch-up wait's SQL,
 * and the per-worker counters with their stats lines. No I/O, no locks, no
 * allocation except what gtid_set_copy / gtid_set_union need to grow `need`.
 */
#include "gate.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "gtidproxy/proto_session_state.h"

/* A session statement stores an enum consistency_level; gate_level_for
 * hands it back as an enum gate_level unchanged. */
_Static_assert((int)GATE_EVENTUAL == (int)CONSISTENCY_EVENTUAL, "gate/consistency levels");
_Static_assert((int)GATE_SESSION == (int)CONSISTENCY_SESSION, "gate/consistency levels");
_Static_assert((int)GATE_GLOBAL == (int)CONSISTENCY_GLOBAL, "gate/consistency levels");
_Static_assert((int)GATE_STRONG == (int)CONSISTENCY_STRONG, "gate/consistency levels");
_Static_assert(GATE_TOKEN == GATE_STRONG + 1, "GATE_TOKEN is the one level past the config's");

const char *gate_level_name(enum gate_level l)
{
    static const char *const names[] = {
#define GATE_LEVEL_NAME(name, text) text,
        GATE_LEVEL_LIST(GATE_LEVEL_NAME)
#undef GATE_LEVEL_NAME
    };
    return (unsigned)l < sizeof names / sizeof names[0] ? names[l] : "?";
}

const char *gate_outcome_name(enum gate_outcome o)
{
    static const char *const names[] = {
#define GATE_OUTCOME_NAME(name, text) text,
        GATE_OUTCOME_LIST(GATE_OUTCOME_NAME)
#undef GATE_OUTCOME_NAME
    };
    return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "?";
}

/* ------------------------------------------------------------------ */
/* Level and need                                                     */
/* ------------------------------------------------------------------ */

enum gate_level gate_level_for(enum consistency_level configured, int override,
                               const struct hint_set *hint)
{
    /* An invalid hint does not decide: the caller answers it with an error
     * before the read runs anywhere (router_decide gives ROUTE_ERROR). */
    if (hint && hint->present && !hint->error) {
        if (hint->keys & HINT_K_TOKEN)
            return GATE_TOKEN; /* token= implies consistency=token (hint_finish) */
        if (hint->keys & HINT_K_CONSISTENCY) {
            switch (hint->consistency) {
            case HINT_CONS_EVENTUAL:
                return GATE_EVENTUAL;
            case HINT_CONS_SESSION:
                return GATE_SESSION;
            case HINT_CONS_GLOBAL:
                return GATE_GLOBAL;
            case HINT_CONS_STRONG:
                return GATE_STRONG;
            case HINT_CONS_TOKEN:
                return GATE_TOKEN;
            case HINT_CONS_UNSET:
                break; /* cannot happen with the key set; let the others decide */
            }
        }
    }
    /* Only the config's four levels are a session setting; anything else is
     * a caller bug and counts as "not set". */
    if (override >= 0 && override <= (int)CONSISTENCY_STRONG)
        return (enum gate_level) override;
    return (enum gate_level)configured;
}

/* s would join need but is of another flavor (NULL: nothing joins). */
static bool other_flavor(const struct gtid_set *s, const struct gtid_set *need)
{
    return s && s->flavor != need->flavor;
}

int gate_need(struct gtid_set *need, enum gate_level l, const struct gtid_set *writes,
              const struct gtid_set *global, const struct gtid_set *strong,
              const struct gtid_set *token, bool token_always)
{
    gtid_set_clear(need);
    const struct gtid_set *extra = NULL; /* G, P or T by level */
    bool with_token = token_always;
    switch (l) {
    case GATE_EVENTUAL:
        return PROTO_OK; /* ∅: even a session token does not make eventual wait */
    case GATE_SESSION:
        break;
    case GATE_GLOBAL:
        extra = global;
        break;
    case GATE_STRONG:
        extra = strong;
        break;
    case GATE_TOKEN:
        with_token = true;
        break;
    default:
        return PROTO_EBAD;
    }
    if (!with_token)
        token = NULL;
    /* Check every set that joins before touching need, so a mismatch is
     * reported whatever the order and need stays empty. */
    if (other_flavor(writes, need) || other_flavor(extra, need) || other_flavor(token, need))
        return PROTO_EUNSUPPORTED;

    int rc = writes ? gtid_set_copy(need, writes) : PROTO_OK;
    if (rc == PROTO_OK && extra)
        rc = gtid_set_union(need, extra);
    if (rc == PROTO_OK && token)
        rc = gtid_set_union(need, token);
    if (rc != PROTO_OK)
        gtid_set_clear(need);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Pick                                                               */
/* ------------------------------------------------------------------ */

size_t gate_pick(const struct gate_replica *r, size_t n, uint64_t rr, bool *direct)
{
    if (direct)
        *direct = false;

    /* 1. Weighted round robin over the caught-up ones: rr % total weight,
     *    then walk. */
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        if (r[i].usable && r[i].caught_up)
            total += r[i].weight;
    if (total > 0) {
        uint64_t x = rr % total;
        for (size_t i = 0; i < n; i++) {
            if (!(r[i].usable && r[i].caught_up))
                continue;
            if (x < r[i].weight) {
                if (direct)
                    *direct = true;
                return i;
            }
            x -= r[i].weight;
        }
    }

    /* 2. The usable one missing the fewest, scanning from rr % n so that
     *    equally-behind replicas share the waits. A caught-up replica that
     *    was skipped above (weight 0, against the contract) counts as
     *    missing nothing and is still a direct read. */
    size_t best = SIZE_MAX;
    uint64_t best_missing = UINT64_MAX;
    for (size_t k = 0; k < n; k++) {
        size_t i = (size_t)((rr + k) % n);
        if (!r[i].usable)
            continue;
        uint64_t m = r[i].caught_up ? 0 : r[i].missing;
        if (best == SIZE_MAX || m < best_missing) {
            best = i;
            best_missing = m;
        }
    }
    if (best != SIZE_MAX && direct)
        *direct = r[best].caught_up;
    return best;
}

/* ------------------------------------------------------------------ */
/* Wait SQL                                                           */
/* ------------------------------------------------------------------ */

void gate_wait_sql(struct proto_wr *w, const struct gtid_set *need, unsigned timeout_ms)
{
    static const char head[] = "SET @gtidproxy_wait=(SELECT CASE WHEN ";
    /* 1242 ER_SUBQUERY_NO_1_ROW on timeout: two rows where one is needed. */
    static const char tail[] = ")=0 THEN 1 ELSE (SELECT 1 UNION ALL SELECT 2) END)";
    const char *fn;
    if (need->flavor == GTID_FLAVOR_MYSQL) {
        /* WAIT_FOR_EXECUTED_GTID_SET(s, 0) waits forever (PROTOCOL.md 5.1). */
        if (timeout_ms == 0)
            timeout_ms = 1;
        fn = "WAIT_FOR_EXECUTED_GTID_SET('";
    } else {
        /* MASTER_GTID_WAIT(p, 0) checks once and returns (PROTOCOL.md 5.2). */
        fn = "MASTER_GTID_WAIT('";
    }
    /* "', 4294967.295" at most: 3 + 7 + 1 + 3 bytes and the NUL. */
    char secs[24];
    int k = snprintf(secs, sizeof secs, "', %u.%03u", timeout_ms / 1000u, timeout_ms % 1000u);

    proto_wr_bytes(w, head, sizeof head - 1);
    proto_wr_bytes(w, fn, strlen(fn));
    /* Canonical text is hex, digits, ':', ',', '-' and tag characters
     * [a-z0-9_]: nothing that needs quoting inside '...'. */
    gtid_set_format(need, w);
    proto_wr_bytes(w, secs, (size_t)k);
    proto_wr_bytes(w, tail, sizeof tail - 1);
}

/* ------------------------------------------------------------------ */
/* Counters                                                           */
/* ------------------------------------------------------------------ */

const uint64_t gate_hist_bound_us[GATE_HIST_N - 1] = {
    1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000, 2000000, 5000000,
};

static uint64_t ld(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

/* Single writer: a relaxed load and store, no locked read-modify-write. */
static void bump(_Atomic uint64_t *v, uint64_t by)
{
    atomic_store_explicit(v, ld(v) + by, memory_order_relaxed);
}

void gate_count(struct gate_counters *c, enum gate_level l, enum gate_outcome o)
{
    if ((unsigned)l < GATE_LEVEL_N && (unsigned)o < GATE_OUTCOME_N)
        bump(&c->reads[l][o], 1);
}

void gate_count_wait(struct gate_counters *c, uint64_t us, bool reached)
{
    size_t b = 0;
    while (b < GATE_HIST_N - 1 && us > gate_hist_bound_us[b])
        b++;
    bump(&c->waits, 1);
    if (!reached)
        bump(&c->wait_timeouts, 1);
    bump(&c->wait_us_sum, us);
    bump(&c->wait_hist[b], 1);
}

void gate_counters_add(struct gate_counters *sum, const struct gate_counters *c)
{
    for (size_t l = 0; l < GATE_LEVEL_N; l++)
        for (size_t o = 0; o < GATE_OUTCOME_N; o++)
            bump(&sum->reads[l][o], ld(&c->reads[l][o]));
    bump(&sum->waits, ld(&c->waits));
    bump(&sum->wait_timeouts, ld(&c->wait_timeouts));
    bump(&sum->wait_us_sum, ld(&c->wait_us_sum));
    for (size_t b = 0; b < GATE_HIST_N; b++)
        bump(&sum->wait_hist[b], ld(&c->wait_hist[b]));
}

/* snprintf that appends: `len` counts what was needed, the buffer keeps
 * what fit (NUL-terminated by the write that truncated). */
struct fmt_out {
    char *buf;
    size_t cap, len;
};

__attribute__((format(printf, 2, 3))) static void out(struct fmt_out *o, const char *f, ...)
{
    size_t room = o->len < o->cap ? o->cap - o->len : 0;
    va_list ap;
    va_start(ap, f);
    int k = vsnprintf(room ? o->buf + o->len : NULL, room, f, ap);
    va_end(ap);
    if (k > 0)
        o->len += (size_t)k;
}

size_t gate_counters_format(const struct gate_counters *c, char *buf, size_t cap)
{
    struct fmt_out o = {buf, cap, 0};
    if (cap > 0)
        buf[0] = '\0';
    for (size_t l = 0; l < GATE_LEVEL_N; l++) {
        /* One snapshot per line, so reads= is the sum of what it prints. */
        uint64_t v[GATE_OUTCOME_N], reads = 0;
        for (size_t i = 0; i < GATE_OUTCOME_N; i++) {
            v[i] = ld(&c->reads[l][i]);
            reads += v[i];
        }
        if (reads == 0)
            continue;
        out(&o, "consistency[%s]: reads=%" PRIu64, gate_level_name((enum gate_level)l), reads);
        for (size_t i = 0; i < GATE_OUTCOME_N; i++)
            out(&o, " %s=%" PRIu64, gate_outcome_name((enum gate_outcome)i), v[i]);
        out(&o, "\n");
    }
    uint64_t waits = ld(&c->waits), timeouts = ld(&c->wait_timeouts);
    uint64_t sum = ld(&c->wait_us_sum);
    /* A reader on another thread may see timeouts a moment ahead of waits. */
    uint64_t reached = waits > timeouts ? waits - timeouts : 0;
    out(&o,
        "consistency waits: count=%" PRIu64 " reached=%" PRIu64 " timeouts=%" PRIu64
        " avg_us=%" PRIu64,
        waits, reached, timeouts, waits ? sum / waits : 0);
    for (size_t b = 0; b < GATE_HIST_N - 1; b++)
        out(&o, " le_%" PRIu64 "ms=%" PRIu64, gate_hist_bound_us[b] / 1000, ld(&c->wait_hist[b]));
    out(&o, " le_inf=%" PRIu64 "\n", ld(&c->wait_hist[GATE_HIST_N - 1]));
    return o.len;
}

int gate_ok_gtids(const struct proto_ok *ok, struct gtid_set *out)
{
    gtid_set_clear(out);
    if (!ok->has_session_state)
        return 0;
    struct proto_ss_summary sum;
    int rc = proto_ss_summarize(ok->session_state, &sum);
    if (rc != PROTO_OK)
        return rc;
    if (sum.gtid_source == PROTO_GTID_SOURCE_NONE)
        return 0;
    size_t off;
    rc = gtid_set_parse(out, (const char *)sum.gtid.p, sum.gtid.len, &off);
    return rc == 0 ? 1 : rc;
}
