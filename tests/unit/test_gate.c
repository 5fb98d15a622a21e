/* test_gate.c - the consistency gate's pure logic (proxy/gate.h): level
 * precedence over real classifier hints, need per level for MariaDB and
 * MySQL sets (tagged too), tokens, flavor mismatch, replica choice, the
 * catch-up wait's SQL byte for byte, and the counters with their stats
 * lines byte for byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "gate.h"
#include "gtidproxy/proto_consts.h"
#include "testsupport.h"

#define U1 "3e11fa47-71ca-11e1-9e33-c80aa9429562"
#define U2 "4d22ab33-0000-11e1-8000-00000000000a"

static void parse(struct gtid_set *s, enum gtid_flavor f, const char *text)
{
    gtid_set_init(s, f);
    size_t off = 0;
    int rc = gtid_set_parse(s, text, strlen(text), &off);
    if (rc != PROTO_OK)
        fail_msg("parse \"%s\" = %d at %zu", text, rc, off);
}

static const char *fmt(const struct gtid_set *s, char *buf, size_t cap)
{
    struct proto_wr w;
    proto_wr_init(&w, buf, cap - 1);
    gtid_set_format(s, &w);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    buf[w.len] = '\0';
    return buf;
}

/* ------------------------------------------------------------------ */
/* names                                                              */
/* ------------------------------------------------------------------ */

static void test_names(void **state)
{
    (void)state;
    /* The first four levels are the config's, value for value and by name. */
    for (int l = CONSISTENCY_EVENTUAL; l <= CONSISTENCY_STRONG; l++)
        assert_string_equal(gate_level_name((enum gate_level)l),
                            consistency_level_name((enum consistency_level)l));
    assert_string_equal(gate_level_name(GATE_TOKEN), "token");
    assert_string_equal(gate_level_name(GATE_LEVEL_N), "?");
    assert_string_equal(gate_outcome_name(GATE_DIRECT), "direct");
    assert_string_equal(gate_outcome_name(GATE_FB_STALE), "fallback_stale");
    assert_string_equal(gate_outcome_name(GATE_OUTCOME_N), "?");
}

/* ------------------------------------------------------------------ */
/* gate_level_for                                                     */
/* ------------------------------------------------------------------ */

static enum gate_level level_of(const char *sql, enum consistency_level configured, int override)
{
    struct classify_result cr;
    assert_int_equal(classify_query(sql, strlen(sql), 0, &cr), PROTO_OK);
    return gate_level_for(configured, override, &cr.hint);
}

static void test_level_precedence(void **state)
{
    (void)state;
    static const struct {
        const char *sql;
        enum consistency_level configured;
        int override;
        enum gate_level want;
    } cases[] = {
        /* no hint: the session's setting, else the configured level */
        {"SELECT 1", CONSISTENCY_SESSION, -1, GATE_SESSION},
        {"SELECT 1", CONSISTENCY_STRONG, -1, GATE_STRONG},
        {"SELECT 1", CONSISTENCY_SESSION, CONSISTENCY_EVENTUAL, GATE_EVENTUAL},
        {"SELECT 1", CONSISTENCY_EVENTUAL, CONSISTENCY_GLOBAL, GATE_GLOBAL},
        {"SELECT 1", CONSISTENCY_EVENTUAL, CONSISTENCY_STRONG, GATE_STRONG},
        /* an override outside the config's levels counts as not set */
        {"SELECT 1", CONSISTENCY_GLOBAL, 4, GATE_GLOBAL},
        {"SELECT 1", CONSISTENCY_GLOBAL, 99, GATE_GLOBAL},
        /* a valid consistency hint beats both */
        {"SELECT /* gtidproxy: consistency=eventual */ 1", CONSISTENCY_STRONG, CONSISTENCY_GLOBAL,
         GATE_EVENTUAL},
        {"SELECT /* gtidproxy: consistency=session */ 1", CONSISTENCY_EVENTUAL, -1, GATE_SESSION},
        {"SELECT /* gtidproxy: consistency=global */ 1", CONSISTENCY_EVENTUAL, CONSISTENCY_EVENTUAL,
         GATE_GLOBAL},
        {"SELECT /* gtidproxy: consistency=strong */ 1", CONSISTENCY_SESSION, -1, GATE_STRONG},
        /* a token makes it a token read, with or without consistency=token */
        {"SELECT /* gtidproxy: token=0-1-5 */ 1", CONSISTENCY_EVENTUAL, CONSISTENCY_STRONG,
         GATE_TOKEN},
        {"SELECT /* gtidproxy: consistency=token token=" U1 ":1-5 */ 1", CONSISTENCY_SESSION, -1,
         GATE_TOKEN},
        /* a hint without a level does not decide */
        {"SELECT /* gtidproxy: wait_ms=100 */ 1", CONSISTENCY_GLOBAL, -1, GATE_GLOBAL},
        {"SELECT /* gtidproxy: route=replica */ 1", CONSISTENCY_SESSION, CONSISTENCY_STRONG,
         GATE_STRONG},
        /* an invalid hint never decides (the caller answers it with an error) */
        {"SELECT /* gtidproxy: consistency=eventual bogus=1 */ 1", CONSISTENCY_STRONG, -1,
         GATE_STRONG},
        {"SELECT /* gtidproxy: consistency=token */ 1", CONSISTENCY_SESSION, -1, GATE_SESSION},
        {"SELECT /* gtidproxy: consistency=eventual token=0-1-5 */ 1", CONSISTENCY_GLOBAL, -1,
         GATE_GLOBAL},
        /* a plain comment is no hint */
        {"SELECT /* consistency=eventual */ 1", CONSISTENCY_SESSION, -1, GATE_SESSION},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        enum gate_level got = level_of(cases[i].sql, cases[i].configured, cases[i].override);
        if (got != cases[i].want)
            fail_msg("%s (configured %s, override %d): got %s, want %s", cases[i].sql,
                     consistency_level_name(cases[i].configured), cases[i].override,
                     gate_level_name(got), gate_level_name(cases[i].want));
    }
    /* no hint at all */
    assert_int_equal(gate_level_for(CONSISTENCY_GLOBAL, -1, NULL), GATE_GLOBAL);
    assert_int_equal(gate_level_for(CONSISTENCY_GLOBAL, CONSISTENCY_SESSION, NULL), GATE_SESSION);
}

/* ------------------------------------------------------------------ */
/* gate_need                                                          */
/* ------------------------------------------------------------------ */

struct need_case {
    enum gate_level level;
    bool token_always;
    const char *want;
};

/* Runs every case over the same W, G, P, T and checks the canonical text. */
static void run_need(enum gtid_flavor f, const char *w, const char *g, const char *p, const char *t,
                     const struct need_case *cases, size_t n)
{
    struct gtid_set W, G, P, T, need;
    parse(&W, f, w);
    parse(&G, f, g);
    parse(&P, f, p);
    parse(&T, f, t);
    gtid_set_init(&need, f);
    char buf[1024];
    for (size_t i = 0; i < n; i++) {
        int rc = gate_need(&need, cases[i].level, &W, &G, &P, &T, cases[i].token_always);
        if (rc != PROTO_OK)
            fail_msg("%s level %s: rc %d", gtid_flavor_name(f), gate_level_name(cases[i].level),
                     rc);
        const char *got = fmt(&need, buf, sizeof buf);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s level %s token_always %d: got \"%s\", want \"%s\"", gtid_flavor_name(f),
                     gate_level_name(cases[i].level), cases[i].token_always, got, cases[i].want);
        assert_int_equal(need.flavor, f);
    }
    gtid_set_free(&W);
    gtid_set_free(&G);
    gtid_set_free(&P);
    gtid_set_free(&T);
    gtid_set_free(&need);
}

static void test_need_mariadb(void **state)
{
    (void)state;
    /* W: this session wrote 0-1-8 and 1-1-3; G: the proxy saw more in
     * domain 0 and another domain; P: the primary is further still; T: a
     * token from elsewhere, ahead in domain 1 and with a new domain 5. */
    static const struct need_case cases[] = {
        {GATE_EVENTUAL, false, ""},
        {GATE_EVENTUAL, true, ""},
        {GATE_SESSION, false, "0-1-8,1-1-3"},
        {GATE_GLOBAL, false, "0-1-12,1-1-3,2-1-4"},
        {GATE_STRONG, false, "0-1-20,1-1-9,2-1-7"},
        {GATE_TOKEN, false, "0-1-8,1-1-5,5-3-1"},
        {GATE_TOKEN, true, "0-1-8,1-1-5,5-3-1"},
        {GATE_SESSION, true, "0-1-8,1-1-5,5-3-1"},
        {GATE_GLOBAL, true, "0-1-12,1-1-5,2-1-4,5-3-1"},
        {GATE_STRONG, true, "0-1-20,1-1-9,2-1-7,5-3-1"},
    };
    run_need(GTID_FLAVOR_MARIADB, "0-1-8,1-1-3", "0-1-12,1-1-2,2-1-4", "0-1-20,1-1-9,2-1-7",
             "1-1-5,5-3-1", cases, sizeof cases / sizeof cases[0]);
}

static void test_need_mysql(void **state)
{
    (void)state;
    /* Upper-case input as servers accept it; need comes out canonical. */
    static const struct need_case cases[] = {
        {GATE_EVENTUAL, false, ""},
        {GATE_EVENTUAL, true, ""},
        {GATE_SESSION, false, U1 ":1-5"},
        {GATE_GLOBAL, false, U1 ":1-7:9," U2 ":1"},
        {GATE_STRONG, false, U1 ":1-10:ops:1-2," U2 ":1-4"},
        {GATE_TOKEN, false, U1 ":1-6:ops:7," U2 ":3"},
        {GATE_SESSION, true, U1 ":1-6:ops:7," U2 ":3"},
        {GATE_GLOBAL, true, U1 ":1-7:9:ops:7," U2 ":1:3"},
        {GATE_STRONG, true, U1 ":1-10:ops:1-2:7," U2 ":1-4"},
    };
    run_need(GTID_FLAVOR_MYSQL, "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", U1 ":1-7:9," U2 ":1",
             U1 ":1-10:OPS:1-2,\n" U2 ":1-4", U1 ":6:ops:7," U2 ":3", cases,
             sizeof cases / sizeof cases[0]);
}

static void test_need_null_and_errors(void **state)
{
    (void)state;
    struct gtid_set need, mdb, my;
    char buf[256];
    parse(&mdb, GTID_FLAVOR_MARIADB, "0-1-5");
    parse(&my, GTID_FLAVOR_MYSQL, U1 ":1-3");

    /* NULL inputs are empty sets: no writes, token level, token NULL */
    gtid_set_init(&need, GTID_FLAVOR_MARIADB);
    assert_int_equal(gate_need(&need, GATE_SESSION, NULL, NULL, NULL, NULL, true), PROTO_OK);
    assert_true(gtid_set_is_empty(&need));
    assert_int_equal(gate_need(&need, GATE_TOKEN, NULL, NULL, NULL, NULL, false), PROTO_OK);
    assert_true(gtid_set_is_empty(&need));
    assert_int_equal(gate_need(&need, GATE_GLOBAL, NULL, &mdb, NULL, NULL, false), PROTO_OK);
    assert_string_equal(fmt(&need, buf, sizeof buf), "0-1-5");
    assert_int_equal(gate_need(&need, GATE_STRONG, NULL, NULL, &mdb, NULL, false), PROTO_OK);
    assert_string_equal(fmt(&need, buf, sizeof buf), "0-1-5");

    /* a previous need's content never leaks into the next one */
    assert_int_equal(gate_need(&need, GATE_SESSION, NULL, &mdb, &mdb, &mdb, false), PROTO_OK);
    assert_true(gtid_set_is_empty(&need));

    /* a set of the other flavor that joins: error, need empty and of its
     * own flavor, whichever position the stranger holds */
    const struct {
        enum gate_level l;
        int which; /* 0 writes, 1 global, 2 strong, 3 token */
        bool token_always;
    } bad[] = {
        {GATE_SESSION, 0, false}, {GATE_GLOBAL, 1, false}, {GATE_STRONG, 2, false},
        {GATE_TOKEN, 3, false},   {GATE_SESSION, 3, true}, {GATE_GLOBAL, 3, true},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const struct gtid_set *in[4] = {&mdb, &mdb, &mdb, &mdb};
        in[bad[i].which] = &my;
        assert_int_equal(gate_need(&need, GATE_GLOBAL, &mdb, NULL, NULL, NULL, false), PROTO_OK);
        assert_false(gtid_set_is_empty(&need));
        int rc = gate_need(&need, bad[i].l, in[0], in[1], in[2], in[3], bad[i].token_always);
        if (rc != PROTO_EUNSUPPORTED)
            fail_msg("case %zu: rc %d, want PROTO_EUNSUPPORTED", i, rc);
        assert_true(gtid_set_is_empty(&need));
        assert_int_equal(need.flavor, GTID_FLAVOR_MARIADB);
    }

    /* a stranger that does not join this level is no error */
    assert_int_equal(gate_need(&need, GATE_SESSION, &mdb, &my, &my, &my, false), PROTO_OK);
    assert_string_equal(fmt(&need, buf, sizeof buf), "0-1-5");
    assert_int_equal(gate_need(&need, GATE_EVENTUAL, &my, &my, &my, &my, true), PROTO_OK);
    assert_true(gtid_set_is_empty(&need));

    /* a level out of range */
    assert_int_equal(gate_need(&need, GATE_LEVEL_N, &mdb, NULL, NULL, NULL, false), PROTO_EBAD);
    assert_true(gtid_set_is_empty(&need));

    /* MySQL need, MariaDB writes */
    gtid_set_free(&need);
    gtid_set_init(&need, GTID_FLAVOR_MYSQL);
    assert_int_equal(gate_need(&need, GATE_SESSION, &mdb, NULL, NULL, NULL, false),
                     PROTO_EUNSUPPORTED);
    assert_int_equal(need.flavor, GTID_FLAVOR_MYSQL);
    assert_int_equal(gate_need(&need, GATE_SESSION, &my, NULL, NULL, NULL, false), PROTO_OK);
    assert_string_equal(fmt(&need, buf, sizeof buf), U1 ":1-3");

    gtid_set_free(&need);
    gtid_set_free(&mdb);
    gtid_set_free(&my);
}

/* ------------------------------------------------------------------ */
/* gate_pick                                                          */
/* ------------------------------------------------------------------ */

/* usable and caught up / usable and behind by m / not usable */
#define R_UP(w)        ((struct gate_replica){.usable = true, .caught_up = true, .weight = (w)})
#define R_BEHIND(w, m) ((struct gate_replica){.usable = true, .weight = (w), .missing = (m)})
#define R_OFF(c, m)    ((struct gate_replica){.caught_up = (c), .weight = 1, .missing = (m)})

static void test_pick_weighted(void **state)
{
    (void)state;
    /* Weights 1, 2, 3 among caught-up replicas; one unusable caught-up and
     * one behind in between, which never take a direct read. */
    const struct gate_replica r[] = {
        R_UP(1), R_OFF(true, 0), R_UP(2), R_BEHIND(5, 1), R_UP(3),
    };
    /* r = rr % 6 walks 0 | 2 2 | 4 4 4 */
    const size_t want[6] = {0, 2, 2, 4, 4, 4};
    for (uint64_t rr = 0; rr < 12; rr++) {
        bool direct = false;
        assert_int_equal(gate_pick(r, 5, rr, &direct), want[rr % 6]);
        assert_true(direct);
    }
    /* Over many consecutive rr values the shares are exactly the weights. */
    size_t count[5] = {0};
    for (uint64_t rr = 1000; rr < 1000 + 6000; rr++) {
        bool direct = false;
        size_t i = gate_pick(r, 5, rr, &direct);
        assert_true(i < 5 && direct);
        count[i]++;
    }
    assert_int_equal(count[0], 1000);
    assert_int_equal(count[1], 0);
    assert_int_equal(count[2], 2000);
    assert_int_equal(count[3], 0);
    assert_int_equal(count[4], 3000);
    /* huge counters keep working (no overflow in the modulo walk) */
    bool direct = false;
    assert_int_equal(gate_pick(r, 5, UINT64_MAX, &direct), want[UINT64_MAX % 6]);
    assert_true(direct);
}

static void test_pick_caught_up_preferred(void **state)
{
    (void)state;
    /* A caught-up replica of small weight beats behind ones of any weight,
     * even one missing a single transaction. */
    const struct gate_replica r[] = {R_BEHIND(100, 1), R_UP(1), R_BEHIND(100, 1)};
    for (uint64_t rr = 0; rr < 10; rr++) {
        bool direct = false;
        assert_int_equal(gate_pick(r, 3, rr, &direct), 1);
        assert_true(direct);
    } /* caught up but of weight 0 (against the contract): no round-robin
       * share, yet still the direct choice over a behind one */
    const struct gate_replica z[] = {R_BEHIND(5, 2), R_UP(0)};
    for (uint64_t rr = 0; rr < 4; rr++) {
        bool direct = false;
        assert_int_equal(gate_pick(z, 2, rr, &direct), 1);
        assert_true(direct);
    }
}

static void test_pick_least_missing(void **state)
{
    (void)state;
    /* none caught up: the usable one missing the fewest; an unusable one
     * that misses less never counts */
    const struct gate_replica r[] = {
        R_BEHIND(1, 30),
        R_OFF(false, 1),
        R_BEHIND(1, 7),
        R_BEHIND(9, 12),
    };
    for (uint64_t rr = 0; rr < 8; rr++) {
        bool direct = true;
        assert_int_equal(gate_pick(r, 4, rr, &direct), 2);
        assert_false(direct);
    }
    /* ties go to the lower index after rotating by rr % n, so equally
     * behind replicas share the waits */
    const struct gate_replica t[] = {
        R_BEHIND(1, 4),
        R_BEHIND(1, 9),
        R_BEHIND(1, 4),
        R_OFF(false, 1),
    };
    const size_t want[4] = {0, 2, 2, 0}; /* rotations start at 0, 1, 2, 3 */
    size_t count[4] = {0};
    for (uint64_t rr = 0; rr < 400; rr++) {
        bool direct = true;
        size_t i = gate_pick(t, 4, rr, &direct);
        assert_int_equal(i, want[rr % 4]);
        assert_false(direct);
        count[i]++;
    }
    assert_int_equal(count[0], 200);
    assert_int_equal(count[2], 200);
    /* a huge missing count is still a candidate */
    const struct gate_replica h[] = {R_OFF(false, 1), R_BEHIND(1, UINT64_MAX)};
    assert_int_equal(gate_pick(h, 2, 0, NULL), 1);
}

static void test_pick_none(void **state)
{
    (void)state;
    bool direct = true;
    assert_int_equal(gate_pick(NULL, 0, 5, &direct), SIZE_MAX);
    assert_false(direct);
    const struct gate_replica r[] = {R_OFF(true, 0), R_OFF(false, 3)};
    direct = true;
    assert_int_equal(gate_pick(r, 2, 0, &direct), SIZE_MAX);
    assert_false(direct);
    assert_int_equal(gate_pick(r, 2, 1, NULL), SIZE_MAX);
}

/* ------------------------------------------------------------------ */
/* gate_wait_sql                                                      */
/* ------------------------------------------------------------------ */

static void wait_sql_is(enum gtid_flavor f, const char *set, unsigned ms, const char *want)
{
    struct gtid_set need;
    parse(&need, f, set);
    char buf[512];
    struct proto_wr w;
    proto_wr_init(&w, buf, sizeof buf);
    proto_wr_bytes(&w, "x", 1); /* appends: what was there stays */
    gate_wait_sql(&w, &need, ms);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    if (w.len != 1 + strlen(want) || buf[0] != 'x' || memcmp(buf + 1, want, w.len - 1) != 0)
        fail_msg("%s %u ms:\n got  %.*s\n want %s", set, ms, (int)w.len - 1, buf + 1, want);

    /* too small a buffer: the writer's error, nothing past its end */
    for (size_t cap = 0; cap < strlen(want); cap += 7) {
        char small[512];
        memset(small, '#', sizeof small);
        proto_wr_init(&w, small, cap);
        gate_wait_sql(&w, &need, ms);
        assert_int_equal(proto_wr_finish(&w), PROTO_ENOSPACE);
        assert_true(w.len <= cap);
        assert_int_equal(small[cap], '#');
    }
    gtid_set_free(&need);
}

#define MDB_WAIT(set, s)                                                                           \
    "SET @gtidproxy_wait=(SELECT CASE WHEN MASTER_GTID_WAIT('" set "', " s                         \
    ")=0 THEN 1 ELSE (SELECT 1 UNION ALL SELECT 2) END)"
#define MY_WAIT(set, s)                                                                            \
    "SET @gtidproxy_wait=(SELECT CASE WHEN WAIT_FOR_EXECUTED_GTID_SET('" set "', " s               \
    ")=0 THEN 1 ELSE (SELECT 1 UNION ALL SELECT 2) END)"

static void test_wait_sql(void **state)
{
    (void)state;
    /* MariaDB: 0 stays 0 (one check, no wait) */
    wait_sql_is(GTID_FLAVOR_MARIADB, "0-1-8", 0, MDB_WAIT("0-1-8", "0.000"));
    wait_sql_is(GTID_FLAVOR_MARIADB, "0-1-8", 1, MDB_WAIT("0-1-8", "0.001"));
    wait_sql_is(GTID_FLAVOR_MARIADB, "0-1-8", 100, MDB_WAIT("0-1-8", "0.100"));
    wait_sql_is(GTID_FLAVOR_MARIADB, "1-2-9,0-1-8", 1500, MDB_WAIT("0-1-8,1-2-9", "1.500"));
    wait_sql_is(GTID_FLAVOR_MARIADB, "0-1-8", 4294967295u, MDB_WAIT("0-1-8", "4294967.295"));
    /* MySQL: 0 would wait forever, so 0.001 */
    wait_sql_is(GTID_FLAVOR_MYSQL, "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5", 0,
                MY_WAIT(U1 ":1-5", "0.001"));
    wait_sql_is(GTID_FLAVOR_MYSQL, U1 ":1-5", 1, MY_WAIT(U1 ":1-5", "0.001"));
    wait_sql_is(GTID_FLAVOR_MYSQL, U1 ":1-5", 100, MY_WAIT(U1 ":1-5", "0.100"));
    wait_sql_is(GTID_FLAVOR_MYSQL, U2 ":3," U1 ":1-5:Ops:7", 1500,
                MY_WAIT(U1 ":1-5:ops:7," U2 ":3", "1.500"));
    wait_sql_is(GTID_FLAVOR_MYSQL, U1 ":1-5", 60000, MY_WAIT(U1 ":1-5", "60.000"));
    /* Callers size buffers with GATE_WAIT_SQL_FIXED: the longest fixed part
     * (MySQL's function name, the longest timeout) fits it. */
    for (int f = 0; f < 2; f++) {
        struct gtid_set need;
        parse(&need, f ? GTID_FLAVOR_MYSQL : GTID_FLAVOR_MARIADB, f ? U1 ":1-5" : "0-1-8");
        char buf[512];
        struct proto_wr w;
        proto_wr_init(&w, buf, sizeof buf);
        gate_wait_sql(&w, &need, 4294967295u);
        assert_int_equal(proto_wr_finish(&w), PROTO_OK);
        assert_true(w.len - gtid_set_format_len(&need) <= GATE_WAIT_SQL_FIXED);
        gtid_set_free(&need);
    }
}

/* The wait statement is a read-only-looking SELECT under a SET of a user
 * variable: the classifier must not mistake it for something else. */
static void test_wait_sql_classifies(void **state)
{
    (void)state;
    struct gtid_set need;
    parse(&need, GTID_FLAVOR_MARIADB, "0-1-8");
    char buf[256];
    struct proto_wr w;
    proto_wr_init(&w, buf, sizeof buf);
    gate_wait_sql(&w, &need, 200);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    struct classify_result cr;
    assert_int_equal(classify_query(buf, w.len, 0, &cr), PROTO_OK);
    assert_int_equal(cr.statements, 1);
    assert_false(cr.flags & CLASSIFY_F_LEX_ERROR);
    assert_true(cr.flags & CLASSIFY_F_USER_VAR_ASSIGN);
    gtid_set_free(&need);
}

/* ------------------------------------------------------------------ */
/* counters                                                           */
/* ------------------------------------------------------------------ */

static uint64_t ld(const _Atomic uint64_t *v)
{
    return atomic_load_explicit(v, memory_order_relaxed);
}

static void test_hist_edges(void **state)
{
    (void)state;
    static const uint64_t want_bounds[GATE_HIST_N - 1] = {
        1000, 2000, 5000, 10000, 20000, 50000, 100000, 200000, 500000, 1000000, 2000000, 5000000,
    };
    assert_memory_equal(gate_hist_bound_us, want_bounds, sizeof want_bounds);
    /* Each bound itself lands in its bucket, one µs more in the next. */
    for (size_t b = 0; b < GATE_HIST_N - 1; b++) {
        struct gate_counters c;
        memset(&c, 0, sizeof c);
        gate_count_wait(&c, gate_hist_bound_us[b], true);
        gate_count_wait(&c, gate_hist_bound_us[b] + 1, false);
        for (size_t i = 0; i < GATE_HIST_N; i++)
            assert_int_equal(ld(&c.wait_hist[i]), (i == b || i == b + 1) ? 1 : 0);
        assert_int_equal(ld(&c.waits), 2);
        assert_int_equal(ld(&c.wait_timeouts), 1);
        assert_int_equal(ld(&c.wait_us_sum), 2 * gate_hist_bound_us[b] + 1);
    }
    struct gate_counters c;
    memset(&c, 0, sizeof c);
    gate_count_wait(&c, 0, true);
    gate_count_wait(&c, UINT64_MAX, false);
    assert_int_equal(ld(&c.wait_hist[0]), 1);
    assert_int_equal(ld(&c.wait_hist[GATE_HIST_N - 1]), 1);
}

static void test_count_and_add(void **state)
{
    (void)state;
    struct gate_counters a, b, sum;
    memset(&a, 0, sizeof a);
    memset(&b, 0, sizeof b);
    memset(&sum, 0, sizeof sum);
    gate_count(&a, GATE_SESSION, GATE_DIRECT);
    gate_count(&a, GATE_SESSION, GATE_DIRECT);
    gate_count(&a, GATE_TOKEN, GATE_FB_STALE);
    gate_count(&a, GATE_LEVEL_N, GATE_DIRECT);    /* out of range: ignored */
    gate_count(&a, GATE_SESSION, GATE_OUTCOME_N); /* ditto */
    gate_count(&b, GATE_SESSION, GATE_DIRECT);
    gate_count(&b, GATE_EVENTUAL, GATE_WAITED);
    gate_count_wait(&a, 1500, true);
    gate_count_wait(&b, 7000000, false);

    gate_counters_add(&sum, &a);
    gate_counters_add(&sum, &b);
    gate_counters_add(&sum, &b);
    for (size_t l = 0; l < GATE_LEVEL_N; l++)
        for (size_t o = 0; o < GATE_OUTCOME_N; o++) {
            uint64_t want = ld(&a.reads[l][o]) + 2 * ld(&b.reads[l][o]);
            assert_int_equal(ld(&sum.reads[l][o]), want);
        }
    assert_int_equal(ld(&sum.reads[GATE_SESSION][GATE_DIRECT]), 4);
    assert_int_equal(ld(&sum.reads[GATE_TOKEN][GATE_FB_STALE]), 1);
    assert_int_equal(ld(&sum.reads[GATE_EVENTUAL][GATE_WAITED]), 2);
    assert_int_equal(ld(&sum.waits), 3);
    assert_int_equal(ld(&sum.wait_timeouts), 2);
    assert_int_equal(ld(&sum.wait_us_sum), 1500 + 2 * 7000000);
    assert_int_equal(ld(&sum.wait_hist[1]), 1);
    assert_int_equal(ld(&sum.wait_hist[GATE_HIST_N - 1]), 2);
    /* the sources are untouched */
    assert_int_equal(ld(&a.waits), 1);
    assert_int_equal(ld(&b.reads[GATE_SESSION][GATE_DIRECT]), 1);
}

static void test_format(void **state)
{
    (void)state;
    struct gate_counters c;
    memset(&c, 0, sizeof c);
    char buf[1024];

    /* nothing counted: only the waits line */
    static const char empty[] =
        "consistency waits: count=0 reached=0 timeouts=0 avg_us=0 le_1ms=0 le_2ms=0 le_5ms=0 "
        "le_10ms=0 le_20ms=0 le_50ms=0 le_100ms=0 le_200ms=0 le_500ms=0 le_1000ms=0 le_2000ms=0 "
        "le_5000ms=0 le_inf=0\n";
    assert_int_equal(gate_counters_format(&c, buf, sizeof buf), strlen(empty));
    assert_string_equal(buf, empty);

    /* the documented example: session 9 direct, 2 waited, 1 primary */
    for (int i = 0; i < 9; i++)
        gate_count(&c, GATE_SESSION, GATE_DIRECT);
    gate_count(&c, GATE_SESSION, GATE_WAITED);
    gate_count(&c, GATE_SESSION, GATE_WAITED);
    gate_count(&c, GATE_SESSION, GATE_FB_PRIMARY);
    gate_count(&c, GATE_TOKEN, GATE_FB_ERROR);
    gate_count(&c, GATE_EVENTUAL, GATE_FB_CACHE);
    gate_count_wait(&c, 900, true);      /* le_1ms */
    gate_count_wait(&c, 15030, true);    /* le_20ms */
    gate_count_wait(&c, 6000000, false); /* le_inf; avg = 6015930 / 3 = 2005310 */
    static const char want[] =
        "consistency[eventual]: reads=1 direct=0 waited=0 fallback_primary=0 fallback_cache=1 "
        "fallback_error=0 fallback_stale=0\n"
        "consistency[session]: reads=12 direct=9 waited=2 fallback_primary=1 fallback_cache=0 "
        "fallback_error=0 fallback_stale=0\n"
        "consistency[token]: reads=1 direct=0 waited=0 fallback_primary=0 fallback_cache=0 "
        "fallback_error=1 fallback_stale=0\n"
        "consistency waits: count=3 reached=2 timeouts=1 avg_us=2005310 le_1ms=1 le_2ms=0 "
        "le_5ms=0 le_10ms=0 le_20ms=1 le_50ms=0 le_100ms=0 le_200ms=0 le_500ms=0 le_1000ms=0 "
        "le_2000ms=0 le_5000ms=0 le_inf=1\n";
    size_t n = gate_counters_format(&c, buf, sizeof buf);
    assert_string_equal(buf, want);
    assert_int_equal(n, strlen(want));

    /* short buffers: the same length needed, a NUL-terminated prefix */
    for (size_t cap = 1; cap <= n + 1; cap++) {
        char small[1024];
        memset(small, '#', sizeof small);
        assert_int_equal(gate_counters_format(&c, small, cap), n);
        assert_int_equal(strlen(small), cap - 1);
        assert_memory_equal(small, want, cap - 1);
        assert_int_equal(small[cap], '#');
    }
    assert_int_equal(gate_counters_format(&c, NULL, 0), n);
}

/* ------------------------------------------------------------------ */
/* GTIDs from the primary's OK packets                                */
/* ------------------------------------------------------------------ */

#define CAPS_TRACK                                                                                 \
    (PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_TRANSACTIONS) |                              \
     PROTO_CAP(CLIENT_SESSION_TRACK))

static int ok_gtids(const char *hex, struct gtid_set *out)
{
    uint8_t b[256];
    size_t n = tu_hex(hex, b, sizeof b);
    struct proto_ok ok;
    assert_int_equal(proto_ok_parse(b, n, CAPS_TRACK, &ok), PROTO_OK);
    return gate_ok_gtids(&ok, out);
}

static void test_ok_gtids(void **state)
{
    (void)state;
    char buf[128];
    struct gtid_set g;
    /* MariaDB 10.11 capture (tests/fixtures/tracker/
     * deof_query_multi_insert_select_insert.hex): last_gtid 0-1-18. */
    gtid_set_init(&g, GTID_FLAVOR_MARIADB);
    assert_int_equal(ok_gtids("0001000a40000000130011096c6173745f6774696406302d312d3138", &g), 1);
    assert_string_equal(fmt(&g, buf, sizeof buf), "0-1-18");
    /* No session state: nothing. */
    assert_int_equal(ok_gtids("00000002000000", &g), 0);
    assert_true(gtid_set_is_empty(&g));
    /* Session state without a GTID (schema change): nothing. */
    assert_int_equal(ok_gtids("0000000240000000050103027878", &g), 0);
    /* A last_gtid value that is no MariaDB GTID: an error, never "none". */
    assert_true(ok_gtids("0001000a400000000e000c096c6173745f67746964" "0178", &g) < 0);
    gtid_set_free(&g);

    /* MySQL 8.x OK with SESSION_TRACK_GTIDS (test_session_state.c's vector,
     * built from net_send_ok and Session_gtids_ctx_encoder_string). */
    gtid_set_init(&g, GTID_FLAVOR_MYSQL);
    assert_int_equal(ok_gtids("00 01 00 0240 0000 00 2b 03 29 00 27"
                              " 33453131464134372d373143412d313145312d394533332d433830414139343239"
                              " 3536323a3233",
                              &g),
                     1);
    assert_string_equal(fmt(&g, buf, sizeof buf), U1 ":23");
    /* The same OK read as MariaDB (wrong flavor for the text): an error. */
    struct gtid_set m;
    gtid_set_init(&m, GTID_FLAVOR_MARIADB);
    assert_true(ok_gtids("00 01 00 0240 0000 00 2b 03 29 00 27"
                         " 33453131464134372d373143412d313145312d394533332d433830414139343239"
                         " 3536323a3233",
                         &m) < 0);
    gtid_set_free(&m);
    gtid_set_free(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_level_precedence),
        cmocka_unit_test(test_need_mariadb),
        cmocka_unit_test(test_need_mysql),
        cmocka_unit_test(test_need_null_and_errors),
        cmocka_unit_test(test_pick_weighted),
        cmocka_unit_test(test_pick_caught_up_preferred),
        cmocka_unit_test(test_pick_least_missing),
        cmocka_unit_test(test_pick_none),
        cmocka_unit_test(test_wait_sql),
        cmocka_unit_test(test_wait_sql_classifies),
        cmocka_unit_test(test_hist_edges),
        cmocka_unit_test(test_count_and_add),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_ok_gtids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
