/*
 * proto_reply.h - the server's generic replies: OK, ERR and EOF packets,
 * MariaDB progress reports, telling a result-set terminator from a row, and
 * building the proxy's own OK/ERR/EOF for a given client capability set.
 *
 * Layouts: shared/PROTOCOL.md section 3.1 (OK/ERR/EOF) and 3.3 (terminator
 * rules, progress packets).
 *
 * All functions work on one packet PAYLOAD (the bytes after the 4-byte
 * header, continuation packets already joined). Parsers never allocate:
 * every string in an output struct is a view into the caller's payload and
 * stays valid only as long as that buffer. Builders write a payload (no
 * header) through a struct proto_wr; framing is the caller's job.
 *
 * caps is the 64-bit capability set NEGOTIATED on that connection (client
 * flags AND server flags, MariaDB extended flags in bits 32..63): the same
 * bytes parse differently under different flags.
 */
#ifndef GTIDPROXY_PROTO_REPLY_H
#define GTIDPROXY_PROTO_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_rw.h"

/* Longest error message a server sends (MYSQL_ERRMSG_SIZE); the builder
 * truncates to this many bytes. */
#define PROTO_ERR_MSG_MAX 512

/* MariaDB sends progress reports as an ERR packet with this error code. */
#define PROTO_ERR_CODE_PROGRESS 0xFFFF

/* ---------------------------------------------------------------- OK --- */

struct proto_ok {
    uint8_t header;          /* 0x00, or 0xFE for an OK that ends a result
                                set under CLIENT_DEPRECATE_EOF */
    uint64_t affected_rows;
    uint64_t last_insert_id;
    uint16_t status;         /* 0 when neither PROTOCOL_41 nor TRANSACTIONS */
    uint16_t warnings;       /* 0 without PROTOCOL_41 */
    bool info_present;       /* the info field was on the wire (with
                                SESSION_TRACK it is omitted when empty and
                                no session state follows) */
    struct proto_str info;   /* human-readable text, e.g. "Rows matched: 1
                                Changed: 1  Warnings: 0"; may be empty */
    bool has_session_state;  /* session_state_info was on the wire */
    struct proto_str session_state; /* the entries (without their lenenc
                                length); iterate with proto_ss_* */
};

/*
 * Parses an OK payload (header 0x00 or 0xFE). Layout by caps:
 *   header, lenenc affected_rows, lenenc last_insert_id,
 *   [PROTOCOL_41: int<2> status, int<2> warnings | TRANSACTIONS: int<2>
 *   status], then
 *   SESSION_TRACK: [lenenc info [lenenc session_state if status has
 *                  SERVER_SESSION_STATE_CHANGED]] -- info is present only
 *                  when bytes remain;
 *   otherwise:     info = the rest. Real servers (MySQL and MariaDB
 *                  net_send_ok) write it as a lenenc string; when the rest
 *                  is exactly one lenenc string its content is returned,
 *                  else the raw rest (string<EOF>, as the MySQL docs say).
 * Returns PROTO_OK; PROTO_ETRUNC when a field runs past n (the payload is
 * complete, so a short OK is malformed, not "need more"); PROTO_EBAD for a
 * wrong header or trailing bytes after the session state. Both headers are
 * accepted whatever caps says: whether a 0xFE packet is an OK at all is
 * decided by proto_reply_first_kind() / proto_reply_row_kind().
 */
int proto_ok_parse(const uint8_t *p, size_t n, uint64_t caps,
                   struct proto_ok *out) __attribute__((warn_unused_result));

/*
 * Writes an OK payload as a server would write it to a client with caps:
 * header ok->header (0x00 or 0xFE), affected rows, insert id, status and
 * warnings as caps allow. With SESSION_TRACK: info (lenenc) is written when
 * non-empty or when status has SERVER_SESSION_STATE_CHANGED, then the
 * session state (lenenc) when that flag is set. Without SESSION_TRACK: the
 * flag is cleared from the status written, info (lenenc) only when
 * non-empty, no session state. info_present / has_session_state of *ok are
 * not consulted. Returns PROTO_OK or PROTO_ENOSPACE (sticky in w).
 */
int proto_ok_build(struct proto_wr *w, uint64_t caps,
                   const struct proto_ok *ok)
    __attribute__((warn_unused_result));

/*
 * Re-encodes the OK payload p (as received under from_caps) for a client
 * that negotiated to_caps, so the client gets exactly what the server would
 * have sent it. Typical use: the backend leg has CLIENT_SESSION_TRACK and
 * the client does not -> the session state is dropped, the
 * SERVER_SESSION_STATE_CHANGED status bit is cleared and info is written in
 * the non-tracking form. An OK-as-EOF (0xFE) stays 0xFE when to_caps has
 * CLIENT_DEPRECATE_EOF and becomes a classic 5-byte EOF (warnings, status;
 * SESSION_STATE_CHANGED cleared unless to_caps tracks) otherwise.
 * Returns PROTO_OK, a parse error of proto_ok_parse, or PROTO_ENOSPACE.
 * Size: when from_caps has SESSION_TRACK the output is never longer than n
 * (fields keep their size, the state goes), so a buffer of n bytes does;
 * otherwise allow n + 8 (a string<EOF> info gains a lenenc prefix). p and
 * w's buffer must not overlap.
 */
int proto_ok_rewrite(const uint8_t *p, size_t n, uint64_t from_caps,
                     uint64_t to_caps, struct proto_wr *w)
    __attribute__((warn_unused_result));

/* --------------------------------------------------------------- ERR --- */

struct proto_err {
    uint16_t code;
    bool has_sqlstate;
    struct proto_str sqlstate; /* 5 bytes when has_sqlstate, else empty */
    struct proto_str message;
};

/*
 * Parses an ERR payload: 0xFF, int<2> code, [PROTOCOL_41 and the next byte
 * is '#': 5-byte SQLSTATE], message string<EOF>. Pass caps = 0 for an ERR
 * that arrives before capabilities are negotiated (it never has a
 * SQLSTATE). A progress report (code 0xFFFF) parses too; check
 * proto_err_is_progress() or use proto_progress_parse().
 * Returns PROTO_OK, PROTO_ETRUNC (shorter than 3 bytes, or '#' with fewer
 * than 5 SQLSTATE bytes), PROTO_EBAD (wrong header).
 */
int proto_err_parse(const uint8_t *p, size_t n, uint64_t caps,
                    struct proto_err *out) __attribute__((warn_unused_result));

/*
 * Writes an ERR payload: code, then with PROTOCOL_41 '#' and sqlstate (5
 * chars; NULL means "HY000"), then msg truncated to PROTO_ERR_MSG_MAX
 * bytes. Returns PROTO_OK, PROTO_EBAD (sqlstate not 5 bytes) or
 * PROTO_ENOSPACE.
 */
int proto_err_build(struct proto_wr *w, uint64_t caps, uint16_t code,
                    const char *sqlstate, const void *msg, size_t msg_len)
    __attribute__((warn_unused_result));

/* ---------------------------------------------------------- progress --- */

/* MariaDB progress report (PROTOCOL.md 3.3): 0xFF, int<2> 0xFFFF, int<1>
 * number of strings, int<1> stage, int<1> max_stage, int<3> progress
 * (percent of the stage times 1000), lenenc stage name. */
struct proto_progress {
    uint8_t stage;
    uint8_t max_stage;
    uint32_t progress_x1000; /* percent * 1000 */
    struct proto_str stage_name;
};

/* True when the payload is a MariaDB progress report (0xFF, code 0xFFFF):
 * not an error and not a terminator; the real reply still follows. */
bool proto_err_is_progress(const uint8_t *p, size_t n);

/* Parses a progress report. PROTO_EBAD when it is not one, PROTO_ETRUNC
 * when a field runs past n. */
int proto_progress_parse(const uint8_t *p, size_t n,
                         struct proto_progress *out)
    __attribute__((warn_unused_result));

/* --------------------------------------------------------------- EOF --- */

struct proto_eof {
    uint16_t warnings; /* 0 without PROTOCOL_41 */
    uint16_t status;   /* 0 without PROTOCOL_41 */
};

/*
 * Parses a classic EOF: 0xFE, [PROTOCOL_41: int<2> warnings, int<2>
 * status] (note: the reverse order of OK). Payload length must be < 9
 * (anything longer is a row or an OK-as-EOF, see proto_reply_kind()).
 * Returns PROTO_OK, PROTO_ETRUNC (PROTOCOL_41 and fewer than 5 bytes),
 * PROTO_EBAD (wrong header or >= 9 bytes).
 */
int proto_eof_parse(const uint8_t *p, size_t n, uint64_t caps,
                    struct proto_eof *out) __attribute__((warn_unused_result));

/* Writes a classic EOF payload (5 bytes with PROTOCOL_41, else 1); status
 * is written as given. */
int proto_eof_build(struct proto_wr *w, uint64_t caps, uint16_t warnings,
                    uint16_t status) __attribute__((warn_unused_result));

/* ---------------------------------------------------- classification --- */

#define PROTO_REPLY_KIND_LIST(X)                                               \
    X(PROTO_REPLY_OK, "OK")             /* 0x00 OK */                          \
    X(PROTO_REPLY_OK_EOF, "OK_EOF")     /* 0xFE OK ending a result set */      \
    X(PROTO_REPLY_EOF, "EOF")           /* classic 0xFE EOF, < 9 bytes */      \
    X(PROTO_REPLY_ERR, "ERR")           /* 0xFF, a real error */               \
    X(PROTO_REPLY_PROGRESS, "PROGRESS") /* 0xFF 0xFFFF, not an error */        \
    X(PROTO_REPLY_LOCAL_INFILE, "LOCAL_INFILE") /* 0xFB first reply */         \
    X(PROTO_REPLY_RESULTSET, "RESULTSET") /* first reply: column count */      \
    X(PROTO_REPLY_ROW, "ROW")           /* a row or column definition */       \
    X(PROTO_REPLY_EMPTY, "EMPTY")       /* zero-length payload */

enum proto_reply_kind {
#define PROTO_REPLY_KIND_ENUM(name, text) name,
    PROTO_REPLY_KIND_LIST(PROTO_REPLY_KIND_ENUM)
#undef PROTO_REPLY_KIND_ENUM
};

/* "OK", "OK_EOF", ...; "UNKNOWN" for values outside the list. */
const char *proto_reply_kind_name(enum proto_reply_kind k);

/*
 * Kind of the FIRST packet of a command's response (command phase only:
 * during authentication 0xFE is an AuthSwitchRequest): 0x00 OK, 0xFF ERR
 * or PROGRESS, 0xFB LOCAL_INFILE, 0xFE EOF (COM_SET_OPTION, COM_FIELD_LIST
 * end) or OK_EOF (under DEPRECATE_EOF, when at least as long as the
 * shortest OK: 7 bytes with PROTOCOL_41 -- a shorter 0xFE is a classic EOF,
 * which MySQL still sends at the end of a binlog dump), anything else
 * RESULTSET. n is the payload length of that (first) packet.
 */
enum proto_reply_kind proto_reply_first_kind(const uint8_t *p, size_t n,
                                             uint64_t caps);

/*
 * Kind of a packet INSIDE a result set (column definitions or rows):
 *   0xFF              -> ERR, or PROGRESS for code 0xFFFF;
 *   0xFE, DEPRECATE_EOF, shortest-OK length <= n < 0xFFFFFF -> OK_EOF (a
 *                        text row starting with 0xFE carries a >= 2^24-byte
 *                        string, so its first packet is a full 0xFFFFFF
 *                        chunk);
 *   0xFE, n < 9 otherwise                -> EOF;
 *   anything else     -> ROW (0x00 starts binary rows and empty strings).
 * n is the length of the packet as framed (a 0xFFFFFF chunk means more
 * follows), so pass the first chunk's length, not a joined length.
 */
enum proto_reply_kind proto_reply_row_kind(const uint8_t *p, size_t n,
                                           uint64_t caps);

#endif
