/*
 * backend_auth.c - the proxy logs in to a backend as an ordinary client
 * would: HandshakeV10 in, HandshakeResponse41 out, then whatever the server's
 * auth plugin asks for, until OK or ERR. The picture and the contract are in
 * backend_auth.h; wire facts in shared/PROTOCOL.md 1.1-1.6.
 *
 *   GREETING ──HandshakeV10──▶ AUTH ──OK──▶ FINISHED (BAUTH_OK)
 *      │ ERR ─▶ FINISHED          │ ERR ──▶ FINISHED (BAUTH_DENIED)
 *                                 │ AuthSwitch (native | caching_sha2) ─▶ AUTH
 *                                 │ caching_sha2 01 03 ─▶ SHA2_FAST ─OK/ERR─▶ FINISHED
 *                                 └ caching_sha2 01 04 ─▶ SHA2_KEY (sent 0x02)
 *                                     PEM ─▶ SHA2_FULL (sent RSA) ─OK/ERR─▶ FINISHED
 *
 * Anything else fails closed (BAUTH_FAILED with a reason). Every packet the
 * proxy sends is framed here with the sequence id that follows the server's,
 * and every server packet must carry the id that follows the proxy's last.
 *
 * The full caching_sha2 exchange sends 0x02 (request the key) and encrypts
 * under the key the server returns: the backend leg is plain TCP, never TLS
 * or a Unix socket, where the server would expect the password in clear.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "backend_auth.h"
#include "gtidproxy/proto_frame.h"

#define PLUGIN_NATIVE "mysql_native_password"
#define PLUGIN_SHA2   "caching_sha2_password"

/* MariaDB may chain plugins (IDENTIFIED VIA a OR b): a failed attempt is
 * followed by a switch to the next one. A handful is plenty; more is a
 * server that loops. */
#define MAX_SWITCHES 4

#define BAUTH_STATE_LIST(X)                                                                        \
    X(ST_GREETING, "GREETING")   /* waiting for HandshakeV10 */                                    \
    X(ST_AUTH, "AUTH")           /* sent auth data for a->plugin */                                \
    X(ST_SHA2_FAST, "SHA2_FAST") /* caching_sha2 fast auth succeeded: OK next */                   \
    X(ST_SHA2_KEY, "SHA2_KEY")   /* asked for the RSA public key */                                \
    X(ST_SHA2_FULL, "SHA2_FULL") /* sent the RSA-encrypted password */                             \
    X(ST_FINISHED, "FINISHED")   /* a result other than SEND/WAIT was returned */

enum bauth_state {
#define BAUTH_STATE_ENUM(name, text) name,
    BAUTH_STATE_LIST(BAUTH_STATE_ENUM)
#undef BAUTH_STATE_ENUM
};

static const char *state_name(int s)
{
    switch (s) {
#define BAUTH_STATE_CASE(name, text)                                                               \
    case name:                                                                                     \
        return text;
        BAUTH_STATE_LIST(BAUTH_STATE_CASE)
#undef BAUTH_STATE_CASE
    }
    return "?";
}

const char *bauth_result_name(enum bauth_result r)
{
    switch (r) {
#define BAUTH_RESULT_CASE(name, text)                                                              \
    case name:                                                                                     \
        return text;
        BAUTH_RESULT_LIST(BAUTH_RESULT_CASE)
#undef BAUTH_RESULT_CASE
    }
    return "?";
}

void bauth_init(struct bauth *a, const struct bauth_params *prm)
{
    memset(a, 0, sizeof *a);
    a->prm = *prm;
    a->state = ST_GREETING;
    a->next_seq = 0;
}

/* ---- results ---- */

/* Copies at most cap-1 bytes of s into out, NUL-terminated; bytes that are
 * not printable ASCII become '?', so server text is safe in a log line. */
static void copy_printable(char *out, size_t cap, const uint8_t *s, size_t n)
{
    size_t i;
    for (i = 0; i < n && i + 1 < cap; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7F) ? (char)s[i] : '?';
    out[i] = '\0';
}

static enum bauth_result fail(struct bauth *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static enum bauth_result fail(struct bauth *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->why, sizeof a->why, fmt, ap);
    va_end(ap);
    a->state = ST_FINISHED;
    return BAUTH_FAILED;
}

/* The server said no: keep its words (raw, bounded) for the client and a
 * sanitized line for logs. */
static enum bauth_result denied(struct bauth *a, uint16_t code, struct proto_str sqlstate,
                                struct proto_str msg)
{
    char text[128];
    size_t n = msg.len < PROTO_ERR_MSG_MAX ? msg.len : PROTO_ERR_MSG_MAX;

    a->err_code = code;
    memset(a->err_sqlstate, 0, sizeof a->err_sqlstate);
    if (sqlstate.len == 5)
        memcpy(a->err_sqlstate, sqlstate.p, 5);
    if (n)
        memcpy(a->err_message, msg.p, n);
    a->err_message[n] = '\0';
    copy_printable(text, sizeof text, msg.p, msg.len);
    snprintf(a->why, sizeof a->why, "server denied login: ERR %u%s%s%s: %s", code,
             a->err_sqlstate[0] ? " (" : "", a->err_sqlstate, a->err_sqlstate[0] ? ")" : "", text);
    a->state = ST_FINISHED;
    return BAUTH_DENIED;
}

/* ---- output ---- */

/* Writes one framed packet whose payload `build` produces in place (no
 * copy: the payload goes right after a reserved 4-byte header). On any
 * error w is left exactly as it was. */
typedef int (*build_fn)(struct bauth *a, struct proto_wr *sub, const void *ctx);

static int emit(struct bauth *a, struct proto_wr *w, uint8_t seq, build_fn build, const void *ctx)
{
    struct proto_wr sub;
    if (w->err != PROTO_OK)
        return w->err;
    if (w->cap - w->len < PROTO_FRAME_HDR_LEN)
        return PROTO_ENOSPACE;
    proto_wr_init(&sub, w->p + w->len + PROTO_FRAME_HDR_LEN, w->cap - w->len - PROTO_FRAME_HDR_LEN);
    int rc = build(a, &sub, ctx);
    if (rc == PROTO_OK)
        rc = proto_wr_finish(&sub);
    if (rc != PROTO_OK)
        return rc;
    /* Login packets are far below 16 MiB: one chunk. */
    if (sub.len >= PROTO_MAX_PAYLOAD)
        return PROTO_ETOOBIG;
    proto_frame_write_hdr(w, (uint32_t)sub.len, seq);
    w->len += sub.len;
    return PROTO_OK;
}

static enum bauth_result emit_failed(struct bauth *a, int rc, const char *what)
{
    if (rc == PROTO_ENOSPACE)
        return fail(a, "output buffer too small for the %s", what);
    return fail(a, "cannot encode the %s: %s", what, proto_status_str(rc));
}

/* The auth data a plugin sends first, from the current nonce. Returns its
 * length, or a negative PROTO_E* code. */
static int plugin_reply(const struct bauth *a, uint8_t out[AUTH_SHA2_LEN])
{
    const char *pw = a->prm.password ? a->prm.password : "";
    if (strcmp(a->plugin, PLUGIN_NATIVE) == 0)
        return auth_native_reply(a->nonce, pw, strlen(pw), out);
    if (strcmp(a->plugin, PLUGIN_SHA2) == 0)
        return auth_sha2_reply(a->nonce, pw, strlen(pw), out);
    return 0; /* "other": an empty answer, an AuthSwitch is expected */
}

/* Raw bytes as the whole payload (AuthSwitchResponse, 0x02, RSA block). */
struct raw {
    const uint8_t *p;
    size_t n;
};

static int build_raw(struct bauth *a, struct proto_wr *sub, const void *ctx)
{
    (void)a;
    const struct raw *r = ctx;
    proto_wr_bytes(sub, r->p, r->n);
    return PROTO_OK;
}

static int build_rsa(struct bauth *a, struct proto_wr *sub, const void *ctx)
{
    const struct proto_str *pem = ctx;
    const char *pw = a->prm.password ? a->prm.password : "";
    size_t out_len = 0;
    int rc = auth_sha2_rsa_encrypt((const char *)pem->p, pem->len, a->nonce, pw, strlen(pw), sub->p,
                                   sub->cap, &out_len);
    if (rc == PROTO_OK)
        sub->len = out_len;
    return rc;
}

/* ---- capabilities ---- */

/* What the proxy asks a backend for (backend_auth.h, PROTOCOL.md 1.2/6.2):
 * the client's flags, so forwarded replies keep the layout the client
 * negotiated, plus what login and GTID tracking need, all masked by what
 * the server offers. Never TLS or compression: the proxy reads every
 * packet in the clear. Bit 0 mirrors the client: MariaDB's extended caps
 * travel only when it is clear. */
static uint64_t caps_to_send(const struct bauth_params *prm, uint64_t server_caps)
{
    const uint64_t own = PROTO_CAP(CLIENT_SSL) | PROTO_CAP(CLIENT_COMPRESS) |
                         PROTO_CAP(CLIENT_ZSTD_COMPRESSION_ALGORITHM) |
                         PROTO_CAP(CLIENT_CONNECT_WITH_DB) | PROTO_CAP(CLIENT_CONNECT_ATTRS) |
                         PROTO_CAP(CLIENT_LONG_PASSWORD);
    uint64_t want = prm->client_caps & PROTO_CAPS_SUPPORTED_DEFAULT & ~own;
    want |= PROTO_CAP(CLIENT_SESSION_TRACK) | PROTO_CAP(CLIENT_PROTOCOL_41) |
            PROTO_CAP(CLIENT_SECURE_CONNECTION) | PROTO_CAP(CLIENT_PLUGIN_AUTH) |
            PROTO_CAP(CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA);
    if (prm->database && prm->database[0])
        want |= PROTO_CAP(CLIENT_CONNECT_WITH_DB);
    if (prm->attrs)
        want |= PROTO_CAP(CLIENT_CONNECT_ATTRS);

    uint64_t sent = want & server_caps;
    if (prm->client_caps & PROTO_CAP(CLIENT_LONG_PASSWORD))
        sent = (sent & UINT64_C(0xFFFFFFFF)) | PROTO_CAP(CLIENT_LONG_PASSWORD);
    return sent;
}

/* ---- the greeting ---- */

struct response_ctx {
    uint64_t caps;
    struct proto_str auth;
};

static struct proto_str cstr(const char *s)
{
    return (struct proto_str){(const uint8_t *)(s ? s : ""), s ? strlen(s) : 0};
}

static int build_response(struct bauth *a, struct proto_wr *sub, const void *ctx)
{
    const struct response_ctx *c = ctx;
    struct proto_handshake_response r;
    memset(&r, 0, sizeof r);
    r.caps = c->caps;
    r.max_packet = a->prm.max_packet;
    r.charset = a->prm.charset;
    r.user = cstr(a->prm.user);
    r.auth = c->auth;
    r.database = cstr(a->prm.database);
    r.plugin = cstr(a->plugin);
    if (a->prm.attrs)
        r.attrs = (struct proto_str){a->prm.attrs, a->prm.attrs_len};
    return proto_handshake_response_build(sub, &r);
}

static void record_server(struct bauth_server *s, const struct proto_handshake_v10 *hs)
{
    size_t n = hs->server_version.len < BAUTH_VERSION_MAX - 1 ? hs->server_version.len
                                                              : BAUTH_VERSION_MAX - 1;
    memcpy(s->version, hs->server_version.p, n);
    s->version[n] = '\0';
    size_t skip = (size_t)(hs->real_version.p - hs->server_version.p);
    s->real_version_off = (uint8_t)(skip <= n ? skip : n);
    s->mariadb = strstr(s->version, "MariaDB") != NULL;
    s->thread_id = hs->thread_id;
    s->caps = hs->caps;
    s->charset = hs->charset;
    s->status = hs->status;
    n = hs->auth_plugin.len < BAUTH_PLUGIN_MAX - 1 ? hs->auth_plugin.len : BAUTH_PLUGIN_MAX - 1;
    memcpy(s->plugin, hs->auth_plugin.p, n);
    s->plugin[n] = '\0';
}

static enum bauth_result on_greeting(struct bauth *a, uint8_t seq, const uint8_t *p, size_t n,
                                     struct proto_wr *w)
{
    struct proto_handshake_v10 hs;
    int rc = proto_handshake_v10_parse(p, n, &hs);
    if (rc == PROTO_EHANDSHAKE_ERR)
        return denied(a, hs.err.code, hs.err.sqlstate, hs.err.message);
    if (rc != PROTO_OK)
        return fail(a, "bad server greeting: %s", proto_status_str(rc));
    if ((hs.caps & PROTO_CAPS_REQUIRED) != PROTO_CAPS_REQUIRED)
        return fail(a, "server lacks CLIENT_PLUGIN_AUTH (caps 0x%llx)",
                    (unsigned long long)hs.caps);
    record_server(&a->server, &hs);

    /* The default plugin picks the first answer; any plugin the proxy does
     * not speak gets an empty native answer and, from a server whose
     * account uses another plugin, an AuthSwitch. */
    bool known =
        proto_str_eq(hs.auth_plugin, PLUGIN_NATIVE) || proto_str_eq(hs.auth_plugin, PLUGIN_SHA2);
    snprintf(a->plugin, sizeof a->plugin, "%s",
             proto_str_eq(hs.auth_plugin, PLUGIN_SHA2) ? PLUGIN_SHA2 : PLUGIN_NATIVE);
    if (known && hs.scramble_len != AUTH_NONCE_LEN)
        return fail(a, "%s greeting with a %u-byte nonce (want %d)", a->plugin,
                    (unsigned)hs.scramble_len, AUTH_NONCE_LEN);
    memcpy(a->nonce, hs.scramble, hs.scramble_len);
    a->nonce_len = hs.scramble_len;

    uint8_t reply[AUTH_SHA2_LEN];
    rc = known ? plugin_reply(a, reply) : 0;
    if (rc < 0)
        return fail(a, "%s: cannot compute the reply: %s", a->plugin, proto_status_str(rc));

    struct response_ctx ctx = {caps_to_send(&a->prm, hs.caps), {reply, (size_t)rc}};
    if ((rc = emit(a, w, (uint8_t)(seq + 1), build_response, &ctx)) != PROTO_OK)
        return emit_failed(a, rc, "handshake response");
    a->caps = proto_caps_effective(ctx.caps, hs.caps);
    a->state = ST_AUTH;
    a->next_seq = (uint8_t)(seq + 2);
    return BAUTH_SEND;
}

/* ---- the auth exchange ---- */

static enum bauth_result on_ok(struct bauth *a, const uint8_t *p, size_t n)
{
    struct proto_ok ok;
    int rc = proto_ok_parse(p, n, a->caps, &ok);
    if (rc != PROTO_OK)
        return fail(a, "bad OK packet ending the login: %s", proto_status_str(rc));
    a->state = ST_FINISHED;
    return BAUTH_OK;
}

static enum bauth_result on_err(struct bauth *a, const uint8_t *p, size_t n)
{
    struct proto_err err;
    int rc = proto_err_parse(p, n, a->caps, &err);
    if (rc != PROTO_OK)
        return fail(a, "bad ERR packet during login: %s", proto_status_str(rc));
    return denied(a, err.code, err.sqlstate, err.message);
}

static enum bauth_result on_switch(struct bauth *a, uint8_t seq, const uint8_t *p, size_t n,
                                   struct proto_wr *w)
{
    struct proto_auth_switch sw;
    char name[BAUTH_PLUGIN_MAX];
    int rc = proto_auth_switch_parse(p, n, &sw);
    if (rc != PROTO_OK)
        return fail(a, "bad AuthSwitchRequest: %s", proto_status_str(rc));
    if (sw.is_old)
        return fail(a, "server asked for mysql_old_password (OldAuthSwitchRequest), "
                       "which the proxy does not speak");
    copy_printable(name, sizeof name, sw.plugin.p, sw.plugin.len);
    if (!proto_str_eq(sw.plugin, PLUGIN_NATIVE) && !proto_str_eq(sw.plugin, PLUGIN_SHA2))
        return fail(a,
                    "server asked for auth plugin '%s', which the proxy cannot answer "
                    "(backend accounts must use %s or %s)",
                    name, PLUGIN_NATIVE, PLUGIN_SHA2);
    if (++a->switches > MAX_SWITCHES)
        return fail(a, "server switched auth plugins more than %d times", MAX_SWITCHES);
    /* Both plugins send exactly nonce + NUL (MY:auth, PROTOCOL.md 1.4);
     * clients reject anything else, and so do we: a missing NUL means a
     * cut packet. */
    if (sw.data.len != AUTH_NONCE_LEN + 1 || sw.data.p[AUTH_NONCE_LEN] != 0)
        return fail(a,
                    "AuthSwitchRequest to %s with %zu bytes of plugin data (want a %d-byte "
                    "nonce + NUL)",
                    name, sw.data.len, AUTH_NONCE_LEN);

    snprintf(a->plugin, sizeof a->plugin, "%s", name);
    memcpy(a->nonce, sw.scramble.p, AUTH_NONCE_LEN);
    a->nonce_len = AUTH_NONCE_LEN;
    uint8_t reply[AUTH_SHA2_LEN];
    if ((rc = plugin_reply(a, reply)) < 0)
        return fail(a, "%s: cannot compute the reply: %s", a->plugin, proto_status_str(rc));
    struct raw raw = {reply, (size_t)rc};
    if ((rc = emit(a, w, (uint8_t)(seq + 1), build_raw, &raw)) != PROTO_OK)
        return emit_failed(a, rc, "auth switch response");
    a->state = ST_AUTH;
    a->next_seq = (uint8_t)(seq + 2);
    return BAUTH_SEND;
}

/* caching_sha2_password's status byte after the fast-auth scramble
 * (MY:sha2 page_caching_sha2_authentication_exchanges). */
static enum bauth_result on_sha2_status(struct bauth *a, uint8_t seq, struct proto_str data,
                                        struct proto_wr *w)
{
    if (data.len == 1 && data.p[0] == AUTH_SHA2_FAST_AUTH_OK) {
        a->state = ST_SHA2_FAST;
        a->next_seq = (uint8_t)(seq + 1);
        return BAUTH_WAIT;
    }
    if (data.len == 1 && data.p[0] == AUTH_SHA2_PERFORM_FULL_AUTH) {
        static const uint8_t want_key = AUTH_SHA2_REQUEST_PUBLIC_KEY;
        struct raw raw = {&want_key, 1};
        int rc = emit(a, w, (uint8_t)(seq + 1), build_raw, &raw);
        if (rc != PROTO_OK)
            return emit_failed(a, rc, "public key request");
        a->state = ST_SHA2_KEY;
        a->next_seq = (uint8_t)(seq + 2);
        return BAUTH_SEND;
    }
    return fail(a, "unexpected caching_sha2_password AuthMoreData (%zu bytes, first 0x%02x)",
                data.len, data.len ? data.p[0] : 0);
}

static enum bauth_result on_public_key(struct bauth *a, uint8_t seq, struct proto_str pem,
                                       struct proto_wr *w)
{
    int rc = emit(a, w, (uint8_t)(seq + 1), build_rsa, &pem);
    switch (rc) {
    case PROTO_OK:
        a->state = ST_SHA2_FULL;
        a->next_seq = (uint8_t)(seq + 2);
        return BAUTH_SEND;
    case PROTO_EBAD:
        return fail(a, "server's public key (%zu bytes) is not an RSA PEM key", pem.len);
    case PROTO_ETOOBIG:
        return fail(a, "password too long for the server's RSA key");
    case PROTO_ENOSPACE:
        return fail(a, "output buffer too small for the RSA-encrypted password");
    default:
        return fail(a, "RSA encryption of the password failed: %s", proto_status_str(rc));
    }
}

enum bauth_result bauth_feed(struct bauth *a, uint8_t seq, const uint8_t *p, size_t n,
                             struct proto_wr *w)
{
    if (a->state == ST_FINISHED)
        return BAUTH_FAILED; /* why still says how it ended */
    if (seq != a->next_seq)
        return fail(a, "server packet has sequence id %u, expected %u (state %s)", seq, a->next_seq,
                    state_name(a->state));
    if (a->state == ST_GREETING)
        return on_greeting(a, seq, p, n, w);
    if (n == 0)
        return fail(a, "empty server packet (state %s)", state_name(a->state));

    uint8_t hdr = p[0];
    if (hdr == PROTO_OK_HEADER)
        return on_ok(a, p, n);
    if (hdr == PROTO_ERR_HEADER)
        return on_err(a, p, n);
    if (a->state == ST_AUTH && hdr == PROTO_EOF_HEADER)
        return on_switch(a, seq, p, n, w);
    if (hdr == PROTO_AUTH_MORE_HEADER && strcmp(a->plugin, PLUGIN_SHA2) == 0 &&
        (a->state == ST_AUTH || a->state == ST_SHA2_KEY)) {
        struct proto_str data;
        if (proto_auth_more_data_parse(p, n, &data) != PROTO_OK)
            return fail(a, "bad AuthMoreData");
        return a->state == ST_AUTH ? on_sha2_status(a, seq, data, w)
                                   : on_public_key(a, seq, data, w);
    }
    return fail(a, "unexpected server packet 0x%02x (%zu bytes) during login, plugin %s, state %s",
                hdr, n, a->plugin, state_name(a->state));
}
