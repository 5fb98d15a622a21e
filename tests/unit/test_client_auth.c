/*
 * test_client_auth.c - the client leg of login (proxy/client_auth.h).
 *
 * Byte-exact against real MariaDB 10.11 / libmariadb 3.3 captures
 * (tests/fixtures/handshake/README.md): with the captured nonce injected, the
 * proxy's greeting equals the server's, the captured client packets log in,
 * and the proxy's AuthSwitchRequests equal the server's. Hand-checked vectors
 * for what no capture has (a caching_sha2 greeting, ERR packets). Then every
 * truncation, a seeded mutation run, and real libmariadb clients against a
 * loopback server thread that runs cauth over a socket.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <mysql.h>

#include "client_auth.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_handshake.h"
#include "gtidproxy/proto_reply.h"
#include "testsupport.h"

/* The capture server's greeting caps: low 0x81fffffe (CLIENT_MYSQL clear,
 * CLIENT_SSL set: it had a certificate), MariaDB ext 0x1d. */
#define CAPTURE_CAPS ((UINT64_C(0x1d) << 32) | UINT64_C(0x81fffffe))
/* What the proxy advertises in most tests: the same without TLS. */
#define ADV     (CAPTURE_CAPS & ~PROTO_CAP(CLIENT_SSL))
#define VERSION "5.5.5-10.11.19-MariaDB-0+deb12u1-log"
#define HOST    "127.0.0.1"

/* Frame of a 1045 for app@127.0.0.1 (using password: YES), seq 2:
 * ff, 1045 LE, '#', "28000", message (62 bytes) -> payload 71 = 0x47. */
static const char err_app_yes[] = "47000002 ff 1504 23 3238303030"
                                  "4163636573732064656e69656420666f72207573657220276170702740"
                                  "273132372e302e302e312720287573696e672070617373776f72643a20"
                                  "59455329";
/* Frame of a 1043 "Bad handshake", seq 2: ff 1304 '#' "08S01" + 13 bytes. */
static const char err_bad_seq2[] = "16000002 ff 1304 23 3038533031 4261642068616e647368616b65";

/* ---- helpers ---- */

struct fx {
    struct cauth_users users;
    struct cauth a;
    uint8_t out[4096];
    struct proto_wr w;
};

/* Users: app/apppw (plaintext), hashed (app's native hash only), nopw (""),
 * sha/shapw. Names are chosen per test through `app_name`. */
static void build_users(struct cauth_users *u, const char *app_name, const char *app_pw)
{
    struct config_user cu[4] = {
        {.name = (char *)app_name, .password = (char *)app_pw},
        {.name = "hashed", .password_hash = "*DB14CBAE92D7CB2F84BD3AA7222415B564A4054A"},
        {.name = "nopw", .password = ""},
        {.name = "sha", .password = "shapw"},
    };
    struct config cfg;
    char err[256];
    memset(&cfg, 0, sizeof cfg);
    cfg.users = cu;
    cfg.n_users = 4;
    assert_int_equal(cauth_users_build(&cfg, u, err, sizeof err), 0);
}

static void fx_reset_out(struct fx *f)
{
    proto_wr_init(&f->w, f->out, sizeof f->out);
}

/* The nonce a captured HandshakeV10 carried. */
static void fixture_nonce(const char *file, uint8_t nonce[AUTH_NONCE_LEN])
{
    size_t n;
    uint8_t *p = tu_fixture(file, &n);
    struct proto_handshake_v10 hs;
    assert_int_equal(proto_handshake_v10_parse(p, n, &hs), PROTO_OK);
    assert_int_equal(hs.scramble_len, AUTH_NONCE_LEN);
    memcpy(nonce, hs.scramble, AUTH_NONCE_LEN);
    free(p);
}

/* Starts a login with the nonce of a captured greeting (NULL: random). */
static void fx_start(struct fx *f, const char *v10_file, uint64_t caps, const char *plugin)
{
    uint8_t nonce[AUTH_NONCE_LEN];
    cauth_release(&f->a); /* cauth_start overwrites the struct */
    if (v10_file) {
        fixture_nonce(v10_file, nonce);
        cauth__set_nonce(nonce);
    }
    struct cauth_greeting g = {.server_version = VERSION,
                               .thread_id = 7,
                               .caps = caps,
                               .charset = 8,
                               .plugin = plugin,
                               .client_host = HOST};
    fx_reset_out(f);
    assert_int_equal(cauth_start(&f->a, &f->users, &g, &f->w), 0);
    cauth__set_nonce(NULL);
    fx_reset_out(f);
}

static enum cauth_result fx_feed_fixture(struct fx *f, uint8_t seq, const char *file)
{
    size_t n;
    uint8_t *p = tu_fixture(file, &n);
    fx_reset_out(f);
    enum cauth_result r = cauth_feed(&f->a, seq, p, n, &f->w);
    free(p);
    return r;
}

/* Checks that w holds whole packets only, with consecutive ids from seq0;
 * returns how many; the last payload's first byte in *last (-1: empty). */
static int check_frames(const struct proto_wr *w, uint8_t seq0, int *last)
{
    size_t off = 0;
    int count = 0;
    *last = -1;
    while (off < w->len) {
        struct proto_frame_hdr h;
        const uint8_t *pl;
        assert_int_equal(proto_frame_peek(w->p + off, w->len - off, &h, &pl), PROTO_OK);
        assert_int_equal(h.seq, (uint8_t)(seq0 + count));
        *last = h.len ? pl[0] : -1;
        off += PROTO_FRAME_HDR_LEN + h.len;
        count++;
    }
    assert_int_equal(off, w->len);
    return count;
}

static void assert_out_hex(const struct fx *f, const char *hex)
{
    uint8_t want[1024];
    size_t n = tu_hex(hex, want, sizeof want);
    assert_int_equal(f->w.len, n);
    assert_memory_equal(f->out, want, n);
}

/* Frame header (len, seq) + the payload of a fixture file. */
static void assert_out_fixture(const struct fx *f, uint8_t seq, const char *file)
{
    size_t n;
    uint8_t *p = tu_fixture(file, &n);
    assert_int_equal(f->w.len, PROTO_FRAME_HDR_LEN + n);
    assert_int_equal(proto_le24(f->out), n);
    assert_int_equal(f->out[3], seq);
    assert_memory_equal(f->out + PROTO_FRAME_HDR_LEN, p, n);
    free(p);
}

/* The one ERR packet in w: its code and message. */
static void assert_err(const struct fx *f, uint8_t seq, uint16_t code, const char *msg)
{
    struct proto_frame_hdr h;
    const uint8_t *pl;
    struct proto_err e;
    assert_int_equal(proto_frame_peek(f->out, f->w.len, &h, &pl), PROTO_OK);
    assert_int_equal(PROTO_FRAME_HDR_LEN + h.len, f->w.len);
    assert_int_equal(h.seq, seq);
    assert_int_equal(proto_err_parse(pl, h.len, PROTO_CAP(CLIENT_PROTOCOL_41), &e), PROTO_OK);
    assert_int_equal(e.code, code);
    if (!proto_str_eq(e.message, msg))
        fail_msg("message '%.*s', want '%s'", (int)e.message.len, (const char *)e.message.p, msg);
}

static const uint8_t ok_frame_seq2[] = {0x07, 0, 0, 2, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};

/* A HandshakeResponse41 as libmariadb builds it (caps of response_nodb.hex),
 * with the given plugin and auth data. */
static size_t build_response(uint8_t *buf, size_t cap, uint64_t caps, const char *user,
                             const char *plugin, const uint8_t *auth, size_t auth_len,
                             const char *db)
{
    struct proto_handshake_response r;
    struct proto_wr w;
    memset(&r, 0, sizeof r);
    r.caps = caps;
    r.max_packet = 0x1000000;
    r.charset = 0x21;
    r.user = (struct proto_str){(const uint8_t *)user, strlen(user)};
    r.auth = (struct proto_str){auth, auth_len};
    if (db) {
        r.caps |= PROTO_CAP(CLIENT_CONNECT_WITH_DB);
        r.database = (struct proto_str){(const uint8_t *)db, strlen(db)};
    }
    if (plugin)
        r.plugin = (struct proto_str){(const uint8_t *)plugin, strlen(plugin)};
    proto_wr_init(&w, buf, cap);
    assert_int_equal(proto_handshake_response_build(&w, &r), PROTO_OK);
    return w.len;
}

/* libmariadb's client caps in response_nodb.hex (bit 0 clear, ext 0x1d),
 * without CONNECT_ATTRS (built responses carry none). */
#define CLIENT_CAPS                                                                                \
    (((UINT64_C(0x1d) << 32) | UINT64_C(0x00bfa284)) & ~PROTO_CAP(CLIENT_CONNECT_ATTRS))

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    build_users(&f->users, "app", "apppw");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    cauth_release(&f->a);
    cauth_users_free(&f->users);
    free(f);
    return 0;
}

/* ---- greeting ---- */

static void test_greeting_equals_mariadb(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *file;
        uint32_t thread_id;
    } caps[] = {{"handshake/v10_nodb.hex", 7}, {"handshake/cu_v10.hex", 9}};
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++) {
        uint8_t nonce[AUTH_NONCE_LEN];
        fixture_nonce(caps[i].file, nonce);
        cauth__set_nonce(nonce);
        struct cauth_greeting g = {.server_version = VERSION,
                                   .thread_id = caps[i].thread_id,
                                   .caps = CAPTURE_CAPS,
                                   .charset = 8,
                                   .plugin = CAUTH_PLUGIN_NATIVE,
                                   .client_host = HOST};
        fx_reset_out(f);
        assert_int_equal(cauth_start(&f->a, &f->users, &g, &f->w), 0);
        cauth__set_nonce(NULL);
        assert_out_fixture(f, 0, caps[i].file);
        assert_memory_equal(f->a.nonce, nonce, AUTH_NONCE_LEN);
        assert_int_equal(f->a.state, CAUTH_ST_WAIT_RESPONSE);
    }
}

/* A MySQL-style greeting (bit 0 set: no ext caps) with caching_sha2, checked
 * field by field against PROTOCOL.md 1.1. */
static void test_greeting_sha2_hand_vector(void **state)
{
    struct fx *f = *state;
    uint8_t nonce[AUTH_NONCE_LEN];
    for (int i = 0; i < AUTH_NONCE_LEN; i++)
        nonce[i] = (uint8_t)(i + 1);
    cauth__set_nonce(nonce);
    struct cauth_greeting g = {
        .server_version = "8.4.0-gtidproxy",
        .thread_id = 0x2a,
        /* LONG_PASSWORD | PROTOCOL_41 | TRANSACTIONS | SECURE_CONNECTION | PLUGIN_AUTH */
        .caps = 0x0008A201,
        .charset = 0xff,
        .plugin = CAUTH_PLUGIN_SHA2,
        .client_host = HOST};
    fx_reset_out(f);
    assert_int_equal(cauth_start(&f->a, &f->users, &g, &f->w), 0);
    cauth__set_nonce(NULL);
    assert_out_hex(f, "53000000"                         /* 83 bytes, seq 0 */
                      "0a"                               /* protocol 10 */
                      "382e342e302d6774696470726f787900" /* "8.4.0-gtidproxy" NUL */
                      "2a000000"                         /* thread id 42 */
                      "0102030405060708 00"              /* nonce 1..8, filler */
                      "01a2"                             /* caps low 16: 0xa201 */
                      "ff"                               /* collation 255 */
                      "0200"                             /* status AUTOCOMMIT */
                      "0800"                             /* caps high 16: 0x0008 */
                      "15"                               /* auth data length 21 */
                      "00000000000000000000"             /* reserved: bit 0 set, no ext */
                      "090a0b0c0d0e0f1011121314 00"      /* nonce 9..20, NUL */
                      "63616368696e675f736861325f70617373776f726400"); /* plugin NUL */
}

static void test_random_nonce(void **state)
{
    struct fx *f = *state;
    uint8_t first[AUTH_NONCE_LEN];
    bool differs = false;
    for (int i = 0; i < 200; i++) {
        fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
        for (int j = 0; j < AUTH_NONCE_LEN; j++) {
            assert_true(f->a.nonce[j] >= 1 && f->a.nonce[j] <= 127);
            assert_true(f->a.nonce[j] != '$');
        }
        if (i == 0)
            memcpy(first, f->a.nonce, AUTH_NONCE_LEN);
        else if (memcmp(first, f->a.nonce, AUTH_NONCE_LEN) != 0)
            differs = true;
    }
    assert_true(differs);
}

static void test_greeting_errors(void **state)
{
    struct fx *f = *state;
    char longv[300];
    memset(longv, 'v', sizeof longv - 1);
    longv[sizeof longv - 1] = 0;
    struct cauth_greeting g = {.server_version = longv, .caps = ADV, .client_host = HOST};
    fx_reset_out(f);
    assert_int_equal(cauth_start(&f->a, &f->users, &g, &f->w), PROTO_EBAD);
    /* Exactly 256 bytes is the documented maximum and fits CAUTH_OUT_MIN. */
    longv[256] = 0;
    uint8_t small[CAUTH_OUT_MIN];
    proto_wr_init(&f->w, small, sizeof small);
    assert_int_equal(cauth_start(&f->a, &f->users, &g, &f->w), 0);
    assert_true(f->w.len <= 328);
    g.server_version = VERSION;
    proto_wr_init(&f->w, small, 50);
    assert_int_equal(cauth_start(&f->a, &f->users, &g, &f->w), PROTO_ENOSPACE);
    assert_int_equal(f->w.len, 0); /* nothing half-written */
}

/* ---- native login ---- */

static void test_native_login_capture(void **state)
{
    struct fx *f = *state;
    fx_start(f, "handshake/v10_nodb.hex", ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(fx_feed_fixture(f, 1, "handshake/response_nodb.hex"), CAUTH_OK);
    /* The OK MariaDB sent (ok_nodb.hex), at seq 2. */
    assert_out_fixture(f, 2, "handshake/ok_nodb.hex");
    assert_memory_equal(f->out, ok_frame_seq2, sizeof ok_frame_seq2);

    size_t n;
    uint8_t *p = tu_fixture("handshake/response_nodb.hex", &n);
    struct proto_handshake_response r;
    assert_int_equal(proto_handshake_response_parse(p, n, &r), PROTO_OK);
    assert_string_equal(f->a.login.user, "app");
    assert_string_equal(f->a.login.database, "");
    assert_int_equal(f->a.login.caps, proto_caps_effective(r.caps, ADV));
    assert_true(f->a.login.caps & PROTO_CAP(MARIADB_CLIENT_PROGRESS)); /* ext caps kept */
    assert_int_equal(f->a.login.max_packet, r.max_packet);
    assert_int_equal(f->a.login.charset, 0x21);
    assert_int_equal(f->a.login.attrs_len, r.attrs.len);
    assert_true(r.attrs.len > 0);
    assert_memory_equal(f->a.login.attrs, r.attrs.p, r.attrs.len);
    /* A copy, not a view: the input can go. */
    assert_true(f->a.login.attrs < p || f->a.login.attrs >= p + n);
    free(p);
    assert_int_equal(f->a.state, CAUTH_ST_DONE);
    assert_string_equal(cauth_state_name(f->a.state), "DONE");
    assert_string_equal(cauth_result_name(CAUTH_OK), "ok");

    cauth_release(&f->a);
    fx_start(f, "handshake/v10_db.hex", ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(fx_feed_fixture(f, 1, "handshake/response_db.hex"), CAUTH_OK);
    assert_string_equal(f->a.login.database, "appdb");
}

static void test_native_wrong_password(void **state)
{
    struct fx *f = *state;
    cauth_users_free(&f->users);
    build_users(&f->users, "app", "not-apppw");
    fx_start(f, "handshake/v10_nodb.hex", ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(fx_feed_fixture(f, 1, "handshake/response_nodb.hex"), CAUTH_DENIED);
    assert_out_hex(f, err_app_yes);
    assert_int_equal(f->a.state, CAUTH_ST_FAILED);
    assert_non_null(strstr(f->a.why, "wrong password"));
    /* Nothing more is accepted. */
    fx_reset_out(f);
    assert_int_equal(fx_feed_fixture(f, 1, "handshake/response_nodb.hex"), CAUTH_BAD);
}

static void test_unknown_user(void **state)
{
    struct fx *f = *state;
    cauth_users_free(&f->users);
    build_users(&f->users, "someone", "apppw");
    fx_start(f, "handshake/v10_nodb.hex", ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(fx_feed_fixture(f, 1, "handshake/response_nodb.hex"), CAUTH_DENIED);
    assert_out_hex(f, err_app_yes); /* the same answer as a wrong password */
    assert_non_null(strstr(f->a.why, "unknown user 'app'"));

    /* No password sent: "using password: NO". */
    uint8_t buf[256];
    size_t n =
        build_response(buf, sizeof buf, CLIENT_CAPS, "ghost", CAUTH_PLUGIN_NATIVE, NULL, 0, NULL);
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_DENIED);
    assert_err(f, 2, 1045, "Access denied for user 'ghost'@'127.0.0.1' (using password: NO)");
}

static void test_hash_user_and_empty_passwords(void **state)
{
    struct fx *f = *state;
    uint8_t buf[256], reply[AUTH_NATIVE_LEN];
    size_t n;

    /* password_hash user: native reply verified against the stored stage2. */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(auth_native_reply(f->a.nonce, "apppw", 5, reply), AUTH_NATIVE_LEN);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "hashed", CAUTH_PLUGIN_NATIVE, reply,
                       sizeof reply, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_OK);
    assert_memory_equal(f->out, ok_frame_seq2, sizeof ok_frame_seq2);

    /* no_password user, empty data: OK. Zero bytes and a single NUL alike. */
    static const uint8_t nul = 0;
    for (int k = 0; k < 2; k++) {
        fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
        n = build_response(buf, sizeof buf, CLIENT_CAPS, "nopw", CAUTH_PLUGIN_NATIVE, &nul,
                           (size_t)k, NULL);
        assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_OK);
    }
    /* no_password user, a password sent: denied. */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(auth_native_reply(f->a.nonce, "x", 1, reply), AUTH_NATIVE_LEN);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "nopw", CAUTH_PLUGIN_NATIVE, reply,
                       sizeof reply, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_DENIED);
    assert_err(f, 2, 1045, "Access denied for user 'nopw'@'127.0.0.1' (using password: YES)");
    /* A user with a password, none sent: denied, "NO". */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "app", CAUTH_PLUGIN_NATIVE, NULL, 0, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_DENIED);
    assert_err(f, 2, 1045, "Access denied for user 'app'@'127.0.0.1' (using password: NO)");
    /* A truncated native reply is a mismatch, not a crash. */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(auth_native_reply(f->a.nonce, "apppw", 5, reply), AUTH_NATIVE_LEN);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "app", CAUTH_PLUGIN_NATIVE, reply, 19, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_DENIED);
}

/* A client without CLIENT_PLUGIN_AUTH answers the greeting's nonce with
 * native and cannot follow a switch. */
static void test_client_without_plugin_auth(void **state)
{
    struct fx *f = *state;
    uint8_t buf[256], reply[AUTH_NATIVE_LEN];
    uint64_t caps = CLIENT_CAPS & ~PROTO_CAP(CLIENT_PLUGIN_AUTH) &
                    ~PROTO_CAP(CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA);
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
    assert_int_equal(auth_native_reply(f->a.nonce, "apppw", 5, reply), AUTH_NATIVE_LEN);
    size_t n = build_response(buf, sizeof buf, caps, "app", NULL, reply, sizeof reply, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_OK);
    assert_false(f->a.login.caps & PROTO_CAP(CLIENT_PLUGIN_AUTH));

    fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
    reply[0] ^= 1;
    n = build_response(buf, sizeof buf, caps, "app", NULL, reply, sizeof reply, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_DENIED);
}

/* ---- caching_sha2_password ---- */

static void test_sha2_fast_path(void **state)
{
    struct fx *f = *state;
    uint8_t buf[256], reply[AUTH_SHA2_LEN];
    size_t n;

    fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
    assert_int_equal(auth_sha2_reply(f->a.nonce, "shapw", 5, reply), AUTH_SHA2_LEN);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "sha", CAUTH_PLUGIN_SHA2, reply, sizeof reply,
                       "db1");
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_OK);
    /* AuthMoreData 01 03 (seq 2), then the OK (seq 3), in one output. */
    assert_out_hex(f, "02000002 0103"
                      "07000003 00000002000000");
    assert_string_equal(f->a.login.user, "sha");
    assert_string_equal(f->a.login.database, "db1");

    /* The MySQL 8.4-style response (fast reply computed with hashlib). */
    cauth_users_free(&f->users);
    build_users(&f->users, "app", "apppw");
    fx_start(f, "handshake/mysql84_v10.hex", ADV, CAUTH_PLUGIN_SHA2);
    assert_int_equal(fx_feed_fixture(f, 1, "handshake/mysql84_response.hex"), CAUTH_OK);
    assert_out_hex(f, "02000002 0103"
                      "07000003 00000002000000");
    assert_string_equal(f->a.login.database, "appdb");
    assert_false(f->a.login.caps >> 32); /* a MySQL client: no MariaDB ext caps */

    /* Wrong password: 1045 at once. */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
    assert_int_equal(auth_sha2_reply(f->a.nonce, "shapx", 5, reply), AUTH_SHA2_LEN);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "sha", CAUTH_PLUGIN_SHA2, reply, sizeof reply,
                       NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_DENIED);
    assert_err(f, 2, 1045, "Access denied for user 'sha'@'127.0.0.1' (using password: YES)");

    /* A native-sized reply under sha2 is a mismatch. */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "sha", CAUTH_PLUGIN_SHA2, reply, 20, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_DENIED);

    /* no_password user, empty data: the OK straight away (seq 2, no 01 03). */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "nopw", CAUTH_PLUGIN_SHA2, NULL, 0, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_OK);
    assert_memory_equal(f->out, ok_frame_seq2, sizeof ok_frame_seq2);
    assert_int_equal(f->w.len, sizeof ok_frame_seq2);

    /* Unknown user under sha2: denied at once. */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "nobody", CAUTH_PLUGIN_SHA2, reply,
                       sizeof reply, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_DENIED);
}

/* A sha2 client whose user has only a native hash: switched to native. */
static void test_sha2_hash_user_switches(void **state)
{
    struct fx *f = *state;
    uint8_t buf[256], reply[AUTH_SHA2_LEN], nat[AUTH_NATIVE_LEN], sw[64];
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
    assert_int_equal(auth_sha2_reply(f->a.nonce, "apppw", 5, reply), AUTH_SHA2_LEN);
    size_t n = build_response(buf, sizeof buf, CLIENT_CAPS, "hashed", CAUTH_PLUGIN_SHA2, reply,
                              sizeof reply, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_SEND);
    /* fe "mysql_native_password" 00 nonce 00, seq 2 */
    size_t k = 0;
    sw[k++] = 0xfe;
    memcpy(sw + k, "mysql_native_password", 22);
    k += 22;
    memcpy(sw + k, f->a.nonce, AUTH_NONCE_LEN);
    k += AUTH_NONCE_LEN;
    sw[k++] = 0;
    assert_int_equal(f->w.len, 4 + k);
    assert_int_equal(proto_le24(f->out), k);
    assert_int_equal(f->out[3], 2);
    assert_memory_equal(f->out + 4, sw, k);

    assert_int_equal(auth_native_reply(f->a.nonce, "apppw", 5, nat), AUTH_NATIVE_LEN);
    fx_reset_out(f);
    assert_int_equal(cauth_feed(&f->a, 3, nat, sizeof nat, &f->w), CAUTH_OK);
    assert_int_equal(f->out[3], 4);
    assert_string_equal(f->a.login.user, "hashed");
}

/* A sha2 client with empty data (it dropped the greeting's nonce because the
 * greeting named native): switched to caching_sha2 with the same nonce. */
static void test_sha2_empty_data_switches(void **state)
{
    struct fx *f = *state;
    uint8_t buf[256], reply[AUTH_SHA2_LEN];
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    size_t n =
        build_response(buf, sizeof buf, CLIENT_CAPS, "sha", CAUTH_PLUGIN_SHA2, NULL, 0, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_SEND);
    struct proto_frame_hdr h;
    const uint8_t *pl;
    struct proto_auth_switch sw;
    assert_int_equal(proto_frame_peek(f->out, f->w.len, &h, &pl), PROTO_OK);
    assert_int_equal(h.seq, 2);
    assert_int_equal(PROTO_FRAME_HDR_LEN + h.len, f->w.len);
    assert_int_equal(proto_auth_switch_parse(pl, h.len, &sw), PROTO_OK);
    assert_true(proto_str_eq(sw.plugin, CAUTH_PLUGIN_SHA2));
    assert_int_equal(sw.data.len, AUTH_NONCE_LEN + 1);
    assert_memory_equal(sw.scramble.p, f->a.nonce, AUTH_NONCE_LEN);

    struct cauth copy = f->a; /* no attrs: a shallow copy owns nothing */
    assert_int_equal(auth_sha2_reply(f->a.nonce, "shapw", 5, reply), AUTH_SHA2_LEN);
    fx_reset_out(f);
    assert_int_equal(cauth_feed(&f->a, 3, reply, sizeof reply, &f->w), CAUTH_OK);
    assert_out_hex(f, "02000004 0103"
                      "07000005 00000002000000");
    /* The wrong reply, or a native one, is denied. */
    reply[0] ^= 1;
    fx_reset_out(f);
    assert_int_equal(cauth_feed(&copy, 3, reply, sizeof reply, &f->w), CAUTH_DENIED);
    assert_err(f, 4, 1045, "Access denied for user 'sha'@'127.0.0.1' (using password: YES)");

    /* Same for a hash-only user and an unknown one: native switch. */
    static const char *const names[] = {"hashed", "nobody"};
    for (int i = 0; i < 2; i++) {
        fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
        n = build_response(buf, sizeof buf, CLIENT_CAPS, names[i], CAUTH_PLUGIN_SHA2, NULL, 0,
                           NULL);
        assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_SEND);
        assert_int_equal(proto_frame_peek(f->out, f->w.len, &h, &pl), PROTO_OK);
        assert_int_equal(proto_auth_switch_parse(pl, h.len, &sw), PROTO_OK);
        assert_true(proto_str_eq(sw.plugin, CAUTH_PLUGIN_NATIVE));
        uint8_t nat[AUTH_NATIVE_LEN];
        assert_int_equal(auth_native_reply(f->a.nonce, "apppw", 5, nat), AUTH_NATIVE_LEN);
        fx_reset_out(f);
        assert_int_equal(cauth_feed(&f->a, 3, nat, sizeof nat, &f->w),
                         i == 0 ? CAUTH_OK : CAUTH_DENIED);
    }

    /* Mirrored: a native client with empty data against a caching_sha2
     * greeting is switched to native. */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "app", CAUTH_PLUGIN_NATIVE, NULL, 0, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_SEND);
    assert_int_equal(proto_frame_peek(f->out, f->w.len, &h, &pl), PROTO_OK);
    assert_int_equal(proto_auth_switch_parse(pl, h.len, &sw), PROTO_OK);
    assert_true(proto_str_eq(sw.plugin, CAUTH_PLUGIN_NATIVE));

    /* Empty data for the greeting's own plugin is an empty password. */
    static const char *const deny_names[] = {"sha", "app", "hashed", "nobody"};
    for (int i = 0; i < 4; i++) {
        fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
        n = build_response(buf, sizeof buf, CLIENT_CAPS, deny_names[i], CAUTH_PLUGIN_SHA2, NULL, 0,
                           NULL);
        assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_DENIED);
        char msg[128];
        snprintf(msg, sizeof msg, "Access denied for user '%s'@'127.0.0.1' (using password: NO)",
                 deny_names[i]);
        assert_err(f, 2, 1045, msg);
    }
    /* ... and a no_password user logs in with it whatever the greeting. */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "nopw", CAUTH_PLUGIN_NATIVE, NULL, 0, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_OK);
}

/* ---- AuthSwitch for another plugin: the ed25519 capture ---- */

static void test_switch_other_plugin_capture(void **state)
{
    struct fx *f = *state;
    fx_start(f, "handshake/ed_v10.hex", ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(fx_feed_fixture(f, 1, "handshake/response_ed25519.hex"), CAUTH_SEND);
    /* What MariaDB sent in the same place, byte for byte. */
    assert_out_fixture(f, 2, "handshake/ed_auth_switch.hex");
    assert_int_equal(f->a.state, CAUTH_ST_WAIT_SWITCH);

    /* The wrong sequence id is BAD. */
    struct cauth copy = f->a;
    fx_reset_out(f);
    size_t n;
    uint8_t *p = tu_fixture("handshake/ed_auth_switch_response.hex", &n);
    assert_int_equal(cauth_feed(&copy, 2, p, n, &f->w), CAUTH_BAD);
    assert_err(f, 3, 1043, "Bad handshake");
    free(p);

    assert_int_equal(fx_feed_fixture(f, 3, "handshake/ed_auth_switch_response.hex"), CAUTH_OK);
    assert_int_equal(f->w.len, 11);
    assert_int_equal(f->out[3], 4);
    assert_string_equal(f->a.login.user, "app");

    /* An unknown user with another plugin is switched too, then denied. */
    cauth_release(&f->a);
    cauth_users_free(&f->users);
    build_users(&f->users, "someone", "apppw");
    fx_start(f, "handshake/ed_v10.hex", ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(fx_feed_fixture(f, 1, "handshake/response_ed25519.hex"), CAUTH_SEND);
    assert_out_fixture(f, 2, "handshake/ed_auth_switch.hex");
    assert_int_equal(fx_feed_fixture(f, 3, "handshake/ed_auth_switch_response.hex"), CAUTH_DENIED);
    assert_err(f, 4, 1045, "Access denied for user 'app'@'127.0.0.1' (using password: YES)");
}

/* ---- BAD ---- */

static void test_ssl_request_is_bad(void **state)
{
    struct fx *f = *state;
    fx_start(f, "handshake/v10_ssl.hex", ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(fx_feed_fixture(f, 1, "handshake/ssl_request.hex"), CAUTH_BAD);
    assert_out_hex(f, err_bad_seq2);
    assert_non_null(strstr(f->a.why, "SSLRequest"));

    /* A whole response that claims CLIENT_SSL while TLS was not offered. */
    uint8_t buf[256];
    size_t n = build_response(buf, sizeof buf, CLIENT_CAPS | PROTO_CAP(CLIENT_SSL), "app",
                              CAUTH_PLUGIN_NATIVE, NULL, 0, NULL);
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_BAD);
    assert_out_hex(f, err_bad_seq2);

    /* Out-of-order first packet. */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(fx_feed_fixture(f, 2, "handshake/response_nodb.hex"), CAUTH_BAD);
    assert_err(f, 3, 1043, "Bad handshake");

    /* Feeding a struct that never started. */
    struct cauth z;
    memset(&z, 0, sizeof z);
    fx_reset_out(f);
    assert_int_equal(cauth_feed(&z, 1, buf, n, &f->w), CAUTH_BAD);
    cauth_release(&z);
}

static void test_names_too_long(void **state)
{
    struct fx *f = *state;
    static uint8_t buf[2048];
    char name[CAUTH_USER_MAX + 2];
    memset(name, 'u', sizeof name);
    name[CAUTH_USER_MAX + 1] = 0;
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    size_t n =
        build_response(buf, sizeof buf, CLIENT_CAPS, name, CAUTH_PLUGIN_NATIVE, NULL, 0, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_BAD);
    assert_out_hex(f, err_bad_seq2);

    /* Exactly CAUTH_USER_MAX is fine (and unknown). */
    name[CAUTH_USER_MAX] = 0;
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, name, CAUTH_PLUGIN_NATIVE, NULL, 0, NULL);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_DENIED);

    char db[CAUTH_DB_MAX + 2];
    memset(db, 'd', sizeof db);
    db[CAUTH_DB_MAX + 1] = 0;
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "nopw", CAUTH_PLUGIN_NATIVE, NULL, 0, db);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_BAD);
    db[CAUTH_DB_MAX] = 0;
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    n = build_response(buf, sizeof buf, CLIENT_CAPS, "nopw", CAUTH_PLUGIN_NATIVE, NULL, 0, db);
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_OK);
    assert_int_equal(strlen(f->a.login.database), CAUTH_DB_MAX);
}

/* Every prefix of every captured response is BAD with a framed 1043, and
 * never reads past its end (each prefix is a heap block of its own size). */
static void test_truncated_responses(void **state)
{
    struct fx *f = *state;
    static const struct {
        const char *v10, *resp;
    } cases[] = {
        {"handshake/v10_nodb.hex", "handshake/response_nodb.hex"},
        {"handshake/v10_db.hex", "handshake/response_db.hex"},
        {"handshake/ed_v10.hex", "handshake/response_ed25519.hex"},
        {"handshake/cu_v10.hex", "handshake/cu_response.hex"},
        {"handshake/mysql84_v10.hex", "handshake/mysql84_response.hex"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        size_t n;
        uint8_t *full = tu_fixture(cases[c].resp, &n);
        for (size_t cut = 0; cut < n; cut++) {
            uint8_t *p = malloc(cut ? cut : 1);
            memcpy(p, full, cut);
            fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
            enum cauth_result r = cauth_feed(&f->a, 1, p, cut, &f->w);
            if (r != CAUTH_BAD)
                fail_msg("%s cut at %zu: %s", cases[c].resp, cut, cauth_result_name(r));
            assert_out_hex(f, err_bad_seq2);
            cauth_release(&f->a);
            free(p);
        }
        free(full);
    }
}

static void test_small_output_buffer(void **state)
{
    struct fx *f = *state;
    uint8_t buf[256], reply[AUTH_SHA2_LEN], out[12];
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_SHA2);
    assert_int_equal(auth_sha2_reply(f->a.nonce, "shapw", 5, reply), AUTH_SHA2_LEN);
    size_t n = build_response(buf, sizeof buf, CLIENT_CAPS, "sha", CAUTH_PLUGIN_SHA2, reply,
                              sizeof reply, NULL);
    /* Room for 01 03 (6 bytes) but not for the OK after it. */
    proto_wr_init(&f->w, out, sizeof out);
    f->w.len = 2;
    assert_int_equal(cauth_feed(&f->a, 1, buf, n, &f->w), CAUTH_BAD);
    assert_int_equal(f->w.len, 2); /* the half exchange was taken back */
    assert_int_equal(f->a.state, CAUTH_ST_FAILED);
    assert_non_null(strstr(f->a.why, "too small"));
}

/* ---- COM_CHANGE_USER ---- */

static void login_cu_capture(struct fx *f)
{
    fx_start(f, "handshake/cu_v10.hex", ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(fx_feed_fixture(f, 1, "handshake/cu_response.hex"), CAUTH_OK);
}

static enum cauth_result fx_change_user_fixture(struct fx *f, uint8_t seq, const char *file)
{
    size_t n;
    uint8_t *p = tu_fixture(file, &n);
    fx_reset_out(f);
    enum cauth_result r = cauth_change_user(&f->a, seq, p, n, &f->w);
    free(p);
    return r;
}

static void test_change_user_capture(void **state)
{
    struct fx *f = *state;
    login_cu_capture(f);
    assert_string_equal(f->a.login.database, "");
    uint64_t caps = f->a.login.caps;

    assert_int_equal(fx_change_user_fixture(f, 0, "handshake/change_user_db.hex"), CAUTH_SEND);
    /* MariaDB's own answer, with the connection's nonce, byte for byte. */
    assert_out_fixture(f, 1, "handshake/auth_switch_native.hex");
    assert_string_equal(f->a.login.database, ""); /* untouched until verified */
    assert_int_equal(fx_feed_fixture(f, 2, "handshake/auth_switch_response.hex"), CAUTH_OK);
    assert_int_equal(f->w.len, 11);
    assert_int_equal(f->out[3], 3);
    assert_string_equal(f->a.login.user, "app");
    assert_string_equal(f->a.login.database, "appdb");
    assert_int_equal(f->a.login.charset, 0x2d);
    assert_int_equal(f->a.login.caps, caps);

    size_t n;
    uint8_t *p = tu_fixture("handshake/change_user_db.hex", &n);
    struct proto_change_user cu;
    assert_int_equal(proto_change_user_parse(p, n, caps, &cu), PROTO_OK);
    assert_int_equal(f->a.login.attrs_len, cu.attrs.len);
    assert_memory_equal(f->a.login.attrs, cu.attrs.p, cu.attrs.len);
    free(p);

    /* And back to no database. */
    assert_int_equal(fx_change_user_fixture(f, 0, "handshake/change_user_nodb.hex"), CAUTH_SEND);
    assert_int_equal(fx_feed_fixture(f, 2, "handshake/auth_switch_response.hex"), CAUTH_OK);
    assert_string_equal(f->a.login.database, "");

    /* The ed25519 client's change-user (empty data, other plugin). */
    assert_int_equal(fx_change_user_fixture(f, 0, "handshake/ed_change_user_db.hex"), CAUTH_SEND);
    assert_int_equal(fx_feed_fixture(f, 2, "handshake/auth_switch_response.hex"), CAUTH_OK);
    assert_string_equal(f->a.login.database, "appdb");
}

static void test_change_user_denied(void **state)
{
    struct fx *f = *state;
    login_cu_capture(f);
    assert_int_equal(fx_change_user_fixture(f, 0, "handshake/change_user_db.hex"), CAUTH_SEND);
    size_t n;
    uint8_t *p = tu_fixture("handshake/auth_switch_response.hex", &n);
    p[5] ^= 0x40;
    fx_reset_out(f);
    assert_int_equal(cauth_feed(&f->a, 2, p, n, &f->w), CAUTH_DENIED);
    free(p);
    assert_err(f, 3, 1045, "Access denied for user 'app'@'127.0.0.1' (using password: YES)");
    assert_string_equal(f->a.login.database, ""); /* the old login stays */
    assert_int_equal(f->a.state, CAUTH_ST_FAILED);

    /* To an unknown user: switched, then denied with that user's name. */
    cauth_release(&f->a);
    login_cu_capture(f);
    struct proto_change_user cu = {
        .user = {(const uint8_t *)"ghost", 5},
        .database = {(const uint8_t *)"", 0},
        .has_more = true,
        .charset = 0x21,
        .plugin = {(const uint8_t *)CAUTH_PLUGIN_NATIVE, strlen(CAUTH_PLUGIN_NATIVE)},
    };
    uint8_t buf[256];
    struct proto_wr bw;
    proto_wr_init(&bw, buf, sizeof buf);
    assert_int_equal(proto_change_user_build(&bw, f->a.login.caps, &cu), PROTO_OK);
    fx_reset_out(f);
    assert_int_equal(cauth_change_user(&f->a, 0, buf, bw.len, &f->w), CAUTH_SEND);
    fx_reset_out(f);
    assert_int_equal(cauth_feed(&f->a, 2, NULL, 0, &f->w), CAUTH_DENIED);
    assert_err(f, 3, 1045, "Access denied for user 'ghost'@'127.0.0.1' (using password: NO)");
}

static void test_change_user_bad(void **state)
{
    struct fx *f = *state;
    /* Before login. */
    fx_start(f, NULL, ADV, CAUTH_PLUGIN_NATIVE);
    assert_int_equal(fx_change_user_fixture(f, 0, "handshake/change_user_db.hex"), CAUTH_BAD);
    assert_err(f, 1, 1043, "Bad handshake");

    /* Wrong sequence id. */
    login_cu_capture(f);
    assert_int_equal(fx_change_user_fixture(f, 1, "handshake/change_user_db.hex"), CAUTH_BAD);

    /* Every truncation (the part after the database is optional as a
     * whole, so cuts there may parse: then they must SEND a switch). */
    size_t n;
    uint8_t *full = tu_fixture("handshake/change_user_db.hex", &n);
    for (size_t cut = 0; cut < n; cut++) {
        uint8_t *p = malloc(cut ? cut : 1);
        memcpy(p, full, cut);
        cauth_release(&f->a);
        login_cu_capture(f);
        fx_reset_out(f);
        enum cauth_result r = cauth_change_user(&f->a, 0, p, cut, &f->w);
        int last;
        assert_int_equal(check_frames(&f->w, 1, &last), 1);
        if (r == CAUTH_BAD)
            assert_int_equal(last, 0xff);
        else if (r == CAUTH_SEND)
            assert_int_equal(last, 0xfe);
        else
            fail_msg("cut %zu: %s", cut, cauth_result_name(r));
        free(p);
    }
    free(full);

    /* Without CLIENT_PLUGIN_AUTH: the command's own data is verified. */
    cauth_release(&f->a);
    login_cu_capture(f);
    f->a.login.caps &= ~PROTO_CAP(CLIENT_PLUGIN_AUTH);
    uint8_t reply[AUTH_NATIVE_LEN], buf[256];
    assert_int_equal(auth_native_reply(f->a.nonce, "apppw", 5, reply), AUTH_NATIVE_LEN);
    struct proto_change_user cu = {
        .user = {(const uint8_t *)"app", 3},
        .auth = {reply, sizeof reply},
        .database = {(const uint8_t *)"x", 1},
    };
    struct proto_wr bw;
    proto_wr_init(&bw, buf, sizeof buf);
    assert_int_equal(proto_change_user_build(&bw, f->a.login.caps, &cu), PROTO_OK);
    fx_reset_out(f);
    assert_int_equal(cauth_change_user(&f->a, 0, buf, bw.len, &f->w), CAUTH_OK);
    assert_int_equal(f->out[3], 1);
    assert_string_equal(f->a.login.database, "x");
}

/* ---- users ---- */

static void test_users_build(void **state)
{
    (void)state;
    struct cauth_users u;
    build_users(&u, "app", "apppw");
    assert_int_equal(u.n, 4);
    uint8_t stage2[AUTH_NATIVE_LEN], sha2[AUTH_SHA2_LEN];
    /* SELECT PASSWORD('apppw') on the capture server. */
    assert_int_equal(
        auth_native_parse_hash("*DB14CBAE92D7CB2F84BD3AA7222415B564A4054A", 41, stage2), PROTO_OK);
    assert_string_equal(u.v[0].name, "app");
    assert_memory_equal(u.v[0].stage2, stage2, sizeof stage2);
    assert_true(u.v[0].has_sha2);
    assert_false(u.v[0].no_password);
    assert_int_equal(auth_sha2_digest2("apppw", 5, sha2), AUTH_SHA2_LEN);
    assert_memory_equal(u.v[0].sha2, sha2, sizeof sha2);
    assert_memory_equal(u.v[1].stage2, stage2, sizeof stage2);
    assert_false(u.v[1].has_sha2);
    assert_true(u.v[2].no_password);
    assert_false(u.v[2].has_sha2);
    cauth_users_free(&u);
    cauth_users_free(&u); /* twice is fine */

    struct config_user bad[2] = {
        {.name = "a", .password = "x"},
        {.name = "b", .password_hash = "*DB14"},
    };
    struct config cfg;
    char err[256];
    memset(&cfg, 0, sizeof cfg);
    cfg.users = bad;
    cfg.n_users = 2;
    assert_int_equal(cauth_users_build(&cfg, &u, err, sizeof err), -1);
    assert_non_null(strstr(err, "users[1].password_hash"));
    assert_null(u.v);
    assert_int_equal(u.n, 0);

    cfg.n_users = 0;
    assert_int_equal(cauth_users_build(&cfg, &u, err, sizeof err), 0);
    assert_int_equal(u.n, 0);
    cauth_users_free(&u);
}

/* ---- seeded mutations ---- */

static uint64_t rng_state;
static uint64_t rng(void)
{
    /* xorshift64*: deterministic across runs and platforms. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * UINT64_C(2685821657736338717);
}

static size_t mutate(uint8_t *buf, size_t n, size_t cap)
{
    int rounds = 1 + (int)(rng() % 4);
    for (int i = 0; i < rounds; i++) {
        switch (rng() % 6) {
        case 0: /* overwrite a byte */
            if (n)
                buf[rng() % n] = (uint8_t)rng();
            break;
        case 1: /* flip a bit */
            if (n)
                buf[rng() % n] ^= (uint8_t)(1u << (rng() % 8));
            break;
        case 2: /* truncate */
            if (n)
                n = (size_t)(rng() % n);
            break;
        case 3: /* insert a byte */
            if (n < cap) {
                size_t at = n ? (size_t)(rng() % (n + 1)) : 0;
                memmove(buf + at + 1, buf + at, n - at);
                buf[at] = (uint8_t)rng();
                n++;
            }
            break;
        case 4: { /* a length-ish byte: lenenc markers, 0, max */
            static const uint8_t v[] = {0x00, 0xfb, 0xfc, 0xfd, 0xfe, 0xff, 0x14, 0x20};
            if (n)
                buf[rng() % n] = v[rng() % sizeof v];
            break;
        }
        case 5: /* flip a capability bit */
            if (n >= 4)
                buf[rng() % 4] ^= (uint8_t)(1u << (rng() % 8));
            break;
        }
    }
    return n;
}

/* One result: always a verdict, always whole packets with the right ids,
 * the last one telling the client what happened. */
static void check_result(const struct fx *f, enum cauth_result r, uint8_t seq0)
{
    int last;
    int count = check_frames(&f->w, seq0, &last);
    assert_true(count >= 1);
    switch (r) {
    case CAUTH_SEND:
        assert_int_equal(count, 1);
        assert_int_equal(last, 0xfe);
        break;
    case CAUTH_OK:
        assert_int_equal(last, 0x00);
        break;
    case CAUTH_DENIED:
    case CAUTH_BAD:
        assert_int_equal(count, 1);
        assert_int_equal(last, 0xff);
        break;
    default:
        fail_msg("result %d", (int)r);
    }
}

static void test_mutated_inputs(void **state)
{
    struct fx *f = *state;
    static const char *const seeds[] = {
        "handshake/response_nodb.hex",    "handshake/response_db.hex",
        "handshake/response_ed25519.hex", "handshake/cu_response.hex",
        "handshake/ssl_request.hex",      "handshake/mysql84_response.hex",
    };
    enum { NSEEDS = sizeof seeds / sizeof seeds[0] };
    uint8_t *seed[NSEEDS + 1];
    size_t seed_len[NSEEDS + 1];
    for (size_t i = 0; i < NSEEDS; i++)
        seed[i] = tu_fixture(seeds[i], &seed_len[i]);
    /* A caching_sha2 response too (its auth answers a nonce of zeros-ish). */
    seed[NSEEDS] = malloc(256);
    uint8_t sreply[AUTH_SHA2_LEN];
    memset(sreply, 0x5a, sizeof sreply);
    seed_len[NSEEDS] = build_response(seed[NSEEDS], 256, CLIENT_CAPS, "sha", CAUTH_PLUGIN_SHA2,
                                      sreply, sizeof sreply, "db");

    uint8_t cu_nonce[AUTH_NONCE_LEN];
    fixture_nonce("handshake/cu_v10.hex", cu_nonce);
    size_t cun;
    uint8_t *cu = tu_fixture("handshake/change_user_db.hex", &cun);

    rng_state = UINT64_C(0x9e3779b97f4a7c15);
    int counts[4] = {0};
    uint8_t work[600];
    for (int iter = 0; iter < 6000; iter++) {
        size_t s = (size_t)(rng() % (NSEEDS + 1));
        memcpy(work, seed[s], seed_len[s]);
        size_t n = mutate(work, seed_len[s], sizeof work);
        uint8_t *p = malloc(n ? n : 1);
        memcpy(p, work, n);

        cauth__set_nonce(cu_nonce); /* so cu_response.hex mutants may log in */
        fx_start(f, NULL, (iter & 1) ? ADV : CAPTURE_CAPS, (iter & 2) ? CAUTH_PLUGIN_SHA2 : NULL);
        enum cauth_result r = cauth_feed(&f->a, 1, p, n, &f->w);
        check_result(f, r, 2);
        counts[r]++;
        if (r == CAUTH_SEND) {
            /* A random answer to the switch. */
            uint8_t ans[48];
            size_t an = (size_t)(rng() % sizeof ans);
            for (size_t i = 0; i < an; i++)
                ans[i] = (uint8_t)rng();
            uint8_t *ap = malloc(an ? an : 1);
            memcpy(ap, ans, an);
            fx_reset_out(f);
            r = cauth_feed(&f->a, 3, ap, an, &f->w);
            assert_true(r == CAUTH_DENIED || r == CAUTH_BAD);
            check_result(f, r, 4);
            free(ap);
        }
        cauth_release(&f->a);
        free(p);

        /* And a mutated COM_CHANGE_USER after a real login. */
        memcpy(work, cu, cun);
        n = mutate(work, cun, sizeof work);
        p = malloc(n ? n : 1);
        memcpy(p, work, n);
        login_cu_capture(f);
        fx_reset_out(f);
        r = cauth_change_user(&f->a, 0, p, n, &f->w);
        check_result(f, r, 1);
        assert_true(r == CAUTH_SEND || r == CAUTH_BAD);
        if (r == CAUTH_SEND) {
            fx_reset_out(f);
            r = fx_feed_fixture(f, 2, "handshake/auth_switch_response.hex");
            check_result(f, r, 3);
            if (r == CAUTH_OK)
                assert_true(strlen(f->a.login.user) <= CAUTH_USER_MAX);
        }
        cauth_release(&f->a);
        free(p);
    }
    /* The run reached every verdict (so the mutations are not all trivial). */
    assert_true(counts[CAUTH_OK] > 0);
    assert_true(counts[CAUTH_SEND] > 0);
    assert_true(counts[CAUTH_DENIED] > 0);
    assert_true(counts[CAUTH_BAD] > 0);
    for (size_t i = 0; i <= NSEEDS; i++)
        free(seed[i]);
    free(cu);
}

/* ---- real clients: libmariadb against cauth over a loopback socket ---- */

struct srv {
    int lfd;
    uint16_t port;
    const struct cauth_users *users;
    const char *plugin;
    /* Results, read after the thread is joined. */
    enum cauth_result login;
    int change_users; /* COM_CHANGE_USER exchanges that ended OK */
    enum cauth_result last_cu;
    char user[CAUTH_USER_MAX + 1];
    char database[CAUTH_DB_MAX + 1];
    int commands;   /* COM_PING / COM_QUERY answered */
    bool fast_auth; /* the login sent AuthMoreData 01 03 */
    char why[192];
};

struct conn {
    int fd;
    uint8_t buf[65536];
    size_t have;
};

/* Reads one packet into *payload (a view into c->buf valid until the next
 * call). Returns false on EOF or error. */
static bool conn_read(struct conn *c, uint8_t *seq, const uint8_t **payload, size_t *n,
                      size_t *consumed)
{
    if (*consumed) {
        memmove(c->buf, c->buf + *consumed, c->have - *consumed);
        c->have -= *consumed;
        *consumed = 0;
    }
    for (;;) {
        struct proto_frame_hdr h;
        int rc = proto_frame_peek(c->buf, c->have, &h, payload);
        if (rc == PROTO_OK) {
            *seq = h.seq;
            *n = h.len;
            *consumed = PROTO_FRAME_HDR_LEN + h.len;
            return true;
        }
        if (c->have == sizeof c->buf)
            return false;
        ssize_t got = recv(c->fd, c->buf + c->have, sizeof c->buf - c->have, 0);
        if (got <= 0)
            return false;
        c->have += (size_t)got;
    }
}

static bool conn_send(struct conn *c, const struct proto_wr *w)
{
    size_t off = 0;
    while (off < w->len) {
        ssize_t put = send(c->fd, w->p + off, w->len - off, MSG_NOSIGNAL);
        if (put <= 0)
            return false;
        off += (size_t)put;
    }
    return true;
}

static void *server_main(void *arg)
{
    struct srv *s = arg;
    static struct conn c;
    struct cauth a;
    uint8_t out[CAUTH_OUT_MIN];
    struct proto_wr w;
    uint8_t seq;
    const uint8_t *p;
    size_t n, consumed = 0;

    memset(&c, 0, sizeof c);
    memset(&a, 0, sizeof a);
    s->login = CAUTH_BAD;
    s->last_cu = CAUTH_OK;
    c.fd = accept(s->lfd, NULL, NULL);
    if (c.fd < 0)
        return NULL;
    struct cauth_greeting g = {.server_version = "5.5.5-10.11.19-MariaDB-gtidproxy",
                               .thread_id = 1,
                               .caps = ADV,
                               .charset = 8,
                               .plugin = s->plugin,
                               .client_host = HOST};
    proto_wr_init(&w, out, sizeof out);
    if (cauth_start(&a, s->users, &g, &w) != 0 || !conn_send(&c, &w))
        goto done;
    enum cauth_result r = CAUTH_SEND;
    while (r == CAUTH_SEND) {
        if (!conn_read(&c, &seq, &p, &n, &consumed))
            goto done;
        proto_wr_init(&w, out, sizeof out);
        r = cauth_feed(&a, seq, p, n, &w);
        if (w.len >= 6 && out[0] == 2 && out[1] == 0 && out[2] == 0 && out[4] == 1 &&
            out[5] == AUTH_SHA2_FAST_AUTH_OK)
            s->fast_auth = true;
        if (!conn_send(&c, &w))
            goto done;
    }
    s->login = r;
    if (r != CAUTH_OK)
        goto done;
    /* Command phase: OK to anything but QUIT and CHANGE_USER. */
    while (conn_read(&c, &seq, &p, &n, &consumed) && n > 0) {
        proto_wr_init(&w, out, sizeof out);
        if (p[0] == PROTO_COM_QUIT)
            break;
        if (p[0] == PROTO_COM_CHANGE_USER) {
            r = cauth_change_user(&a, seq, p, n, &w);
            if (!conn_send(&c, &w))
                break;
            while (r == CAUTH_SEND) {
                if (!conn_read(&c, &seq, &p, &n, &consumed))
                    goto done;
                proto_wr_init(&w, out, sizeof out);
                r = cauth_feed(&a, seq, p, n, &w);
                if (!conn_send(&c, &w))
                    goto done;
            }
            s->last_cu = r;
            if (r != CAUTH_OK)
                break;
            s->change_users++;
            continue;
        }
        uint8_t okp[16];
        struct proto_wr ow;
        struct proto_ok ok = {.status = PROTO_SERVER_STATUS_AUTOCOMMIT};
        proto_wr_init(&ow, okp, sizeof okp);
        if (proto_ok_build(&ow, a.login.caps, &ok) != PROTO_OK)
            break;
        uint8_t oseq = (uint8_t)(seq + 1);
        proto_frame_write_packet(&w, okp, ow.len, &oseq);
        if (!conn_send(&c, &w))
            break;
        s->commands++;
    }
done:
    snprintf(s->user, sizeof s->user, "%s", a.login.user);
    snprintf(s->database, sizeof s->database, "%s", a.login.database);
    snprintf(s->why, sizeof s->why, "%s", a.why);
    cauth_release(&a);
    close(c.fd);
    return NULL;
}

static pthread_t srv_start(struct srv *s, const struct cauth_users *users, const char *plugin)
{
    memset(s, 0, sizeof *s);
    s->users = users;
    s->plugin = plugin;
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = 0};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(s->lfd, 1), 0);
    socklen_t len = sizeof sa;
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sa, &len), 0);
    s->port = ntohs(sa.sin_port);
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, server_main, s), 0);
    return t;
}

static void srv_join(struct srv *s, pthread_t t)
{
    assert_int_equal(pthread_join(t, NULL), 0);
    close(s->lfd);
}

static MYSQL *client(const char *default_auth)
{
    MYSQL *m = mysql_init(NULL);
    assert_non_null(m);
    unsigned int timeout = 10;
    mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
    mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
    if (default_auth)
        assert_int_equal(mysql_optionsv(m, MYSQL_DEFAULT_AUTH, default_auth), 0);
    return m;
}

static bool have_client_plugin(const char *so)
{
    char path[256];
    snprintf(path, sizeof path, "/usr/lib/x86_64-linux-gnu/libmariadb3/plugin/%s", so);
    if (access(path, R_OK) == 0)
        return true;
    print_message("(no %s: part skipped)\n", path);
    return false;
}

static void test_libmariadb_native(void **state)
{
    struct fx *f = *state;
    struct srv s;
    pthread_t t = srv_start(&s, &f->users, CAUTH_PLUGIN_NATIVE);
    MYSQL *m = client(NULL);
    if (!mysql_real_connect(m, HOST, "app", "apppw", "appdb", s.port, NULL, 0))
        fail_msg("connect: %u %s", mysql_errno(m), mysql_error(m));
    assert_int_equal(mysql_ping(m), 0);
    assert_int_equal(mysql_query(m, "select 1"), 0);
    /* mysql_change_user: native after the proxy's AuthSwitchRequest. */
    if (mysql_change_user(m, "hashed", "apppw", "otherdb") != 0)
        fail_msg("change_user: %u %s", mysql_errno(m), mysql_error(m));
    assert_int_equal(mysql_ping(m), 0);
    mysql_close(m);
    srv_join(&s, t);
    assert_int_equal(s.login, CAUTH_OK);
    assert_int_equal(s.change_users, 1);
    assert_int_equal(s.commands, 3);
    assert_string_equal(s.user, "hashed");
    assert_string_equal(s.database, "otherdb");

    /* Wrong password: the server's exact 1045. */
    t = srv_start(&s, &f->users, CAUTH_PLUGIN_NATIVE);
    m = client(NULL);
    assert_null(mysql_real_connect(m, HOST, "app", "wrong", NULL, s.port, NULL, 0));
    assert_int_equal(mysql_errno(m), 1045);
    assert_string_equal(mysql_sqlstate(m), "28000");
    assert_string_equal(mysql_error(m),
                        "Access denied for user 'app'@'127.0.0.1' (using password: YES)");
    mysql_close(m);
    srv_join(&s, t);
    assert_int_equal(s.login, CAUTH_DENIED);

    /* Wrong password in mysql_change_user: 1045, the server closes. */
    t = srv_start(&s, &f->users, CAUTH_PLUGIN_NATIVE);
    m = client(NULL);
    if (!mysql_real_connect(m, HOST, "app", "apppw", NULL, s.port, NULL, 0))
        fail_msg("connect: %u %s", mysql_errno(m), mysql_error(m));
    assert_int_not_equal(mysql_change_user(m, "app", "wrong", NULL), 0);
    assert_int_equal(mysql_errno(m), 1045);
    assert_string_equal(mysql_error(m),
                        "Access denied for user 'app'@'127.0.0.1' (using password: YES)");
    mysql_close(m);
    srv_join(&s, t);
    assert_int_equal(s.login, CAUTH_OK);
    assert_int_equal(s.last_cu, CAUTH_DENIED);
    assert_string_equal(s.user, "app"); /* the old login stayed */

    /* No password for a no_password user. */
    t = srv_start(&s, &f->users, CAUTH_PLUGIN_NATIVE);
    m = client(NULL);
    if (!mysql_real_connect(m, HOST, "nopw", "", NULL, s.port, NULL, 0))
        fail_msg("connect: %u %s", mysql_errno(m), mysql_error(m));
    mysql_close(m);
    srv_join(&s, t);
    assert_int_equal(s.login, CAUTH_OK);
}

static void test_libmariadb_sha2_and_switch(void **state)
{
    struct fx *f = *state;
    struct srv s;
    pthread_t t;
    MYSQL *m;

    if (have_client_plugin("caching_sha2_password.so")) {
        /* Client default caching_sha2 against a native greeting: the fast
         * reply on the greeting's nonce, 01 03, OK. */
        t = srv_start(&s, &f->users, CAUTH_PLUGIN_NATIVE);
        m = client(CAUTH_PLUGIN_SHA2);
        if (!mysql_real_connect(m, HOST, "sha", "shapw", NULL, s.port, NULL, 0))
            fail_msg("connect: %u %s", mysql_errno(m), mysql_error(m));
        assert_int_equal(mysql_ping(m), 0);
        /* change_user from a sha2 client: switched to native. */
        if (mysql_change_user(m, "app", "apppw", NULL) != 0)
            fail_msg("change_user: %u %s", mysql_errno(m), mysql_error(m));
        mysql_close(m);
        srv_join(&s, t);
        assert_int_equal(s.login, CAUTH_OK);
        assert_true(s.fast_auth);
        assert_int_equal(s.change_users, 1);
        assert_string_equal(s.user, "app");

        /* The proxy greets with caching_sha2: the client's first answer is
         * the fast reply. */
        t = srv_start(&s, &f->users, CAUTH_PLUGIN_SHA2);
        m = client(NULL);
        if (!mysql_real_connect(m, HOST, "sha", "shapw", "db", s.port, NULL, 0))
            fail_msg("connect: %u %s", mysql_errno(m), mysql_error(m));
        assert_int_equal(mysql_query(m, "select 1"), 0);
        mysql_close(m);
        srv_join(&s, t);
        assert_int_equal(s.login, CAUTH_OK);
        assert_true(s.fast_auth);
        assert_string_equal(s.database, "db");

        /* The proxy greets with caching_sha2; wrong password. */
        t = srv_start(&s, &f->users, CAUTH_PLUGIN_SHA2);
        m = client(NULL);
        assert_null(mysql_real_connect(m, HOST, "sha", "nope", NULL, s.port, NULL, 0));
        assert_int_equal(mysql_errno(m), 1045);
        assert_string_equal(mysql_error(m),
                            "Access denied for user 'sha'@'127.0.0.1' (using password: YES)");
        mysql_close(m);
        srv_join(&s, t);

        /* caching_sha2 greeting, user with only a native hash: AuthSwitch. */
        t = srv_start(&s, &f->users, CAUTH_PLUGIN_SHA2);
        m = client(NULL);
        if (!mysql_real_connect(m, HOST, "hashed", "apppw", NULL, s.port, NULL, 0))
            fail_msg("connect: %u %s", mysql_errno(m), mysql_error(m));
        mysql_close(m);
        srv_join(&s, t);
        assert_int_equal(s.login, CAUTH_OK);
        assert_false(s.fast_auth);

        /* A client that insists on native against a caching_sha2 greeting
         * sends no data first; the proxy switches it to native. */
        t = srv_start(&s, &f->users, CAUTH_PLUGIN_SHA2);
        m = client(CAUTH_PLUGIN_NATIVE);
        if (!mysql_real_connect(m, HOST, "app", "apppw", NULL, s.port, NULL, 0))
            fail_msg("connect: %u %s", mysql_errno(m), mysql_error(m));
        mysql_close(m);
        srv_join(&s, t);
        assert_int_equal(s.login, CAUTH_OK);
        assert_false(s.fast_auth);
    }
    if (have_client_plugin("client_ed25519.so")) {
        /* Another plugin: the proxy switches the client to native. */
        t = srv_start(&s, &f->users, CAUTH_PLUGIN_NATIVE);
        m = client("client_ed25519");
        if (!mysql_real_connect(m, HOST, "app", "apppw", NULL, s.port, NULL, 0))
            fail_msg("connect: %u %s", mysql_errno(m), mysql_error(m));
        mysql_close(m);
        srv_join(&s, t);
        assert_int_equal(s.login, CAUTH_OK);
    }
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (mysql_library_init(0, NULL, NULL) != 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_greeting_equals_mariadb, setup, teardown),
        cmocka_unit_test_setup_teardown(test_greeting_sha2_hand_vector, setup, teardown),
        cmocka_unit_test_setup_teardown(test_random_nonce, setup, teardown),
        cmocka_unit_test_setup_teardown(test_greeting_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_native_login_capture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_native_wrong_password, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hash_user_and_empty_passwords, setup, teardown),
        cmocka_unit_test_setup_teardown(test_client_without_plugin_auth, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sha2_fast_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sha2_hash_user_switches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sha2_empty_data_switches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_switch_other_plugin_capture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ssl_request_is_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_names_too_long, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_responses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_small_output_buffer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_user_capture, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_user_denied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_change_user_bad, setup, teardown),
        cmocka_unit_test(test_users_build),
        cmocka_unit_test_setup_teardown(test_mutated_inputs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_libmariadb_native, setup, teardown),
        cmocka_unit_test_setup_teardown(test_libmariadb_sha2_and_switch, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    mysql_library_end();
    return rc;
}
