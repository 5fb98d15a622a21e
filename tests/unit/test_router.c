/* test_router.c - the routing rules (proxy/router.h) over real classifier
 * verdicts: each case is a statement, the session's routing state before it,
 * and where it must run. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "router.h"

static enum route_target route(const char *sql, struct route_state *st)
{
    struct classify_result cr;
    assert_int_equal(classify_query(sql, strlen(sql), 0, &cr), PROTO_OK);
    struct route_decision d;
    router_decide(&cr, st, &d);
    assert_non_null(d.why);
    return d.target;
}

static void test_reads_and_writes(void **state)
{
    (void)state;
    struct route_state st = {0};
    static const struct {
        const char *sql;
        enum route_target want;
    } cases[] = {
        {"SELECT * FROM t WHERE id = 1", ROUTE_REPLICA},
        {"SELECT @@server_id", ROUTE_REPLICA},
        {"SHOW TABLES", ROUTE_REPLICA},
        {"SELECT 1; SELECT 2", ROUTE_REPLICA},
        {"INSERT INTO t VALUES (1)", ROUTE_PRIMARY},
        {"SELECT * FROM t FOR UPDATE", ROUTE_PRIMARY},
        {"SELECT GET_LOCK('a', 1)", ROUTE_PRIMARY},
        {"SELECT LAST_INSERT_ID()", ROUTE_PRIMARY},
        {"SELECT 1; DELETE FROM t", ROUTE_PRIMARY},
        {"CREATE TABLE x (a int)", ROUTE_PRIMARY},
        {"SET NAMES utf8mb4", ROUTE_PRIMARY},
        {"USE db", ROUTE_PRIMARY},
        {"BEGIN", ROUTE_PRIMARY},
        {"START TRANSACTION READ ONLY", ROUTE_REPLICA},
        {"START TRANSACTION READ WRITE", ROUTE_PRIMARY},
        {"SHOW WARNINGS", ROUTE_LAST},
        {"SELECT /* gtidproxy: route=primary */ 1", ROUTE_PRIMARY},
        {"SELECT /* gtidproxy: route=replica */ 1", ROUTE_REPLICA},
        {"DELETE /* gtidproxy: route=replica */ FROM t", ROUTE_ERROR},
        {"SELECT /* gtidproxy: nonsense=1 */ 1", ROUTE_ERROR},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct route_state s = st;
        enum route_target got = route(cases[i].sql, &s);
        if (got != cases[i].want)
            fail_msg("%s: got %s, want %s", cases[i].sql, route_target_name(got),
                     route_target_name(cases[i].want));
    }
}

static void test_transaction_and_autocommit_hold_the_backend(void **state)
{
    (void)state;
    struct route_state st = {.in_trx = true};
    assert_int_equal(route("SELECT 1", &st), ROUTE_TRX);
    assert_int_equal(route("COMMIT", &st), ROUTE_TRX);
    st = (struct route_state){.autocommit_off = true};
    assert_int_equal(route("SELECT 1", &st), ROUTE_PRIMARY);
    /* An invalid hint is an error even inside a transaction. */
    st = (struct route_state){.in_trx = true};
    assert_int_equal(route("SELECT /* gtidproxy: wait_ms=x */ 1", &st), ROUTE_ERROR);
}

static void test_pins_and_user_variables(void **state)
{
    (void)state;
    struct route_state st = {0};
    assert_int_equal(route("SELECT @a", &st), ROUTE_REPLICA); /* never assigned: NULL anywhere */
    assert_int_equal(route("SET @a = 1", &st), ROUTE_PRIMARY);
    assert_true(st.user_vars);
    assert_int_equal(route("SELECT @a", &st), ROUTE_PRIMARY);
    assert_int_equal(route("SELECT 1", &st), ROUTE_REPLICA);

    st = (struct route_state){0};
    assert_int_equal(route("CREATE TEMPORARY TABLE tt (a int)", &st), ROUTE_PRIMARY);
    assert_string_equal(route_pin_why(st.pins), "temporary table");
    assert_int_equal(route("SELECT 1", &st), ROUTE_PRIMARY);

    st = (struct route_state){0};
    assert_int_equal(route("LOCK TABLES t READ", &st), ROUTE_PRIMARY);
    assert_int_equal(route("SELECT * FROM t", &st), ROUTE_PRIMARY);
    assert_int_equal(route("UNLOCK TABLES", &st), ROUTE_PRIMARY);
    assert_null(route_pin_why(st.pins));
    assert_int_equal(route("SELECT * FROM t", &st), ROUTE_REPLICA);

    /* Pins are independent: UNLOCK TABLES releases the lock's pin only;
     * the temporary table still lives on the primary alone. */
    st = (struct route_state){0};
    assert_int_equal(route("CREATE TEMPORARY TABLE tt (a int)", &st), ROUTE_PRIMARY);
    assert_int_equal(route("LOCK TABLES t READ", &st), ROUTE_PRIMARY);
    assert_int_equal(route("UNLOCK TABLES", &st), ROUTE_PRIMARY);
    assert_int_equal(route("SELECT * FROM tt", &st), ROUTE_PRIMARY);
    assert_string_equal(route_pin_why(st.pins), "temporary table");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reads_and_writes),
        cmocka_unit_test(test_transaction_and_autocommit_hold_the_backend),
        cmocka_unit_test(test_pins_and_user_variables),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
