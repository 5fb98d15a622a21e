/* test_reply.c - OK / ERR / EOF / progress parsing, building, rewriting and
 * terminator classification (protocol/reply.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_reply.h"
#include "testsupport.h"

/* What libmariadb 3.3 negotiates with MariaDB 10.11 (PROTOCOL.md 6.2: client
 * caps 0x00bea28c masked by the server's) -- the flags that matter here. */
#define CAPS_41 (PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_TRANSACTIONS))
#define CAPS_TRACK (CAPS_41 | PROTO_CAP(CLIENT_SESSION_TRACK))
#define CAPS_MYSQL8 (CAPS_TRACK | PROTO_CAP(CLIENT_DEPRECATE_EOF))

/* Flags negotiated in the captures of tests/fixtures/reply (README.md):
 * client flags from each HandshakeResponse41; the server (0x81fff7fe) has
 * all of them. */
#define CAPS_CLI 0x00bfa284u           /* mariadb CLI, SESSION_TRACK */
#define CAPS_RAW_NOTRACK 0x002ea284u   /* raw client, no SESSION_TRACK */
#define CAPS_RAW_EOF_TRACK 0x01aea284u /* raw, SESSION_TRACK + DEPRECATE_EOF */
#define CAPS_RAW_EOF_NOTRACK 0x012ea284u /* raw, DEPRECATE_EOF only */

/* Splits the next framed packet (3-byte length, seq, payload) off *blob. */
static bool next_frame(const uint8_t **blob, size_t *left, const uint8_t **p,
                       size_t *n)
{
    if (*left == 0)
        return false;
    assert_true(*left >= 4);
    size_t len = proto_le24(*blob);
    assert_true(*left >= 4 + len);
    *p = *blob + 4;
    *n = len;
    *blob += 4 + len;
    *left -= 4 + len;
    return true;
}

/* MariaDB 10.11 OK after an INSERT with last_gtid tracked (PROTOCOL.md 3.2
 * [EMP]): affected 1, status 0x4002, info empty, one type-0 entry. */
static const char OK_LAST_GTID[] =
    "00 01 00 0240 0000 00 12"
    "  00 10 09 6c6173745f67746964 05 302d312d36";

static void test_ok_parse_tracked(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = tu_hex(OK_LAST_GTID, b, sizeof b);
    struct proto_ok ok;
    assert_int_equal(proto_ok_parse(b, n, CAPS_TRACK, &ok), PROTO_OK);
    assert_int_equal(ok.header, 0x00);
    assert_true(ok.affected_rows == 1);
    assert_true(ok.last_insert_id == 0);
    assert_int_equal(ok.status, 0x4002);
    assert_int_equal(ok.warnings, 0);
    assert_true(ok.info_present);
    assert_int_equal(ok.info.len, 0);
    assert_true(ok.has_session_state);
    assert_int_equal(ok.session_state.len, 0x12);
    assert_ptr_equal(ok.session_state.p, b + 9);

    /* The status promises a session state: every truncation is an error. */
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(proto_ok_parse(b, cut, CAPS_TRACK, &ok),
                         PROTO_ETRUNC);

    /* A byte after the session state is not something servers send. */
    b[n] = 0x00;
    assert_int_equal(proto_ok_parse(b, n + 1, CAPS_TRACK, &ok), PROTO_EBAD);
}

static void test_ok_parse_minimal(void **state)
{
    (void)state;
    uint8_t b[16];
    struct proto_ok ok;
    size_t n = tu_hex("00 00 00 0200 0000", b, sizeof b);
    assert_int_equal(proto_ok_parse(b, n, CAPS_TRACK, &ok), PROTO_OK);
    assert_false(ok.info_present);
    assert_false(ok.has_session_state);
    assert_int_equal(ok.status, 2);
    assert_int_equal(proto_ok_parse(b, n, CAPS_41, &ok), PROTO_OK);
    assert_false(ok.info_present);
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(proto_ok_parse(b, cut, CAPS_TRACK, &ok),
                         PROTO_ETRUNC);

    /* Pre-4.1 without TRANSACTIONS: header + two lenencs only. */
    n = tu_hex("00 fc e803 05", b, sizeof b);
    assert_int_equal(proto_ok_parse(b, n, 0, &ok), PROTO_OK);
    assert_true(ok.affected_rows == 1000);
    assert_true(ok.last_insert_id == 5);
    assert_int_equal(ok.status, 0);

    /* TRANSACTIONS without PROTOCOL_41: status, no warnings. */
    n = tu_hex("00 00 00 0300", b, sizeof b);
    assert_int_equal(proto_ok_parse(b, n, PROTO_CAP(CLIENT_TRANSACTIONS), &ok),
                     PROTO_OK);
    assert_int_equal(ok.status, 3);

    /* Wrong header; 0xFF inside a lenenc. */
    n = tu_hex("01 00 00 0200 0000", b, sizeof b);
    assert_int_equal(proto_ok_parse(b, n, CAPS_TRACK, &ok), PROTO_EBAD);
    n = tu_hex("00 ff 00 0200 0000", b, sizeof b);
    assert_int_equal(proto_ok_parse(b, n, CAPS_TRACK, &ok), PROTO_EBAD);
}

static void test_ok_build_roundtrip(void **state)
{
    (void)state;
    uint8_t want[64], got[64];
    size_t n = tu_hex(OK_LAST_GTID, want, sizeof want);
    struct proto_ok ok;
    assert_int_equal(proto_ok_parse(want, n, CAPS_TRACK, &ok), PROTO_OK);
    struct proto_wr w;
    proto_wr_init(&w, got, sizeof got);
    assert_int_equal(proto_ok_build(&w, CAPS_TRACK, &ok), PROTO_OK);
    assert_int_equal(w.len, n);
    assert_memory_equal(got, want, n);

    /* Every buffer too small by a byte or more fails, never overruns. */
    for (size_t cap = 0; cap < n; cap++) {
        proto_wr_init(&w, got, cap);
        assert_int_equal(proto_ok_build(&w, CAPS_TRACK, &ok), PROTO_ENOSPACE);
    }
}

static void test_ok_rewrite_untracked(void **state)
{
    (void)state;
    uint8_t in[64], want[16], got[64];
    size_t n = tu_hex(OK_LAST_GTID, in, sizeof in);
    size_t wn = tu_hex("00 01 00 0200 0000", want, sizeof want);
    struct proto_wr w;
    proto_wr_init(&w, got, sizeof got);
    assert_int_equal(proto_ok_rewrite(in, n, CAPS_TRACK, CAPS_41, &w),
                     PROTO_OK);
    assert_int_equal(w.len, wn);
    assert_memory_equal(got, want, wn);
}

/* The proof that a rewritten OK is what the server would have sent: pairs
 * of real OKs for the same statement to a tracking and a non-tracking
 * client (fixture README). Returns the number of pairs checked. */
static size_t check_rewrite_pairs(const char *fixture, uint64_t from,
                                  uint64_t to, size_t *fe_pairs)
{
    size_t blob_len, pairs = 0;
    uint8_t *blob = tu_fixture(fixture, &blob_len);
    const uint8_t *cur = blob, *in, *want;
    size_t left = blob_len, in_n, want_n;
    uint8_t got[1024];

    while (next_frame(&cur, &left, &in, &in_n)) {
        assert_true(next_frame(&cur, &left, &want, &want_n));
        struct proto_wr w;
        proto_wr_init(&w, got, sizeof got);
        assert_int_equal(proto_ok_rewrite(in, in_n, from, to, &w), PROTO_OK);
        assert_int_equal(w.len, want_n);
        assert_memory_equal(got, want, want_n);
        /* The untracked form must itself parse, and be a fixed point. */
        struct proto_ok a, b;
        assert_int_equal(proto_ok_parse(in, in_n, from, &a), PROTO_OK);
        assert_int_equal(proto_ok_parse(want, want_n, to, &b), PROTO_OK);
        assert_true(a.affected_rows == b.affected_rows);
        assert_true(a.last_insert_id == b.last_insert_id);
        assert_int_equal(a.warnings, b.warnings);
        assert_int_equal(a.info.len, b.info.len);
        assert_false(b.has_session_state);
        proto_wr_init(&w, got, sizeof got);
        assert_int_equal(proto_ok_rewrite(want, want_n, to, to, &w), PROTO_OK);
        assert_int_equal(w.len, want_n);
        assert_memory_equal(got, want, want_n);
        /* Every cut of a tracked OK is ETRUNC, except one right before
         * the info of an OK without session state: info may be omitted, so
         * that prefix is itself a complete OK. */
        size_t fixed_end = a.info_present ? (size_t)(a.info.p - in) -
                                                proto_lenenc_size(a.info.len)
                                          : in_n;
        for (size_t cut = 0; cut < in_n; cut++) {
            struct proto_ok c;
            bool whole = !a.has_session_state && cut == fixed_end;
            assert_int_equal(proto_ok_parse(in, cut, from, &c),
                             whole ? PROTO_OK : PROTO_ETRUNC);
        }
        if (in[0] == 0xFE)
            (*fe_pairs)++;
        pairs++;
    }
    free(blob);
    return pairs;
}

static void test_rewrite_real_pairs(void **state)
{
    (void)state;
    size_t fe = 0;
    /* 29 OKs, of which those with session state / info are the point. */
    assert_int_equal(check_rewrite_pairs("reply/rewrite_cli.hex", CAPS_CLI,
                                         CAPS_RAW_NOTRACK, &fe),
                     29);
    assert_int_equal(fe, 0);
    assert_int_equal(check_rewrite_pairs("reply/rewrite_deprecate_eof.hex",
                                         CAPS_RAW_EOF_TRACK,
                                         CAPS_RAW_EOF_NOTRACK, &fe),
                     31);
    assert_int_equal(fe, 2); /* the two SELECTs end with an OK-as-EOF */
}

static void test_err(void **state)
{
    (void)state;
    uint8_t b[128];
    struct proto_err e;
    /* ER_NO_SUCH_TABLE 1146 = 0x047a, SQLSTATE 42S02. */
    size_t n = tu_hex("ff 7a04 23 3432533032 546162"
                      "6c6520277427", b, sizeof b);
    assert_int_equal(proto_err_parse(b, n, CAPS_41, &e), PROTO_OK);
    assert_int_equal(e.code, 1146);
    assert_true(e.has_sqlstate);
    assert_true(proto_str_eq(e.sqlstate, "42S02"));
    assert_true(proto_str_eq(e.message, "Table 't'"));
    /* Cut inside code or SQLSTATE: error. Cut right after the code: a valid
     * ERR with an empty message. */
    for (size_t cut = 0; cut < 9; cut++)
        assert_int_equal(proto_err_parse(b, cut, CAPS_41, &e),
                         cut == 3 ? PROTO_OK : PROTO_ETRUNC);

    /* Pre-auth form (caps 0): no SQLSTATE even if the text starts with '#'. */
    assert_int_equal(proto_err_parse(b, n, 0, &e), PROTO_OK);
    assert_false(e.has_sqlstate);
    assert_int_equal(e.message.len, n - 3);

    /* Real pre-handshake ERR from MariaDB: code 1040, no SQLSTATE. */
    size_t fn;
    uint8_t *f = tu_fixture("reply/err_preauth_too_many.hex", &fn);
    assert_int_equal(proto_err_parse(f, fn, 0, &e), PROTO_OK);
    assert_int_equal(e.code, 1040);
    assert_false(e.has_sqlstate);
    assert_true(proto_str_eq(e.message, "Too many connections"));
    assert_int_equal(proto_reply_first_kind(f, fn, 0), PROTO_REPLY_ERR);
    free(f);

    /* Real ERRs after a statement, with SQLSTATE. */
    f = tu_fixture("reply/err_dup_key.hex", &fn);
    assert_int_equal(proto_err_parse(f, fn, CAPS_CLI, &e), PROTO_OK);
    assert_int_equal(e.code, 1062);
    assert_true(proto_str_eq(e.sqlstate, "23000"));
    assert_true(
        proto_str_eq(e.message, "Duplicate entry '1' for key 'PRIMARY'"));
    assert_int_equal(proto_reply_row_kind(f, fn, CAPS_CLI), PROTO_REPLY_ERR);
    free(f);
    f = tu_fixture("reply/err_no_such_table.hex", &fn);
    assert_int_equal(proto_err_parse(f, fn, CAPS_CLI, &e), PROTO_OK);
    assert_int_equal(e.code, 1146);
    assert_true(proto_str_eq(e.sqlstate, "42S02"));
    assert_true(proto_str_eq(e.message, "Table 'rt.nosuch' doesn't exist"));
    free(f);

    uint8_t out[600];
    struct proto_wr w;
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_err_build(&w, CAPS_41, 1146, "42S02", "Table 't'",
                                     9),
                     PROTO_OK);
    assert_int_equal(w.len, n);
    assert_memory_equal(out, b, n);

    /* Message truncated to 512 bytes. */
    char big[700];
    memset(big, 'x', sizeof big);
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_err_build(&w, CAPS_41, 1105, NULL, big, sizeof big),
                     PROTO_OK);
    assert_int_equal(w.len, 1 + 2 + 6 + PROTO_ERR_MSG_MAX);
    assert_memory_equal(out + 4, "HY000", 5);
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_err_build(&w, CAPS_41, 1105, "HY0", big, 1),
                     PROTO_EBAD);
}

static void test_eof_and_kinds(void **state)
{
    (void)state;
    uint8_t b[16];
    struct proto_eof eof;
    size_t n = tu_hex("fe 0100 2200", b, sizeof b);
    assert_int_equal(proto_eof_parse(b, n, CAPS_41, &eof), PROTO_OK);
    assert_int_equal(eof.warnings, 1);
    assert_int_equal(eof.status, 0x22);
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(proto_eof_parse(b, cut, CAPS_41, &eof), PROTO_ETRUNC);
    assert_int_equal(proto_reply_row_kind(b, n, CAPS_41), PROTO_REPLY_EOF);
    /* Under DEPRECATE_EOF a 5-byte 0xFE is still a classic EOF (shorter
     * than any OK: MySQL's binlog-dump end); 7 bytes is an OK-as-EOF. */
    assert_int_equal(proto_reply_row_kind(b, n, CAPS_MYSQL8), PROTO_REPLY_EOF);
    assert_int_equal(proto_reply_first_kind(b, n, CAPS_MYSQL8),
                     PROTO_REPLY_EOF);
    uint8_t okeof[8];
    size_t okn = tu_hex("fe 00 00 0200 0000", okeof, sizeof okeof);
    assert_int_equal(proto_reply_row_kind(okeof, okn, CAPS_MYSQL8),
                     PROTO_REPLY_OK_EOF);
    assert_int_equal(proto_reply_first_kind(okeof, okn, CAPS_MYSQL8),
                     PROTO_REPLY_OK_EOF);
    assert_int_equal(proto_reply_first_kind(okeof, okn, CAPS_41),
                     PROTO_REPLY_EOF);
    /* 0xFE with 9+ bytes and no DEPRECATE_EOF: a row. */
    assert_int_equal(proto_reply_row_kind(b, 9, CAPS_41), PROTO_REPLY_ROW);
    /* A full 0xFFFFFF chunk starting 0xFE is a row even under DEPRECATE_EOF.
     * Only p[0] and n are looked at; b stands in for the chunk. */
    assert_int_equal(proto_reply_row_kind(b, PROTO_MAX_PAYLOAD, CAPS_MYSQL8),
                     PROTO_REPLY_ROW);

    uint8_t out[8];
    struct proto_wr w;
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_eof_build(&w, CAPS_41, 1, 0x0022), PROTO_OK);
    assert_int_equal(w.len, n);
    assert_memory_equal(out, b, n);

    /* MariaDB progress: ff ffff, 1 string, stage 1/2, 50.000%, "copy". */
    n = tu_hex("ff ffff 01 01 02 50c300 04 636f7079", b, sizeof b);
    assert_int_equal(proto_reply_first_kind(b, n, CAPS_41),
                     PROTO_REPLY_PROGRESS);
    assert_int_equal(proto_reply_row_kind(b, n, CAPS_41), PROTO_REPLY_PROGRESS);
    struct proto_progress pr;
    assert_int_equal(proto_progress_parse(b, n, &pr), PROTO_OK);
    assert_int_equal(pr.stage, 1);
    assert_int_equal(pr.max_stage, 2);
    assert_int_equal(pr.progress_x1000, 50000);
    assert_true(proto_str_eq(pr.stage_name, "copy"));
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(proto_progress_parse(b, cut, &pr), PROTO_ETRUNC);

    /* Real classic EOF ending rows inside START TRANSACTION READ ONLY:
     * status IN_TRANS|AUTOCOMMIT|NO_INDEX_USED|IN_TRANS_READONLY|
     * SESSION_STATE_CHANGED (an EOF carries the flag but no state). */
    size_t fn;
    uint8_t *f = tu_fixture("reply/eof_resultset.hex", &fn);
    assert_int_equal(proto_reply_row_kind(f, fn, CAPS_CLI), PROTO_REPLY_EOF);
    assert_int_equal(proto_eof_parse(f, fn, CAPS_CLI, &eof), PROTO_OK);
    assert_int_equal(eof.warnings, 0);
    assert_int_equal(eof.status, 0x6023);
    free(f);
    /* The real OK-as-EOF (DEPRECATE_EOF) is a terminator, not a row. */
    f = tu_fixture("reply/ok_eof_session_state.hex", &fn);
    assert_int_equal(proto_reply_row_kind(f, fn, CAPS_RAW_EOF_TRACK),
                     PROTO_REPLY_OK_EOF);
    assert_int_equal(proto_reply_row_kind(f, fn, CAPS_CLI), PROTO_REPLY_ROW);
    free(f);

    assert_string_equal(proto_reply_kind_name(PROTO_REPLY_OK_EOF), "OK_EOF");
}

/* Real MariaDB progress reports ahead of the OK (fixture README). */
static void test_progress_real(void **state)
{
    (void)state;
    static const struct {
        uint8_t stage, max_stage;
        uint32_t x1000;
        const char *name;
    } want[] = {{1, 2, 672, "copy to tmp table"}, {2, 2, 0, "Enabling keys"}};
    size_t blob_len, left, n, i = 0;
    uint8_t *blob = tu_fixture("reply/progress_alter.hex", &blob_len);
    const uint8_t *cur = blob, *p;
    left = blob_len;
    while (next_frame(&cur, &left, &p, &n)) {
        if (i < 2) {
            struct proto_progress pr;
            struct proto_err e;
            assert_int_equal(proto_reply_first_kind(p, n, CAPS_CLI),
                             PROTO_REPLY_PROGRESS);
            assert_true(proto_err_is_progress(p, n));
            assert_int_equal(proto_progress_parse(p, n, &pr), PROTO_OK);
            assert_int_equal(pr.stage, want[i].stage);
            assert_int_equal(pr.max_stage, want[i].max_stage);
            assert_int_equal(pr.progress_x1000, want[i].x1000);
            assert_true(proto_str_eq(pr.stage_name, want[i].name));
            assert_int_equal(proto_err_parse(p, n, CAPS_CLI, &e), PROTO_OK);
            assert_int_equal(e.code, PROTO_ERR_CODE_PROGRESS);
        } else {
            struct proto_ok ok;
            assert_int_equal(proto_reply_first_kind(p, n, CAPS_CLI),
                             PROTO_REPLY_OK);
            assert_int_equal(proto_ok_parse(p, n, CAPS_CLI, &ok), PROTO_OK);
            assert_true(ok.affected_rows == 1500000);
            assert_true(proto_str_eq(
                ok.info, "Records: 1500000  Duplicates: 0  Warnings: 0"));
        }
        i++;
    }
    assert_int_equal(i, 3);
    free(blob);
    assert_string_equal(proto_reply_kind_name((enum proto_reply_kind)99),
                        "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_parse_tracked),
        cmocka_unit_test(test_ok_parse_minimal),
        cmocka_unit_test(test_ok_build_roundtrip),
        cmocka_unit_test(test_ok_rewrite_untracked),
        cmocka_unit_test(test_rewrite_real_pairs),
        cmocka_unit_test(test_err),
        cmocka_unit_test(test_eof_and_kinds),
        cmocka_unit_test(test_progress_real),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
