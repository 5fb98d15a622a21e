/*
 * fuzz_handshake.c - server-to-client connection-phase packets: HandshakeV10
 * (and the ERR that may replace it), AuthSwitchRequest, AuthMoreData. Every
 * input goes to all three parsers (each checks its own first byte).
 * Invariants, enforced with abort():
 * - an accepted HandshakeV10 rebuilds, the rebuild parses to the same
 *   values, and rebuilding that is byte-identical (build is canonical);
 * - an ERR's views stay inside the input;
 * - AuthSwitchRequest and AuthMoreData rebuild byte for byte (their layouts
 *   leave no freedom).
 * Seeds: tests/fuzz/corpus/handshake/ (from tests/fixtures/handshake/).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtidproxy/proto_handshake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok)
{
    if (!ok)
        abort();
}

static bool str_same(struct proto_str a, struct proto_str b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static bool inside(struct proto_str s, const uint8_t *p, size_t n)
{
    return s.len == 0 || (s.p >= p && s.p + s.len <= p + n);
}

static void fuzz_v10(const uint8_t *data, size_t size)
{
    static uint8_t out1[1024], out2[1024];
    struct proto_handshake_v10 a, b;
    struct proto_wr w1, w2;

    int rc = proto_handshake_v10_parse(data, size, &a);
    if (rc == PROTO_EHANDSHAKE_ERR) {
        check(inside(a.err.message, data, size) && inside(a.err.sqlstate, data, size));
        return;
    }
    if (rc != PROTO_OK)
        return;
    check(inside(a.server_version, data, size) && inside(a.auth_plugin, data, size));
    check(a.scramble_len >= 8);

    proto_wr_init(&w1, out1, sizeof out1);
    check(proto_handshake_v10_build(&w1, &a) == PROTO_OK);
    check(w1.len <= size);
    check(proto_handshake_v10_parse(out1, w1.len, &b) == PROTO_OK);
    check(str_same(a.server_version, b.server_version));
    check(str_same(a.real_version, b.real_version));
    check(str_same(a.auth_plugin, b.auth_plugin));
    check(a.thread_id == b.thread_id && a.caps == b.caps && a.charset == b.charset &&
          a.status == b.status && a.scramble_len == b.scramble_len);
    check(memcmp(a.scramble, b.scramble, a.scramble_len) == 0);

    proto_wr_init(&w2, out2, sizeof out2);
    check(proto_handshake_v10_build(&w2, &b) == PROTO_OK);
    check(w1.len == w2.len && memcmp(out1, out2, w1.len) == 0);
}

static void fuzz_auth_switch(const uint8_t *data, size_t size)
{
    static uint8_t out[70000];
    struct proto_auth_switch as;
    struct proto_wr w;

    if (proto_auth_switch_parse(data, size, &as) != PROTO_OK)
        return;
    if (as.is_old) {
        check(size == 1 && data[0] == 0xFE);
        return;
    }
    check(inside(as.plugin, data, size) && inside(as.data, data, size));
    check(as.scramble.len == as.data.len ||
          (as.scramble.len + 1 == as.data.len && as.data.p[as.scramble.len] == 0));
    proto_wr_init(&w, out, sizeof out);
    if (as.plugin.len == 0) {
        check(proto_auth_switch_build(&w, as.plugin, as.data) == PROTO_EBAD);
        return;
    }
    if (size > sizeof out)
        return;
    check(proto_auth_switch_build(&w, as.plugin, as.data) == PROTO_OK);
    check(w.len == size && memcmp(out, data, size) == 0);
}

static void fuzz_more_data(const uint8_t *data, size_t size)
{
    static uint8_t out[70000];
    struct proto_str d;
    struct proto_wr w;

    if (proto_auth_more_data_parse(data, size, &d) != PROTO_OK || size > sizeof out)
        return;
    check(d.len + 1 == size);
    proto_wr_init(&w, out, sizeof out);
    check(proto_auth_more_data_build(&w, d) == PROTO_OK);
    check(w.len == size && memcmp(out, data, size) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_v10(data, size);
    fuzz_auth_switch(data, size);
    fuzz_more_data(data, size);
    return 0;
}
