/*
 * proto_handshake.h - connection-phase packets: HandshakeV10,
 * HandshakeResponse41 / SSLRequest, AuthSwitchRequest, AuthMoreData,
 * COM_CHANGE_USER, and the capability negotiation the proxy does between a
 * client and a backend. Layouts: shared/PROTOCOL.md sections 1.1-1.4.
 *
 *   backend                      proxy                        client
 *   HandshakeV10  --parse-->  [caps, scramble]  --build-->  HandshakeV10
 *   HandshakeResponse41 <--build--          <--parse--  HandshakeResponse41
 *   AuthSwitch / AuthMoreData / OK / ERR relayed or answered (auth.h)
 *
 * Contracts shared by every function here:
 * - Parsers take one complete payload (framing is done elsewhere) and return
 *   PROTO_OK, or a negative PROTO_E* code; a payload that ends before a field
 *   its flags require is PROTO_ETRUNC. They never allocate; every
 *   struct proto_str they return is a view into the caller's payload and
 *   lives as long as it does.
 * - Builders write one payload (no 4-byte header) through a struct proto_wr
 *   and return proto_wr_finish(w) (PROTO_ENOSPACE when the buffer is small),
 *   or PROTO_EBAD for input they cannot encode (a NUL inside a NUL-terminated
 *   string, a length field overflow).
 * - Capabilities are 64-bit: bits 0..31 are the classic int<4>, bits 32..63
 *   MariaDB's extended capabilities (PROTO_CAP(MARIADB_CLIENT_...)), which
 *   travel as a separate int<4> only when bit 0 (CLIENT_LONG_PASSWORD, called
 *   CLIENT_MYSQL by MariaDB) is clear.
 */
#ifndef GTIDPROXY_PROTO_HANDSHAKE_H
#define GTIDPROXY_PROTO_HANDSHAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_rw.h"

/* A first server packet that is an ERR instead of a HandshakeV10 (e.g. "Too
 * many connections", "Host is blocked"). Negative, so a caller that only
 * tests rc < 0 still fails closed; distinct, so it can report out->err. */
#define PROTO_EHANDSHAKE_ERR (-64)

/* MariaDB 10.x prefixes its version with this so that old replicas accept
 * a two-digit major version (MDB:doc connection.md, CC MA_RPL_VERSION_HACK). */
#define PROTO_MARIADB_VERSION_PREFIX "5.5.5-"

/* auth_plugin_data_len is an int<1> that counts the trailing NUL, so a
 * scramble is at most 254 bytes. Real ones are 20 (native, caching_sha2) or
 * 32 (client_ed25519 via AuthSwitch). */
#define PROTO_SCRAMBLE_MAX 254

/* Fixed part of HandshakeResponse41; an SSLRequest is exactly this long:
 * int<4> caps, int<4> max packet, int<1> charset, 19 zero bytes, int<4>
 * MariaDB ext caps (MY:auth AUTH_PACKET_HEADER_SIZE_PROTO_41 = 32). */
#define PROTO_HANDSHAKE_RESPONSE_FIXED 32

/* MySQL refuses connection attributes over 64 KiB (MY:auth
 * read_client_connect_attrs); so do we, before walking them. */
#define PROTO_CONNECT_ATTRS_MAX 65536

/* The server's error from an ERR packet read where a handshake was due. */
struct proto_handshake_err {
    uint16_t code;
    struct proto_str sqlstate; /* empty: pre-handshake ERRs carry none */
    struct proto_str message;
};

/* Protocol::HandshakeV10. Parsed from a backend; also the builder's input. */
struct proto_handshake_v10 {
    struct proto_str server_version; /* raw, e.g. "5.5.5-10.11.19-MariaDB-log" */
    struct proto_str real_version;   /* parse only: raw minus "5.5.5-" */
    uint32_t thread_id;
    uint64_t caps;                        /* full 64 bits; ext part only when bit 0 is clear */
    uint8_t charset;                      /* server default collation id (low 8 bits) */
    uint16_t status;                      /* PROTO_SERVER_STATUS_* */
    uint8_t scramble_len;                 /* 8..PROTO_SCRAMBLE_MAX */
    uint8_t scramble[PROTO_SCRAMBLE_MAX]; /* part 1 ‖ part 2, without the
                                             trailing NUL of part 2 */
    struct proto_str auth_plugin;         /* empty without CLIENT_PLUGIN_AUTH */
    struct proto_handshake_err err;       /* set when parse returned
                                             PROTO_EHANDSHAKE_ERR */
};

/* Parses a HandshakeV10 payload. Accepts protocol version 10 with
 * CLIENT_PROTOCOL_41 and CLIENT_SECURE_CONNECTION (every server since 4.1).
 * Returns PROTO_EHANDSHAKE_ERR (out->err filled) for a 0xFF packet;
 * PROTO_EUNSUPPORTED for any other protocol version or a pre-4.1 server;
 * PROTO_ETRUNC when a field is cut off (the auth plugin name must be
 * NUL-terminated: MySQL 5.5.7-5.5.9's unterminated name is not accepted);
 * PROTO_EBAD for inconsistent lengths. Bytes after the plugin name are
 * ignored, as clients do. */
int proto_handshake_v10_parse(const uint8_t *p, size_t n, struct proto_handshake_v10 *out)
    __attribute__((warn_unused_result));

/* Builds a HandshakeV10 from hs->server_version (written verbatim: add the
 * "5.5.5-" prefix yourself when imitating MariaDB 10.x), thread_id,
 * scramble (8..PROTO_SCRAMBLE_MAX bytes; 20 for native/caching_sha2),
 * caps, charset, status and auth_plugin (written when caps has
 * CLIENT_PLUGIN_AUTH). Part 2 of the scramble is padded with zeros to 13
 * bytes as MySQL and MariaDB do, so a 20-byte scramble gives
 * auth_plugin_data_len 21 and 12 + NUL in part 2. The MariaDB extended caps
 * go into the last 4 reserved bytes only when caps bit 0 is clear; with bit
 * 0 set the reserved bytes are zero and caps bits 32..63 must be zero
 * (else PROTO_EBAD). real_version and err are not read. */
int proto_handshake_v10_build(struct proto_wr *w, const struct proto_handshake_v10 *hs)
    __attribute__((warn_unused_result));

/* Encodings of the auth response in HandshakeResponse41, chosen by the
 * client's capability flags. */
#define PROTO_AUTH_ENC_LIST(X)                                                                     \
    X(PROTO_AUTH_ENC_LENENC, "lenenc") /* PLUGIN_AUTH_LENENC_CLIENT_DATA */                        \
    X(PROTO_AUTH_ENC_LEN1, "len1")     /* SECURE_CONNECTION: int<1> len */                         \
    X(PROTO_AUTH_ENC_NUL, "nul")       /* neither: NUL-terminated */

enum proto_auth_enc {
#define PROTO_AUTH_ENC_ENUM(name, text) name,
    PROTO_AUTH_ENC_LIST(PROTO_AUTH_ENC_ENUM)
#undef PROTO_AUTH_ENC_ENUM
};
const char *proto_auth_enc_name(enum proto_auth_enc e);
/* The encoding a client with these caps uses. */
enum proto_auth_enc proto_auth_enc_for(uint64_t client_caps);

/* HandshakeResponse41 (or SSLRequest). Parsed from a client; also the
 * builder's input. Fields whose flag is not in caps are empty views. */
struct proto_handshake_response {
    uint64_t caps; /* low 32 | MariaDB ext << 32 (ext read only when
                      the client cleared bit 0, as MariaDB does) */
    uint32_t max_packet;
    uint8_t charset;
    bool is_ssl_request; /* parse only: the 32-byte SSLRequest; nothing
                            below is set, TLS starts next */
    struct proto_str user;
    struct proto_str auth;     /* raw auth response; empty = no password */
    struct proto_str database; /* CLIENT_CONNECT_WITH_DB */
    struct proto_str plugin;   /* CLIENT_PLUGIN_AUTH */
    struct proto_str attrs;    /* CLIENT_CONNECT_ATTRS: the key/value area
                                  without its lenenc total-length prefix;
                                  walk it with proto_attrs_next() */
    struct proto_str rest;     /* bytes after the last field, kept for
                                  round trips (MySQL's zstd level byte
                                  under CLIENT_ZSTD_COMPRESSION_ALGORITHM) */
};

/* Parses a HandshakeResponse41, or an SSLRequest (exactly 32 bytes with
 * CLIENT_SSL: is_ssl_request = true). Every field the client's flags
 * announce must be present: PROTO_ETRUNC otherwise. Connection attributes
 * over PROTO_CONNECT_ATTRS_MAX are PROTO_ETOOBIG and attributes whose pairs
 * do not exactly fill their length are PROTO_EBAD. A client without
 * CLIENT_PROTOCOL_41 (HandshakeResponse320) is PROTO_EUNSUPPORTED. */
int proto_handshake_response_parse(const uint8_t *p, size_t n, struct proto_handshake_response *out)
    __attribute__((warn_unused_result));

/* Builds a HandshakeResponse41 from r (is_ssl_request is ignored): the
 * auth response in proto_auth_enc_for(r->caps) (LEN1 over 255 bytes and a
 * NUL inside NUL-encoded data are PROTO_EBAD), database/plugin/attrs when
 * their flags are set, then r->rest verbatim. attrs must already hold
 * encoded pairs (proto_attrs_put()). */
int proto_handshake_response_build(struct proto_wr *w, const struct proto_handshake_response *r)
    __attribute__((warn_unused_result));

/* Builds the 32-byte SSLRequest (caps must include CLIENT_SSL). */
int proto_ssl_request_build(struct proto_wr *w, uint64_t caps, uint32_t max_packet, uint8_t charset)
    __attribute__((warn_unused_result));

/* True when a client payload is an SSLRequest rather than a full response:
 * exactly 32 bytes and CLIENT_SSL set. */
bool proto_is_ssl_request(const uint8_t *p, size_t n);

/* Connection attributes: (lenenc key, lenenc value)* inside the area that
 * struct proto_handshake_response.attrs and proto_change_user.attrs view. */
struct proto_attrs_iter {
    struct proto_rd r;
};
void proto_attrs_iter_init(struct proto_attrs_iter *it, struct proto_str attrs);
/* 1 and one pair in *key / *val; 0 at the end; negative PROTO_E* when the
 * area is malformed (a key without a value, a length past the end). */
int proto_attrs_next(struct proto_attrs_iter *it, struct proto_str *key, struct proto_str *val);
/* Appends one encoded pair; use it to fill the attrs buffer for a builder. */
void proto_attrs_put(struct proto_wr *w, const char *key, size_t klen, const char *val,
                     size_t vlen);

/* AuthSwitchRequest: 0xFE, plugin name NUL-str, plugin data string<EOF>.
 * A lone 0xFE is the pre-4.1 OldAuthSwitchRequest (is_old = true, no
 * plugin): the proxy does not speak mysql_old_password, so callers should
 * fail it, but it is recognised rather than called malformed. */
struct proto_auth_switch {
    bool is_old;
    struct proto_str plugin;
    struct proto_str data;     /* all plugin data, e.g. 20-byte nonce + NUL */
    struct proto_str scramble; /* parse only: the nonce. mysql_native_password
                                  and caching_sha2_password send nonce + NUL:
                                  data minus that NUL. Other plugins
                                  (client_ed25519: a bare 32-byte nonce):
                                  data itself. */
};
int proto_auth_switch_parse(const uint8_t *p, size_t n, struct proto_auth_switch *out)
    __attribute__((warn_unused_result));
/* Writes 0xFE, plugin NUL-str, data verbatim (pass the nonce + NUL for the
 * native and caching_sha2 plugins, as servers do). */
int proto_auth_switch_build(struct proto_wr *w, struct proto_str plugin, struct proto_str data)
    __attribute__((warn_unused_result));

/* AuthMoreData: 0x01 + data string<EOF> (caching_sha2 status bytes 0x03 /
 * 0x04, or a PEM public key). Only the server wraps its data this way. */
int proto_auth_more_data_parse(const uint8_t *p, size_t n, struct proto_str *data)
    __attribute__((warn_unused_result));
int proto_auth_more_data_build(struct proto_wr *w, struct proto_str data)
    __attribute__((warn_unused_result));

/* COM_CHANGE_USER payload (command byte included). Its auth data is int<1>
 * length-prefixed under CLIENT_SECURE_CONNECTION (never lenenc, unlike the
 * handshake response) and NUL-terminated otherwise. The part after the
 * database is optional as a whole ("more data" in MY:auth): if anything
 * follows, it is int<2> charset, then the plugin name (CLIENT_PLUGIN_AUTH),
 * then the attributes (CLIENT_CONNECT_ATTRS), each required once started. */
struct proto_change_user {
    struct proto_str user;
    struct proto_str auth;
    struct proto_str database;
    bool has_more; /* charset (and what follows) present */
    uint16_t charset;
    struct proto_str plugin;
    struct proto_str attrs; /* without the lenenc total length */
};
/* caps: the capabilities negotiated on this connection (the client's). */
int proto_change_user_parse(const uint8_t *p, size_t n, uint64_t caps,
                            struct proto_change_user *out) __attribute__((warn_unused_result));
int proto_change_user_build(struct proto_wr *w, uint64_t caps, const struct proto_change_user *cu)
    __attribute__((warn_unused_result));

/*
 * Capability negotiation.
 *
 * The proxy answers clients with its own HandshakeV10 and talks to backends
 * with its own HandshakeResponse41, so it chooses what to advertise.
 * Decisions (PROTOCOL.md 1.2, 6.2):
 * - Advertise only what the backend offers AND the proxy's codec handles
 *   (`supported`): results are forwarded, so a flag the backend lacks would
 *   change a layout the backend will not produce.
 * - Never CLIENT_COMPRESS or CLIENT_ZSTD_COMPRESSION_ALGORITHM: the proxy
 *   inspects every packet and does not implement compression.
 * - CLIENT_QUERY_ATTRIBUTES and CLIENT_OPTIONAL_RESULTSET_METADATA change
 *   COM_QUERY / result-set layouts; only with PROTO_CAPS_OPT_QUERY_ATTRS /
 *   PROTO_CAPS_OPT_OPTIONAL_METADATA.
 * - CLIENT_SSL is the proxy's own TLS listener, not the backend's:
 *   advertised iff PROTO_CAPS_OPT_TLS.
 * - Client-only flags (SSL_VERIFY_SERVER_CERT, REMEMBER_OPTIONS) and
 *   CLIENT_CAPABILITY_EXTENSION / MULTI_FACTOR_AUTHENTICATION (MySQL
 *   extensions the codec does not parse) are never advertised.
 * - Bit 0 mirrors the backend: a MariaDB backend (bit 0 clear) gets its
 *   extended caps mirrored (∧ supported); a MySQL backend gets bit 0 set
 *   and no extended caps.
 * - CLIENT_PROTOCOL_41, CLIENT_SECURE_CONNECTION and CLIENT_PLUGIN_AUTH are
 *   required from the backend (PROTO_EUNSUPPORTED otherwise): the codec has
 *   no pre-4.1 or pre-plugin paths.
 */
#define PROTO_CAPS_OPT_TLS               0x1u
#define PROTO_CAPS_OPT_QUERY_ATTRS       0x2u
#define PROTO_CAPS_OPT_OPTIONAL_METADATA 0x4u

/* Flags the proxy never advertises, whatever `supported` says. */
#define PROTO_CAPS_NEVER                                                                           \
    (PROTO_CAP(CLIENT_COMPRESS) | PROTO_CAP(CLIENT_ZSTD_COMPRESSION_ALGORITHM) |                   \
     PROTO_CAP(CLIENT_SSL_VERIFY_SERVER_CERT) | PROTO_CAP(CLIENT_REMEMBER_OPTIONS) |               \
     PROTO_CAP(CLIENT_CAPABILITY_EXTENSION) | PROTO_CAP(CLIENT_MULTI_FACTOR_AUTHENTICATION))

/* Flags the backend must have for the proxy to work with it at all. */
#define PROTO_CAPS_REQUIRED                                                                        \
    (PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_SECURE_CONNECTION) |                         \
     PROTO_CAP(CLIENT_PLUGIN_AUTH))

/* A default `supported` set: what the reply tracker (proto_tracker.h) can
 * follow. All classic flags but the excluded ones above (DEPRECATE_EOF is
 * tracked), plus MariaDB PROGRESS/EXTENDED_METADATA/CACHE_METADATA. Not
 * STMT_BULK_OPERATIONS: the tracker does not follow COM_STMT_BULK_EXECUTE, so
 * clients must not be told they may send it. */
#define PROTO_CAPS_SUPPORTED_DEFAULT                                                               \
    ((UINT64_C(0xFFFFFFFF) & ~PROTO_CAPS_NEVER & ~PROTO_CAP(CLIENT_QUERY_ATTRIBUTES) &             \
      ~PROTO_CAP(CLIENT_OPTIONAL_RESULTSET_METADATA)) |                                            \
     PROTO_CAP(MARIADB_CLIENT_PROGRESS) | PROTO_CAP(MARIADB_CLIENT_EXTENDED_METADATA) |            \
     PROTO_CAP(MARIADB_CLIENT_CACHE_METADATA))

/* Capabilities for the proxy's HandshakeV10 to clients, per the decisions
 * above. Returns PROTO_OK, or PROTO_EUNSUPPORTED when the backend lacks a
 * PROTO_CAPS_REQUIRED flag (*out untouched). */
int proto_caps_advertise(uint64_t backend_caps, uint64_t supported, unsigned opts, uint64_t *out)
    __attribute__((warn_unused_result));

/* The flags in force on a connection: what the client asked for and the
 * server offered. Extended caps count only when both cleared bit 0 (a
 * MySQL client never sends them; the parser already drops them then). */
uint64_t proto_caps_effective(uint64_t client_caps, uint64_t server_caps);

/* Checks a client's HandshakeResponse41 caps against what the proxy
 * advertised: PROTO_EUNSUPPORTED without PROTOCOL_41 or SECURE_CONNECTION
 * (the proxy has no pre-4.1 auth), PROTO_EBAD for CLIENT_SSL that was not
 * offered. */
int proto_caps_check_client(uint64_t client_caps, uint64_t advertised)
    __attribute__((warn_unused_result));

#endif
