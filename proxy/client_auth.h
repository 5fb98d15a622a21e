/*
 * client_auth.h - the client leg of the connection phase: the proxy's
 * HandshakeV10, checking a client's credentials against the configured proxy
 * users, AuthSwitch when the client used a plugin the proxy does not verify
 * directly, the caching_sha2_password fast path, and COM_CHANGE_USER.
 *
 *   proxy                                   client
 *   cauth_start()  ── HandshakeV10 ──────▶
 *                  ◀── HandshakeResponse41 ── cauth_feed()
 *                 [── AuthSwitchRequest ──▶
 *                  ◀── auth response ─────── cauth_feed()]
 *                 [── AuthMoreData 0x03 ──▶  caching_sha2 fast auth OK]
 *                  ── OK | ERR 1045 ─────▶
 *
 * Pure logic over payloads (no sockets, no libuv): every output is one or
 * more complete FRAMED packets (4-byte header with the right sequence id)
 * written through a struct proto_wr, ready to send as they are. Nothing
 * points into the caller's input after a call returns: what the session needs
 * later (user, database, attributes) is copied into struct cauth_login.
 *
 * Errors are what a MariaDB/MySQL server says in the same case, so clients
 * and their users see familiar messages:
 *   1045 28000 "Access denied for user 'u'@'host' (using password: YES|NO)"
 *   1043 08S01 "Bad handshake"            (malformed or unsupported packets)
 */
#ifndef GTIDPROXY_CLIENT_AUTH_H
#define GTIDPROXY_CLIENT_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "gtidproxy/auth.h"
#include "gtidproxy/proto_rw.h"

/* User names: MariaDB allows 128 characters (utf8mb3: 3 bytes each);
 * schema names 64 characters of up to 4 bytes. */
#define CAUTH_USER_MAX   384
#define CAUTH_DB_MAX     256
#define CAUTH_PLUGIN_MAX 64

#define CAUTH_PLUGIN_NATIVE "mysql_native_password"
#define CAUTH_PLUGIN_SHA2   "caching_sha2_password"

/* A proxy user, with the derived secrets only (never the password itself). */
struct cauth_user {
    char *name;
    bool no_password; /* "password": "" — any client sending no password */
    bool has_sha2;    /* plaintext was configured: caching_sha2 fast path */
    uint8_t stage2[AUTH_NATIVE_LEN]; /* SHA1(SHA1(pw)) */
    uint8_t sha2[AUTH_SHA2_LEN];     /* SHA256(SHA256(pw)), if has_sha2 */
};

struct cauth_users {
    struct cauth_user *v;
    size_t n;
};

/* Derives the user table from cfg->users (password or password_hash).
 * Returns 0, or -1 with a one-line reason in err. Free with
 * cauth_users_free(). Built once per config load; immutable afterwards, so
 * workers may share it. */
int cauth_users_build(const struct config *cfg, struct cauth_users *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));
void cauth_users_free(struct cauth_users *u);

/* What the proxy tells the client in its HandshakeV10. */
struct cauth_greeting {
    const char *server_version; /* sent verbatim, e.g. "5.5.5-10.11.19-MariaDB-gtidproxy" */
    uint32_t thread_id;
    uint64_t caps;       /* advertised (proto_caps_advertise) */
    uint8_t charset;     /* server default collation id */
    const char *plugin;  /* CAUTH_PLUGIN_NATIVE or CAUTH_PLUGIN_SHA2 */
    const char *client_host; /* for "Access denied for user 'u'@'host'" */
};

/* What a successful login established. */
struct cauth_login {
    char user[CAUTH_USER_MAX + 1];
    char database[CAUTH_DB_MAX + 1]; /* "" when the client named none */
    uint64_t caps;                   /* proto_caps_effective(client, advertised) */
    uint32_t max_packet;
    uint8_t charset;
    uint8_t *attrs; /* connect-attribute area (pairs, no total length), malloc'd; NULL if none */
    size_t attrs_len;
};

#define CAUTH_RESULT_LIST(X)                                                                       \
    X(CAUTH_SEND, "send")     /* send w's packets; feed the client's next packet */                \
    X(CAUTH_OK, "ok")         /* send w's packets (ending with OK): logged in */                   \
    X(CAUTH_DENIED, "denied") /* send w's ERR (1045), then close */                                \
    X(CAUTH_BAD, "bad")       /* send w's ERR (1043), then close: malformed/unsupported */

enum cauth_result {
#define CAUTH_RESULT_ENUM(name, text) name,
    CAUTH_RESULT_LIST(CAUTH_RESULT_ENUM)
#undef CAUTH_RESULT_ENUM
};
const char *cauth_result_name(enum cauth_result r);

struct cauth {
    /* Set by cauth_start(); read-only for the caller. */
    const struct cauth_users *users;
    uint64_t advertised;
    uint8_t nonce[AUTH_NONCE_LEN];
    char client_host[64];
    struct cauth_login login;   /* complete after CAUTH_OK */
    char why[192];              /* after DENIED/BAD: the reason, for the log */
    /* Private. */
    int state;
    uint8_t next_seq;
    char plugin[CAUTH_PLUGIN_MAX];
    const struct cauth_user *user;
    bool used_password;
};

/*
 * Starts a login: draws a fresh nonce (20 bytes from a CSPRNG, each in
 * 1..127 and never '$', as servers generate them, so no client meets a NUL)
 * and writes the framed HandshakeV10 (seq 0). Returns 0, or a negative
 * PROTO_E* when w is too small or the greeting cannot be encoded.
 */
int cauth_start(struct cauth *a, const struct cauth_users *users, const struct cauth_greeting *g,
                struct proto_wr *w) __attribute__((warn_unused_result));

/*
 * Feeds the client's next packet during the login (seq: its sequence id;
 * p/n: its payload). Verifies with mysql_native_password, or with
 * caching_sha2_password's fast path when the user's plaintext was
 * configured (AuthMoreData 0x03, then OK); any other plugin, or sha2 without
 * the digest, gets an AuthSwitchRequest to mysql_native_password with the
 * same nonce. A client asking for TLS (SSLRequest) that was not offered,
 * a packet that does not parse, or caps proto_caps_check_client() rejects
 * are CAUTH_BAD. Unknown user or wrong password: CAUTH_DENIED with 1045.
 */
enum cauth_result cauth_feed(struct cauth *a, uint8_t seq, const uint8_t *p, size_t n,
                             struct proto_wr *w);

/*
 * COM_CHANGE_USER (p/n: the whole command payload, command byte included;
 * seq is 0). Parses it with the login's caps, then always answers with an
 * AuthSwitchRequest carrying a fresh nonce (as MariaDB does), and continues
 * through cauth_feed(). On CAUTH_OK a->login holds the new user, database
 * (the command's), charset (the command's, when sent) and attributes.
 */
enum cauth_result cauth_change_user(struct cauth *a, uint8_t seq, const uint8_t *p, size_t n,
                                    struct proto_wr *w);

/* Frees what a->login owns (attrs). Safe to call twice. */
void cauth_release(struct cauth *a);

#endif
