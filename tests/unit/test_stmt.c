/* test_stmt.c - prepared-statement client commands (protocol/stmt.c):
 * statement ids read and rewritten, COM_STMT_EXECUTE's parameter block,
 * and re-sending an EXECUTE with its types. Vectors are real libmariadb
 * packets to MariaDB 10.11 (tests/fixtures/stmt/README.md). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_stmt.h"
#include "testsupport.h"

/* Every capture, with the statement id the server gave it and, for
 * EXECUTEs, the num_params of its PREPARE_OK and what the parser must read. */
struct cap {
    const char *file;
    uint8_t cmd;
    uint32_t id;
    /* COM_STMT_EXECUTE only: */
    uint16_t num_params;
    uint8_t flags;
    const char *bitmap; /* hex */
    bool bound;
    const char *types; /* hex, "" when not bound */
    size_t values_off;
};

#define EXEC PROTO_COM_STMT_EXECUTE
static const struct cap caps[] = {
    {"stmt/exec0_first.hex", EXEC, 7, 0, 0, "", false, "", 10},
    {"stmt/exec0_second.hex", EXEC, 7, 0, 0, "", false, "", 10},
    {"stmt/exec1_types.hex", EXEC, 8, 1, 0, "00", true, "0300", 14},
    {"stmt/exec1_notypes.hex", EXEC, 8, 1, 0, "00", false, "", 12},
    {"stmt/exec3_types.hex", EXEC, 9, 3, 0, "04", true, "0880 fe00 0500", 18},
    {"stmt/exec3_notypes.hex", EXEC, 9, 3, 0, "04", false, "", 12},
    {"stmt/exec9_types.hex", EXEC, 10, 9, 0, "0101", true,
     "0600 0300 0800 0500 f600 fd00 fc00 0c00 0300", 31},
    {"stmt/exec9_notypes.hex", EXEC, 10, 9, 0, "0101", false, "", 13},
    {"stmt/exec_long.hex", EXEC, 11, 2, 0, "01", true, "fc00 0300", 16},
    {"stmt/exec_cursor.hex", EXEC, 12, 1, 1, "00", true, "0300", 14},
    {"stmt/exec_direct.hex", EXEC, 0xFFFFFFFFu, 2, 0, "00", true, "0300 fe00", 16},
    {"stmt/long_data_1.hex", PROTO_COM_STMT_SEND_LONG_DATA, 11, 0, 0, NULL, false, NULL, 0},
    {"stmt/long_data_2.hex", PROTO_COM_STMT_SEND_LONG_DATA, 11, 0, 0, NULL, false, NULL, 0},
    {"stmt/reset.hex", PROTO_COM_STMT_RESET, 11, 0, 0, NULL, false, NULL, 0},
    {"stmt/close.hex", PROTO_COM_STMT_CLOSE, 11, 0, 0, NULL, false, NULL, 0},
    {"stmt/fetch.hex", PROTO_COM_STMT_FETCH, 12, 0, 0, NULL, false, NULL, 0},
};
#define NCAPS (sizeof caps / sizeof caps[0])

/* First execute after bind (types) and the second (none), same values. */
static const struct {
    const char *first, *second;
    uint16_t num_params;
} pairs[] = {
    {"stmt/exec0_first.hex", "stmt/exec0_second.hex", 0},
    {"stmt/exec1_types.hex", "stmt/exec1_notypes.hex", 1},
    {"stmt/exec3_types.hex", "stmt/exec3_notypes.hex", 3},
    {"stmt/exec9_types.hex", "stmt/exec9_notypes.hex", 9},
};

/* A heap copy of exactly n bytes, so ASan flags any read past the end
 * (malloc(0) gives a pointer with no usable bytes). */
static uint8_t *exact(const uint8_t *p, size_t n)
{
    uint8_t *c = malloc(n);
    assert_true(c != NULL || n == 0);
    if (n)
        memcpy(c, p, n);
    return c;
}

static void assert_view(struct proto_str v, const uint8_t *base, size_t n,
                        const char *hex)
{
    uint8_t want[64];
    size_t wn = tu_hex(hex, want, sizeof want);
    assert_int_equal(v.len, wn);
    assert_true(v.p >= base && v.p + v.len <= base + n);
    if (wn)
        assert_memory_equal(v.p, want, wn);
}

/* ---- ids ---- */

static void test_ids_read_and_rewritten(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCAPS; i++) {
        size_t n;
        uint8_t *p = tu_fixture(caps[i].file, &n);
        uint8_t *orig = exact(p, n);
        uint32_t id = 0;
        assert_int_equal(p[0], caps[i].cmd);
        assert_int_equal(proto_stmt_id(p, n, &id), PROTO_OK);
        assert_true(id == caps[i].id);

        assert_int_equal(proto_stmt_set_id(p, n, 0xA1B2C3D4u), PROTO_OK);
        static const uint8_t le[4] = {0xD4, 0xC3, 0xB2, 0xA1};
        assert_memory_equal(p + 1, le, 4);
        assert_int_equal(p[0], orig[0]);
        if (n > 5)
            assert_memory_equal(p + 5, orig + 5, n - 5);
        assert_int_equal(proto_stmt_id(p, n, &id), PROTO_OK);
        assert_true(id == 0xA1B2C3D4u);

        assert_int_equal(proto_stmt_set_id(p, n, caps[i].id), PROTO_OK);
        assert_memory_equal(p, orig, n);
        free(orig);
        free(p);
    }
}

static void test_id_errors(void **state)
{
    (void)state;
    uint32_t id = 42;
    assert_int_equal(proto_stmt_id(NULL, 0, &id), PROTO_ETRUNC);
    assert_int_equal(proto_stmt_set_id(NULL, 0, 1), PROTO_ETRUNC);

    /* Commands that carry no statement id, even where byte 1..4 exist:
     * COM_QUERY, COM_STMT_PREPARE (answered with the id), COM_SET_OPTION,
     * COM_STMT_BULK_EXECUTE (never negotiated), COM_SLEEP. */
    static const uint8_t wrong[] = {PROTO_COM_QUERY, PROTO_COM_STMT_PREPARE,
                                    PROTO_COM_SET_OPTION,
                                    PROTO_COM_STMT_BULK_EXECUTE, 0x00, 0x1D};
    for (size_t i = 0; i < sizeof wrong; i++) {
        uint8_t b[9] = {wrong[i], 1, 2, 3, 4, 5, 6, 7, 8};
        uint8_t keep[9];
        memcpy(keep, b, sizeof b);
        assert_int_equal(proto_stmt_id(b, sizeof b, &id), PROTO_EBAD);
        assert_int_equal(proto_stmt_set_id(b, sizeof b, 7), PROTO_EBAD);
        assert_memory_equal(b, keep, sizeof b);
        /* the command is checked before the length */
        assert_int_equal(proto_stmt_id(b, 2, &id), PROTO_EBAD);
    }
    assert_int_equal(id, 42);
}

/* ---- COM_STMT_EXECUTE ---- */

static void test_execute_parse_captures(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCAPS; i++) {
        size_t n;
        uint8_t *p = tu_fixture(caps[i].file, &n);
        struct proto_stmt_exec ex;
        if (caps[i].cmd != EXEC) {
            assert_int_equal(proto_stmt_execute_parse(p, n, 1, &ex), PROTO_EBAD);
            free(p);
            continue;
        }
        assert_int_equal(proto_stmt_execute_parse(p, n, caps[i].num_params, &ex),
                         PROTO_OK);
        assert_true(ex.stmt_id == caps[i].id);
        assert_int_equal(ex.flags, caps[i].flags);
        assert_int_equal(ex.iterations, 1);
        assert_view(ex.null_bitmap, p, n, caps[i].bitmap);
        assert_int_equal(ex.types_bound, caps[i].bound);
        assert_view(ex.types, p, n, caps[i].types);
        assert_int_equal(ex.values_off, caps[i].values_off);
        if (caps[i].num_params > 0) {
            /* layout: bitmap, then the flag, then types, then values */
            assert_ptr_equal(ex.null_bitmap.p, p + 10);
            assert_int_equal(p[10 + ex.null_bitmap.len], caps[i].bound);
            if (caps[i].bound)
                assert_ptr_equal(ex.types.p, p + 11 + ex.null_bitmap.len);
        } else {
            assert_int_equal(ex.values_off, n); /* nothing follows */
        }
        free(p);
    }
}

/* The second execute sends the same values as the first, only without the
 * types; the capture pairs prove what with_types has to produce. */
static void test_pairs_differ_only_in_types(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        size_t n1, n2;
        uint8_t *p1 = tu_fixture(pairs[i].first, &n1);
        uint8_t *p2 = tu_fixture(pairs[i].second, &n2);
        struct proto_stmt_exec e1, e2;
        uint16_t np = pairs[i].num_params;
        assert_int_equal(proto_stmt_execute_parse(p1, n1, np, &e1), PROTO_OK);
        assert_int_equal(proto_stmt_execute_parse(p2, n2, np, &e2), PROTO_OK);
        assert_int_equal(n1, n2 + (np ? 2u * np : 0u));
        assert_int_equal(e1.types_bound, np > 0);
        assert_false(e2.types_bound);
        assert_int_equal(n1 - e1.values_off, n2 - e2.values_off);
        assert_memory_equal(p1 + e1.values_off, p2 + e2.values_off, n1 - e1.values_off);
        free(p1);
        free(p2);
    }
}

static void test_with_types_gives_first_execute(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++) {
        size_t n1, n2;
        uint8_t *p1 = tu_fixture(pairs[i].first, &n1);
        uint8_t *p2 = tu_fixture(pairs[i].second, &n2);
        uint16_t np = pairs[i].num_params;
        struct proto_stmt_exec e1;
        assert_int_equal(proto_stmt_execute_parse(p1, n1, np, &e1), PROTO_OK);

        /* Exactly n1 bytes of room: enough, and one less is not. */
        uint8_t *out = malloc(n1);
        struct proto_wr w;
        proto_wr_init(&w, out, n1);
        assert_int_equal(proto_stmt_execute_with_types(&w, p2, n2, np, e1.types,
                                                       e1.stmt_id),
                         PROTO_OK);
        assert_int_equal(w.len, n1);
        assert_memory_equal(out, p1, n1);

        proto_wr_init(&w, out, n1 - 1);
        assert_int_equal(proto_stmt_execute_with_types(&w, p2, n2, np, e1.types,
                                                       e1.stmt_id),
                         PROTO_ENOSPACE);

        /* Another backend's id: the first execute with that id. */
        assert_int_equal(proto_stmt_set_id(p1, n1, 0x00010203u), PROTO_OK);
        proto_wr_init(&w, out, n1);
        assert_int_equal(proto_stmt_execute_with_types(&w, p2, n2, np, e1.types,
                                                       0x00010203u),
                         PROTO_OK);
        assert_int_equal(w.len, n1);
        assert_memory_equal(out, p1, n1);
        free(out);
        free(p1);
        free(p2);
    }
}

/* A payload that carries its types (or has no parameters) is copied with
 * only the id changed; the types argument is not used then. */
static void test_with_types_on_bound_payload(void **state)
{
    (void)state;
    static const struct proto_str wrong_len = {(const uint8_t *)"x", 1};
    for (size_t i = 0; i < NCAPS; i++) {
        if (caps[i].cmd != EXEC || (caps[i].num_params > 0 && !caps[i].bound))
            continue;
        size_t n;
        uint8_t *p = tu_fixture(caps[i].file, &n);
        uint8_t *out = malloc(n);
        struct proto_wr w;
        proto_wr_init(&w, out, n);
        assert_int_equal(proto_stmt_execute_with_types(&w, p, n, caps[i].num_params,
                                                       wrong_len, 0x55667788u),
                         PROTO_OK);
        assert_int_equal(w.len, n);
        assert_int_equal(proto_stmt_set_id(p, n, 0x55667788u), PROTO_OK);
        assert_memory_equal(out, p, n);
        free(out);
        free(p);
    }
}

static void test_with_types_wrong_length(void **state)
{
    (void)state;
    size_t n1, n2;
    uint8_t *p1 = tu_fixture("stmt/exec9_types.hex", &n1);
    uint8_t *p2 = tu_fixture("stmt/exec9_notypes.hex", &n2);
    struct proto_stmt_exec e1;
    assert_int_equal(proto_stmt_execute_parse(p1, n1, 9, &e1), PROTO_OK);
    uint8_t out[256];
    struct proto_wr w;
    const size_t lens[] = {0, 2, 17, 19, 20};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        struct proto_str t = {p1, lens[i]};
        proto_wr_init(&w, out, sizeof out);
        assert_int_equal(proto_stmt_execute_with_types(&w, p2, n2, 9, t, 1), PROTO_EBAD);
        assert_int_equal(w.len, 0); /* nothing written */
    }
    /* Parse errors pass through, also with nothing written. */
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_stmt_execute_with_types(&w, p2, 12, 9, e1.types, 1),
                     PROTO_ETRUNC);
    assert_int_equal(w.len, 0);
    p2[0] = PROTO_COM_STMT_FETCH;
    assert_int_equal(proto_stmt_execute_with_types(&w, p2, n2, 9, e1.types, 1),
                     PROTO_EBAD);
    assert_int_equal(w.len, 0);
    free(p1);
    free(p2);
}

static void test_execute_bad_command_and_flag(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = tu_fixture("stmt/exec1_types.hex", &n);
    struct proto_stmt_exec ex;

    static const uint8_t wrong[] = {PROTO_COM_STMT_SEND_LONG_DATA, PROTO_COM_STMT_CLOSE,
                                    PROTO_COM_STMT_RESET, PROTO_COM_STMT_FETCH,
                                    PROTO_COM_STMT_PREPARE, PROTO_COM_QUERY,
                                    PROTO_COM_STMT_BULK_EXECUTE};
    for (size_t i = 0; i < sizeof wrong; i++) {
        p[0] = wrong[i];
        assert_int_equal(proto_stmt_execute_parse(p, n, 1, &ex), PROTO_EBAD);
    }
    p[0] = PROTO_COM_STMT_EXECUTE;

    /* new_params_bound_flag is byte 11 for one parameter. */
    assert_int_equal(p[11], 1);
    static const uint8_t bad_flag[] = {2, 0x80, 0xFF};
    for (size_t i = 0; i < sizeof bad_flag; i++) {
        p[11] = bad_flag[i];
        assert_int_equal(proto_stmt_execute_parse(p, n, 1, &ex), PROTO_EBAD);
    }
    p[11] = 1;

    /* The cursor flags and iteration count are reported, not judged. */
    p[5] = 0xFF;
    p[6] = 7;
    assert_int_equal(proto_stmt_execute_parse(p, n, 1, &ex), PROTO_OK);
    assert_int_equal(ex.flags, 0xFF);
    assert_int_equal(ex.iterations, 7);

    /* A num_params the payload cannot hold. */
    assert_int_equal(proto_stmt_execute_parse(p, n, 65535, &ex), PROTO_ETRUNC);
    free(p);
}

/* Every prefix of every capture, as an exact-size heap copy: an error
 * wherever a field is cut; the values are not walked, so a cut among them
 * parses (values_off unchanged) and is left to the server to refuse. */
static void test_truncations(void **state)
{
    (void)state;
    for (size_t i = 0; i < NCAPS; i++) {
        size_t n;
        uint8_t *full = tu_fixture(caps[i].file, &n);
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *p = exact(full, cut);
            uint32_t id;
            int want_id = cut < 5 ? PROTO_ETRUNC : PROTO_OK;
            assert_int_equal(proto_stmt_id(p, cut, &id), want_id);
            assert_int_equal(proto_stmt_set_id(p, cut, 99), want_id);
            if (caps[i].cmd == EXEC) {
                struct proto_stmt_exec ex;
                uint16_t np = caps[i].num_params;
                int rc = proto_stmt_execute_parse(p, cut, np, &ex);
                if (cut < caps[i].values_off) {
                    assert_int_equal(rc, PROTO_ETRUNC);
                } else {
                    assert_int_equal(rc, PROTO_OK);
                    assert_int_equal(ex.values_off, caps[i].values_off);
                }
                uint8_t out[256];
                uint8_t types[18] = {0};
                struct proto_str t = {types, 2u * np};
                struct proto_wr w;
                proto_wr_init(&w, out, sizeof out);
                rc = proto_stmt_execute_with_types(&w, p, cut, np, t, 1);
                if (cut < caps[i].values_off) {
                    assert_int_equal(rc, PROTO_ETRUNC);
                    assert_int_equal(w.len, 0);
                } else {
                    assert_int_equal(rc, PROTO_OK);
                    assert_int_equal(w.len, cut + (caps[i].bound ? 0u : 2u * np));
                }
            }
            free(p);
        }
        free(full);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_read_and_rewritten),
        cmocka_unit_test(test_id_errors),
        cmocka_unit_test(test_execute_parse_captures),
        cmocka_unit_test(test_pairs_differ_only_in_types),
        cmocka_unit_test(test_with_types_gives_first_execute),
        cmocka_unit_test(test_with_types_on_bound_payload),
        cmocka_unit_test(test_with_types_wrong_length),
        cmocka_unit_test(test_execute_bad_command_and_flag),
        cmocka_unit_test(test_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
