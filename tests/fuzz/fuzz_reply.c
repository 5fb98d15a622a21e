/*
 * fuzz_reply.c - libFuzzer target for protocol/reply.c and
 * protocol/session_state.c.
 *
 * Input: byte 0 picks a negotiated capability set, the rest is one packet
 * payload. Every parser runs on it; whatever parses is checked for
 * invariants, and a violation abort()s:
 *   - views returned by parsers lie inside the input;
 *   - build(parse(x)) re-parses to the same values and is a fixed point;
 *   - proto_ok_rewrite for a client without SESSION_TRACK re-parses as an
 *     OK (or, for 0xFE without DEPRECATE_EOF, an EOF) with the same affected
 *     rows / insert id / warnings / info and no session state;
 *   - ERR and EOF builders round-trip what their parsers read.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_reply.h"
#include "gtidproxy/proto_session_state.h"

#define P41 PROTO_CAP(CLIENT_PROTOCOL_41)
#define TRX PROTO_CAP(CLIENT_TRANSACTIONS)
#define TRACK PROTO_CAP(CLIENT_SESSION_TRACK)
#define DEOF PROTO_CAP(CLIENT_DEPRECATE_EOF)

static const uint64_t caps_sets[] = {
    0,                        /* pre-4.1 / pre-auth */
    TRX,                      /* 3.23-era with transactions */
    P41 | TRX,                /* libmariadb minus tracking */
    P41 | TRX | TRACK,        /* libmariadb */
    P41 | TRX | DEOF,         /* DEPRECATE_EOF, no tracking */
    P41 | TRX | TRACK | DEOF, /* MySQL 8 connectors */
    TRACK,                    /* odd: tracking without 4.1 */
    P41,
};

#define CHECK(cond)                                                            \
    do {                                                                       \
        if (!(cond))                                                           \
            abort();                                                           \
    } while (0)

static bool inside(struct proto_str s, const uint8_t *p, size_t n)
{
    if (s.len == 0)
        return true;
    return s.p >= p && s.len <= n && s.p - p <= (ptrdiff_t)(n - s.len);
}

static bool str_same(struct proto_str a, struct proto_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static void check_entries(struct proto_str block)
{
    struct proto_ss_iter it;
    struct proto_ss_entry e;
    proto_ss_iter_init(&it, block);
    while (!proto_ss_iter_done(&it)) {
        if (proto_ss_next(&it, &e) != PROTO_OK)
            break;
        CHECK(inside(e.data, block.p, block.len));
        struct proto_str a, b;
        bool changed;
        struct proto_trx_state st;
        if (proto_ss_sysvar(&e, &a, &b) == PROTO_OK)
            CHECK(inside(a, e.data.p, e.data.len) &&
                  inside(b, e.data.p, e.data.len));
        if (proto_ss_schema(&e, &a) == PROTO_OK)
            CHECK(inside(a, e.data.p, e.data.len));
        if (proto_ss_gtids(&e, &a) == PROTO_OK)
            CHECK(inside(a, e.data.p, e.data.len));
        if (proto_ss_trx_characteristics(&e, &a) == PROTO_OK)
            CHECK(inside(a, e.data.p, e.data.len));
        if (proto_ss_state_change(&e, &changed) == PROTO_OK)
            CHECK(e.data.len == 1);
        if (proto_ss_trx_state(&e, &st) == PROTO_OK)
            CHECK(!(st.explicit_trx && st.implicit_trx));
    }
    struct proto_ss_summary s;
    if (proto_ss_summarize(block, &s) == PROTO_OK) {
        CHECK(inside(s.gtid, block.p, block.len));
        CHECK(inside(s.schema, block.p, block.len));
        CHECK((s.gtid_source == PROTO_GTID_SOURCE_NONE) == (s.gtid.len == 0));
        for (int v = 0; v < PROTO_SYSVAR__COUNT; v++)
            if (s.sysvars_changed & ((uint32_t)1 << v))
                CHECK(inside(s.sysvar[v], block.p, block.len));
        CHECK(s.sysvars_changed >> PROTO_SYSVAR__COUNT == 0);
    }
}

static void check_ok(const uint8_t *p, size_t n, uint64_t caps)
{
    struct proto_ok ok, again;
    if (proto_ok_parse(p, n, caps, &ok) != PROTO_OK)
        return;
    CHECK(inside(ok.info, p, n) && inside(ok.session_state, p, n));
    CHECK(ok.has_session_state ? (caps & TRACK) != 0
                               : ok.session_state.len == 0);
    check_entries(ok.session_state);

    /* build(parse(x)) re-parses to the same OK and is a fixed point. */
    static uint8_t b1[PROTO_MAX_PAYLOAD / 1024], b2[sizeof b1];
    struct proto_wr w;
    proto_wr_init(&w, b1, sizeof b1);
    if (proto_ok_build(&w, caps, &ok) != PROTO_OK)
        return; /* larger than the scratch buffer */
    size_t len1 = w.len;
    CHECK(proto_ok_parse(b1, len1, caps, &again) == PROTO_OK);
    CHECK(again.header == ok.header);
    CHECK(again.affected_rows == ok.affected_rows);
    CHECK(again.last_insert_id == ok.last_insert_id);
    CHECK(again.warnings == ok.warnings);
    CHECK(str_same(again.info, ok.info));
    if (caps & TRACK) {
        CHECK(again.status == ok.status);
        CHECK(str_same(again.session_state, ok.session_state));
    }
    proto_wr_init(&w, b2, sizeof b2);
    CHECK(proto_ok_build(&w, caps, &again) == PROTO_OK);
    CHECK(w.len == len1 && memcmp(b1, b2, len1) == 0);

    /* Rewrite for the same client without SESSION_TRACK. */
    uint64_t to = caps & ~TRACK;
    proto_wr_init(&w, b1, sizeof b1);
    CHECK(proto_ok_rewrite(p, n, caps, to, &w) == PROTO_OK);
    CHECK(w.len <= ((caps & TRACK) ? n : n + 8)); /* documented bound */
    uint16_t want_status =
        (uint16_t)(ok.status & ~PROTO_SERVER_SESSION_STATE_CHANGED);
    if (ok.header == PROTO_EOF_HEADER && !(to & DEOF)) {
        struct proto_eof eof;
        CHECK(proto_eof_parse(b1, w.len, to, &eof) == PROTO_OK);
        if (to & P41)
            CHECK(eof.warnings == ok.warnings && eof.status == want_status);
        return;
    }
    CHECK(proto_ok_parse(b1, w.len, to, &again) == PROTO_OK);
    CHECK(again.header == ok.header);
    CHECK(again.affected_rows == ok.affected_rows);
    CHECK(again.last_insert_id == ok.last_insert_id);
    CHECK(again.warnings == ok.warnings);
    CHECK(again.status == ((to & (P41 | TRX)) ? want_status : 0));
    CHECK(str_same(again.info, ok.info));
    CHECK(!again.has_session_state);
}

static void check_err(const uint8_t *p, size_t n, uint64_t caps)
{
    struct proto_err e, again;
    if (proto_err_parse(p, n, caps, &e) != PROTO_OK)
        return;
    CHECK(inside(e.message, p, n) && inside(e.sqlstate, p, n));
    CHECK(e.has_sqlstate ? e.sqlstate.len == 5 : e.sqlstate.len == 0);
    CHECK(proto_err_is_progress(p, n) == (e.code == PROTO_ERR_CODE_PROGRESS));
    /* Round trip only what the builder can express: a SQLSTATE exactly
     * when 4.1 (it always writes one then), no NUL in the SQLSTATE. */
    if (!!(caps & P41) != e.has_sqlstate || e.message.len > PROTO_ERR_MSG_MAX)
        return;
    char state[6] = "HY000";
    if (e.has_sqlstate) {
        memcpy(state, e.sqlstate.p, 5);
        if (memchr(state, 0, 5))
            return;
    }
    uint8_t b[1 + 2 + 6 + PROTO_ERR_MSG_MAX];
    struct proto_wr w;
    proto_wr_init(&w, b, sizeof b);
    CHECK(proto_err_build(&w, caps, e.code, state, e.message.p,
                          e.message.len) == PROTO_OK);
    CHECK(proto_err_parse(b, w.len, caps, &again) == PROTO_OK);
    CHECK(again.code == e.code);
    CHECK(str_same(again.message, e.message));
    CHECK(w.len == n && memcmp(b, p, n) == 0);
}

static void check_eof(const uint8_t *p, size_t n, uint64_t caps)
{
    struct proto_eof eof, again;
    if (proto_eof_parse(p, n, caps, &eof) != PROTO_OK)
        return;
    CHECK(n <= 8);
    uint8_t b[8];
    struct proto_wr w;
    proto_wr_init(&w, b, sizeof b);
    CHECK(proto_eof_build(&w, caps, eof.warnings, eof.status) == PROTO_OK);
    CHECK(proto_eof_parse(b, w.len, caps, &again) == PROTO_OK);
    CHECK(again.warnings == eof.warnings && again.status == eof.status);
    CHECK(w.len <= n && memcmp(b, p, w.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint64_t caps = caps_sets[data[0] % (sizeof caps_sets / sizeof caps_sets[0])];
    const uint8_t *p = data + 1;
    size_t n = size - 1;

    enum proto_reply_kind k1 = proto_reply_first_kind(p, n, caps);
    enum proto_reply_kind k2 = proto_reply_row_kind(p, n, caps);
    CHECK(strcmp(proto_reply_kind_name(k1), "UNKNOWN") != 0);
    CHECK(strcmp(proto_reply_kind_name(k2), "UNKNOWN") != 0);
    if (k2 == PROTO_REPLY_EOF)
        CHECK(n <= 8 && p[0] == 0xFE);

    check_ok(p, n, caps);
    check_err(p, n, caps);
    check_eof(p, n, caps);
    struct proto_progress pr;
    if (proto_progress_parse(p, n, &pr) == PROTO_OK)
        CHECK(inside(pr.stage_name, p, n) && proto_err_is_progress(p, n));

    /* The payload as a bare session_state block, for deeper coverage. */
    struct proto_str block = {p, n};
    check_entries(block);
    return 0;
}
