/* test_tracker.c - the reply tracker against real MariaDB 10.11 replies
 * (tests/fixtures/tracker/, see its README.md) fed three ways, plus
 * hand-built CLIENT_DEPRECATE_EOF replies and malformed input.
 *
 * Feeding modes for every fixture:
 *   WHOLE   each server packet offered complete, once;
 *   PREFIX  each server packet first offered with 0, 1, ... len-1 bytes: the
 *           tracker must answer NEED_MORE without changing state, or take
 *           the packet early only when it is a row/definition (first byte);
 *   STREAM  the server bytes run through proto_tracker_stream (framer +
 *           tracker) in small pieces and byte by byte, with sequence ids
 *           checked across the client's packets: zero-copy when a packet is
 *           contiguous in a piece, from the scratch buffer otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_tracker.h"
#include "gtidproxy/proto_tracker_stream.h"
#include "testsupport.h"

/* Negotiated on the capture connection (README.md): client 0x00bea28c (a
 * subset of the server's 0x81fff7fe), MariaDB extended 0x1d (PROGRESS,
 * STMT_BULK_OPERATIONS, EXTENDED_METADATA, CACHE_METADATA). */
#define CAPS_MDB (0x00bea28cull | (0x1dull << 32))
/* The raw-socket captures: client 0x018fa28c (LONG_FLAG, CONNECT_WITH_DB,
 * LOCAL_FILES, PROTOCOL_41, TRANSACTIONS, SECURE_CONNECTION, MULTI_STATEMENTS,
 * MULTI_RESULTS, PS_MULTI_RESULTS, PLUGIN_AUTH, SESSION_TRACK, DEPRECATE_EOF),
 * MariaDB extended 0 (deof_*) or 0x1d (deofx_*). */
#define CAPS_DEOF  0x018fa28cull
#define CAPS_DEOFX (CAPS_DEOF | (0x1dull << 32))

/* ------------------------------------------------------- fixtures --- */

#define MAX_REC 64
struct rec {
    bool client;
    uint8_t seq;
    uint32_t len;
    const uint8_t *payload;
    const uint8_t *wire; /* header + payload */
};

struct fixture {
    uint8_t *bytes;
    size_t n;
    size_t nrec;
    struct rec rec[MAX_REC];
};

/* Record layout: direction byte ('C' 0x43 / 'S' 0x53), then the packet as
 * framed on the wire. */
static void load(const char *name, struct fixture *f)
{
    char rel[256];
    snprintf(rel, sizeof rel, "tracker/%s.hex", name);
    f->bytes = tu_fixture(rel, &f->n);
    f->nrec = 0;
    size_t off = 0;
    while (off < f->n) {
        assert_true(f->nrec < MAX_REC);
        struct rec *r = &f->rec[f->nrec++];
        assert_true(f->bytes[off] == 'C' || f->bytes[off] == 'S');
        r->client = f->bytes[off] == 'C';
        off++;
        struct proto_frame_hdr h;
        const uint8_t *pl;
        assert_int_equal(proto_frame_peek(f->bytes + off, f->n - off, &h, &pl), PROTO_OK);
        r->seq = h.seq;
        r->len = h.len;
        r->payload = pl;
        r->wire = f->bytes + off;
        off += PROTO_FRAME_HDR_LEN + h.len;
    }
    /* Every fixture starts with the client's command, seq 0. */
    assert_true(f->nrec >= 1);
    assert_true(f->rec[0].client);
    assert_int_equal(f->rec[0].seq, 0);
    assert_true(f->rec[0].len >= 1);
}

/* ------------------------------------------------- expectations --- */

struct want {
    const char *name;
    uint64_t caps; /* 0: CAPS_MDB */
    bool is_error;
    uint16_t err_code;
    const char *sqlstate;
    bool status_valid;
    uint16_t status;
    uint32_t result_sets;
    uint64_t rows;
    uint32_t oks;
    uint64_t affected_total;
    uint32_t session_states;
    bool cursor_open;
    bool out_params;
    bool local_infile;
    uint32_t stmt_id;
    uint16_t num_params;
    uint16_t num_columns;
};

#define ERRV(c, s) .is_error = true, .err_code = (c), .sqlstate = (s)
#define ST(x)      .status_valid = true, .status = (x)

static const struct want wants[] = {
    {"query_select_rows", ST(0x0022), .result_sets = 1, .rows = 3},
    {"query_select_empty", ST(0x0002), .result_sets = 1},
    {"query_error", ERRV(1146, "42S02")},
    {"query_insert_last_gtid", ST(0x4002), .oks = 1, .affected_total = 1, .session_states = 1},
    {"query_multi_insert_select_insert", ST(0x4002), .result_sets = 1, .rows = 1, .oks = 2,
     .affected_total = 2, .session_states = 2},
    {"query_call_two_resultsets", ST(0x0002), .result_sets = 2, .rows = 2, .oks = 1},
    {"query_load_data_local", ST(0x4002), .oks = 1, .affected_total = 3, .session_states = 1,
     .local_infile = true},
    {"query_show_databases", ST(0x0022), .result_sets = 1, .rows = 6},
    {"query_begin", ST(0x0003), .oks = 1},
    {"query_insert_in_trx", ST(0x0003), .oks = 1, .affected_total = 1},
    {"query_commit_last_gtid", ST(0x4002), .oks = 1, .session_states = 1},
    {"query_multi_error", ST(0x000a), ERRV(1146, "42S02"), .result_sets = 1, .rows = 1},
    {"init_db_ok", ST(0x4002), .oks = 1, .session_states = 1},
    {"init_db_error", ERRV(1049, "42000")},
    {"ping", ST(0x0002), .oks = 1},
    {"statistics", .status_valid = false},
    {"field_list", ST(0x0002), .num_columns = 3},
    {"set_option_off", ST(0x0002)},
    {"set_option_on", ST(0x0002)},
    {"reset_connection", ST(0x0002), .oks = 1},
    {"change_user_switch", ST(0x4002), .oks = 1, .session_states = 1},
    {"change_user_denied", ERRV(1045, "28000")},
    {"quit", .status_valid = false},
    {"stmt_prepare_select", ST(0x0002), .stmt_id = 1, .num_params = 1, .num_columns = 3},
    {"stmt_execute_cached_meta", ST(0x0002), .result_sets = 1, .rows = 3},
    {"stmt_execute_cached_meta2", ST(0x0002), .result_sets = 1, .rows = 2},
    {"stmt_reset", ST(0x0002), .oks = 1},
    {"stmt_close", .status_valid = false},
    {"stmt_execute_cursor", ST(0x0042), .result_sets = 1, .cursor_open = true},
    {"stmt_fetch_more", ST(0x0042), .rows = 2, .cursor_open = true},
    {"stmt_fetch_last", ST(0x0082), .rows = 1},
    {"stmt_prepare_call_out", ST(0x0002), .stmt_id = 3, .num_params = 3},
    {"stmt_execute_out_params", ST(0x0002), .result_sets = 1, .rows = 1, .oks = 1,
     .out_params = true},
    {"stmt_prepare_call_out_rs", ST(0x0002), .stmt_id = 4, .num_params = 2},
    {"stmt_execute_call_out_rs", ST(0x0002), .result_sets = 2, .rows = 2, .oks = 1,
     .out_params = true},
    {"stmt_prepare_insert", ST(0x0002), .stmt_id = 5, .num_params = 1},
    {"stmt_execute_insert_ok", ST(0x0002), .oks = 1, .affected_total = 1},
    {"stmt_execute_dup_err", ERRV(1062, "23000")},
    {"stmt_prepare_error", ERRV(1146, "42S02")},
    {"stmt_prepare_long_data", ST(0x0002), .stmt_id = 7, .num_params = 1, .num_columns = 1},
    {"stmt_send_long_data", .status_valid = false},
    {"stmt_execute_long_data", ST(0x0002), .result_sets = 1, .rows = 1},
    /* Real MariaDB replies under CLIENT_DEPRECATE_EOF (raw client, README.md):
     * no EOF after definitions, OK-with-0xFE terminators. */
    {"deof_query_select_rows", .caps = CAPS_DEOF, ST(0x0022), .result_sets = 1, .rows = 3},
    {"deof_query_select_empty", .caps = CAPS_DEOF, ST(0x0002), .result_sets = 1},
    {"deof_query_multi_insert_select_insert", .caps = CAPS_DEOF, ST(0x4002), .result_sets = 1,
     .rows = 1, .oks = 2, .affected_total = 2, .session_states = 2},
    {"deof_query_call_two_resultsets", .caps = CAPS_DEOF, ST(0x0002), .result_sets = 2, .rows = 2,
     .oks = 1},
    {"deof_query_multi_error", .caps = CAPS_DEOF, ST(0x000a), ERRV(1146, "42S02"), .result_sets = 1,
     .rows = 1},
    {"deof_field_list", .caps = CAPS_DEOF, ST(0x0002), .num_columns = 3},
    {"deof_set_option_off", .caps = CAPS_DEOF, ST(0x0002)},
    {"deof_stmt_prepare_select", .caps = CAPS_DEOF, .stmt_id = 1, .num_params = 1,
     .num_columns = 3},
    {"deof_stmt_execute_cursor", .caps = CAPS_DEOF, ST(0x0042), .result_sets = 1,
     .cursor_open = true},
    {"deof_stmt_fetch_more", .caps = CAPS_DEOF, ST(0x0042), .rows = 2, .cursor_open = true},
    {"deof_stmt_fetch_err", .caps = CAPS_DEOF, ERRV(6, "HY000"), .rows = 1},
    {"deof_stmt_execute_rows", .caps = CAPS_DEOF, ST(0x0002), .result_sets = 1, .rows = 2},
    {"deof_stmt_prepare_call_out", .caps = CAPS_DEOF, .stmt_id = 2, .num_params = 3},
    {"deof_stmt_execute_out_params", .caps = CAPS_DEOF, ST(0x0002), .result_sets = 1, .rows = 1,
     .oks = 1, .out_params = true},
    {"deof_query_load_data_local", .caps = CAPS_DEOF, ST(0x4002), .oks = 1, .affected_total = 2,
     .session_states = 1, .local_infile = true},
    {"deofx_query_select_rows", .caps = CAPS_DEOFX, ST(0x0022), .result_sets = 1, .rows = 3},
    {"deofx_query_select_empty", .caps = CAPS_DEOFX, ST(0x0002), .result_sets = 1},
    {"deofx_query_multi_insert_select_insert", .caps = CAPS_DEOFX, ST(0x4002), .result_sets = 1,
     .rows = 1, .oks = 2, .affected_total = 2, .session_states = 2},
    {"deofx_query_call_two_resultsets", .caps = CAPS_DEOFX, ST(0x0002), .result_sets = 2, .rows = 2,
     .oks = 1},
    {"deofx_query_multi_error", .caps = CAPS_DEOFX, ST(0x000a), ERRV(1146, "42S02"),
     .result_sets = 1, .rows = 1},
    {"deofx_field_list", .caps = CAPS_DEOFX, ST(0x0002), .num_columns = 3},
    {"deofx_set_option_off", .caps = CAPS_DEOFX, ST(0x0002)},
    {"deofx_stmt_prepare_select", .caps = CAPS_DEOFX, .stmt_id = 3, .num_params = 1,
     .num_columns = 3},
    {"deofx_stmt_execute_cursor", .caps = CAPS_DEOFX, ST(0x0042), .result_sets = 1,
     .cursor_open = true},
    {"deofx_stmt_fetch_more", .caps = CAPS_DEOFX, ST(0x0042), .rows = 2, .cursor_open = true},
    {"deofx_stmt_fetch_last", .caps = CAPS_DEOFX, ST(0x0082), .rows = 1},
    {"deofx_stmt_execute_rows", .caps = CAPS_DEOFX, ST(0x0002), .result_sets = 1, .rows = 2},
    {"deofx_stmt_prepare_call_out", .caps = CAPS_DEOFX, .stmt_id = 4, .num_params = 3},
    {"deofx_stmt_execute_out_params", .caps = CAPS_DEOFX, ST(0x0002), .result_sets = 1, .rows = 1,
     .oks = 1, .out_params = true},
    {"deofx_query_load_data_local", .caps = CAPS_DEOFX, ST(0x4002), .oks = 1, .affected_total = 2,
     .session_states = 1, .local_infile = true},
};

static uint64_t want_caps(const struct want *w)
{
    return w->caps ? w->caps : CAPS_MDB;
}

static void check_result(const struct want *w, const struct proto_tracker *t)
{
    const struct proto_trk_result *r = &t->res;
    if (t->state != PROTO_TRK_DONE)
        fail_msg("%s: state %s", w->name, proto_tracker_state_name(t->state));
    assert_int_equal(r->is_error, w->is_error);
    if (w->is_error) {
        assert_int_equal(r->err_code, w->err_code);
        assert_string_equal(r->sqlstate, w->sqlstate);
    }
    assert_int_equal(r->status_valid, w->status_valid);
    if (w->status_valid && r->status != w->status)
        fail_msg("%s: status 0x%04x, want 0x%04x", w->name, r->status, w->status);
    assert_int_equal(r->result_sets, w->result_sets);
    assert_true(r->rows == w->rows);
    assert_int_equal(r->oks, w->oks);
    assert_true(r->affected_total == w->affected_total);
    assert_int_equal(r->session_states, w->session_states);
    assert_int_equal(r->cursor_open, w->cursor_open);
    assert_int_equal(r->out_params, w->out_params);
    assert_int_equal(r->local_infile, w->local_infile);
    assert_int_equal(r->stmt_id, w->stmt_id);
    assert_int_equal(r->num_params, w->num_params);
    assert_int_equal(r->num_columns, w->num_columns);
}

/* ------------------------------------------------ feeding modes --- */

enum mode { WHOLE, PREFIX };

static bool first_byte_kind(enum proto_trk_pkt_kind k)
{
    return k == PROTO_TRK_PKT_ROW || k == PROTO_TRK_PKT_COLUMN_DEF ||
           k == PROTO_TRK_PKT_PARAM_DEF || k == PROTO_TRK_PKT_STRING ||
           k == PROTO_TRK_PKT_AUTH_SWITCH || k == PROTO_TRK_PKT_AUTH_MORE;
}

static void run_packets(const struct want *w, uint64_t caps, enum mode mode)
{
    struct fixture f;
    load(w->name, &f);
    struct proto_tracker t;
    proto_tracker_init(&t);
    assert_int_equal(proto_tracker_start(&t, caps, f.rec[0].payload[0]), PROTO_OK);
    for (size_t i = 1; i < f.nrec; i++) {
        const struct rec *r = &f.rec[i];
        if (r->client) {
            assert_true(proto_tracker_awaits_client(&t) || t.state == PROTO_TRK_AUTH_MORE);
            assert_int_equal(proto_tracker_client_packet(&t, r->len), PROTO_OK);
            continue;
        }
        assert_false(proto_tracker_done(&t));
        struct proto_trk_pkt pkt;
        bool taken = false;
        if (mode == PREFIX) {
            for (size_t k = 0; k < r->len && !taken; k++) {
                /* A copy of exactly k bytes, so ASan catches any read past. */
                uint8_t *cut = malloc(k ? k : 1);
                memcpy(cut, r->payload, k);
                enum proto_trk_state before = t.state;
                int rc = proto_tracker_feed(&t, cut, k, r->len, &pkt);
                free(cut);
                if (rc == PROTO_NEED_MORE) {
                    assert_int_equal(t.state, before);
                    assert_true(t.need > k && t.need <= r->len);
                    continue;
                }
                assert_int_equal(rc, PROTO_OK);
                assert_true(k >= 1);
                if (!first_byte_kind(pkt.kind))
                    fail_msg("%s pkt %zu: %s taken from %zu of %u bytes", w->name, i,
                             proto_trk_pkt_name(pkt.kind), k, r->len);
                taken = true;
            }
        }
        if (!taken) {
            uint8_t *copy = malloc(r->len);
            memcpy(copy, r->payload, r->len);
            int rc = proto_tracker_feed(&t, copy, r->len, r->len, &pkt);
            free(copy);
            if (rc != PROTO_OK)
                fail_msg("%s pkt %zu: %s in %s", w->name, i, proto_status_str(rc),
                         proto_tracker_state_name(t.state));
        }
        /* done is reported with the packet that completes the reply. */
        assert_int_equal(pkt.done, proto_tracker_done(&t));
    }
    check_result(w, &t);
    free(f.bytes);
}

/* STREAM mode: the fixture's server bytes through proto_tracker_stream in
 * pieces of `piece` bytes, with a scratch buffer just big enough for the
 * largest decoded packet in the fixtures. */
static void run_stream(const struct want *w, uint64_t caps, size_t piece)
{
    struct fixture f;
    load(w->name, &f);
    static uint8_t scratch[256];
    struct proto_tracker_stream st;
    proto_tracker_stream_init(&st, scratch, sizeof scratch, 1u << 20);
    assert_int_equal(proto_tracker_stream_start(&st, caps, f.rec[0].payload[0]), PROTO_OK);
    size_t tracked = 0, server_pkts = 0;
    for (size_t i = 1; i < f.nrec; i++) {
        const struct rec *r = &f.rec[i];
        if (r->client) {
            assert_int_equal(proto_tracker_stream_client_packet(&st, r->seq, r->len), PROTO_OK);
            continue;
        }
        server_pkts++;
        size_t n = PROTO_FRAME_HDR_LEN + r->len;
        for (size_t off = 0; off < n;) {
            size_t len = n - off < piece ? n - off : piece;
            const uint8_t *p = r->wire + off;
            size_t left = len;
            for (;;) {
                struct proto_trk_pkt pkt;
                size_t used;
                int rc = proto_tracker_stream_feed(&st, p, left, &used, &pkt);
                assert_true(used <= left);
                p += used;
                left -= used;
                if (rc == PROTO_NEED_MORE) {
                    assert_int_equal(left, 0);
                    break;
                }
                if (rc != PROTO_OK)
                    fail_msg("%s pkt %zu piece %zu: %s", w->name, i, piece, proto_status_str(rc));
                tracked++;
                assert_int_equal(pkt.done, proto_tracker_done(&st.trk));
                /* An OK's session state is a view into the packet bytes:
                 * either the caller's piece or the scratch buffer. */
                if ((pkt.kind == PROTO_TRK_PKT_OK || pkt.kind == PROTO_TRK_PKT_OK_EOF) &&
                    pkt.ok.has_session_state) {
                    const uint8_t *v = pkt.ok.session_state.p;
                    assert_true((v >= r->wire && v < r->wire + n) ||
                                (v >= scratch && v < scratch + sizeof scratch));
                }
            }
            off += len;
        }
        assert_int_equal(tracked, server_pkts);
    }
    assert_true(proto_frame_rd_at_boundary(&st.fr));
    check_result(w, &st.trk);
    free(f.bytes);
}

static void test_fixtures_whole(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++)
        run_packets(&wants[i], want_caps(&wants[i]), WHOLE);
}

static void test_fixtures_prefix(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++)
        run_packets(&wants[i], want_caps(&wants[i]), PREFIX);
}

static void test_fixtures_stream(void **state)
{
    (void)state;
    static const size_t pieces[] = {1, 3, 7, 64, 100000};
    for (size_t i = 0; i < sizeof wants / sizeof wants[0]; i++)
        for (size_t j = 0; j < sizeof pieces / sizeof pieces[0]; j++)
            run_stream(&wants[i], want_caps(&wants[i]), pieces[j]);
}

/* ------------------------------------- hand-built vectors (hex) --- */

/* Feeds hex packet payloads separated by '|' ("C:<len>" marks a client
 * packet of that length); returns the first non-OK status, or PROTO_OK. */
static int feed_hex(struct proto_tracker *t, const char *spec)
{
    char chunk[1024];
    const char *s = spec;
    for (;;) {
        const char *bar = strchr(s, '|');
        size_t len = bar ? (size_t)(bar - s) : strlen(s);
        assert_true(len < sizeof chunk);
        memcpy(chunk, s, len);
        chunk[len] = '\0';
        const char *c = chunk;
        while (*c == ' ')
            c++;
        int rc = PROTO_NEED_MORE;
        if (c[0] == 'C' && c[1] == ':') {
            rc = proto_tracker_client_packet(t, strtoull(c + 2, NULL, 10));
        } else {
            uint8_t p[512];
            size_t n = tu_hex(c, p, sizeof p);
            struct proto_trk_pkt pkt;
            /* Every packet is offered short first. */
            for (size_t k = 0; k < n; k++) {
                enum proto_trk_state before = t->state;
                rc = proto_tracker_feed(t, p, k, n, &pkt);
                if (rc != PROTO_NEED_MORE)
                    break;
                assert_int_equal(t->state, before);
            }
            if (rc == PROTO_NEED_MORE || n == 0)
                rc = proto_tracker_feed(t, p, n, n, &pkt);
        }
        if (rc != PROTO_OK)
            return rc;
        if (!bar)
            return PROTO_OK;
        s = bar + 1;
    }
}

/* MySQL ColumnDefinition41 (MY:pc): catalog "def", schema "", table "",
 * org_table "", name "a", org_name "", 0x0c, charset 0x3f, length 1,
 * type LONG(3), flags 0x0081, decimals 0, filler 00 00. */
#define COLDEF "03646566 00 00 00 0161 00 0c 3f00 01000000 03 8100 00 0000"
/* OK with the 0xFE header (MY:pc OK_Packet, CLIENT_DEPRECATE_EOF):
 * affected 0, insert id 0, status, warnings 0. */
#define OK_EOF(status_le) "fe 00 00 " status_le " 0000"

#define CAPS_MYSQL_DEOF                                                                            \
    (PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_TRANSACTIONS) |                              \
     PROTO_CAP(CLIENT_SECURE_CONNECTION) | PROTO_CAP(CLIENT_MULTI_RESULTS) |                       \
     PROTO_CAP(CLIENT_PS_MULTI_RESULTS) | PROTO_CAP(CLIENT_SESSION_TRACK) |                        \
     PROTO_CAP(CLIENT_DEPRECATE_EOF) | PROTO_CAP(CLIENT_LOCAL_FILES) |                             \
     PROTO_CAP(CLIENT_PLUGIN_AUTH))

static void start(struct proto_tracker *t, uint64_t caps, uint8_t com)
{
    proto_tracker_init(t);
    assert_int_equal(proto_tracker_start(t, caps, com), PROTO_OK);
}

static void test_deprecate_eof_text(void **state)
{
    (void)state;
    struct proto_tracker t;
    /* SELECT a: count 1, one definition, no EOF, two rows, OK-as-EOF. */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_QUERY);
    assert_int_equal(feed_hex(&t, "01 |" COLDEF "| 0131 | fb | " OK_EOF("2200")), PROTO_OK);
    assert_true(proto_tracker_done(&t));
    assert_int_equal(t.res.rows, 2);
    assert_int_equal(t.res.status, 0x0022);
    assert_int_equal(t.res.oks, 0); /* an OK-as-EOF is not a statement OK */

    /* Multi-result: terminator with MORE_RESULTS, then an OK carrying a
     * session-state GTID entry (MySQL SESSION_TRACK_GTIDS layout, MY:st):
     * status 0x4002, info "", state len 0x2b, entry 03 29 00 27 <39-byte
     * "3E11FA47-71CA-11E1-9E33-C80AA9429562:23">. */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_QUERY);
    assert_int_equal(feed_hex(&t, "01 |" COLDEF "| 0131 |" OK_EOF("0a00")), PROTO_OK);
    assert_int_equal(t.state, PROTO_TRK_FIRST);
    assert_int_equal(
        feed_hex(&t,
                 "00 01 00 0240 0000 00 2b 03 29 00 27"
                 "33453131464134372d373143412d313145312d394533332d4338304141393432393536323a3233"),
        PROTO_OK);
    assert_true(proto_tracker_done(&t));
    assert_int_equal(t.res.session_states, 1);
    assert_int_equal(t.res.result_sets, 1);
    assert_int_equal(t.res.oks, 1);

    /* An OK-as-EOF with session state counts it too. */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_QUERY);
    assert_int_equal(feed_hex(&t, "01 |" COLDEF "| fe 00 00 0240 0000 00 03 02 01 31"), PROTO_OK);
    assert_true(proto_tracker_done(&t));
    assert_int_equal(t.res.session_states, 1);

    /* A row that starts with 0xFE fills a whole 0xFFFFFF chunk: a row, taken
     * from its first byte, not a terminator. */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_QUERY);
    assert_int_equal(feed_hex(&t, "01 |" COLDEF), PROTO_OK);
    struct proto_trk_pkt pkt;
    const uint8_t fe = 0xFE;
    assert_int_equal(proto_tracker_feed(&t, &fe, 1, PROTO_MAX_PAYLOAD, &pkt), PROTO_OK);
    assert_int_equal(pkt.kind, PROTO_TRK_PKT_ROW);
    assert_int_equal(feed_hex(&t, OK_EOF("0200")), PROTO_OK);
    assert_true(proto_tracker_done(&t));
    assert_int_equal(t.res.rows, 1);
}

static void test_deprecate_eof_ps(void **state)
{
    (void)state;
    struct proto_tracker t;
    /* PREPARE: PREPARE_OK(id 9, 1 column, 2 params), 2 param defs, 1 column
     * def, no EOFs (MY:pc COM_STMT_PREPARE response). */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_STMT_PREPARE);
    assert_int_equal(feed_hex(&t, "00 09000000 0100 0200 00 0000 |" COLDEF "|" COLDEF "|" COLDEF),
                     PROTO_OK);
    assert_true(proto_tracker_done(&t));
    assert_int_equal(t.res.stmt_id, 9);
    assert_int_equal(t.res.num_params, 2);
    assert_int_equal(t.res.num_columns, 1);

    /* EXECUTE opening a cursor: count, definition, then the OK-as-EOF with
     * CURSOR_EXISTS ends the reply (MY sql_cursor.cc open -> send_eof). */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_STMT_EXECUTE);
    assert_int_equal(feed_hex(&t, "01 |" COLDEF "|" OK_EOF("4200")), PROTO_OK);
    assert_true(proto_tracker_done(&t));
    assert_true(t.res.cursor_open);
    assert_int_equal(t.res.rows, 0);

    /* FETCH: binary rows, then OK-as-EOF with LAST_ROW_SENT. */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_STMT_FETCH);
    assert_int_equal(feed_hex(&t, "00 00 01000000 | 00 00 02000000 |" OK_EOF("8200")), PROTO_OK);
    assert_true(proto_tracker_done(&t));
    assert_false(t.res.cursor_open);
    assert_int_equal(t.res.rows, 2);

    /* EXECUTE of a CALL with OUT params: OUT result set flagged
     * PS_OUT_PARAMS|MORE_RESULTS on its terminator, then the CALL's OK. */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_STMT_EXECUTE);
    assert_int_equal(
        feed_hex(&t, "01 |" COLDEF "| 00 00 2a000000 |" OK_EOF("0a10") "| 00 00 00 0200 0000"),
        PROTO_OK);
    assert_true(proto_tracker_done(&t));
    assert_true(t.res.out_params);
    assert_int_equal(t.res.oks, 1);

    /* COM_SET_OPTION and COM_FIELD_LIST end with an OK-as-EOF. */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_SET_OPTION);
    assert_int_equal(feed_hex(&t, OK_EOF("0200")), PROTO_OK);
    assert_true(proto_tracker_done(&t));
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_FIELD_LIST);
    assert_int_equal(feed_hex(&t, COLDEF "fb |" OK_EOF("0200")), PROTO_OK);
    assert_true(proto_tracker_done(&t));
    assert_int_equal(t.res.num_columns, 1);
}

static void test_auth_more_data(void **state)
{
    (void)state;
    struct proto_tracker t;
    /* caching_sha2 fast path: AuthMoreData 01 03 then OK, no client packet
     * in between (PROTOCOL.md 1.6). */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_CHANGE_USER);
    assert_int_equal(feed_hex(&t, "fe 63616368696e675f736861325f70617373776f726400 3132 |"
                                  "C:32 | 0103 | 00 00 00 0200 0000"),
                     PROTO_OK);
    assert_true(proto_tracker_done(&t));
    /* Full auth: 01 04, client password, OK. */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_CHANGE_USER);
    assert_int_equal(feed_hex(&t, "0104 | C:9 | 00 00 00 0200 0000"), PROTO_OK);
    assert_true(proto_tracker_done(&t));
    /* After an AuthSwitch the server may not speak before the client. */
    start(&t, CAPS_MYSQL_DEOF, PROTO_COM_CHANGE_USER);
    assert_int_equal(feed_hex(&t, "fe 00 | 00 00 00 0200 0000"), PROTO_EBAD);
    assert_int_equal(t.state, PROTO_TRK_FAILED);
}

static void test_no_reply_commands(void **state)
{
    (void)state;
    static const uint8_t coms[] = {PROTO_COM_STMT_CLOSE, PROTO_COM_STMT_SEND_LONG_DATA,
                                   PROTO_COM_QUIT};
    for (size_t i = 0; i < sizeof coms; i++) {
        struct proto_tracker t;
        start(&t, CAPS_MDB, coms[i]);
        assert_true(proto_tracker_done(&t));
        /* Anything the server sends now is unexpected. */
        assert_int_equal(feed_hex(&t, "00 00 00 0200 0000"), PROTO_EBAD);
    }
}

static void test_malformed(void **state)
{
    (void)state;
    struct proto_tracker t;
    struct {
        uint64_t caps;
        uint8_t com;
        const char *spec;
        int rc;
    } bad[] = {
        /* OK where a column definition belongs. */
        {CAPS_MDB, PROTO_COM_QUERY, "0101 | 00 00 00 0200 0000", PROTO_EBAD},
        /* 0xFE of 20 bytes in classic-EOF rows: neither EOF nor row. */
        {CAPS_MDB, PROTO_COM_QUERY,
         "0101 |" COLDEF "| fe00000200 | fe 0102030405060708090a0b0c0d0e0f10111213", PROTO_EBAD},
        /* Binary row not starting with 0x00. */
        {CAPS_MDB, PROTO_COM_STMT_EXECUTE, "0101 |" COLDEF "| fe00000200 | 01 00", PROTO_EBAD},
        /* Column count: trailing bytes, missing metadata_follows,
         * metadata_follows out of range, one with CACHE_METADATA not
         * negotiated, NULL. (A zero count is an OK header: "0001" is a
         * truncated OK.) */
        {CAPS_MDB, PROTO_COM_QUERY, "0001", PROTO_ETRUNC},
        {CAPS_MDB, PROTO_COM_QUERY, "010100", PROTO_EBAD},
        {CAPS_MDB, PROTO_COM_QUERY, "01", PROTO_ETRUNC},
        {CAPS_MDB, PROTO_COM_QUERY, "0102", PROTO_EBAD},
        {CAPS_MYSQL_DEOF, PROTO_COM_QUERY, "0101", PROTO_EBAD},
        {CAPS_MDB, PROTO_COM_STMT_EXECUTE, "fb", PROTO_EBAD},
        /* EOF as the first packet of a query. */
        {CAPS_MDB, PROTO_COM_QUERY, "fe00000200", PROTO_EBAD},
        /* LOCAL INFILE without CLIENT_LOCAL_FILES; server talks during it. */
        {CAPS_MDB & ~PROTO_CAP(CLIENT_LOCAL_FILES), PROTO_COM_QUERY, "fb 78", PROTO_EBAD},
        {CAPS_MDB, PROTO_COM_QUERY, "fb 78 | 00 00 00 0200 0000", PROTO_EBAD},
        /* A client packet while the server is sending rows. */
        {CAPS_MDB, PROTO_COM_QUERY, "0101 |" COLDEF "| fe00000200 | C:4", PROTO_EBAD},
        /* Progress report without MARIADB_CLIENT_PROGRESS. */
        {CAPS_MYSQL_DEOF, PROTO_COM_QUERY, "ffffff0102020000000f456e642062756c6b20696e73657274",
         PROTO_EBAD},
        /* Truncated OK / ERR / EOF. */
        {CAPS_MDB, PROTO_COM_PING, "00 00 00 02", PROTO_ETRUNC},
        {CAPS_MDB, PROTO_COM_PING, "ff 7a", PROTO_ETRUNC},
        {CAPS_MDB, PROTO_COM_SET_OPTION, "fe 00 00", PROTO_ETRUNC},
        /* OK/PREPARE_OK with trailing garbage, wrong header. */
        {CAPS_MDB, PROTO_COM_STMT_PREPARE, "00 01000000 0000 0000 00 0000 99", PROTO_EBAD},
        {CAPS_MDB, PROTO_COM_STMT_PREPARE, "01 01000000 0000 0000 00 0000", PROTO_EBAD},
        {CAPS_MDB, PROTO_COM_STMT_PREPARE, "00 01000000 0000", PROTO_ETRUNC},
        /* ERR where a parameter definition belongs. */
        {CAPS_MDB, PROTO_COM_STMT_PREPARE, "00 01000000 0000 0100 00 0000 | ff 7a04", PROTO_EBAD},
        /* COM_PING answered with a result set, COM_SET_OPTION with an OK. */
        {CAPS_MDB, PROTO_COM_PING, "0101", PROTO_EBAD},
        {CAPS_MDB, PROTO_COM_SET_OPTION, "00 00 00 0200 0000", PROTO_EBAD},
        /* Unknown first byte during change user. */
        {CAPS_MDB, PROTO_COM_CHANGE_USER, "02 00", PROTO_EBAD},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        start(&t, bad[i].caps, bad[i].com);
        int rc = feed_hex(&t, bad[i].spec);
        if (rc != bad[i].rc)
            fail_msg("case %zu: %s, want %s", i, proto_status_str(rc), proto_status_str(bad[i].rc));
        assert_int_equal(t.state, PROTO_TRK_FAILED);
        /* Sticky. */
        struct proto_trk_pkt pkt;
        assert_int_equal(proto_tracker_feed(&t, (const uint8_t *)"\0", 1, 7, &pkt), PROTO_EBAD);
        assert_int_equal(proto_tracker_start(&t, CAPS_MDB, PROTO_COM_PING), PROTO_EBAD);
    }

    /* A decoded packet can never be chunked. */
    start(&t, CAPS_MDB, PROTO_COM_PING);
    struct proto_trk_pkt pkt;
    assert_int_equal(proto_tracker_feed(&t, (const uint8_t *)"\0", 1, PROTO_MAX_PAYLOAD, &pkt),
                     PROTO_EBAD);
    /* Empty server packets do not exist. */
    start(&t, CAPS_MDB, PROTO_COM_QUERY);
    assert_int_equal(proto_tracker_feed(&t, NULL, 0, 0, &pkt), PROTO_EBAD);
    /* A server packet before any command. */
    proto_tracker_init(&t);
    assert_int_equal(proto_tracker_feed(&t, (const uint8_t *)"\0", 1, 7, &pkt), PROTO_EBAD);
    /* Starting a command while a reply is in flight. */
    start(&t, CAPS_MDB, PROTO_COM_QUERY);
    assert_int_equal(proto_tracker_start(&t, CAPS_MDB, PROTO_COM_PING), PROTO_EBAD);
    /* Commands and capabilities the tracker does not follow. */
    proto_tracker_init(&t);
    assert_int_equal(proto_tracker_start(&t, CAPS_MDB, PROTO_COM_BINLOG_DUMP), PROTO_EUNSUPPORTED);
    assert_int_equal(proto_tracker_start(&t, CAPS_MDB, PROTO_COM_STMT_BULK_EXECUTE),
                     PROTO_EUNSUPPORTED);
    assert_int_equal(proto_tracker_start(&t,
                                         CAPS_MDB | PROTO_CAP(CLIENT_OPTIONAL_RESULTSET_METADATA),
                                         PROTO_COM_QUERY),
                     PROTO_EUNSUPPORTED);
    assert_int_equal(t.state, PROTO_TRK_IDLE);
}

/* Feeds a whole byte stream in pieces; returns the first error, else OK. */
static int stream_all(struct proto_tracker_stream *st, const uint8_t *p, size_t n, size_t piece,
                      size_t *tracked)
{
    int rc = PROTO_NEED_MORE;
    for (size_t off = 0; off < n;) {
        size_t len = n - off < piece ? n - off : piece;
        const uint8_t *q = p + off;
        size_t left = len;
        while (left > 0) {
            struct proto_trk_pkt pkt;
            size_t used;
            rc = proto_tracker_stream_feed(st, q, left, &used, &pkt);
            q += used;
            left -= used;
            if (rc < 0)
                return rc;
            if (rc == PROTO_OK)
                (*tracked)++;
        }
        off += len;
    }
    return rc < 0 ? rc : PROTO_OK;
}

/* A text row of 16 MiB + 11 bytes (two chunks, first byte 0xFE: a lenenc
 * string of 2^24 + 2 bytes) streams through with a 64-byte scratch buffer:
 * rows are never copied. Then the limits: a straddling OK larger than the
 * scratch, and the framer's size limit. */
static void test_stream_large_row_and_limits(void **state)
{
    (void)state;
    const size_t cell = (1u << 24) + 2, row = 9 + cell;
    size_t cap = row + 256;
    uint8_t *wire = malloc(cap), *payload = malloc(row);
    assert_non_null(wire);
    assert_non_null(payload);
    struct proto_wr w;
    proto_wr_init(&w, wire, cap);
    uint8_t seq = 1, tmp[64];
    size_t n = tu_hex("01", tmp, sizeof tmp);
    proto_frame_write_packet(&w, tmp, n, &seq);
    n = tu_hex(COLDEF, tmp, sizeof tmp);
    proto_frame_write_packet(&w, tmp, n, &seq);
    struct proto_wr pw;
    proto_wr_init(&pw, payload, row);
    proto_wr_lenenc(&pw, cell);
    proto_wr_zeros(&pw, cell);
    assert_int_equal(proto_wr_finish(&pw), PROTO_OK);
    assert_int_equal(payload[0], 0xFE);
    proto_frame_write_packet(&w, payload, row, &seq);
    n = tu_hex(OK_EOF("2200"), tmp, sizeof tmp);
    proto_frame_write_packet(&w, tmp, n, &seq);
    assert_int_equal(proto_wr_finish(&w), PROTO_OK);

    uint8_t scratch[64];
    struct proto_tracker_stream st;
    proto_tracker_stream_init(&st, scratch, sizeof scratch, 1u << 25);
    assert_int_equal(proto_tracker_stream_start(&st, CAPS_MYSQL_DEOF, PROTO_COM_QUERY), PROTO_OK);
    size_t tracked = 0;
    assert_int_equal(stream_all(&st, wire, w.len, 65536 + 3, &tracked), PROTO_OK);
    assert_int_equal(tracked, 4);
    assert_true(proto_tracker_done(&st.trk));
    assert_int_equal(st.trk.res.rows, 1);
    assert_int_equal(st.trk.res.status, 0x0022);

    /* The same stream with a 16 MiB framer limit: refused at the row's
     * second chunk header, before its payload. */
    proto_tracker_stream_init(&st, scratch, sizeof scratch, 1u << 24);
    assert_int_equal(proto_tracker_stream_start(&st, CAPS_MYSQL_DEOF, PROTO_COM_QUERY), PROTO_OK);
    tracked = 0;
    assert_int_equal(stream_all(&st, wire, w.len, 65536, &tracked), PROTO_ETOOBIG);
    /* Sticky. */
    struct proto_trk_pkt pkt;
    size_t used = 1;
    assert_int_equal(proto_tracker_stream_feed(&st, wire, 4, &used, &pkt), PROTO_ETOOBIG);
    assert_int_equal(used, 0);
    assert_int_equal(proto_tracker_stream_start(&st, CAPS_MDB, PROTO_COM_PING), PROTO_ETOOBIG);
    free(wire);
    free(payload);

    /* An ERR of 40 bytes split across two reads needs the scratch: with 16
     * bytes of scratch it is refused; whole in one read it needs none. */
    uint8_t err[64];
    seq = 1;
    proto_wr_init(&w, err, sizeof err);
    n = tu_hex(
        "ff7a04 2334325330325461626c65202774 2e6e6f7375636827 20646f65736e277420 657869737420", tmp,
        sizeof tmp);
    proto_frame_write_packet(&w, tmp, n, &seq);
    uint8_t small[16];
    proto_tracker_stream_init(&st, small, sizeof small, 1024);
    assert_int_equal(proto_tracker_stream_start(&st, CAPS_MDB, PROTO_COM_QUERY), PROTO_OK);
    tracked = 0;
    assert_int_equal(stream_all(&st, err, w.len, 10, &tracked), PROTO_ETOOBIG);
    proto_tracker_stream_init(&st, small, sizeof small, 1024);
    assert_int_equal(proto_tracker_stream_start(&st, CAPS_MDB, PROTO_COM_QUERY), PROTO_OK);
    assert_int_equal(stream_all(&st, err, w.len, w.len, &tracked), PROTO_OK);
    assert_true(proto_tracker_done(&st.trk));
    assert_int_equal(st.trk.res.err_code, 1146);

    /* Wrong sequence id from the server; a client packet mid-packet. */
    proto_tracker_stream_init(&st, small, sizeof small, 1024);
    assert_int_equal(proto_tracker_stream_start(&st, CAPS_MDB, PROTO_COM_PING), PROTO_OK);
    n = tu_hex("07000002 00000002000000", tmp, sizeof tmp);
    assert_int_equal(stream_all(&st, tmp, n, 64, &tracked), PROTO_ESEQ);
    proto_tracker_stream_init(&st, small, sizeof small, 1024);
    assert_int_equal(proto_tracker_stream_start(&st, CAPS_MDB, PROTO_COM_QUERY), PROTO_OK);
    n = tu_hex("07000001 fb78", tmp, sizeof tmp);
    assert_int_equal(stream_all(&st, tmp, n, 64, &tracked), PROTO_OK);
    assert_int_equal(proto_tracker_stream_client_packet(&st, 2, 0), PROTO_EBAD);
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(proto_tracker_state_name(PROTO_TRK_COLDEFS_EOF), "COLDEFS_EOF");
    assert_string_equal(proto_tracker_state_name((enum proto_trk_state)999), "UNKNOWN");
    assert_string_equal(proto_trk_pkt_name(PROTO_TRK_PKT_PREPARE_OK), "PREPARE_OK");
    assert_string_equal(proto_trk_pkt_name((enum proto_trk_pkt_kind)999), "UNKNOWN");
}

/* Back-to-back commands on one tracker, as on a pooled connection. */
static void test_reuse(void **state)
{
    (void)state;
    struct proto_tracker t;
    proto_tracker_init(&t);
    for (int i = 0; i < 3; i++) {
        assert_int_equal(proto_tracker_start(&t, CAPS_MDB, PROTO_COM_QUERY), PROTO_OK);
        assert_int_equal(feed_hex(&t, "ff 7a04 2334325330325461626c65"), PROTO_OK);
        assert_true(t.res.is_error);
        assert_int_equal(proto_tracker_start(&t, CAPS_MDB, PROTO_COM_PING), PROTO_OK);
        assert_false(t.res.is_error); /* the result starts fresh */
        assert_int_equal(feed_hex(&t, "00 00 00 0200 0000"), PROTO_OK);
        assert_true(proto_tracker_done(&t));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures_whole),
        cmocka_unit_test(test_fixtures_prefix),
        cmocka_unit_test(test_fixtures_stream),
        cmocka_unit_test(test_deprecate_eof_text),
        cmocka_unit_test(test_deprecate_eof_ps),
        cmocka_unit_test(test_auth_more_data),
        cmocka_unit_test(test_no_reply_commands),
        cmocka_unit_test(test_malformed),
        cmocka_unit_test(test_stream_large_row_and_limits),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_reuse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
