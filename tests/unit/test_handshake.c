/*
 * test_handshake.c - connection-phase codec (proto_handshake.h) against real
 * MariaDB 10.11 / libmariadb 3.3 captures and hand-built MySQL 8.4 packets
 * (tests/fixtures/handshake/README.md): field values, byte-exact round trips,
 * every truncation, malformed input, capability negotiation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/proto_handshake.h"
#include "testsupport.h"

#define S(lit) ((struct proto_str){(const uint8_t *)(lit), sizeof(lit) - 1})

static void assert_str(struct proto_str s, const char *want)
{
    if (!proto_str_eq(s, want))
        fail_msg("got '%.*s', want '%s'", (int)s.len, (const char *)s.p, want);
}

static void assert_hex(struct proto_str s, const char *hex)
{
    uint8_t want[512];
    size_t n = tu_hex(hex, want, sizeof want);
    assert_int_equal(s.len, n);
    if (n)
        assert_memory_equal(s.p, want, n);
}

/* Runs parse on a heap copy of exactly the first `cut` bytes so ASan sees
 * any read past the end. */
typedef int (*parse_fn)(const uint8_t *p, size_t n, void *ctx);

static int parse_cut(parse_fn fn, const uint8_t *p, size_t cut, void *ctx)
{
    uint8_t *copy = malloc(cut ? cut : 1);
    assert_non_null(copy);
    memcpy(copy, p, cut);
    int rc = fn(copy, cut, ctx);
    free(copy);
    return rc;
}

static int v10_fn(const uint8_t *p, size_t n, void *ctx)
{
    return proto_handshake_v10_parse(p, n, ctx);
}
static int resp_fn(const uint8_t *p, size_t n, void *ctx)
{
    return proto_handshake_response_parse(p, n, ctx);
}
static int switch_fn(const uint8_t *p, size_t n, void *ctx)
{
    return proto_auth_switch_parse(p, n, ctx);
}
struct cu_ctx {
    uint64_t caps;
    struct proto_change_user cu;
};
static int cu_fn(const uint8_t *p, size_t n, void *ctx)
{
    struct cu_ctx *c = ctx;
    return proto_change_user_parse(p, n, c->caps, &c->cu);
}

/* Every proper prefix of a packet whose fields are all mandatory fails. */
static void assert_all_cuts_fail(parse_fn fn, const uint8_t *p, size_t n, void *ctx)
{
    for (size_t cut = 0; cut < n; cut++) {
        int rc = parse_cut(fn, p, cut, ctx);
        if (rc != PROTO_ETRUNC)
            fail_msg("cut at %zu of %zu: rc %d (%s)", cut, n, rc, proto_status_str(rc));
    }
}

/* ---- HandshakeV10 ---- */

static void test_v10_mariadb_fields(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = tu_fixture("handshake/v10_nodb.hex", &n);
    struct proto_handshake_v10 hs;
    assert_int_equal(proto_handshake_v10_parse(p, n, &hs), PROTO_OK);
    assert_str(hs.server_version, "5.5.5-10.11.19-MariaDB-0+deb12u1-log");
    assert_str(hs.real_version, "10.11.19-MariaDB-0+deb12u1-log");
    assert_int_equal(hs.thread_id, 7);
    /* feff | 08 | 0200 | ff81, ext int<4> 1d: bit 0 clear, so ext counts */
    assert_true(hs.caps == (UINT64_C(0x81fffffe) | UINT64_C(0x1d) << 32));
    assert_true(hs.caps & PROTO_CAP(MARIADB_CLIENT_CACHE_METADATA));
    assert_false(hs.caps & PROTO_CAP(MARIADB_CLIENT_COM_MULTI));
    assert_int_equal(hs.charset, 8);
    assert_int_equal(hs.status, PROTO_SERVER_STATUS_AUTOCOMMIT);
    assert_int_equal(hs.scramble_len, 20);
    assert_hex((struct proto_str){hs.scramble, hs.scramble_len},
               "2a2b397c2747722a 773c6051573e6e3352245a77");
    assert_str(hs.auth_plugin, "mysql_native_password");
    free(p);
}

static void test_v10_roundtrip_and_cuts(void **state)
{
    (void)state;
    const char *all[] = {"handshake/v10_ssl.hex",    "handshake/v10_nodb.hex",
                         "handshake/v10_db.hex",     "handshake/cu_v10.hex",
                         "handshake/ed_v10.hex",     "handshake/ed25519_v10.hex",
                         "handshake/mysql84_v10.hex"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        size_t n;
        uint8_t *p = tu_fixture(all[i], &n);
        struct proto_handshake_v10 hs;
        assert_int_equal(proto_handshake_v10_parse(p, n, &hs), PROTO_OK);
        uint8_t out[256];
        struct proto_wr w;
        proto_wr_init(&w, out, sizeof out);
        assert_int_equal(proto_handshake_v10_build(&w, &hs), PROTO_OK);
        assert_int_equal(w.len, n);
        assert_memory_equal(out, p, n);
        /* One byte short of room: sticky ENOSPACE. */
        proto_wr_init(&w, out, n - 1);
        assert_int_equal(proto_handshake_v10_build(&w, &hs), PROTO_ENOSPACE);
        assert_all_cuts_fail(v10_fn, p, n, &hs);
        free(p);
    }
}

static void test_v10_mysql84(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = tu_fixture("handshake/mysql84_v10.hex", &n);
    struct proto_handshake_v10 hs;
    assert_int_equal(proto_handshake_v10_parse(p, n, &hs), PROTO_OK);
    assert_str(hs.server_version, "8.4.3");
    assert_str(hs.real_version, "8.4.3");
    assert_int_equal(hs.thread_id, 13);
    assert_true(hs.caps == UINT64_C(0xdfffffff)); /* bit 0 set: no ext caps */
    assert_int_equal(hs.charset, 255);
    assert_int_equal(hs.scramble_len, 20);
    assert_memory_equal(hs.scramble, "ABCDEFGHIJKLMNOPQRST", 20);
    assert_str(hs.auth_plugin, "caching_sha2_password");
    free(p);
}

static void test_v10_err_first(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = tu_fixture("handshake/err_first.hex", &n);
    struct proto_handshake_v10 hs;
    assert_int_equal(proto_handshake_v10_parse(p, n, &hs), PROTO_EHANDSHAKE_ERR);
    assert_int_equal(hs.err.code, 1040);
    assert_int_equal(hs.err.sqlstate.len, 0);
    assert_str(hs.err.message, "Too many connections");
    free(p);

    uint8_t buf[64];
    n = tu_hex("ff 1004 23 3038303034 626f6f", buf, sizeof buf); /* '#08004' "boo" */
    assert_int_equal(proto_handshake_v10_parse(buf, n, &hs), PROTO_EHANDSHAKE_ERR);
    assert_str(hs.err.sqlstate, "08004");
    assert_str(hs.err.message, "boo");
    n = tu_hex("ff 10", buf, sizeof buf);
    assert_int_equal(proto_handshake_v10_parse(buf, n, &hs), PROTO_ETRUNC);
}

static void test_v10_malformed(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = tu_fixture("handshake/v10_nodb.hex", &n);
    struct proto_handshake_v10 hs;
    size_t caps_lo_at = 1 + strlen("5.5.5-10.11.19-MariaDB-0+deb12u1-log") + 1 + 4 + 8 + 1;
    size_t len_at = caps_lo_at + 2 + 1 + 2 + 2;

    p[0] = 9; /* protocol version 9 */
    assert_int_equal(proto_handshake_v10_parse(p, n, &hs), PROTO_EUNSUPPORTED);
    p[0] = 10;
    p[caps_lo_at + 1] &= (uint8_t)~0x02; /* clear CLIENT_PROTOCOL_41 (0x200) */
    assert_int_equal(proto_handshake_v10_parse(p, n, &hs), PROTO_EUNSUPPORTED);
    p[caps_lo_at + 1] |= 0x02;
    assert_int_equal(p[len_at], 21);
    p[len_at] = 5; /* PLUGIN_AUTH with a scramble shorter than part 1 */
    assert_int_equal(proto_handshake_v10_parse(p, n, &hs), PROTO_EBAD);
    p[len_at] = 21;
    p[n - 1] = 'x'; /* plugin name without its NUL */
    assert_int_equal(proto_handshake_v10_parse(p, n, &hs), PROTO_ETRUNC);
    free(p);
}

static void test_v10_build_variants(void **state)
{
    (void)state;
    struct proto_handshake_v10 hs, back;
    uint8_t out[512];
    struct proto_wr w;

    /* A 32-byte scramble (client_ed25519-sized): length byte 33, part 2 of
     * 25 bytes (24 + NUL). */
    memset(&hs, 0, sizeof hs);
    hs.server_version = S("11.4.2-MariaDB");
    hs.thread_id = 0x01020304;
    hs.caps = (PROTO_CAPS_REQUIRED | PROTO_CAP(MARIADB_CLIENT_PROGRESS));
    hs.charset = 45;
    hs.status = 2;
    hs.scramble_len = 32;
    for (int i = 0; i < 32; i++)
        hs.scramble[i] = (uint8_t)(0x80 + i);
    hs.auth_plugin = S("client_ed25519");
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_handshake_v10_build(&w, &hs), PROTO_OK);
    size_t len_at = 1 + 15 + 4 + 8 + 1 + 2 + 1 + 2 + 2;
    assert_int_equal(out[len_at], 33);
    assert_int_equal(w.len, len_at + 1 + 10 + 25 + 15);
    assert_int_equal(proto_handshake_v10_parse(out, w.len, &back), PROTO_OK);
    assert_true(back.caps == hs.caps);
    assert_int_equal(back.scramble_len, 32);
    assert_memory_equal(back.scramble, hs.scramble, 32);
    assert_str(back.real_version, "11.4.2-MariaDB");
    assert_int_equal(back.thread_id, 0x01020304);

    /* Without PLUGIN_AUTH: length byte 0, 20-byte scramble, no name. */
    hs.caps = PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_SECURE_CONNECTION) |
              PROTO_CAP(CLIENT_LONG_PASSWORD);
    hs.scramble_len = 20;
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_handshake_v10_build(&w, &hs), PROTO_OK);
    assert_int_equal(out[len_at], 0);
    assert_int_equal(proto_handshake_v10_parse(out, w.len, &back), PROTO_OK);
    assert_int_equal(back.scramble_len, 20);
    assert_memory_equal(back.scramble, hs.scramble, 20);
    assert_int_equal(back.auth_plugin.len, 0);

    /* Encodings the builder refuses. */
    hs.scramble_len = 32; /* no PLUGIN_AUTH: only 20 is expressible */
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_handshake_v10_build(&w, &hs), PROTO_EBAD);
    hs.scramble_len = 20;
    hs.caps |= PROTO_CAP(MARIADB_CLIENT_PROGRESS); /* ext caps with bit 0 set */
    assert_int_equal(proto_handshake_v10_build(&w, &hs), PROTO_EBAD);
    hs.caps &= ~PROTO_CAP(MARIADB_CLIENT_PROGRESS);
    hs.server_version = S("a\0b");
    assert_int_equal(proto_handshake_v10_build(&w, &hs), PROTO_EBAD);
    hs.server_version = S("x");
    hs.scramble_len = 7;
    assert_int_equal(proto_handshake_v10_build(&w, &hs), PROTO_EBAD);
}

/* ---- HandshakeResponse41 / SSLRequest ---- */

struct attr_want {
    const char *key, *val;
};

static void assert_attrs(struct proto_str attrs, const struct attr_want *want, size_t nwant)
{
    struct proto_attrs_iter it;
    struct proto_str k, v;
    size_t i = 0;
    int rc;
    proto_attrs_iter_init(&it, attrs);
    while ((rc = proto_attrs_next(&it, &k, &v)) == 1) {
        assert_true(i < nwant);
        assert_str(k, want[i].key);
        if (want[i].val)
            assert_str(v, want[i].val);
        i++;
    }
    assert_int_equal(rc, 0);
    assert_int_equal(i, nwant);
}

static const struct attr_want cli_attrs[] = {{"_os", "Linux"},
                                             {"_client_name", "libmariadb"},
                                             {"_pid", NULL},
                                             {"_client_version", "3.3.20"},
                                             {"_platform", "x86_64"},
                                             {"program_name", "mysql"},
                                             {"_server_host", "127.0.0.1"}};

static void test_response_mariadb_fields(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = tu_fixture("handshake/response_db.hex", &n);
    struct proto_handshake_response r;
    assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_OK);
    /* 8ca2bf00: the mariadb CLI adds MULTI_STATEMENTS (0x10000) to the
     * 0x00bea28c that PROTOCOL.md saw from a C program */
    assert_true(r.caps == (UINT64_C(0x00bfa28c) | UINT64_C(0x1d) << 32));
    assert_false(r.is_ssl_request);
    assert_int_equal(r.max_packet, 0x100000); /* 1 MiB */
    assert_int_equal(r.charset, 33);
    assert_int_equal(proto_auth_enc_for(r.caps), PROTO_AUTH_ENC_LENENC);
    assert_string_equal(proto_auth_enc_name(proto_auth_enc_for(r.caps)), "lenenc");
    assert_str(r.user, "app");
    assert_hex(r.auth, "fe14ad338f7fdf257f5c3fe8267e44a0d57c4b31");
    assert_str(r.database, "appdb");
    assert_str(r.plugin, "mysql_native_password");
    assert_attrs(r.attrs, cli_attrs, sizeof cli_attrs / sizeof cli_attrs[0]);
    assert_int_equal(r.rest.len, 0);
    free(p);

    p = tu_fixture("handshake/response_nodb.hex", &n);
    assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_OK);
    assert_false(r.caps & PROTO_CAP(CLIENT_CONNECT_WITH_DB));
    assert_int_equal(r.database.len, 0);
    assert_int_equal(r.auth.len, 20);
    free(p);

    p = tu_fixture("handshake/response_ed25519.hex", &n);
    assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_OK);
    assert_int_equal(r.auth.len, 0);
    assert_str(r.plugin, "client_ed25519");
    assert_int_equal(r.charset, 45);
    free(p);
}

static void test_response_mysql84(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = tu_fixture("handshake/mysql84_response.hex", &n);
    struct proto_handshake_response r;
    assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_OK);
    assert_true(r.caps == UINT64_C(0x09bfa20d)); /* bit 0 set: bytes 28..31 ignored */
    assert_true(r.caps & PROTO_CAP(CLIENT_QUERY_ATTRIBUTES));
    assert_int_equal(r.max_packet, 16777216);
    assert_str(r.user, "app");
    assert_hex(r.auth, "f484509371582540ec86e998579cd927da4bbc126e39794d4f99388bfa8e5c32");
    assert_str(r.database, "appdb");
    assert_str(r.plugin, "caching_sha2_password");
    static const struct attr_want want[] = {{"_client_name", "libmysql"},
                                            {"_client_version", "8.4.3"}};
    assert_attrs(r.attrs, want, 2);
    free(p);
}

static void test_response_roundtrip_and_cuts(void **state)
{
    (void)state;
    const char *all[] = {"handshake/response_nodb.hex",    "handshake/response_db.hex",
                         "handshake/cu_response.hex",      "handshake/response_ed25519.hex",
                         "handshake/ed25519_response.hex", "handshake/mysql84_response.hex"};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        size_t n;
        uint8_t *p = tu_fixture(all[i], &n);
        struct proto_handshake_response r;
        assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_OK);
        uint8_t out[512];
        struct proto_wr w;
        proto_wr_init(&w, out, sizeof out);
        assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_OK);
        assert_int_equal(w.len, n);
        assert_memory_equal(out, p, n);
        assert_false(proto_is_ssl_request(p, n));
        assert_all_cuts_fail(resp_fn, p, n, &r);
        free(p);
    }
}

static void test_ssl_request(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = tu_fixture("handshake/ssl_request.hex", &n);
    struct proto_handshake_response r;
    assert_int_equal(n, PROTO_HANDSHAKE_RESPONSE_FIXED);
    assert_true(proto_is_ssl_request(p, n));
    assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_OK);
    assert_true(r.is_ssl_request);
    assert_true(r.caps & PROTO_CAP(CLIENT_SSL));
    assert_true(r.caps == (UINT64_C(0x00bfaa84) | UINT64_C(0x1d) << 32));
    assert_int_equal(r.user.len, 0);

    uint8_t out[64];
    struct proto_wr w;
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_ssl_request_build(&w, r.caps, r.max_packet, r.charset), PROTO_OK);
    assert_int_equal(w.len, n);
    assert_memory_equal(out, p, n);
    /* No CLIENT_SSL: not an SSLRequest, and 32 bytes is then too short. */
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(
        proto_ssl_request_build(&w, r.caps & ~PROTO_CAP(CLIENT_SSL), r.max_packet, r.charset),
        PROTO_EBAD);
    p[1] &= (uint8_t)~0x08;
    assert_false(proto_is_ssl_request(p, n));
    assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_ETRUNC);
    assert_all_cuts_fail(resp_fn, p, n, &r);
    free(p);
}

static void test_response_malformed(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = tu_fixture("handshake/response_nodb.hex", &n);
    struct proto_handshake_response r;
    /* attrs start after: 32 fixed, "app\0", 0x14 + 20, plugin name + NUL */
    size_t attrs_at = 32 + 4 + 21 + strlen("mysql_native_password") + 1;
    assert_int_equal(p[attrs_at], 0x7e);

    p[attrs_at] = 0x7d; /* area one byte shorter: last value runs past it */
    assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_EBAD);
    p[attrs_at] = 0x7e;

    p[1] &= (uint8_t)~0x02; /* no CLIENT_PROTOCOL_41: HandshakeResponse320 */
    assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_EUNSUPPORTED);
    free(p);

    /* An attribute area declared over 64 KiB is refused before use. */
    uint8_t big[64];
    /* caps PROTOCOL_41|CONNECT_ATTRS, user "a", NUL-encoded empty auth,
     * attrs length fd 010001 = 65537 */
    size_t bn = tu_hex("00021000 00000001 21 00000000000000000000000000000000000000 00000000"
                       "6100 00 fd010001",
                       big, sizeof big);
    assert_int_equal(proto_handshake_response_parse(big, bn, &r), PROTO_ETOOBIG);
}

static void test_response_build_encodings(void **state)
{
    (void)state;
    struct proto_handshake_response r, back;
    uint8_t out[600], auth[300];
    struct proto_wr w;
    memset(auth, 0xA5, sizeof auth);

    /* Neither SECURE_CONNECTION nor LENENC: NUL-terminated auth data. */
    memset(&r, 0, sizeof r);
    r.caps = PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_LONG_PASSWORD);
    r.max_packet = 1024;
    r.charset = 8;
    r.user = S("u");
    r.auth = S("secret");
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_OK);
    assert_int_equal(w.len, 32 + 2 + 7);
    assert_int_equal(proto_handshake_response_parse(out, w.len, &back), PROTO_OK);
    assert_int_equal(proto_auth_enc_for(back.caps), PROTO_AUTH_ENC_NUL);
    assert_str(back.auth, "secret");
    r.auth = S("se\0cret");
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_EBAD);

    /* SECURE_CONNECTION: int<1> length; 256 bytes do not fit. */
    r.caps |= PROTO_CAP(CLIENT_SECURE_CONNECTION);
    r.auth = (struct proto_str){auth, 255};
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_OK);
    assert_int_equal(out[34], 255);
    assert_int_equal(proto_handshake_response_parse(out, w.len, &back), PROTO_OK);
    assert_int_equal(back.auth.len, 255);
    r.auth.len = 256;
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_EBAD);

    /* LENENC: 256 bytes as fc 00 01. */
    r.caps |= PROTO_CAP(CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA);
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_OK);
    assert_int_equal(out[34], 0xfc);
    assert_int_equal(proto_handshake_response_parse(out, w.len, &back), PROTO_OK);
    assert_int_equal(back.auth.len, 256);

    /* Attributes written with proto_attrs_put read back in order. */
    uint8_t attrs[64];
    struct proto_wr aw;
    proto_wr_init(&aw, attrs, sizeof attrs);
    proto_attrs_put(&aw, "k1", 2, "v1", 2);
    proto_attrs_put(&aw, "_empty", 6, "", 0);
    assert_int_equal(proto_wr_finish(&aw), PROTO_OK);
    r.caps |= PROTO_CAP(CLIENT_CONNECT_ATTRS) | PROTO_CAP(CLIENT_PLUGIN_AUTH);
    r.plugin = S("mysql_native_password");
    r.attrs = (struct proto_str){attrs, aw.len};
    r.rest = S("\x03");
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_OK);
    assert_int_equal(proto_handshake_response_parse(out, w.len, &back), PROTO_OK);
    static const struct attr_want want[] = {{"k1", "v1"}, {"_empty", ""}};
    assert_attrs(back.attrs, want, 2);
    assert_str(back.rest, "\x03");
    assert_str(back.plugin, "mysql_native_password");

    /* Extended caps need bit 0 clear. */
    r.caps |= PROTO_CAP(MARIADB_CLIENT_PROGRESS);
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_EBAD);
    r.caps &= ~PROTO_CAP(CLIENT_LONG_PASSWORD);
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_OK);
    assert_int_equal(proto_handshake_response_parse(out, w.len, &back), PROTO_OK);
    assert_true(back.caps == r.caps);
}

static void test_attrs_iter_malformed(void **state)
{
    (void)state;
    uint8_t buf[16];
    struct proto_attrs_iter it;
    struct proto_str k, v;
    size_t n = tu_hex("01 61", buf, sizeof buf); /* key "a", no value */
    proto_attrs_iter_init(&it, (struct proto_str){buf, n});
    assert_int_equal(proto_attrs_next(&it, &k, &v), PROTO_ETRUNC);
    n = tu_hex("01 61 05 62", buf, sizeof buf); /* value longer than the area */
    proto_attrs_iter_init(&it, (struct proto_str){buf, n});
    assert_int_equal(proto_attrs_next(&it, &k, &v), PROTO_ETRUNC);
    n = tu_hex("ff", buf, sizeof buf); /* 0xFF never starts a lenenc */
    proto_attrs_iter_init(&it, (struct proto_str){buf, n});
    assert_true(proto_attrs_next(&it, &k, &v) < 0);
    proto_attrs_iter_init(&it, (struct proto_str){buf, 0});
    assert_int_equal(proto_attrs_next(&it, &k, &v), 0);
}

/* ---- AuthSwitchRequest / AuthMoreData ---- */

static void test_auth_switch(void **state)
{
    (void)state;
    size_t n, vn;
    uint8_t *p = tu_fixture("handshake/auth_switch_native.hex", &n);
    uint8_t *v10 = tu_fixture("handshake/cu_v10.hex", &vn);
    struct proto_auth_switch as;
    struct proto_handshake_v10 hs;
    assert_int_equal(proto_auth_switch_parse(p, n, &as), PROTO_OK);
    assert_false(as.is_old);
    assert_str(as.plugin, "mysql_native_password");
    assert_int_equal(as.data.len, 21);
    assert_int_equal(as.scramble.len, 20);
    /* MariaDB re-sends the connection's own nonce on COM_CHANGE_USER. */
    assert_int_equal(proto_handshake_v10_parse(v10, vn, &hs), PROTO_OK);
    assert_memory_equal(as.scramble.p, hs.scramble, 20);

    uint8_t out[128];
    struct proto_wr w;
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_auth_switch_build(&w, as.plugin, as.data), PROTO_OK);
    assert_int_equal(w.len, n);
    assert_memory_equal(out, p, n);
    proto_wr_init(&w, out, sizeof out);
    assert_int_equal(proto_auth_switch_build(&w, S(""), as.data), PROTO_EBAD);

    /* string<EOF> data cannot reveal a cut; everything before it can. */
    size_t name_end = 1 + as.plugin.len; /* index of the NUL */
    for (size_t cut = 0; cut <= name_end; cut++) {
        int rc = parse_cut(switch_fn, p, cut, &as);
        if (cut == 1) {
            assert_int_equal(rc, PROTO_OK); /* a lone 0xFE */
            assert_true(as.is_old);
        } else {
            assert_int_equal(rc, PROTO_ETRUNC);
        }
    }
    p[0] = 0x01;
    assert_int_equal(proto_auth_switch_parse(p, n, &as), PROTO_EBAD);
    free(p);
    free(v10);

    p = tu_fixture("handshake/ed_auth_switch.hex", &n);
    assert_int_equal(proto_auth_switch_parse(p, n, &as), PROTO_OK);
    assert_str(as.plugin, "mysql_native_password");
    assert_int_equal(as.scramble.len, 20);
    free(p);

    /* An ed25519 nonce keeps a final zero byte: it is nonce, not NUL. */
    p = tu_fixture("handshake/ed25519_auth_switch.hex", &n);
    p[n - 1] = 0;
    assert_int_equal(proto_auth_switch_parse(p, n, &as), PROTO_OK);
    assert_str(as.plugin, "client_ed25519");
    assert_int_equal(as.data.len, 32);
    assert_int_equal(as.scramble.len, 32);
    free(p);
}

static void test_auth_more_data(void **state)
{
    (void)state;
    const char *files[] = {"handshake/mysql84_more_fast_ok.hex",
                           "handshake/mysql84_more_full_auth.hex"};
    const uint8_t want[] = {0x03, 0x04};
    for (size_t i = 0; i < 2; i++) {
        size_t n;
        uint8_t *p = tu_fixture(files[i], &n);
        struct proto_str data;
        assert_int_equal(proto_auth_more_data_parse(p, n, &data), PROTO_OK);
        assert_int_equal(data.len, 1);
        assert_int_equal(data.p[0], want[i]);
        uint8_t out[8];
        struct proto_wr w;
        proto_wr_init(&w, out, sizeof out);
        assert_int_equal(proto_auth_more_data_build(&w, data), PROTO_OK);
        assert_int_equal(w.len, n);
        assert_memory_equal(out, p, n);
        assert_int_equal(proto_auth_more_data_parse(p, 0, &data), PROTO_ETRUNC);
        p[0] = 0x00; /* an OK, not AuthMoreData */
        assert_int_equal(proto_auth_more_data_parse(p, n, &data), PROTO_EBAD);
        free(p);
    }
}

/* ---- COM_CHANGE_USER ---- */

static uint64_t cu_client_caps(void)
{
    size_t n;
    uint8_t *p = tu_fixture("handshake/cu_response.hex", &n);
    struct proto_handshake_response r;
    assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_OK);
    free(p);
    return r.caps;
}

static void test_change_user_fields(void **state)
{
    (void)state;
    uint64_t caps = cu_client_caps();
    size_t n, an;
    uint8_t *p = tu_fixture("handshake/change_user_db.hex", &n);
    uint8_t *ans = tu_fixture("handshake/auth_switch_response.hex", &an);
    struct proto_change_user cu;
    assert_int_equal(proto_change_user_parse(p, n, caps, &cu), PROTO_OK);
    assert_str(cu.user, "app");
    /* 1-byte length (SECURE_CONNECTION), though the client has LENENC */
    assert_int_equal(cu.auth.len, 20);
    /* same nonce, same password: the same reply as after the switch */
    assert_int_equal(an, 20);
    assert_memory_equal(cu.auth.p, ans, 20);
    assert_str(cu.database, "appdb");
    assert_true(cu.has_more);
    assert_int_equal(cu.charset, 45);
    assert_str(cu.plugin, "mysql_native_password");
    static const struct attr_want want[] = {{"_os", "Linux"},        {"_client_name", "libmariadb"},
                                            {"_pid", NULL},          {"_client_version", "3.3.20"},
                                            {"_platform", "x86_64"}, {"_server_host", "127.0.0.1"}};
    assert_attrs(cu.attrs, want, 6);
    free(p);
    free(ans);

    p = tu_fixture("handshake/change_user_nodb.hex", &n);
    assert_int_equal(proto_change_user_parse(p, n, caps, &cu), PROTO_OK);
    assert_int_equal(cu.database.len, 0);
    assert_int_equal(cu.auth.len, 20);
    free(p);

    p = tu_fixture("handshake/ed_change_user_db.hex", &n);
    assert_int_equal(proto_change_user_parse(p, n, caps, &cu), PROTO_OK);
    assert_int_equal(cu.auth.len, 0);
    assert_str(cu.plugin, "client_ed25519");
    free(p);
}

static void test_change_user_roundtrip_and_cuts(void **state)
{
    (void)state;
    const char *all[] = {"handshake/change_user_db.hex", "handshake/change_user_nodb.hex",
                         "handshake/ed_change_user_db.hex"};
    struct cu_ctx ctx = {.caps = cu_client_caps()};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        size_t n;
        uint8_t *p = tu_fixture(all[i], &n);
        struct proto_change_user cu;
        assert_int_equal(proto_change_user_parse(p, n, ctx.caps, &cu), PROTO_OK);
        uint8_t out[512];
        struct proto_wr w;
        proto_wr_init(&w, out, sizeof out);
        assert_int_equal(proto_change_user_build(&w, ctx.caps, &cu), PROTO_OK);
        assert_int_equal(w.len, n);
        assert_memory_equal(out, p, n);

        /* Only the cut right after the database is a valid (short) packet. */
        size_t db_end = (size_t)(cu.database.p - p) + cu.database.len + 1;
        for (size_t cut = 0; cut < n; cut++) {
            int rc = parse_cut(cu_fn, p, cut, &ctx);
            if (cut == db_end) {
                assert_int_equal(rc, PROTO_OK);
                assert_false(ctx.cu.has_more);
            } else if (rc != PROTO_ETRUNC) {
                fail_msg("%s cut %zu: rc %d", all[i], cut, rc);
            }
        }
        /* The short form builds back to that cut. */
        cu.has_more = false;
        proto_wr_init(&w, out, sizeof out);
        assert_int_equal(proto_change_user_build(&w, ctx.caps, &cu), PROTO_OK);
        assert_int_equal(w.len, db_end);
        assert_memory_equal(out, p, db_end);
        free(p);
    }
}

static void test_change_user_malformed(void **state)
{
    (void)state;
    uint64_t caps = cu_client_caps();
    size_t n;
    uint8_t *p = tu_fixture("handshake/change_user_db.hex", &n);
    struct proto_change_user cu;
    uint8_t *longer = malloc(n + 1);
    assert_non_null(longer);
    memcpy(longer, p, n);
    longer[n] = 0;
    assert_int_equal(proto_change_user_parse(longer, n + 1, caps, &cu), PROTO_EBAD);
    free(longer);
    p[0] = PROTO_COM_QUERY;
    assert_int_equal(proto_change_user_parse(p, n, caps, &cu), PROTO_EBAD);
    free(p);

    /* Without SECURE_CONNECTION the auth data is NUL-terminated. */
    uint8_t buf[32];
    size_t bn = tu_hex("11 7500 707700 6400", buf, sizeof buf);
    assert_int_equal(proto_change_user_parse(buf, bn, PROTO_CAP(CLIENT_PROTOCOL_41), &cu),
                     PROTO_OK);
    assert_str(cu.user, "u");
    assert_str(cu.auth, "pw");
    assert_str(cu.database, "d");
    assert_false(cu.has_more);
    /* Read as int<1>-length data, 'p' = 112 bytes run past the end. */
    assert_int_equal(proto_change_user_parse(buf, bn, PROTO_CAP(CLIENT_SECURE_CONNECTION), &cu),
                     PROTO_ETRUNC);
}

/* ---- capability negotiation ---- */

static void test_caps_advertise_mariadb(void **state)
{
    (void)state;
    size_t n;
    uint8_t *p = tu_fixture("handshake/v10_nodb.hex", &n);
    struct proto_handshake_v10 hs;
    assert_int_equal(proto_handshake_v10_parse(p, n, &hs), PROTO_OK);
    free(p);
    uint64_t adv = 0;
    assert_int_equal(proto_caps_advertise(hs.caps, PROTO_CAPS_SUPPORTED_DEFAULT, 0, &adv),
                     PROTO_OK);
    assert_false(adv & PROTO_CAP(CLIENT_COMPRESS));
    assert_false(adv & PROTO_CAP(CLIENT_SSL)); /* backend has it; the proxy not */
    assert_false(adv & PROTO_CAP(CLIENT_LONG_PASSWORD));
    assert_false(adv & PROTO_CAP(CLIENT_SSL_VERIFY_SERVER_CERT));
    assert_false(adv & PROTO_CAP(CLIENT_REMEMBER_OPTIONS));
    assert_true((adv >> 32) == 0x19); /* PROGRESS|EXT_META|CACHE_META: no STMT_BULK */
    assert_true((adv & PROTO_CAPS_REQUIRED) == PROTO_CAPS_REQUIRED);
    assert_true(adv & PROTO_CAP(CLIENT_SESSION_TRACK));
    assert_true((adv & ~hs.caps) == 0); /* never more than the backend offers */

    assert_int_equal(
        proto_caps_advertise(hs.caps, PROTO_CAPS_SUPPORTED_DEFAULT, PROTO_CAPS_OPT_TLS, &adv),
        PROTO_OK);
    assert_true(adv & PROTO_CAP(CLIENT_SSL));

    /* A proxy build that cannot parse extended metadata drops it. */
    assert_int_equal(proto_caps_advertise(hs.caps,
                                          PROTO_CAPS_SUPPORTED_DEFAULT &
                                              ~PROTO_CAP(MARIADB_CLIENT_EXTENDED_METADATA),
                                          0, &adv),
                     PROTO_OK);
    assert_true((adv >> 32) == 0x11); /* PROGRESS|CACHE_META */

    /* libmariadb's response caps against that backend. */
    p = tu_fixture("handshake/response_db.hex", &n);
    struct proto_handshake_response r;
    assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_OK);
    free(p);
    uint64_t eff = proto_caps_effective(r.caps, hs.caps);
    assert_true(eff == ((UINT64_C(0x00bfa28c) & UINT64_C(0x81fffffe)) | UINT64_C(0x1d) << 32));
    assert_int_equal(proto_caps_check_client(r.caps, adv), PROTO_OK);
}

static void test_caps_advertise_mysql(void **state)
{
    (void)state;
    uint64_t mysql = UINT64_C(0xdfffffff), adv = 0;
    assert_int_equal(proto_caps_advertise(mysql, PROTO_CAPS_SUPPORTED_DEFAULT, 0, &adv), PROTO_OK);
    assert_true(adv & PROTO_CAP(CLIENT_LONG_PASSWORD));
    assert_true((adv >> 32) == 0);
    assert_false(adv & PROTO_CAP(CLIENT_COMPRESS));
    assert_false(adv & PROTO_CAP(CLIENT_ZSTD_COMPRESSION_ALGORITHM));
    assert_false(adv & PROTO_CAP(CLIENT_QUERY_ATTRIBUTES));
    assert_false(adv & PROTO_CAP(CLIENT_OPTIONAL_RESULTSET_METADATA));
    assert_false(adv & PROTO_CAP(CLIENT_MULTI_FACTOR_AUTHENTICATION));
    assert_true(adv & PROTO_CAP(CLIENT_DEPRECATE_EOF));

    /* Asked for explicitly, and supported: then advertised. */
    uint64_t sup = PROTO_CAPS_SUPPORTED_DEFAULT | PROTO_CAP(CLIENT_QUERY_ATTRIBUTES) |
                   PROTO_CAP(CLIENT_OPTIONAL_RESULTSET_METADATA);
    assert_int_equal(
        proto_caps_advertise(mysql, sup,
                             PROTO_CAPS_OPT_QUERY_ATTRS | PROTO_CAPS_OPT_OPTIONAL_METADATA, &adv),
        PROTO_OK);
    assert_true(adv & PROTO_CAP(CLIENT_QUERY_ATTRIBUTES));
    assert_true(adv & PROTO_CAP(CLIENT_OPTIONAL_RESULTSET_METADATA));
    /* Supported but not asked for: still not. */
    assert_int_equal(proto_caps_advertise(mysql, sup, 0, &adv), PROTO_OK);
    assert_false(adv & PROTO_CAP(CLIENT_QUERY_ATTRIBUTES));

    adv = 42;
    assert_int_equal(proto_caps_advertise(mysql & ~PROTO_CAP(CLIENT_PLUGIN_AUTH),
                                          PROTO_CAPS_SUPPORTED_DEFAULT, 0, &adv),
                     PROTO_EUNSUPPORTED);
    assert_true(adv == 42);

    /* A MySQL client meets a MariaDB server: no extended caps in force. */
    uint64_t mariadb = UINT64_C(0x81fffffe) | UINT64_C(0x1d) << 32;
    uint64_t eff = proto_caps_effective(UINT64_C(0x09bfa20d), mariadb);
    assert_true((eff >> 32) == 0);
    assert_true(eff == (UINT64_C(0x09bfa20d) & UINT64_C(0x81fffffe)));

    assert_int_equal(proto_caps_check_client(PROTO_CAP(CLIENT_SECURE_CONNECTION), adv),
                     PROTO_EUNSUPPORTED);
    assert_int_equal(proto_caps_check_client(UINT64_C(0x09bfa20d) | PROTO_CAP(CLIENT_SSL),
                                             adv & ~PROTO_CAP(CLIENT_SSL)),
                     PROTO_EBAD);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_v10_mariadb_fields),
        cmocka_unit_test(test_v10_roundtrip_and_cuts),
        cmocka_unit_test(test_v10_mysql84),
        cmocka_unit_test(test_v10_err_first),
        cmocka_unit_test(test_v10_malformed),
        cmocka_unit_test(test_v10_build_variants),
        cmocka_unit_test(test_response_mariadb_fields),
        cmocka_unit_test(test_response_mysql84),
        cmocka_unit_test(test_response_roundtrip_and_cuts),
        cmocka_unit_test(test_ssl_request),
        cmocka_unit_test(test_response_malformed),
        cmocka_unit_test(test_response_build_encodings),
        cmocka_unit_test(test_attrs_iter_malformed),
        cmocka_unit_test(test_auth_switch),
        cmocka_unit_test(test_auth_more_data),
        cmocka_unit_test(test_change_user_fields),
        cmocka_unit_test(test_change_user_roundtrip_and_cuts),
        cmocka_unit_test(test_change_user_malformed),
        cmocka_unit_test(test_caps_advertise_mariadb),
        cmocka_unit_test(test_caps_advertise_mysql),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
