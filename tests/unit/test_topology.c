/* test_topology.c - the primary-role decision (proxy/topology.c): when a
 * promoted replica is followed, how long confirmation takes, and that two
 * writable backends stop writes instead of picking one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "topology.h"

static const char *const names[] = {"primary", "replica1", "replica2"};

static struct topology make(void)
{
    struct topology t;
    assert_int_equal(topology_init(&t, 3, 0), 0);
    return t;
}

/* Each backend reports once at `now`, claims[i] saying whether it claims. */
static void round_at(struct topology *t, const bool claims[3], uint64_t now, uint64_t confirm)
{
    for (size_t i = 0; i < 3; i++)
        (void)topology_observe(t, i, claims[i], now, confirm, true);
}

static void test_stable_while_only_the_primary_claims(void **state)
{
    (void)state;
    struct topology t = make();
    const bool c[3] = {true, false, false};
    for (uint64_t now = 0; now < 10000; now += 1000)
        round_at(&t, c, now, 3000);
    assert_int_equal(t.state, TOPO_STABLE);
    assert_int_equal(t.primary, 0);
    assert_int_equal(t.changes, 0);
    char why[256];
    topology_describe(&t, names, why, sizeof why);
    assert_string_equal(why, "primary is the primary");
    topology_free(&t);
}

static void test_promoted_replica_followed_after_confirm(void **state)
{
    (void)state;
    struct topology t = make();
    const bool c[3] = {true, false, false};
    round_at(&t, c, 0, 3000);
    /* The operator set the old primary read_only and promoted replica1. */
    assert_false(topology_observe(&t, 0, false, 1000, 3000, true));
    assert_true(topology_observe(&t, 1, true, 1100, 3000, true));
    assert_int_equal(t.state, TOPO_PENDING);
    assert_int_equal(t.candidate, 1);
    assert_int_equal(t.primary, 0);
    char why[256];
    topology_describe(&t, names, why, sizeof why);
    assert_string_equal(why, "replica1 claims the primary role (read_only=0, not replicating) "
                             "while primary is the primary: confirming");
    assert_false(topology_observe(&t, 2, false, 1200, 3000, true));
    /* Still claiming, not long enough: nothing changes. */
    assert_false(topology_observe(&t, 1, true, 4099, 3000, true));
    assert_int_equal(t.primary, 0);
    /* Long enough, but the old primary was last seen before the claim
     * began: it may still be writable, so not yet. */
    assert_false(topology_observe(&t, 1, true, 4100, 3000, true));
    assert_int_equal(t.primary, 0);
    /* Seen read_only since: followed. */
    assert_true(topology_observe(&t, 0, false, 4200, 3000, true));
    assert_int_equal(t.state, TOPO_STABLE);
    assert_int_equal(t.primary, 1);
    assert_int_equal(t.changes, 1);
    assert_int_equal(t.state_since, 4200);
    topology_free(&t);
}

static void test_claim_interrupted_restarts_confirmation(void **state)
{
    (void)state;
    struct topology t = make();
    const bool c[3] = {false, true, false};
    round_at(&t, c, 0, 3000);
    assert_int_equal(t.state, TOPO_PENDING);
    /* A failed check counts as no claim: back to stable, clock reset. */
    assert_true(topology_observe(&t, 1, false, 2000, 3000, true));
    assert_int_equal(t.state, TOPO_STABLE);
    assert_true(topology_observe(&t, 1, true, 2500, 3000, true));
    (void)topology_observe(&t, 0, false, 2600, 3000, true);
    (void)topology_observe(&t, 2, false, 2600, 3000, true);
    assert_false(topology_observe(&t, 1, true, 5000, 3000, true));
    assert_int_equal(t.primary, 0);
    assert_true(topology_observe(&t, 1, true, 5500, 3000, true));
    assert_int_equal(t.primary, 1);
    topology_free(&t);
}

static void test_confirm_zero_follows_once_all_seen(void **state)
{
    (void)state;
    struct topology t = make();
    const bool c[3] = {false, false, false};
    round_at(&t, c, 0, 0);
    (void)topology_observe(&t, 2, true, 10, 0, true);
    assert_int_equal(t.state, TOPO_PENDING);
    (void)topology_observe(&t, 0, false, 20, 0, true);
    assert_int_equal(t.primary, 0); /* replica1 not seen since */
    assert_true(topology_observe(&t, 1, false, 20, 0, true));
    assert_int_equal(t.primary, 2);
    assert_int_equal(t.state, TOPO_STABLE);
    topology_free(&t);
}

static void test_two_writable_is_a_split_never_a_choice(void **state)
{
    (void)state;
    struct topology t = make();
    const bool c[3] = {true, false, false};
    round_at(&t, c, 0, 1000);
    /* Replica1 claims; the primary was last seen before that: not yet a
     * split (it may have gone read_only meanwhile), only pending. */
    assert_true(topology_observe(&t, 1, true, 100, 1000, true));
    assert_int_equal(t.state, TOPO_PENDING);
    /* The primary seen writable after that: both at once. */
    assert_true(topology_observe(&t, 0, true, 200, 1000, true));
    assert_int_equal(t.state, TOPO_SPLIT);
    char why[256];
    topology_describe(&t, names, why, sizeof why);
    assert_string_equal(why, "more than one backend is writable (read_only=0, not replicating): "
                             "primary replica1");
    /* However long it lasts, the primary does not move. */
    for (uint64_t now = 1000; now < 60000; now += 1000) {
        (void)topology_observe(&t, 0, true, now, 1000, true);
        (void)topology_observe(&t, 1, true, now, 1000, true);
        (void)topology_observe(&t, 2, false, now, 1000, true);
    }
    assert_int_equal(t.state, TOPO_SPLIT);
    assert_int_equal(t.primary, 0);
    assert_int_equal(t.changes, 0);
    /* Resolved by the newcomer going read_only: stable on the old one. */
    assert_true(topology_observe(&t, 1, false, 61000, 1000, true));
    assert_int_equal(t.state, TOPO_STABLE);
    assert_int_equal(t.primary, 0);
    topology_free(&t);
}

static void test_split_resolved_by_old_primary(void **state)
{
    (void)state;
    struct topology t = make();
    const bool c[3] = {true, true, false};
    round_at(&t, c, 0, 1000);
    assert_int_equal(t.state, TOPO_SPLIT);
    /* The old primary goes read_only: the other one is confirmed from
     * the end of the split, not from when it began to claim. */
    assert_true(topology_observe(&t, 0, false, 5000, 1000, true));
    assert_int_equal(t.state, TOPO_PENDING);
    assert_int_equal(t.primary, 0);
    (void)topology_observe(&t, 2, false, 5100, 1000, true);
    assert_false(topology_observe(&t, 1, true, 5999, 1000, true));
    assert_true(topology_observe(&t, 1, true, 6000, 1000, true));
    assert_int_equal(t.primary, 1);
    topology_free(&t);
}

static void test_failed_check_during_split_moves_nothing(void **state)
{
    (void)state;
    struct topology t = make();
    const bool c[3] = {true, true, false};
    round_at(&t, c, 0, 1000);
    round_at(&t, c, 10000, 1000);
    assert_int_equal(t.state, TOPO_SPLIT);
    /* One check of the old primary fails (no claim): not a reason to
     * follow the other writable server at once... */
    (void)topology_observe(&t, 0, false, 10100, 1000, true);
    assert_int_equal(t.primary, 0);
    assert_int_equal(t.state, TOPO_PENDING);
    /* ...nor when it claims again (a newer claim than replica1's last
     * sighting: pending, the primary not settled)... */
    (void)topology_observe(&t, 0, true, 10300, 1000, true);
    assert_int_equal(t.primary, 0);
    /* ...and replica1's next check makes it a split again. */
    assert_true(topology_observe(&t, 1, true, 10400, 1000, true));
    assert_int_equal(t.state, TOPO_SPLIT);
    assert_int_equal(t.primary, 0);
    assert_int_equal(t.changes, 0);
    topology_free(&t);
}

static void test_follow_off_keeps_primary(void **state)
{
    (void)state;
    struct topology t = make();
    for (size_t i = 0; i < 3; i++)
        (void)topology_observe(&t, i, i == 1, 0, 0, false);
    assert_false(topology_observe(&t, 1, true, 100000, 0, false));
    assert_int_equal(t.primary, 0);
    assert_int_equal(t.state, TOPO_STABLE);
    /* A split is still detected. */
    (void)topology_observe(&t, 0, true, 100001, 0, false);
    assert_true(topology_observe(&t, 1, true, 100002, 0, false));
    assert_int_equal(t.state, TOPO_SPLIT);
    topology_free(&t);
}

static void test_out_of_range_index_ignored(void **state)
{
    (void)state;
    struct topology t = make();
    assert_false(topology_observe(&t, 3, true, 0, 0, true));
    assert_int_equal(t.primary, 0);
    assert_string_equal(topo_state_name(TOPO_SPLIT), "split");
    topology_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stable_while_only_the_primary_claims),
        cmocka_unit_test(test_promoted_replica_followed_after_confirm),
        cmocka_unit_test(test_claim_interrupted_restarts_confirmation),
        cmocka_unit_test(test_confirm_zero_follows_once_all_seen),
        cmocka_unit_test(test_two_writable_is_a_split_never_a_choice),
        cmocka_unit_test(test_split_resolved_by_old_primary),
        cmocka_unit_test(test_failed_check_during_split_moves_nothing),
        cmocka_unit_test(test_follow_off_keeps_primary),
        cmocka_unit_test(test_out_of_range_index_ignored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
