/*
 * errors.h - the errors gtidproxy itself sends to clients, and helpers that
 * append the proxy's own framed packets (ERR, OK) to an output buffer.
 *
 * Proxy-specific codes live in 9001..9099 (above every MySQL/MariaDB server
 * error, below nothing a client library reserves); README "Error codes"
 * lists them. Where a server has an error for the same situation the proxy
 * uses the server's (1045 access denied, 1040 too many connections, 1153
 * packet too large, 1047 unknown command) so drivers react as they already do.
 */
#ifndef GTIDPROXY_ERRORS_H
#define GTIDPROXY_ERRORS_H

#include <stdint.h>

#include "buf.h"
#include "gtidproxy/proto_rw.h"

/* X(name, code, sqlstate) */
#define GP_ERROR_LIST(X)                                                                           \
    X(GP_ER_BACKEND_CONNECT, 9001, "08S01")  /* backend unreachable / login failed */              \
    X(GP_ER_BACKEND_LOST, 9002, "08S01")     /* backend died mid-statement */                      \
    X(GP_ER_BACKEND_PROTOCOL, 9003, "08S01") /* backend sent bytes we cannot follow */             \
    X(GP_ER_SESSION_SYNC, 9004, "HY000")     /* session state could not be applied */              \
    X(GP_ER_CONSISTENCY, 9005, "HY000")      /* a read's consistency could not be met in time */   \
    X(GP_ER_HINT, 9006, "42000")             /* invalid gtidproxy hint */                          \
    X(GP_ER_UNSUPPORTED, 9007, "0A000")      /* a command the proxy does not relay */              \
    X(GP_ER_PROXY_STMT, 9008, "42000")       /* a bad gtidproxy_ statement or token */             \
    X(GP_ER_NOT_READY, 9009, "08S01")        /* primary never reached: cannot greet */             \
    X(GP_ER_OUT_OF_MEMORY, 9010, "HY001")                                                          \
    X(GP_ER_TWO_PRIMARIES, 9011, "HY000")    /* two backends writable: primary refused */          \
    /* Server codes the proxy reuses. */                                                           \
    X(GP_ER_TOO_MANY_CONNECTIONS, 1040, "08004")                                                   \
    X(GP_ER_UNKNOWN_COM, 1047, "08S01")                                                            \
    X(GP_ER_NET_PACKET_TOO_LARGE, 1153, "08S01")                                                   \
    X(GP_ER_NET_PACKETS_OUT_OF_ORDER, 1156, "08S01")                                               \
    X(GP_ER_UNKNOWN_STMT_HANDLER, 1243, "HY000")

enum gp_error {
#define GP_ERROR_ENUM(name, code, state) name,
    GP_ERROR_LIST(GP_ERROR_ENUM)
#undef GP_ERROR_ENUM
};

uint16_t gp_error_code(enum gp_error e);
const char *gp_error_sqlstate(enum gp_error e);

/*
 * Builds one packet (payload below 16 MB) in place at the end of out:
 *     struct proto_wr w;
 *     gp_packet_begin(out, max_payload, &w);   room reserved, w set up
 *     ... write the payload through w ...
 *     gp_packet_end(out, &w, seq);             header written, bytes kept
 * Nothing may be appended to out in between. Both return 0, or -1 (out of
 * memory, a write that failed or did not fit, a payload of 16 MB or more);
 * on -1 out keeps what it had before.
 */
int gp_packet_begin(struct buf *out, size_t max_payload, struct proto_wr *w)
    __attribute__((warn_unused_result));
int gp_packet_end(struct buf *out, const struct proto_wr *w, uint8_t seq)
    __attribute__((warn_unused_result));

/* Appends a framed ERR packet (sequence id seq) for a client with caps.
 * The message is printf-formatted and cut at PROTO_ERR_MSG_MAX bytes.
 * Returns 0 or -1 (out of memory). */
int gp_err_append(struct buf *out, uint64_t caps, uint8_t seq, enum gp_error e, const char *fmt,
                  ...) __attribute__((format(printf, 5, 6), warn_unused_result));

/* Same with an explicit code and SQLSTATE (e.g. relaying a server's ERR). */
int gp_err_append_raw(struct buf *out, uint64_t caps, uint8_t seq, uint16_t code,
                      const char *sqlstate, const char *msg, size_t msg_len)
    __attribute__((warn_unused_result));

/* Appends a framed OK (no rows, no info) with the given status flags. */
int gp_ok_append(struct buf *out, uint64_t caps, uint8_t seq, uint16_t status)
    __attribute__((warn_unused_result));

#endif
