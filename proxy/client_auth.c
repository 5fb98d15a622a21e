/*
 * client_auth.c - the client leg of login: the proxy's HandshakeV10, the
 * check of a client's credentials against the configured proxy users
 * (mysql_native_password; caching_sha2_password's fast path), AuthSwitch to
 * native for everything else, and COM_CHANGE_USER. Contracts: client_auth.h.
 *
 *            cauth_start ─▶ WAIT_RESPONSE ──response──▶ decide(plugin)
 *                                 │                        │ native / no PLUGIN_AUTH: verify
 *                                 │                        │ sha2 + digest: verify, 01 03 + OK
 *                                 │                        │ other: AuthSwitch ─▶ WAIT_SWITCH
 *                                 │                        │ (sha2, no data: to sha2) │
 *   DONE ◀── OK ──────────────────┴────────────────────────┘        │ verify native | sha2
 *    │  ▲                                                           ▼
 *    │  └── OK ◀── verify native ◀── WAIT_CU_SWITCH             DONE | FAILED
 *    └── cauth_change_user ── AuthSwitch ──┘
 *
 * Pure logic: packets in, framed packets out, no I/O. Everything the session
 * keeps is copied into struct cauth_login; nothing points into the input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "client_auth.h"
#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_handshake.h"
#include "gtidproxy/proto_reply.h"

/* Server error codes the proxy answers with (MY/MDB include/mysqld_error.h). */
#define ER_ACCESS_DENIED_ERROR 1045 /* SQLSTATE 28000 */
#define ER_HANDSHAKE_ERROR     1043 /* SQLSTATE 08S01 */

/* server_version bound: keeps the greeting inside CAUTH_OUT_MIN. */
#define CAUTH_VERSION_MAX 256

/* A payload built before it is framed: the largest is the greeting
 * (328 bytes, see CAUTH_OUT_MIN) or an ERR (9 + PROTO_ERR_MSG_MAX). */
#define PAYLOAD_MAX 640

const char *cauth_result_name(enum cauth_result r)
{
    switch (r) {
#define CAUTH_RESULT_CASE(name, text)                                                              \
    case name:                                                                                     \
        return text;
        CAUTH_RESULT_LIST(CAUTH_RESULT_CASE)
#undef CAUTH_RESULT_CASE
    }
    return "unknown";
}

const char *cauth_state_name(int state)
{
    switch (state) {
#define CAUTH_STATE_CASE(name, text)                                                               \
    case name:                                                                                     \
        return text;
        CAUTH_STATE_LIST(CAUTH_STATE_CASE)
#undef CAUTH_STATE_CASE
    }
    return "UNKNOWN";
}

/* The one place the state changes; an edge not in the diagram is a bug in
 * this file, so it aborts rather than carrying on in an unknown state. */
static void set_state(struct cauth *a, enum cauth_state to)
{
    bool ok;
    switch (to) {
    case CAUTH_ST_WAIT_RESPONSE:
        ok = a->state == CAUTH_ST_NEW;
        break;
    case CAUTH_ST_WAIT_SWITCH:
        ok = a->state == CAUTH_ST_WAIT_RESPONSE;
        break;
    case CAUTH_ST_WAIT_CU_SWITCH:
        ok = a->state == CAUTH_ST_DONE;
        break;
    case CAUTH_ST_DONE:
        ok = a->state == CAUTH_ST_WAIT_RESPONSE || a->state == CAUTH_ST_WAIT_SWITCH ||
             a->state == CAUTH_ST_WAIT_CU_SWITCH;
        break;
    case CAUTH_ST_FAILED:
        ok = true;
        break;
    case CAUTH_ST_NEW:
    default:
        ok = false;
        break;
    }
    if (!ok) {
        fprintf(stderr, "client_auth: impossible state change %s -> %s\n",
                cauth_state_name(a->state), cauth_state_name(to));
        abort();
    }
    a->state = to;
}

/* ---- users ---- */

void cauth_users_free(struct cauth_users *u)
{
    if (!u)
        return;
    for (size_t i = 0; i < u->n; i++) {
        free(u->v[i].name);
        /* The derived secrets are password equivalents for native login. */
        memset(&u->v[i], 0, sizeof u->v[i]);
    }
    free(u->v);
    u->v = NULL;
    u->n = 0;
}

int cauth_users_build(const struct config *cfg, struct cauth_users *out, char *err, size_t errlen)
{
    out->v = NULL;
    out->n = 0;
    if (cfg->n_users == 0)
        return 0;
    out->v = calloc(cfg->n_users, sizeof *out->v);
    if (!out->v) {
        snprintf(err, errlen, "users: out of memory");
        return -1;
    }
    for (size_t i = 0; i < cfg->n_users; i++) {
        const struct config_user *cu = &cfg->users[i];
        struct cauth_user *u = &out->v[i];
        out->n = i + 1;
        u->name = strdup(cu->name ? cu->name : "");
        if (!u->name) {
            snprintf(err, errlen, "users[%zu].name: out of memory", i);
            goto fail;
        }
        if (cu->password && cu->password[0] == '\0') {
            u->no_password = true;
        } else if (cu->password) {
            size_t len = strlen(cu->password);
            if (auth_native_stage2(cu->password, len, u->stage2) != AUTH_NATIVE_LEN ||
                auth_sha2_digest2(cu->password, len, u->sha2) != AUTH_SHA2_LEN) {
                snprintf(err, errlen, "users[%zu].password: cannot hash (libcrypto failed)", i);
                goto fail;
            }
            u->has_sha2 = true;
        } else if (cu->password_hash) {
            if (auth_native_parse_hash(cu->password_hash, strlen(cu->password_hash), u->stage2) !=
                PROTO_OK) {
                snprintf(err, errlen,
                         "users[%zu].password_hash: not a mysql_native_password hash "
                         "(\"*\" and 40 hex digits)",
                         i);
                goto fail;
            }
        } else {
            snprintf(err, errlen, "users[%zu]: needs \"password\" or \"password_hash\"", i);
            goto fail;
        }
    }
    return 0;
fail:
    cauth_users_free(out);
    return -1;
}

/* Linear: user tables are short, and this runs once per login. */
static const struct cauth_user *find_user(const struct cauth_users *users, const char *name)
{
    if (!users)
        return NULL;
    for (size_t i = 0; i < users->n; i++)
        if (strcmp(users->v[i].name, name) == 0)
            return &users->v[i];
    return NULL;
}

/* ---- nonce ---- */

static bool test_nonce_set;
static uint8_t test_nonce[AUTH_NONCE_LEN];

void cauth__set_nonce(const uint8_t nonce[AUTH_NONCE_LEN])
{
    test_nonce_set = nonce != NULL;
    if (nonce)
        memcpy(test_nonce, nonce, AUTH_NONCE_LEN);
}

/* Servers map random bytes into 1..127 minus '$' (MY:auth
 * generate_user_salt: b & 127, then 0 and '$' move up by one) so the nonce
 * is a valid NUL-terminated string and never starts a "$A$" hash. */
static int draw_nonce(uint8_t out[AUTH_NONCE_LEN])
{
    if (test_nonce_set) {
        memcpy(out, test_nonce, AUTH_NONCE_LEN);
        return PROTO_OK;
    }
    if (RAND_bytes(out, AUTH_NONCE_LEN) != 1)
        return PROTO_EUNSUPPORTED;
    for (size_t i = 0; i < AUTH_NONCE_LEN; i++) {
        out[i] &= 0x7F;
        if (out[i] == 0 || out[i] == '$')
            out[i]++;
    }
    return PROTO_OK;
}

/* ---- output ---- */

/* Frames a payload into w only when the whole packet fits, so w never ends
 * in half a packet. */
static bool emit(struct proto_wr *w, const uint8_t *payload, size_t n, uint8_t *seq)
{
    if (w->err != PROTO_OK || w->cap - w->len < PROTO_FRAME_HDR_LEN + n) {
        if (w->err == PROTO_OK)
            w->err = PROTO_ENOSPACE;
        return false;
    }
    proto_frame_write_packet(w, payload, n, seq);
    return w->err == PROTO_OK;
}

/* Copies a view into a C string for the log: printable ASCII kept, other
 * bytes shown as '?', cut at cap - 1. */
static void sanitize(char *dst, size_t cap, const uint8_t *p, size_t n)
{
    size_t j = 0;
    for (size_t i = 0; i < n && j + 1 < cap; i++)
        dst[j++] = (p[i] >= 0x20 && p[i] < 0x7F) ? (char)p[i] : '?';
    dst[j] = '\0';
}

__attribute__((format(printf, 2, 3))) static void set_why(struct cauth *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->why, sizeof a->why, fmt, ap);
    va_end(ap);
}

/* ERRs use the login's caps once the client's are known; before that every
 * client the proxy can talk to speaks PROTOCOL_41 (the parser refuses
 * others), so the SQLSTATE marker is what it expects. */
static uint64_t err_caps(const struct cauth *a)
{
    return a->login.caps ? a->login.caps : PROTO_CAP(CLIENT_PROTOCOL_41);
}

static enum cauth_result write_err(struct cauth *a, uint8_t seq, struct proto_wr *w, uint16_t code,
                                   const char *sqlstate, const char *msg, enum cauth_result r)
{
    uint8_t buf[PAYLOAD_MAX];
    struct proto_wr pw;
    proto_wr_init(&pw, buf, sizeof buf);
    if (proto_err_build(&pw, err_caps(a), code, sqlstate, msg, strlen(msg)) == PROTO_OK) {
        uint8_t s = (uint8_t)(seq + 1);
        (void)emit(w, buf, pw.len, &s);
    }
    set_state(a, CAUTH_ST_FAILED);
    return r;
}

/* Malformed or unsupported: 1043, as servers answer a packet they cannot
 * read during the handshake. why was set by the caller. */
static enum cauth_result bad(struct cauth *a, uint8_t seq, struct proto_wr *w)
{
    return write_err(a, seq, w, ER_HANDSHAKE_ERROR, "08S01", "Bad handshake", CAUTH_BAD);
}

/* 1045 with the server's exact text; name is the user the client asked for. */
static enum cauth_result deny(struct cauth *a, uint8_t seq, struct proto_wr *w, const char *name)
{
    char msg[PROTO_ERR_MSG_MAX + 1];
    snprintf(msg, sizeof msg, "Access denied for user '%s'@'%s' (using password: %s)", name,
             a->client_host, a->used_password ? "YES" : "NO");
    return write_err(a, seq, w, ER_ACCESS_DENIED_ERROR, "28000", msg, CAUTH_DENIED);
}

static bool write_ok(const struct cauth *a, struct proto_wr *w, uint8_t *seq)
{
    uint8_t buf[32];
    struct proto_wr pw;
    struct proto_ok ok = {.header = PROTO_OK_HEADER, .status = PROTO_SERVER_STATUS_AUTOCOMMIT};
    proto_wr_init(&pw, buf, sizeof buf);
    return proto_ok_build(&pw, a->login.caps, &ok) == PROTO_OK && emit(w, buf, pw.len, seq);
}

/* AuthSwitchRequest to the plugin a->sha2_switch names, with a->nonce + NUL
 * as servers send it (fixtures/handshake/auth_switch_native.hex). */
static bool write_switch(const struct cauth *a, struct proto_wr *w, uint8_t *seq)
{
    const char *name = a->sha2_switch ? CAUTH_PLUGIN_SHA2 : CAUTH_PLUGIN_NATIVE;
    uint8_t data[AUTH_NONCE_LEN + 1];
    uint8_t buf[64];
    struct proto_wr pw;
    memcpy(data, a->nonce, AUTH_NONCE_LEN);
    data[AUTH_NONCE_LEN] = 0;
    proto_wr_init(&pw, buf, sizeof buf);
    struct proto_str plugin = {(const uint8_t *)name, strlen(name)};
    return proto_auth_switch_build(&pw, plugin, (struct proto_str){data, sizeof data}) ==
               PROTO_OK &&
           emit(w, buf, pw.len, seq);
}

/* The caller's w cannot take the answer: BAD (finish_call() then drops
 * whatever part of the answer was written). */
static enum cauth_result no_room(struct cauth *a)
{
    set_why(a, "output buffer too small");
    set_state(a, CAUTH_ST_FAILED);
    return CAUTH_BAD;
}

/* Logged in (or changed user): OK with sequence id ok_seq. */
static enum cauth_result accept_login(struct cauth *a, uint8_t ok_seq, struct proto_wr *w)
{
    if (!write_ok(a, w, &ok_seq))
        return no_room(a);
    if (a->state == CAUTH_ST_WAIT_CU_SWITCH) {
        /* COM_CHANGE_USER verified: the pending login replaces the old one. */
        free(a->login.attrs);
        memcpy(a->login.user, a->pending.user, sizeof a->login.user);
        memcpy(a->login.database, a->pending.database, sizeof a->login.database);
        a->login.charset = a->pending.charset;
        a->login.attrs = a->pending.attrs;
        a->login.attrs_len = a->pending.attrs_len;
        a->pending.attrs = NULL;
        a->pending.attrs_len = 0;
    }
    set_state(a, CAUTH_ST_DONE);
    a->why[0] = '\0';
    return CAUTH_OK;
}

/* AuthMoreData 01 03 (fast auth succeeded), then the OK, in one output. */
static enum cauth_result accept_sha2_fast(struct cauth *a, uint8_t seq, struct proto_wr *w)
{
    uint8_t s = (uint8_t)(seq + 1);
    uint8_t more[2];
    uint8_t status = AUTH_SHA2_FAST_AUTH_OK;
    struct proto_wr pw;
    proto_wr_init(&pw, more, sizeof more);
    if (proto_auth_more_data_build(&pw, (struct proto_str){&status, 1}) != PROTO_OK ||
        !emit(w, more, pw.len, &s))
        return no_room(a);
    return accept_login(a, s, w);
}

/* Sends an AuthSwitchRequest (to caching_sha2_password when sha2, else to
 * mysql_native_password) and waits for the client's answer. */
static enum cauth_result switch_plugin(struct cauth *a, uint8_t seq, struct proto_wr *w,
                                       enum cauth_state next, bool sha2)
{
    a->sha2_switch = sha2;
    uint8_t s = (uint8_t)(seq + 1);
    if (!write_switch(a, w, &s))
        return no_room(a);
    set_state(a, next);
    a->next_seq = s; /* the client answers the switch with the following id */
    return CAUTH_SEND;
}

/* ---- checks ---- */

/* Zero bytes, or one NUL: what clients send for an empty password (MY:auth
 * native_password_authenticate and caching_sha2_password_authenticate test
 * both forms). */
static bool auth_is_empty(struct proto_str auth)
{
    return auth.len == 0 || (auth.len == 1 && auth.p[0] == 0);
}

/* mysql_native_password against the nonce a->nonce. */
static bool native_ok(const struct cauth *a, const struct cauth_user *u, struct proto_str auth)
{
    if (!u)
        return false;
    if (auth_is_empty(auth))
        return u->no_password;
    if (u->no_password)
        return false;
    return auth_native_verify(a->nonce, auth.p, auth.len, u->stage2);
}

/* Copies a name-like view into dst (cap bytes incl. the NUL). A view longer
 * than max, or holding a NUL, does not fit. */
static bool copy_name(char *dst, size_t cap, size_t max, struct proto_str s)
{
    if (s.len > max || s.len >= cap || (s.len && memchr(s.p, 0, s.len)))
        return false;
    if (s.len)
        memcpy(dst, s.p, s.len);
    dst[s.len] = '\0';
    return true;
}

/* Fills user, database and attrs of l from the client's views. On false,
 * why is set (BAD). */
static bool fill_login(struct cauth *a, struct cauth_login *l, struct proto_str user,
                       struct proto_str db, struct proto_str attrs)
{
    if (!copy_name(l->user, sizeof l->user, CAUTH_USER_MAX, user)) {
        set_why(a, "user name of %zu bytes (at most %d)", user.len, CAUTH_USER_MAX);
        return false;
    }
    if (!copy_name(l->database, sizeof l->database, CAUTH_DB_MAX, db)) {
        set_why(a, "database name of %zu bytes (at most %d)", db.len, CAUTH_DB_MAX);
        return false;
    }
    free(l->attrs);
    l->attrs = NULL;
    l->attrs_len = 0;
    if (attrs.len) {
        l->attrs = malloc(attrs.len);
        if (!l->attrs) {
            set_why(a, "out of memory copying %zu bytes of connection attributes", attrs.len);
            return false;
        }
        memcpy(l->attrs, attrs.p, attrs.len);
        l->attrs_len = attrs.len;
    }
    return true;
}

static void note_plugin(struct cauth *a, struct proto_str plugin)
{
    sanitize(a->plugin, sizeof a->plugin, plugin.p, plugin.len);
}

/* ---- the handshake ---- */

int cauth_start(struct cauth *a, const struct cauth_users *users, const struct cauth_greeting *g,
                struct proto_wr *w)
{
    memset(a, 0, sizeof *a);
    a->state = CAUTH_ST_NEW;
    a->users = users;
    a->advertised = g->caps;
    snprintf(a->client_host, sizeof a->client_host, "%s", g->client_host ? g->client_host : "");

    const char *version = g->server_version ? g->server_version : "";
    const char *plugin = g->plugin ? g->plugin : CAUTH_PLUGIN_NATIVE;
    if (strlen(version) > CAUTH_VERSION_MAX)
        return PROTO_EBAD;
    int rc = draw_nonce(a->nonce);
    if (rc != PROTO_OK)
        return rc;

    struct proto_handshake_v10 hs;
    memset(&hs, 0, sizeof hs);
    hs.server_version = (struct proto_str){(const uint8_t *)version, strlen(version)};
    hs.thread_id = g->thread_id;
    hs.caps = g->caps;
    hs.charset = g->charset;
    /* MariaDB and MySQL greet with the default session's status. */
    hs.status = PROTO_SERVER_STATUS_AUTOCOMMIT;
    hs.scramble_len = AUTH_NONCE_LEN;
    memcpy(hs.scramble, a->nonce, AUTH_NONCE_LEN);
    hs.auth_plugin = (struct proto_str){(const uint8_t *)plugin, strlen(plugin)};

    uint8_t buf[PAYLOAD_MAX];
    struct proto_wr pw;
    proto_wr_init(&pw, buf, sizeof buf);
    if ((rc = proto_handshake_v10_build(&pw, &hs)) != PROTO_OK)
        return rc;
    a->greeted_sha2 = strcmp(plugin, CAUTH_PLUGIN_SHA2) == 0;
    uint8_t seq = 0;
    if (!emit(w, buf, pw.len, &seq))
        return PROTO_ENOSPACE;
    set_state(a, CAUTH_ST_WAIT_RESPONSE);
    a->next_seq = seq;
    return 0;
}

/* The HandshakeResponse41: who, with what, and which plugin to verify. */
static enum cauth_result on_response(struct cauth *a, uint8_t seq, const uint8_t *p, size_t n,
                                     struct proto_wr *w)
{
    struct proto_handshake_response r;
    int rc = proto_handshake_response_parse(p, n, &r);
    if (rc != PROTO_OK) {
        set_why(a, "HandshakeResponse41: %s", proto_status_str(rc));
        return bad(a, seq, w);
    }
    if (r.is_ssl_request) {
        set_why(a, "SSLRequest, but TLS is not offered");
        return bad(a, seq, w);
    }
    if ((rc = proto_caps_check_client(r.caps, a->advertised)) != PROTO_OK) {
        set_why(a, "client capabilities 0x%llx refused: %s", (unsigned long long)r.caps,
                proto_status_str(rc));
        return bad(a, seq, w);
    }
    a->login.caps = proto_caps_effective(r.caps, a->advertised);
    a->login.max_packet = r.max_packet;
    a->login.charset = r.charset;
    if (!fill_login(a, &a->login, r.user, r.database, r.attrs))
        return bad(a, seq, w);

    a->user = find_user(a->users, a->login.user);
    a->used_password = !auth_is_empty(r.auth);
    note_plugin(a, r.plugin);
    char who[64];
    sanitize(who, sizeof who, r.user.p, r.user.len);

    /* A client without PLUGIN_AUTH cannot follow a switch: it answered the
     * greeting's nonce with mysql_native_password (MY:auth, old clients). */
    bool plugin_auth = (a->login.caps & PROTO_CAP(CLIENT_PLUGIN_AUTH)) != 0;
    bool native = !plugin_auth || proto_str_eq(r.plugin, CAUTH_PLUGIN_NATIVE);
    bool sha2 = plugin_auth && proto_str_eq(r.plugin, CAUTH_PLUGIN_SHA2);
    /* Empty data for a plugin the greeting did not name means "no data
     * yet", not "no password": libmariadb and libmysqlclient drop the
     * greeting's data when their plugin differs, send an empty response and
     * wait for a switch (CC my_auth.c run_plugin_auth). */
    bool no_data_yet = plugin_auth && auth_is_empty(r.auth) &&
                       ((native && a->greeted_sha2) || (sha2 && !a->greeted_sha2));
    bool no_password_user = a->user && a->user->no_password;
    if (no_data_yet && !no_password_user)
        return switch_plugin(a, seq, w, CAUTH_ST_WAIT_SWITCH, sha2 && a->user && a->user->has_sha2);
    if (native) {
        if (native_ok(a, a->user, r.auth))
            return accept_login(a, (uint8_t)(seq + 1), w);
        set_why(a, "%s user '%s' (mysql_native_password)",
                a->user ? "wrong password for" : "unknown", who);
        return deny(a, seq, w, a->login.user);
    }
    if (sha2) {
        const struct cauth_user *u = a->user;
        if (auth_is_empty(r.auth)) {
            if (no_password_user)
                return accept_login(a, (uint8_t)(seq + 1), w); /* no 01 03 first */
            set_why(a, "%s user '%s' (caching_sha2_password, no password)",
                    u ? "wrong password for" : "unknown", who);
            return deny(a, seq, w, a->login.user);
        }
        if (!u) {
            set_why(a, "unknown user '%s' (caching_sha2_password)", who);
            return deny(a, seq, w, a->login.user);
        }
        if (u->has_sha2) {
            if (auth_sha2_verify(a->nonce, r.auth.p, r.auth.len, u->sha2))
                return accept_sha2_fast(a, seq, w);
            set_why(a, "wrong password for user '%s' (caching_sha2_password)", who);
            return deny(a, seq, w, a->login.user);
        }
        if (u->no_password) {
            set_why(a, "password sent for password-less user '%s'", who);
            return deny(a, seq, w, a->login.user);
        }
        /* Only the native hash is known: ask for a native reply instead. */
        return switch_plugin(a, seq, w, CAUTH_ST_WAIT_SWITCH, false);
    }
    /* Any other plugin (client_ed25519, dialog, ...), known user or not. */
    return switch_plugin(a, seq, w, CAUTH_ST_WAIT_SWITCH, false);
}

/* The client's answer to our AuthSwitchRequest: mysql_native_password data,
 * or the caching_sha2 fast reply after a switch to caching_sha2. */
static enum cauth_result on_switch_response(struct cauth *a, uint8_t seq, const uint8_t *p,
                                            size_t n, struct proto_wr *w)
{
    struct proto_str auth = {p, n};
    bool cu = a->state == CAUTH_ST_WAIT_CU_SWITCH;
    const char *name = cu ? a->pending.user : a->login.user;
    a->used_password = !auth_is_empty(auth);
    if (a->sha2_switch) {
        /* Only ever sent for a has_sha2 user (a password is required). */
        if (a->user && a->user->has_sha2 && !auth_is_empty(auth) &&
            auth_sha2_verify(a->nonce, auth.p, auth.len, a->user->sha2))
            return accept_sha2_fast(a, seq, w);
    } else if (native_ok(a, a->user, auth)) {
        return accept_login(a, (uint8_t)(seq + 1), w);
    }
    char who[64];
    sanitize(who, sizeof who, (const uint8_t *)name, strlen(name));
    set_why(a, "%s user '%s' (%s after switch%s)", a->user ? "wrong password for" : "unknown", who,
            a->sha2_switch ? CAUTH_PLUGIN_SHA2 : CAUTH_PLUGIN_NATIVE,
            cu ? ", COM_CHANGE_USER" : "");
    return deny(a, seq, w, name);
}

/* With too little room in w the answer is not sent at all: the result
 * becomes BAD and w->len goes back to where the call found it, so the
 * caller never sends half an exchange (e.g. 01 03 without its OK). */
static enum cauth_result finish_call(struct cauth *a, struct proto_wr *w, size_t mark,
                                     enum cauth_result r)
{
    if (w->err == PROTO_OK)
        return r;
    w->len = mark;
    if (r != CAUTH_BAD || !a->why[0])
        set_why(a, "output buffer too small");
    if (a->state != CAUTH_ST_FAILED)
        set_state(a, CAUTH_ST_FAILED);
    return CAUTH_BAD;
}

static enum cauth_result feed(struct cauth *a, uint8_t seq, const uint8_t *p, size_t n,
                              struct proto_wr *w)
{
    if (a->state != CAUTH_ST_WAIT_RESPONSE && a->state != CAUTH_ST_WAIT_SWITCH &&
        a->state != CAUTH_ST_WAIT_CU_SWITCH) {
        set_why(a, "packet during login state %s", cauth_state_name(a->state));
        return bad(a, seq, w);
    }
    if (seq != a->next_seq) {
        set_why(a, "packet with sequence id %u, expected %u", seq, a->next_seq);
        return bad(a, seq, w);
    }
    if (a->state == CAUTH_ST_WAIT_RESPONSE)
        return on_response(a, seq, p, n, w);
    return on_switch_response(a, seq, p, n, w);
}

enum cauth_result cauth_feed(struct cauth *a, uint8_t seq, const uint8_t *p, size_t n,
                             struct proto_wr *w)
{
    size_t mark = w->len;
    return finish_call(a, w, mark, feed(a, seq, p, n, w));
}

static enum cauth_result change_user(struct cauth *a, uint8_t seq, const uint8_t *p, size_t n,
                                     struct proto_wr *w)
{
    if (a->state != CAUTH_ST_DONE) {
        set_why(a, "COM_CHANGE_USER in login state %s", cauth_state_name(a->state));
        return bad(a, seq, w);
    }
    if (seq != 0) {
        set_why(a, "COM_CHANGE_USER with sequence id %u", seq);
        return bad(a, seq, w);
    }
    struct proto_change_user cu;
    int rc = proto_change_user_parse(p, n, a->login.caps, &cu);
    if (rc != PROTO_OK) {
        set_why(a, "COM_CHANGE_USER: %s", proto_status_str(rc));
        return bad(a, seq, w);
    }
    a->pending.charset = cu.has_more ? (uint8_t)cu.charset : a->login.charset;
    if (!fill_login(a, &a->pending, cu.user, cu.database, cu.attrs))
        return bad(a, seq, w);
    a->user = find_user(a->users, a->pending.user);
    note_plugin(a, cu.plugin);

    if (!(a->login.caps & PROTO_CAP(CLIENT_PLUGIN_AUTH))) {
        /* No switch possible: the command's data answers the connection's
         * nonce. Reuse the switch-response path (state WAIT_CU_SWITCH). */
        set_state(a, CAUTH_ST_WAIT_CU_SWITCH);
        a->sha2_switch = false;
        return on_switch_response(a, seq, cu.auth.p, cu.auth.len, w);
    }
    /* Always switch, as MariaDB does: the command's own data may be for
     * another plugin. The connection's nonce, not a fresh one (header). */
    return switch_plugin(a, seq, w, CAUTH_ST_WAIT_CU_SWITCH, false);
}

enum cauth_result cauth_change_user(struct cauth *a, uint8_t seq, const uint8_t *p, size_t n,
                                    struct proto_wr *w)
{
    size_t mark = w->len;
    return finish_call(a, w, mark, change_user(a, seq, p, n, w));
}

void cauth_release(struct cauth *a)
{
    free(a->login.attrs);
    a->login.attrs = NULL;
    a->login.attrs_len = 0;
    free(a->pending.attrs);
    a->pending.attrs = NULL;
    a->pending.attrs_len = 0;
}
