/*
 * fuzz_handshake_response.c - client-to-server connection-phase packets:
 * HandshakeResponse41 / SSLRequest (the whole input) and COM_CHANGE_USER
 * (input[1..], with the connection's caps chosen by input[0]: bit 0
 * SECURE_CONNECTION, bit 1 PLUGIN_AUTH, bit 2 CONNECT_ATTRS).
 * Invariants, enforced with abort():
 * - every view lies inside the input; accepted attributes iterate to a
 *   clean end;
 * - an accepted packet rebuilds, the rebuild parses to the same values, and
 *   rebuilding that is byte-identical (build is canonical);
 * - an SSLRequest rebuilds to exactly its 32 bytes.
 * Seeds: tests/fuzz/corpus/handshake_response/ (from tests/fixtures/handshake/;
 * change-user seeds carry the caps byte 07 in front).
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

static void check_attrs(struct proto_str attrs)
{
    struct proto_attrs_iter it;
    struct proto_str k, v;
    int rc;
    proto_attrs_iter_init(&it, attrs);
    while ((rc = proto_attrs_next(&it, &k, &v)) == 1)
        check(inside(k, attrs.p, attrs.len) && inside(v, attrs.p, attrs.len));
    check(rc == 0);
}

static bool resp_same(const struct proto_handshake_response *a,
                      const struct proto_handshake_response *b)
{
    return a->caps == b->caps && a->max_packet == b->max_packet && a->charset == b->charset &&
           a->is_ssl_request == b->is_ssl_request && str_same(a->user, b->user) &&
           str_same(a->auth, b->auth) && str_same(a->database, b->database) &&
           str_same(a->plugin, b->plugin) && str_same(a->attrs, b->attrs) &&
           str_same(a->rest, b->rest);
}

static void fuzz_response(const uint8_t *data, size_t size)
{
    static uint8_t out1[70000 + 1024], out2[70000 + 1024];
    struct proto_handshake_response a, b;
    struct proto_wr w1, w2;

    if (proto_handshake_response_parse(data, size, &a) != PROTO_OK)
        return;
    if (a.is_ssl_request) {
        check(size == PROTO_HANDSHAKE_RESPONSE_FIXED && proto_is_ssl_request(data, size));
        proto_wr_init(&w1, out1, sizeof out1);
        check(proto_ssl_request_build(&w1, a.caps, a.max_packet, a.charset) == PROTO_OK);
        check(proto_handshake_response_parse(out1, w1.len, &b) == PROTO_OK);
        check(resp_same(&a, &b));
        return;
    }
    check(inside(a.user, data, size) && inside(a.auth, data, size) &&
          inside(a.database, data, size) && inside(a.plugin, data, size) &&
          inside(a.attrs, data, size) && inside(a.rest, data, size));
    check(a.attrs.len <= PROTO_CONNECT_ATTRS_MAX);
    check_attrs(a.attrs);
    if (size > 70000)
        return;

    proto_wr_init(&w1, out1, sizeof out1);
    check(proto_handshake_response_build(&w1, &a) == PROTO_OK);
    check(proto_handshake_response_parse(out1, w1.len, &b) == PROTO_OK);
    check(resp_same(&a, &b));
    proto_wr_init(&w2, out2, sizeof out2);
    check(proto_handshake_response_build(&w2, &b) == PROTO_OK);
    check(w1.len == w2.len && memcmp(out1, out2, w1.len) == 0);
}

static bool cu_same(const struct proto_change_user *a, const struct proto_change_user *b)
{
    return str_same(a->user, b->user) && str_same(a->auth, b->auth) &&
           str_same(a->database, b->database) && a->has_more == b->has_more &&
           a->charset == b->charset && str_same(a->plugin, b->plugin) &&
           str_same(a->attrs, b->attrs);
}

static void fuzz_change_user(const uint8_t *data, size_t size)
{
    static uint8_t out1[70000 + 1024], out2[70000 + 1024];
    struct proto_change_user a, b;
    struct proto_wr w1, w2;

    if (size < 1 || size > 70000)
        return;
    uint64_t caps = PROTO_CAP(CLIENT_PROTOCOL_41);
    if (data[0] & 1)
        caps |= PROTO_CAP(CLIENT_SECURE_CONNECTION);
    if (data[0] & 2)
        caps |= PROTO_CAP(CLIENT_PLUGIN_AUTH);
    if (data[0] & 4)
        caps |= PROTO_CAP(CLIENT_CONNECT_ATTRS);
    const uint8_t *p = data + 1;
    size_t n = size - 1;

    if (proto_change_user_parse(p, n, caps, &a) != PROTO_OK)
        return;
    check(inside(a.user, p, n) && inside(a.auth, p, n) && inside(a.database, p, n) &&
          inside(a.plugin, p, n) && inside(a.attrs, p, n));
    check_attrs(a.attrs);

    proto_wr_init(&w1, out1, sizeof out1);
    check(proto_change_user_build(&w1, caps, &a) == PROTO_OK);
    check(w1.len <= n);
    check(proto_change_user_parse(out1, w1.len, caps, &b) == PROTO_OK);
    check(cu_same(&a, &b));
    proto_wr_init(&w2, out2, sizeof out2);
    check(proto_change_user_build(&w2, caps, &b) == PROTO_OK);
    check(w1.len == w2.len && memcmp(out1, out2, w1.len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_response(data, size);
    fuzz_change_user(data, size);
    return 0;
}
