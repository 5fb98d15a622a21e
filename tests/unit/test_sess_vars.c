/* test_sess_vars.c - recording the session state servers report, and the
 * SET statement that replays it on another backend connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "sess_vars.h"
#include "testsupport.h"

static struct proto_str S(const char *s)
{
    return (struct proto_str){(const uint8_t *)s, strlen(s)};
}

static char *sync_text(const struct sess_vars *want, const struct sess_vars *have, int *count)
{
    static char text[1024];
    struct buf out = {0};
    *count = svars_sync_sql(want, have, "SET ", &out);
    size_t n = buf_pending(&out);
    assert_true(n < sizeof text);
    if (n)
        memcpy(text, buf_head(&out), n);
    text[n] = '\0';
    buf_free(&out);
    return text;
}

/* A session-state block as MariaDB 10.11 sends it after SET NAMES and USE
 * with session_track_system_variables='*' (PROTOCOL.md 3.2): type 0 entries
 * are lenenc(lenenc name, lenenc value), type 1 lenenc(lenenc schema). */
static void test_block_then_replay(void **state)
{
    (void)state;
    struct sess_vars want, have;
    svars_init(&want);
    svars_init(&have);
    /* The block, written with the wire writers. */
    uint8_t b2[256];
    struct proto_wr w;
    proto_wr_init(&w, b2, sizeof b2);
    const char *vars[][2] = {{"character_set_client", "utf8mb4"},
                             {"collation_connection", "utf8mb4_general_ci"},
                             {"last_gtid", "0-1-5"}};
    for (size_t i = 0; i < 3; i++) {
        size_t nl = strlen(vars[i][0]), vl = strlen(vars[i][1]);
        proto_wr_u8(&w, 0);
        proto_wr_lenenc(&w, 2 + nl + vl);
        proto_wr_lenenc(&w, nl);
        proto_wr_bytes(&w, vars[i][0], nl);
        proto_wr_lenenc(&w, vl);
        proto_wr_bytes(&w, vars[i][1], vl);
    }
    proto_wr_u8(&w, 1);
    proto_wr_lenenc(&w, 2);
    proto_wr_lenenc(&w, 1);
    proto_wr_u8(&w, 't');
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    assert_int_equal(svars_apply_block(&want, (struct proto_str){b2, w.len}), 0);
    assert_int_equal(want.n, 2); /* last_gtid is the server's, never replayed */
    assert_true(want.has_schema);
    assert_string_equal(want.schema, "t");
    assert_true(svars_schema_differs(&want, &have));

    int count;
    const char *sql = sync_text(&want, &have, &count);
    assert_int_equal(count, 2);
    /* Name order puts the charset before the collation it would reset. */
    assert_string_equal(sql, "SET @@SESSION.character_set_client = 'utf8mb4', "
                             "@@SESSION.collation_connection = 'utf8mb4_general_ci'");
    assert_int_equal(svars_copy_vars(&have, &want), 0);
    assert_false(have.has_schema);
    sql = sync_text(&want, &have, &count);
    assert_int_equal(count, 0);
    assert_string_equal(sql, "");

    /* A malformed block is refused. */
    assert_int_equal(svars_apply_block(&want, (struct proto_str){b2, 5}), -1);
    svars_free(&want);
    svars_free(&have);
}

static void test_values_are_quoted_for_the_backend_sql_mode(void **state)
{
    (void)state;
    struct sess_vars want, have;
    svars_init(&want);
    svars_init(&have);
    assert_int_equal(svars_set(&want, S("wait_timeout"), S("60")), 0);
    assert_int_equal(svars_set(&want, S("time_zone"), S("+02:00")), 0);
    assert_int_equal(svars_set(&want, S("init_connect"), S("it's \\ here")), 0);
    assert_int_equal(svars_set(&want, S("bad name"), S("x")), 0);
    int count;
    const char *sql = sync_text(&want, &have, &count);
    assert_int_equal(count, 3);
    assert_string_equal(sql, "SET @@SESSION.init_connect = 'it''s \\\\ here', "
                             "@@SESSION.time_zone = '+02:00', @@SESSION.wait_timeout = 60");
    assert_int_equal(svars_set(&have, S("sql_mode"), S("ANSI,NO_BACKSLASH_ESCAPES")), 0);
    sql = sync_text(&want, &have, &count);
    assert_string_equal(sql, "SET @@SESSION.init_connect = 'it''s \\ here', "
                             "@@SESSION.time_zone = '+02:00', @@SESSION.wait_timeout = 60");
    /* Continuing another SET (the proxy's tracking set-up): only the lead differs. */
    struct buf more = {0};
    assert_int_equal(svars_sync_sql(&want, &have, ", ", &more), 3);
    assert_int_equal(memcmp(buf_head(&more), ", @@SESSION.init_connect = ", 27), 0);
    buf_free(&more);
    /* Same value again: no change, no new generation. */
    uint64_t gen = want.gen;
    assert_int_equal(svars_set(&want, S("TIME_ZONE"), S("+02:00")), 0);
    assert_int_equal(want.gen, gen);
    assert_int_equal(svars_set(&want, S("session_track_schema"), S("OFF")), 0);
    assert_int_equal(want.gen, gen);
    svars_reset(&want, false);
    assert_int_equal(want.n, 0);
    svars_free(&want);
    svars_free(&have);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_block_then_replay),
        cmocka_unit_test(test_values_are_quoted_for_the_backend_sql_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
