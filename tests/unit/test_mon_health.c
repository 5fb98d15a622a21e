/* test_mon_health.c - the monitor's health state machine (proxy/mon_health.h):
 * exact sequences of good and failed checks with the state, whether it
 * changed, the reason shown and the count logged after each one; the
 * defaults (fall 3, rise 2), fall 1 / rise 1 (the behaviour before
 * hysteresis: one failure is down, one good check is up), thresholds
 * changed mid-run (a reload), and the names. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "mon_health.h"

#define ERR "connect: Can't connect to server on '127.0.0.1' (111) (2002)"

struct step {
    bool ok;
    enum mon_health want;
    bool changed;
    const char *reason; /* mon_health_reason with err = ERR */
    unsigned count;     /* mon_health_count */
};

/* Runs steps from a fresh state with fall/rise; the clock advances 100 ms
 * per check, and since_ms must move exactly at the transitions. */
static void run(unsigned fall, unsigned rise, const struct step *steps, size_t n)
{
    struct mon_health_state h;
    mon_health_init(&h, 1000);
    assert_int_equal(h.state, MON_UNKNOWN);
    assert_int_equal(h.since_ms, 1000);
    uint64_t transitions = 0, since = 1000;
    for (size_t i = 0; i < n; i++) {
        uint64_t now = 1000 + 100 * (i + 1);
        bool changed = mon_health_step(&h, steps[i].ok, fall, rise, now);
        char reason[300];
        mon_health_reason(&h, fall, rise, ERR, reason, sizeof reason);
        if (changed != steps[i].changed || h.state != steps[i].want ||
            strcmp(reason, steps[i].reason) != 0 || mon_health_count(&h) != steps[i].count)
            fail_msg("fall %u rise %u, check %zu (%s): %s%s \"%s\" count %u; want %s%s \"%s\" "
                     "count %u",
                     fall, rise, i + 1, steps[i].ok ? "good" : "failed", mon_health_name(h.state),
                     changed ? " (changed)" : "", reason, mon_health_count(&h),
                     mon_health_name(steps[i].want), steps[i].changed ? " (changed)" : "",
                     steps[i].reason, steps[i].count);
        if (changed) {
            transitions++;
            since = now;
        }
        assert_int_equal(h.transitions, transitions);
        assert_int_equal(h.since_ms, since);
    }
}

#define RUN(fall, rise, steps) run((fall), (rise), (steps), sizeof(steps) / sizeof(steps)[0])

/* A fresh state has checked nothing. */
static void test_init(void **state)
{
    (void)state;
    struct mon_health_state h;
    memset(&h, 0xff, sizeof h);
    mon_health_init(&h, 42);
    assert_int_equal(h.state, MON_UNKNOWN);
    assert_int_equal(h.fails, 0);
    assert_int_equal(h.oks, 0);
    assert_int_equal(h.since_ms, 42);
    assert_int_equal(h.transitions, 0);
    assert_int_equal(mon_health_count(&h), 0);
    assert_false(mon_health_recovering(&h));
    char buf[64];
    assert_string_equal(mon_health_reason(&h, 3, 2, ERR, buf, sizeof buf), "not checked yet");
}

/* The defaults: a failure makes it suspect, three in a row down; a good
 * check brings a suspect one back at once, a down one only after two. */
static void test_defaults_full_cycle(void **state)
{
    (void)state;
    static const struct step steps[] = {
        {true, MON_UP, true, "", 1},
        {true, MON_UP, false, "", 2},
        {false, MON_SUSPECT, true, ERR " (failed 1/3)", 1},
        {true, MON_UP, true, "", 1}, /* a blip: back at once */
        {false, MON_SUSPECT, true, ERR " (failed 1/3)", 1},
        {false, MON_SUSPECT, false, ERR " (failed 2/3)", 2},
        {false, MON_DOWN, true, ERR, 3},
        {false, MON_DOWN, false, ERR, 4},
        {true, MON_DOWN, false, "recovering 1/2", 1},
        {false, MON_DOWN, false, ERR, 1}, /* a failure starts the count again */
        {true, MON_DOWN, false, "recovering 1/2", 1},
        {true, MON_UP, true, "", 2},
        {false, MON_SUSPECT, true, ERR " (failed 1/3)", 1},
    };
    RUN(3, 2, steps);
}

/* A backend that never answered: unknown until fall failures, then down,
 * and then it needs rise good checks like any down one. */
static void test_unknown_never_answered(void **state)
{
    (void)state;
    static const struct step steps[] = {
        {false, MON_UNKNOWN, false, ERR " (failed 1/3)", 1},
        {false, MON_UNKNOWN, false, ERR " (failed 2/3)", 2},
        {false, MON_DOWN, true, ERR, 3},
        {true, MON_DOWN, false, "recovering 1/2", 1},
        {true, MON_UP, true, "", 2},
    };
    RUN(3, 2, steps);

    /* Answering before fall failures: up at once. */
    static const struct step late[] = {
        {false, MON_UNKNOWN, false, ERR " (failed 1/3)", 1},
        {false, MON_UNKNOWN, false, ERR " (failed 2/3)", 2},
        {true, MON_UP, true, "", 1},
    };
    RUN(3, 2, late);
}

/* fall 1, rise 1: the behaviour before hysteresis, never suspect. */
static void test_fall1_rise1_is_the_old_behaviour(void **state)
{
    (void)state;
    static const struct step steps[] = {
        {false, MON_DOWN, true, ERR, 1}, /* unknown: the first failure */
        {true, MON_UP, true, "", 1},     {true, MON_UP, false, "", 2},
        {false, MON_DOWN, true, ERR, 1}, {false, MON_DOWN, false, ERR, 2},
        {true, MON_UP, true, "", 1},     {false, MON_DOWN, true, ERR, 1},
    };
    RUN(1, 1, steps);
    static const struct step from_unknown[] = {
        {true, MON_UP, true, "", 1},
        {false, MON_DOWN, true, ERR, 1},
    };
    RUN(1, 1, from_unknown);
}

/* Larger thresholds, and 0 read as 1 (config never gives 0). */
static void test_other_thresholds(void **state)
{
    (void)state;
    static const struct step f2r3[] = {
        {true, MON_UP, true, "", 1},
        {false, MON_SUSPECT, true, ERR " (failed 1/2)", 1},
        {false, MON_DOWN, true, ERR, 2},
        {true, MON_DOWN, false, "recovering 1/3", 1},
        {true, MON_DOWN, false, "recovering 2/3", 2},
        {true, MON_UP, true, "", 3},
    };
    RUN(2, 3, f2r3);
    static const struct step zero[] = {
        {true, MON_UP, true, "", 1},
        {false, MON_DOWN, true, ERR, 1},
        {true, MON_UP, true, "", 1},
    };
    RUN(0, 0, zero);
}

/* A reload changes the thresholds between checks: the counts made so far
 * are judged by the new ones at the next check. */
static void test_thresholds_change_mid_run(void **state)
{
    (void)state;
    struct mon_health_state h;
    mon_health_init(&h, 0);
    assert_true(mon_health_step(&h, true, 3, 2, 1));
    assert_true(mon_health_step(&h, false, 3, 2, 2));
    assert_int_equal(h.state, MON_SUSPECT);
    /* fall 3 -> 2: the second failure in a row is now enough. */
    assert_true(mon_health_step(&h, false, 2, 2, 3));
    assert_int_equal(h.state, MON_DOWN);
    /* rise 2 -> 5, then -> 1: down until the new rise is met. */
    assert_false(mon_health_step(&h, true, 2, 5, 4));
    assert_false(mon_health_step(&h, true, 2, 5, 5));
    char buf[64];
    assert_string_equal(mon_health_reason(&h, 2, 5, ERR, buf, sizeof buf), "recovering 2/5");
    assert_true(mon_health_recovering(&h));
    assert_true(mon_health_step(&h, true, 2, 1, 6));
    assert_int_equal(h.state, MON_UP);
    assert_false(mon_health_recovering(&h));
    /* fall raised while suspect: stays suspect longer. */
    assert_true(mon_health_step(&h, false, 2, 1, 7));
    assert_false(mon_health_step(&h, false, 5, 1, 8));
    assert_int_equal(h.state, MON_SUSPECT);
    assert_true(mon_health_step(&h, false, 3, 1, 9));
    assert_int_equal(h.state, MON_DOWN);
    assert_int_equal(h.since_ms, 9);
    assert_int_equal(h.transitions, 6);
}

/* Counts saturate instead of wrapping (a server down for years). */
static void test_counts_saturate(void **state)
{
    (void)state;
    struct mon_health_state h;
    mon_health_init(&h, 0);
    assert_true(mon_health_step(&h, false, 1, 1, 1));
    h.fails = UINT32_MAX - 1;
    assert_false(mon_health_step(&h, false, 1, 1, 2));
    assert_false(mon_health_step(&h, false, 1, 1, 3));
    assert_int_equal(h.fails, UINT32_MAX);
    assert_int_equal(h.state, MON_DOWN);
}

/* Reasons: no error text known reads "not reachable"; a small buffer
 * truncates, NUL-terminated. */
static void test_reason_texts(void **state)
{
    (void)state;
    struct mon_health_state h;
    mon_health_init(&h, 0);
    char buf[64];
    assert_false(mon_health_step(&h, false, 3, 2, 1));
    assert_string_equal(mon_health_reason(&h, 3, 2, "", buf, sizeof buf),
                        "not reachable (failed 1/3)");
    assert_string_equal(mon_health_reason(&h, 3, 2, NULL, buf, sizeof buf),
                        "not reachable (failed 1/3)");
    h.state = MON_DOWN;
    assert_string_equal(mon_health_reason(&h, 3, 2, "", buf, sizeof buf), "not reachable");
    char small[8];
    assert_string_equal(mon_health_reason(&h, 3, 2, ERR, small, sizeof small), "connect");
    /* len 0 writes nothing. */
    small[0] = 'x';
    mon_health_reason(&h, 3, 2, ERR, small, 0);
    assert_int_equal(small[0], 'x');
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(mon_health_name(MON_UNKNOWN), "unknown");
    assert_string_equal(mon_health_name(MON_UP), "up");
    assert_string_equal(mon_health_name(MON_SUSPECT), "suspect");
    assert_string_equal(mon_health_name(MON_DOWN), "down");
    assert_string_equal(mon_health_name(MON_HEALTH_N), "?");
    assert_int_equal(MON_HEALTH_N, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_defaults_full_cycle),
        cmocka_unit_test(test_unknown_never_answered),
        cmocka_unit_test(test_fall1_rise1_is_the_old_behaviour),
        cmocka_unit_test(test_other_thresholds),
        cmocka_unit_test(test_thresholds_change_mid_run),
        cmocka_unit_test(test_counts_saturate),
        cmocka_unit_test(test_reason_texts),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
