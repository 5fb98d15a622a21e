/*
 * proto_pcmd.h - statements gtidproxy answers itself (it never sends them to
 * a server), and the one-row result set it answers a SELECT with.
 *
 * The statements (README "Consistency"; case-insensitive keywords, blanks
 * and comments anywhere, one optional trailing ';', nothing else in the
 * text; the value is a quoted string ('...' or "...") or, for the level,
 * also a bare word):
 *
 *   SET [SESSION] gtidproxy_consistency = 'eventual'|'session'|'global'|'strong'|'default'
 *   SET [SESSION] gtidproxy_token = '<GTID set>'      ('' forgets the token)
 *   SELECT @@gtidproxy_token                          [AS alias not accepted]
 *   SELECT @@gtidproxy_consistency
 *   (also SET @@gtidproxy_x = ..., SET @@session.gtidproxy_x = ...,
 *    SELECT @@session.gtidproxy_x)
 *
 * The variable names are the proxy's own: no server has them, so a text
 * that names one in any other shape (with other assignments, in a larger
 * SELECT, SET GLOBAL, unknown gtidproxy_ name) is PCMD_ERROR with a reason,
 * never sent on to fail with a server's "Unknown system variable".
 * The value is a view into the text with the quotes removed; a value with
 * a backslash or a doubled quote is PCMD_ERROR (no valid value needs one).
 * "Names one" means what a server would read as a variable: @@gtidproxy_x
 * (any scope, quoted or not) anywhere, or gtidproxy_x as an assignment
 * target of a SET; a column called gtidproxy_x (SELECT gtidproxy_x FROM t)
 * and a user variable @gtidproxy_x are not ours (PCMD_NONE). A text that
 * names one and has an executable comment is PCMD_ERROR too (whether a
 * server would run the comment depends on its version). Keywords and
 * variable names match case-insensitively; LOCAL, := and @@local. are
 * not accepted (PCMD_ERROR). "x" is taken as a string whatever the
 * session's sql_mode (ANSI_QUOTES): the proxy, not a server, reads it.
 * Parsing is a single pass over the tokens of protocol/lexer.c; it does not
 * allocate. The caller runs it only on texts the classifier called
 * SESSION/SET or READ with CLASSIFY_F_SYS_VAR, so other traffic pays nothing.
 */
#ifndef GTIDPROXY_PROTO_PCMD_H
#define GTIDPROXY_PROTO_PCMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_rw.h"

#define PCMD_KIND_LIST(X)                                                                          \
    X(PCMD_NONE, "none")     /* not a gtidproxy statement: send it on */                           \
    X(PCMD_SET, "set")       /* SET gtidproxy_<var> = value */                                     \
    X(PCMD_SELECT, "select") /* SELECT @@gtidproxy_<var> */                                        \
    X(PCMD_ERROR, "error")   /* names a gtidproxy variable wrongly: answer pcmd.error */

enum pcmd_kind {
#define PCMD_KIND_ENUM(name, text) name,
    PCMD_KIND_LIST(PCMD_KIND_ENUM)
#undef PCMD_KIND_ENUM
};
const char *pcmd_kind_name(enum pcmd_kind k);

#define PCMD_VAR_LIST(X)                                                                           \
    X(PCMD_VAR_CONSISTENCY, "gtidproxy_consistency")                                               \
    X(PCMD_VAR_TOKEN, "gtidproxy_token")

enum pcmd_var {
#define PCMD_VAR_ENUM(name, text) name,
    PCMD_VAR_LIST(PCMD_VAR_ENUM)
#undef PCMD_VAR_ENUM
};
/* "gtidproxy_consistency", ... */
const char *pcmd_var_name(enum pcmd_var v);

struct pcmd {
    enum pcmd_kind kind;
    enum pcmd_var var;       /* PCMD_SET / PCMD_SELECT */
    struct proto_str value;  /* PCMD_SET: the value, quotes removed (view) */
    struct proto_str column; /* PCMD_SELECT: the select item as written
                                ("@@gtidproxy_token"), the column name a
                                server would use (view) */
    const char *error;       /* PCMD_ERROR: static reason text */
};

/* Parses a whole COM_QUERY text (p, n). Always fills *out; returns PROTO_OK
 * (the kind says what it is). */
int pcmd_parse(const void *p, size_t n, struct pcmd *out);

/*
 * Writes a complete text-protocol result set of one row as a server would
 * send it to a client with capabilities caps: the column count (plus
 * MariaDB's metadata_follows byte under MARIADB_CLIENT_CACHE_METADATA),
 * one ColumnDefinition41 per column (catalog "def", empty schema/table,
 * name = names[i], type VAR_STRING, charset `charset`, length = 4 x the
 * longest value, MariaDB's empty extended-metadata field under
 * MARIADB_CLIENT_EXTENDED_METADATA), an EOF unless CLIENT_DEPRECATE_EOF,
 * the row (values[i].p == NULL is SQL NULL), and the terminator: EOF, or
 * OK with header 0xFE under CLIENT_DEPRECATE_EOF, carrying `status`.
 * Packets are framed (headers written) with sequence ids from seq on.
 * Returns the next sequence id (>= 0) or a negative PROTO_E* (the writer
 * overflowed: check w). ncols 1..64.
 * Details (rs_write.c; checked against MariaDB 10.11's bytes for a string
 * system variable, SELECT @@session.time_zone): org_name empty, flags 0,
 * decimals 39; a NULL value's column has length 0; the length is 4 x the
 * value's BYTES whatever the charset (a server writes mbmaxlen x chars:
 * the same for ASCII under utf8mb4, 3x / 1x under utf8mb3 / latin1).
 * SERVER_SESSION_STATE_CHANGED is cleared from status (no state follows).
 * Errors: PROTO_EBAD (ncols out of range), PROTO_EUNSUPPORTED (caps
 * without CLIENT_PROTOCOL_41), PROTO_ETOOBIG (a packet would reach
 * 0xFFFFFF bytes), PROTO_ENOSPACE; w then holds a partial result set.
 */
int proto_rs_write_row(struct proto_wr *w, uint64_t caps, uint8_t seq, uint16_t status,
                       uint16_t charset, size_t ncols, const struct proto_str *names,
                       const struct proto_str *values);

#endif
