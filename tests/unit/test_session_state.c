/* test_session_state.c - session_state_info iterator, decoders and summary
 * (protocol/session_state.c) on real MariaDB 10.11 OKs and hand-built
 * MySQL 8.x OKs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_reply.h"
#include "gtidproxy/proto_session_state.h"
#include "testsupport.h"

#define CAPS_TRACK                                                             \
    (PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_TRANSACTIONS) |          \
     PROTO_CAP(CLIENT_SESSION_TRACK))
#define CAPS_MYSQL8 (CAPS_TRACK | PROTO_CAP(CLIENT_DEPRECATE_EOF))

/* ------------------------------------------------ real MariaDB 10.11 --- */

/* Loads a fixture OK, parses it and summarises its session state. The
 * buffer stays alive (returned) because the summary points into it. */
static uint8_t *load_summary(const char *fixture, uint64_t caps,
                             struct proto_ok *ok, struct proto_ss_summary *s)
{
    size_t n;
    uint8_t *p = tu_fixture(fixture, &n);
    assert_int_equal(proto_ok_parse(p, n, caps, ok), PROTO_OK);
    assert_int_equal(proto_ss_summarize(ok->session_state, s), PROTO_OK);
    return p;
}

static void test_mariadb_gtid_and_info(void **state)
{
    (void)state;
    struct proto_ok ok;
    struct proto_ss_summary s;
    uint8_t *p = load_summary("reply/ok_insert_info_gtid.hex", CAPS_TRACK,
                              &ok, &s);
    assert_true(ok.affected_rows == 3);
    assert_true(ok.last_insert_id == 1);
    assert_true(proto_str_eq(ok.info, "Records: 3  Duplicates: 0  Warnings: 0"));
    assert_int_equal(s.gtid_source, PROTO_GTID_SOURCE_MARIADB_LAST_GTID);
    assert_true(proto_str_eq(s.gtid, "0-1-52"));
    assert_int_equal(s.sysvars_changed, PROTO_SYSVAR_BIT(LAST_GTID));
    assert_true(proto_str_eq(s.sysvar[PROTO_SYSVAR_LAST_GTID], "0-1-52"));
    assert_false(s.has_schema);
    assert_false(s.has_trx_state);
    assert_false(s.state_changed);
    free(p);

    p = load_summary("reply/ok_update_no_change.hex", CAPS_TRACK, &ok, &s);
    assert_false(ok.has_session_state);
    assert_true(proto_str_eq(ok.info, "Rows matched: 1  Changed: 0  Warnings: 0"));
    assert_int_equal(s.gtid_source, PROTO_GTID_SOURCE_NONE);
    assert_int_equal(s.sysvars_changed, 0);
    free(p);

    /* DROP DATABASE of the current schema: GTID, and the schema becomes
     * empty (has_schema with an empty view, not "no schema entry"). */
    p = load_summary("reply/ok_drop_db.hex", CAPS_TRACK, &ok, &s);
    assert_true(ok.status & PROTO_SERVER_STATUS_DB_DROPPED);
    assert_true(proto_str_eq(s.gtid, "0-1-56"));
    assert_true(s.has_schema);
    assert_int_equal(s.schema.len, 0);
    free(p);
}

static void test_mariadb_schema_and_vars(void **state)
{
    (void)state;
    struct proto_ok ok;
    struct proto_ss_summary s;
    uint8_t *p = load_summary("reply/ok_init_db.hex", CAPS_TRACK, &ok, &s);
    assert_true(s.has_schema);
    assert_true(proto_str_eq(s.schema, "rt"));
    assert_true(s.state_changed);
    assert_int_equal(s.gtid_source, PROTO_GTID_SOURCE_NONE);
    free(p);

    p = load_summary("reply/ok_autocommit_off.hex", CAPS_TRACK, &ok, &s);
    assert_false(ok.status & PROTO_SERVER_STATUS_AUTOCOMMIT);
    assert_int_equal(s.sysvars_changed, PROTO_SYSVAR_BIT(AUTOCOMMIT));
    assert_true(proto_str_eq(s.sysvar[PROTO_SYSVAR_AUTOCOMMIT], "OFF"));
    assert_true(s.state_changed);
    free(p);

    p = load_summary("reply/ok_time_zone.hex", CAPS_TRACK, &ok, &s);
    assert_int_equal(s.sysvars_changed, PROTO_SYSVAR_BIT(TIME_ZONE));
    assert_true(proto_str_eq(s.sysvar[PROTO_SYSVAR_TIME_ZONE], "+02:00"));
    free(p);

    /* SET NAMES changes three variables; only character_set_client was in
     * session_track_system_variables, so only it is reported. */
    p = load_summary("reply/ok_set_names.hex", CAPS_TRACK, &ok, &s);
    assert_int_equal(s.sysvars_changed, PROTO_SYSVAR_BIT(CHARACTER_SET_CLIENT));
    assert_true(
        proto_str_eq(s.sysvar[PROTO_SYSVAR_CHARACTER_SET_CLIENT], "latin1"));
    free(p);

    p = load_summary("reply/ok_sql_mode_ansi.hex", CAPS_TRACK, &ok, &s);
    assert_int_equal(ok.status, PROTO_SERVER_STATUS_ANSI_QUOTES |
                                    PROTO_SERVER_SESSION_STATE_CHANGED |
                                    PROTO_SERVER_STATUS_AUTOCOMMIT);
    assert_int_equal(s.sysvars_changed, PROTO_SYSVAR_BIT(SQL_MODE));
    assert_true(proto_str_eq(s.sysvar[PROTO_SYSVAR_SQL_MODE], "ANSI_QUOTES"));
    free(p);
}

static void test_mariadb_transactions(void **state)
{
    (void)state;
    struct proto_ok ok;
    struct proto_ss_summary s;

    /* autocommit=0 then INSERT: implicit transaction with a write, no GTID
     * until COMMIT. */
    uint8_t *p = load_summary("reply/ok_insert_in_trx.hex", CAPS_TRACK, &ok,
                              &s);
    assert_true(ok.status & PROTO_SERVER_STATUS_IN_TRANS);
    assert_true(s.has_trx_state);
    assert_true(s.trx_state.implicit_trx);
    assert_false(s.trx_state.explicit_trx);
    assert_true(s.trx_state.write_trx);
    assert_true(proto_trx_in_transaction(&s.trx_state));
    assert_true(proto_trx_has_writes(&s.trx_state));
    assert_false(proto_trx_has_reads(&s.trx_state));
    assert_int_equal(s.gtid_source, PROTO_GTID_SOURCE_NONE);
    free(p);

    p = load_summary("reply/ok_commit_gtid_state.hex", CAPS_TRACK, &ok, &s);
    assert_true(proto_str_eq(s.gtid, "0-1-54"));
    assert_true(s.has_trx_state);
    assert_false(proto_trx_in_transaction(&s.trx_state));
    assert_false(proto_trx_has_writes(&s.trx_state));
    free(p);

    p = load_summary("reply/ok_begin.hex", CAPS_TRACK, &ok, &s);
    assert_true(s.trx_state.explicit_trx);
    assert_false(proto_trx_has_writes(&s.trx_state));
    assert_true(s.has_trx_characteristics);
    assert_true(proto_str_eq(s.trx_characteristics, "START TRANSACTION;"));
    free(p);

    p = load_summary("reply/ok_trx_read_only.hex", CAPS_TRACK, &ok, &s);
    assert_false(s.has_trx_state);
    assert_true(
        proto_str_eq(s.trx_characteristics, "SET TRANSACTION READ ONLY;"));
    free(p);

    /* Enabling the tracker reports the (empty) state and characteristics. */
    p = load_summary("reply/ok_trx_info_on.hex", CAPS_TRACK, &ok, &s);
    assert_true(s.state_changed);
    assert_true(s.has_trx_state);
    assert_false(proto_trx_in_transaction(&s.trx_state));
    assert_true(s.has_trx_characteristics);
    assert_int_equal(s.trx_characteristics.len, 0);
    free(p);

    /* Real OK-as-EOF (DEPRECATE_EOF) ending a SELECT in START TRANSACTION
     * READ ONLY: "T_R___S_". */
    p = load_summary("reply/ok_eof_session_state.hex", CAPS_MYSQL8, &ok, &s);
    assert_int_equal(ok.header, 0xFE);
    assert_true(s.trx_state.explicit_trx);
    assert_true(s.trx_state.read_trx);
    assert_true(s.trx_state.result_set);
    assert_false(s.trx_state.read_unsafe);
    assert_false(s.trx_state.locked_tables);
    free(p);
}

/* The iterator yields each entry in order, with its exact bytes. */
static void test_iterator_entries(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = tu_fixture("reply/ok_trx_info_on.hex", &n);
    struct proto_ok ok;
    assert_int_equal(proto_ok_parse(p, n, CAPS_TRACK, &ok), PROTO_OK);
    static const struct {
        uint8_t type;
        const char *hex;
    } want[] = {
        {PROTO_SESSION_TRACK_STATE_CHANGE, "31"},
        {PROTO_SESSION_TRACK_TRANSACTION_STATE, "08 5f5f5f5f5f5f5f5f"},
        {PROTO_SESSION_TRACK_TRANSACTION_CHARACTERISTICS, "00"},
    };
    struct proto_ss_iter it;
    struct proto_ss_entry e;
    size_t i = 0;
    proto_ss_iter_init(&it, ok.session_state);
    while (!proto_ss_iter_done(&it)) {
        assert_int_equal(proto_ss_next(&it, &e), PROTO_OK);
        assert_true(i < sizeof want / sizeof want[0]);
        uint8_t b[16];
        size_t bn = tu_hex(want[i].hex, b, sizeof b);
        assert_int_equal(e.type, want[i].type);
        assert_int_equal(e.data.len, bn);
        assert_memory_equal(e.data.p, b, bn);
        i++;
    }
    assert_int_equal(i, 3);
    assert_int_equal(proto_ss_next(&it, &e), PROTO_ETRUNC);

    /* Cut the block anywhere: entries before the cut still come out, the
     * one the cut goes through is PROTO_ETRUNC, and never a read past. */
    for (size_t cut = 0; cut < ok.session_state.len; cut++) {
        struct proto_str part = {ok.session_state.p, cut};
        struct proto_ss_summary s;
        size_t got = 0;
        int rc = PROTO_OK;
        proto_ss_iter_init(&it, part);
        while (!proto_ss_iter_done(&it) &&
               (rc = proto_ss_next(&it, &e)) == PROTO_OK)
            got++;
        /* Entry boundaries are at 3 and 14 (of 17). */
        bool boundary = cut == 0 || cut == 3 || cut == 14;
        assert_int_equal(rc, boundary ? PROTO_OK : PROTO_ETRUNC);
        assert_int_equal(proto_ss_summarize(part, &s),
                         boundary ? PROTO_OK : PROTO_ETRUNC);
        assert_true(got < 3);
    }
    free(p);
}

/* ------------------------------------------- hand-built MySQL 8.x OKs --- */

/*
 * MySQL 8.x OK with SESSION_TRACK_GTIDS (MY:pc net_send_ok +
 * MY:st Session_gtids_ctx_encoder_string::encode, PROTOCOL.md 3.2):
 *   00 | lenenc affected | lenenc insert id | status 0x4002 | warnings 0 |
 *   info lenenc "" | lenenc block |
 *   block = 03 | lenenc(1 + lenenc_size(L) + L) | 00 | lenenc L | text
 * For the 39-byte single GTID: 03 29 00 27 <text>, block length 0x2b.
 */
static const char MYSQL_GTID_OK[] =
    "00 01 00 0240 0000 00 2b"
    " 03 29 00 27"
    " 33453131464134372d373143412d313145312d394533332d433830414139343239"
    " 3536323a3233"; /* 3E11FA47-71CA-11E1-9E33-C80AA9429562:23 */

static void test_mysql_gtids(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = tu_hex(MYSQL_GTID_OK, b, sizeof b);
    struct proto_ok ok;
    struct proto_ss_summary s;
    assert_int_equal(n, 9 + 0x2b);
    assert_int_equal(proto_ok_parse(b, n, CAPS_TRACK, &ok), PROTO_OK);
    assert_int_equal(ok.session_state.len, 0x2b);
    assert_int_equal(proto_ss_summarize(ok.session_state, &s), PROTO_OK);
    assert_int_equal(s.gtid_source, PROTO_GTID_SOURCE_MYSQL_GTIDS);
    assert_true(
        proto_str_eq(s.gtid, "3E11FA47-71CA-11E1-9E33-C80AA9429562:23"));
    assert_string_equal(proto_gtid_source_name(s.gtid_source), "MYSQL_GTIDS");

    /* Every truncation of the OK is an error (the flag promises state). */
    for (size_t cut = 0; cut < n; cut++)
        assert_int_equal(proto_ok_parse(b, cut, CAPS_TRACK, &ok),
                         PROTO_ETRUNC);

    /* The same OK for a client without SESSION_TRACK: 7 bytes. */
    uint8_t out[64], want[16];
    size_t wn = tu_hex("00 01 00 0200 0000", want, sizeof want);
    struct proto_wr w;
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_ok_rewrite(b, n, CAPS_TRACK,
                                      CAPS_TRACK & ~PROTO_CAP(CLIENT_SESSION_TRACK),
                                      &w),
                     PROTO_OK);
    assert_int_equal(w.len, wn);
    assert_memory_equal(out, want, wn);
}

/* Builds "03 len 00 lenenc(L) text" for a GTID text into b; returns size. */
static size_t build_gtids_entry(uint8_t *b, size_t cap, const char *text)
{
    struct proto_wr w;
    size_t l = strlen(text);
    proto_wr_init(&w, b, cap);
    proto_wr_u8(&w, PROTO_SESSION_TRACK_GTIDS);
    proto_wr_lenenc(&w, 1 + proto_lenenc_size(l) + l);
    proto_wr_u8(&w, 0);
    proto_wr_lenenc_str(&w, text, l);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);
    return w.len;
}

static void test_mysql_gtid_set_forms(void **state)
{
    (void)state;
    /* Multi-UUID set as the server prints it: ",\n" between UUID sets
     * (MY:gset default_string_format); and a tagged GTID (MySQL >= 8.3
     * Tsid format uuid:tag:interval). The decoder returns the text as is. */
    static const char *const sets[] = {
        "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5:11,\n"
        "4E11FA47-71CA-11E1-9E33-C80AA9429562:1-3",
        "3E11FA47-71CA-11E1-9E33-C80AA9429562:tag:1-5",
    };
    for (size_t i = 0; i < sizeof sets / sizeof sets[0]; i++) {
        uint8_t b[256];
        size_t n = build_gtids_entry(b, sizeof b, sets[i]);
        struct proto_str block = {b, n};
        struct proto_ss_summary s;
        assert_int_equal(proto_ss_summarize(block, &s), PROTO_OK);
        assert_int_equal(s.gtid_source, PROTO_GTID_SOURCE_MYSQL_GTIDS);
        assert_true(proto_str_eq(s.gtid, sets[i]));
    }

    /* Byte-exact head of the multi-UUID entry: 03, entity 0x57 = 1 + 1 +
     * 85, spec 00, text length 0x55 = 85; ",\n" right after "uuid:1-5:11". */
    uint8_t b[256];
    size_t n = build_gtids_entry(b, sizeof b, sets[0]);
    assert_int_equal(n, 2 + 0x57);
    assert_memory_equal(b, "\x03\x57\x00\x55", 4);
    assert_memory_equal(b + 4 + 43, ",\n", 2);
}

/*
 * MySQL 8.x OK-as-EOF (CLIENT_DEPRECATE_EOF; MY:pc net_send_ok with 0xFE
 * header) ending a SELECT inside a transaction, with two entries as MySQL
 * orders them (system variables first, sorted by name; then transaction
 * state): 0xFE, 0, 0, status 0x4003, warnings 0, info "", block 0x22 =
 *   00 0f 0a "autocommit" 03 "OFF"      (17 bytes)
 *   05 09 08 "T_R___S_"                 (11 bytes)
 *   ... 34 bytes with a 6-byte unknown type 0x09 entry after them.
 */
static const char MYSQL_OK_EOF[] = "fe 00 00 0340 0000 00 22"
                                   " 00 0f 0a 6175746f636f6d6d6974 03 4f4646"
                                   " 05 09 08 545f525f5f5f535f"
                                   " 09 04 01020304";

static void test_mysql_ok_eof(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = tu_hex(MYSQL_OK_EOF, b, sizeof b);
    assert_int_equal(n, 9 + 0x22);
    assert_int_equal(proto_reply_row_kind(b, n, CAPS_MYSQL8), PROTO_REPLY_OK_EOF);
    struct proto_ok ok;
    struct proto_ss_summary s;
    assert_int_equal(proto_ok_parse(b, n, CAPS_MYSQL8, &ok), PROTO_OK);
    assert_int_equal(ok.header, 0xFE);
    assert_int_equal(proto_ss_summarize(ok.session_state, &s), PROTO_OK);
    assert_int_equal(s.sysvars_changed, PROTO_SYSVAR_BIT(AUTOCOMMIT));
    assert_true(s.trx_state.explicit_trx && s.trx_state.read_trx &&
                s.trx_state.result_set);
    assert_int_equal(s.unknown_entries, 1);
    assert_int_equal(s.gtid_source, PROTO_GTID_SOURCE_NONE);

    /* Rewritten for a DEPRECATE_EOF client without tracking: still 0xFE;
     * for a client without DEPRECATE_EOF either: a classic EOF. */
    uint8_t out[64], want[16];
    struct proto_wr w;
    size_t wn = tu_hex("fe 00 00 0300 0000", want, sizeof want);
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_ok_rewrite(b, n, CAPS_MYSQL8,
                                      CAPS_MYSQL8 & ~PROTO_CAP(CLIENT_SESSION_TRACK),
                                      &w),
                     PROTO_OK);
    assert_int_equal(w.len, wn);
    assert_memory_equal(out, want, wn);
    wn = tu_hex("fe 0000 0300", want, sizeof want);
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_ok_rewrite(b, n, CAPS_MYSQL8,
                                      PROTO_CAP(CLIENT_PROTOCOL_41) |
                                          PROTO_CAP(CLIENT_TRANSACTIONS),
                                      &w),
                     PROTO_OK);
    assert_int_equal(w.len, wn);
    assert_memory_equal(out, want, wn);
}

/* ------------------------------------------------------- malformed --- */

static void test_decoders_reject(void **state)
{
    (void)state;
    static const struct {
        const char *block;
        int rc;
    } cases[] = {
        {"05 09 08 545f525f5f5f53", PROTO_ETRUNC},   /* data past the block */
        {"05 08 07 545f525f5f5f53", PROTO_EBAD},     /* 7-char trx state */
        {"05 09 08 585f5f5f5f5f5f5f", PROTO_EBAD},   /* 'X' at position 0 */
        {"05 09 08 5f525f5f5f5f5f5f", PROTO_EBAD},   /* 'R' at position 1 */
        {"05 0a 08 545f5f5f5f5f5f5f 00", PROTO_EBAD}, /* trailing byte */
        {"03 03 01 01 41", PROTO_EUNSUPPORTED},      /* GTIDS encoding 1 */
        {"03 03 00 05 41", PROTO_ETRUNC},            /* GTID text too short */
        {"00 05 01 61 01 62 63", PROTO_EBAD},        /* sysvar + trailing */
        {"00 02 01 61", PROTO_ETRUNC},               /* sysvar without value */
        {"01 03 01 61 62", PROTO_EBAD},              /* schema + trailing */
        {"02 01 32", PROTO_EBAD},                    /* state change '2' */
        {"02 00", PROTO_ETRUNC},                     /* state change empty */
        {"04 01 05", PROTO_ETRUNC},                  /* characteristics */
        {"01 ff", PROTO_EBAD},                       /* 0xFF length */
        {"01", PROTO_ETRUNC},                        /* no length */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t b[32];
        size_t n = tu_hex(cases[i].block, b, sizeof b);
        struct proto_str block = {b, n};
        struct proto_ss_summary s;
        print_message("case %zu: %s\n", i, cases[i].block);
        assert_int_equal(proto_ss_summarize(block, &s), cases[i].rc);
    }

    /* A decoder handed the wrong entry type refuses it. */
    uint8_t b[8];
    size_t n = tu_hex("01 03 02 7274", b, sizeof b);
    struct proto_ss_entry e = {.type = 1, .data = {b + 2, n - 2}};
    struct proto_str v;
    bool changed;
    struct proto_trx_state st;
    assert_int_equal(proto_ss_schema(&e, &v), PROTO_OK);
    assert_true(proto_str_eq(v, "rt"));
    assert_int_equal(proto_ss_gtids(&e, &v), PROTO_EBAD);
    assert_int_equal(proto_ss_state_change(&e, &changed), PROTO_EBAD);
    assert_int_equal(proto_ss_trx_state(&e, &st), PROTO_EBAD);
    assert_int_equal(proto_ss_trx_characteristics(&e, &v), PROTO_EBAD);
    assert_int_equal(proto_ss_sysvar(&e, &v, &v), PROTO_EBAD);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(proto_session_track_name(3), "GTIDS");
    assert_string_equal(proto_session_track_name(6), "UNKNOWN");
    assert_string_equal(proto_sysvar_name(PROTO_SYSVAR_SQL_MODE), "sql_mode");
    assert_string_equal(proto_sysvar_name(PROTO_SYSVAR__COUNT), "unknown");
    struct proto_str s = {(const uint8_t *)"AutoCommit", 10};
    assert_int_equal(proto_sysvar_lookup(s), PROTO_SYSVAR_AUTOCOMMIT);
    s.len = 9;
    assert_int_equal(proto_sysvar_lookup(s), -1);
    /* Other variables are counted, not flagged. */
    uint8_t b[32];
    size_t n = tu_hex("00 06 03 666f6f 01 31", b, sizeof b); /* foo=1 */
    struct proto_str block = {b, n};
    struct proto_ss_summary sum;
    assert_int_equal(proto_ss_summarize(block, &sum), PROTO_OK);
    assert_int_equal(sum.sysvars_changed, 0);
    assert_int_equal(sum.other_sysvars, 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mariadb_gtid_and_info),
        cmocka_unit_test(test_mariadb_schema_and_vars),
        cmocka_unit_test(test_mariadb_transactions),
        cmocka_unit_test(test_iterator_entries),
        cmocka_unit_test(test_mysql_gtids),
        cmocka_unit_test(test_mysql_gtid_set_forms),
        cmocka_unit_test(test_mysql_ok_eof),
        cmocka_unit_test(test_decoders_reject),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
