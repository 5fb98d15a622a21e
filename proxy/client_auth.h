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
    bool no_password;                /* "password": "" — any client sending no password */
    bool has_sha2;                   /* plaintext was configured: caching_sha2 fast path */
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
    uint64_t caps;           /* advertised (proto_caps_advertise) */
    uint8_t charset;         /* server default collation id */
    const char *plugin;      /* CAUTH_PLUGIN_NATIVE or CAUTH_PLUGIN_SHA2 */
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

/* Where a login stands (a->state). One function in client_auth.c changes it. */
#define CAUTH_STATE_LIST(X)                                                                        \
    X(CAUTH_ST_NEW, "NEW")                       /* before cauth_start() */                        \
    X(CAUTH_ST_WAIT_RESPONSE, "WAIT_RESPONSE")   /* greeting sent */                               \
    X(CAUTH_ST_WAIT_SWITCH, "WAIT_SWITCH")       /* AuthSwitchRequest sent during login */         \
    X(CAUTH_ST_WAIT_CU_SWITCH, "WAIT_CU_SWITCH") /* AuthSwitchRequest sent for COM_CHANGE_USER */  \
    X(CAUTH_ST_DONE, "DONE")                     /* logged in: cauth_change_user() may follow */   \
    X(CAUTH_ST_FAILED, "FAILED")                 /* DENIED or BAD was returned: close */

enum cauth_state {
#define CAUTH_STATE_ENUM(name, text) name,
    CAUTH_STATE_LIST(CAUTH_STATE_ENUM)
#undef CAUTH_STATE_ENUM
};
const char *cauth_state_name(int state);

/* Room the caller's struct proto_wr must have free for any one call. The
 * largest outputs: an ERR, 4 + 9 + up to PROTO_ERR_MSG_MAX (512) = 525
 * bytes; a greeting, whose server_version may be at most 256 bytes (longer
 * is PROTO_EBAD): header 4, protocol 1, version 257, thread 4, nonce part 1
 * 8, filler 1, caps 2, charset 1, status 2, caps 2, data length 1,
 * reserved 10, nonce part 2 13, plugin name 22 = 328 bytes. With less, a
 * call fails: cauth_start with PROTO_ENOSPACE, cauth_feed and
 * cauth_change_user with CAUTH_BAD and nothing written. */
#define CAUTH_OUT_MIN 1024

struct cauth {
    /* Set by cauth_start(); read-only for the caller. */
    const struct cauth_users *users;
    uint64_t advertised;
    uint8_t nonce[AUTH_NONCE_LEN];
    char client_host[64];
    struct cauth_login login; /* complete after CAUTH_OK */
    char why[192];            /* after DENIED/BAD: the reason, for the log */
    /* Private. */
    int state;                     /* enum cauth_state */
    uint8_t next_seq;              /* sequence id the client's next packet must carry */
    char plugin[CAUTH_PLUGIN_MAX]; /* the client's plugin (sanitized), for why */
    const struct cauth_user *user; /* NULL: unknown user (denied after the exchange) */
    bool used_password;            /* the last auth data the client sent was non-empty */
    bool sha2_switch;              /* the pending AuthSwitchRequest named caching_sha2 */
    bool greeted_sha2;             /* the greeting named caching_sha2 (else native) */
    struct cauth_login pending;    /* COM_CHANGE_USER: the new login, until verified */
};

/*
 * Starts a login: overwrites *a (cauth_release() it first when reusing it),
 * draws a fresh nonce (20 bytes from a CSPRNG, each in 1..127 and never '$',
 * as servers generate them, so no client meets a NUL) and writes the framed
 * HandshakeV10 (seq 0) with status SERVER_STATUS_AUTOCOMMIT. users must
 * outlive the login. Returns 0, or a negative PROTO_E* when w is too small
 * or the greeting cannot be encoded (PROTO_EUNSUPPORTED: the CSPRNG failed;
 * no greeting is ever sent with a predictable nonce).
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
 * Details of cauth_feed() (MySQL/MariaDB server behaviour):
 * - seq must be the id the client's packet is due to carry (1 for the
 *   response; after an AuthSwitchRequest with id k, k + 1); anything else
 *   is BAD. The output packets carry seq + 1, seq + 2, ...
 * - Empty auth data is either zero bytes or a single 0x00 (MY:auth native
 *   and caching_sha2 plugins both read it so). It logs in only a
 *   no_password user, and a no_password user only with empty auth data.
 * - EMPTY data under native or caching_sha2 when the greeting named the
 *   other of the two: the client got no nonce for its plugin (libmariadb and
 *   libmysqlclient drop the greeting's data when their plugin differs, send
 *   an empty response and wait for a switch). Unless the user is no_password
 *   (then: OK), it is switched, with the same nonce, to caching_sha2_password
 *   when the client asked for it and the user's digest is known (then the
 *   fast path runs: 01 03 + OK), else to mysql_native_password. Empty data
 *   for the greeting's own plugin is an empty password.
 * - An unknown user under mysql_native_password or caching_sha2_password is
 *   denied at once (after the switch above, when there is one); under any
 *   other plugin the client is switched first, as every known user would
 *   be, and denied after its answer.
 * - "using password" in the 1045 message says whether the auth data the
 *   decision was taken on was non-empty.
 * - Given CAUTH_OUT_MIN free bytes in w, every result comes with at least
 *   one complete framed packet in w.
 */

/*
 * COM_CHANGE_USER (p/n: the whole command payload, command byte included;
 * seq is 0). Only after CAUTH_OK (state DONE); anything else is CAUTH_BAD.
 * Parses it with the login's caps, then answers with an AuthSwitchRequest
 * to mysql_native_password carrying the CONNECTION'S nonce (a->nonce), as
 * MariaDB 10.11 does (captured: tests/fixtures/handshake/auth_switch_native.hex),
 * and continues through cauth_feed(). Not a fresh nonce: libmariadb's native
 * client plugin answers a switch during mysql_change_user() with the scramble
 * of the original greeting, whatever nonce the switch carries (CC my_auth.c:
 * mpvio.mysql_change_user stays set across the switch), so a fresh nonce
 * would deny every libmariadb client. A client without CLIENT_PLUGIN_AUTH
 * cannot follow a switch: its command's auth data is verified directly.
 * On CAUTH_OK a->login holds the new user, database (the command's),
 * charset (the command's low 8 bits, when sent) and attributes (the
 * command's, or none); caps and max_packet stay. Until then a->login is
 * untouched.
 */
enum cauth_result cauth_change_user(struct cauth *a, uint8_t seq, const uint8_t *p, size_t n,
                                    struct proto_wr *w);

/* Frees what a->login (and a pending change) owns (attrs). Safe to call
 * twice, and on a zeroed struct cauth. */
void cauth_release(struct cauth *a);

/* For tests only: every later cauth_start() uses this nonce instead of a
 * random one (NULL: random again). Not thread-safe; never call it in the
 * daemon. */
void cauth__set_nonce(const uint8_t nonce[AUTH_NONCE_LEN]);

#endif
