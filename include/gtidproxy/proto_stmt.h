/*
 * proto_stmt.h - the client commands of the binary protocol that name a
 * prepared statement (COM_STMT_EXECUTE, _SEND_LONG_DATA, _CLOSE, _RESET,
 * _FETCH): reading and rewriting the statement id, and COM_STMT_EXECUTE's
 * parameter block, so the proxy can run one client statement on several
 * backends (each with its own server-side id) and send the parameter types
 * again to a backend that has not seen them.
 *
 * COM_STMT_EXECUTE (PROTOCOL.md 4.x; MY:ps / MDB:ps):
 *   0x17, int<4> stmt_id, int<1> flags (cursor type), int<4> iteration_count,
 *   if num_params > 0:
 *     null_bitmap[(num_params + 7) / 8], int<1> new_params_bound_flag,
 *     if new_params_bound_flag == 1: types[2 * num_params] (type, flags),
 *     values ...
 * num_params comes from the statement's PREPARE_OK (the payload does not say).
 * Clients send the types (flag 1) on the first EXECUTE after binding and
 * flag 0 with no types after that (libmariadb 3.3, tests/fixtures/stmt); a
 * server keeps the last types it was given for the statement.
 * The other commands: SEND_LONG_DATA 0x18, int<4> id, int<2> param, data;
 * CLOSE 0x19, int<4> id; RESET 0x1A, int<4> id; FETCH 0x1C, int<4> id,
 * int<4> rows. MariaDB's id 0xFFFFFFFF ("the statement prepared last", sent
 * by mariadb_stmt_execute_direct right behind its PREPARE) is an id like any
 * other here.
 * Layouts that depend on CLIENT_QUERY_ATTRIBUTES (MySQL) and MariaDB's
 * COM_STMT_BULK_EXECUTE are not handled: the proxy never negotiates them.
 *
 * Payloads include the command byte; they are complete logical packets.
 * Parsers return PROTO_OK or a negative PROTO_E*; views point into p.
 */
#ifndef GTIDPROXY_PROTO_STMT_H
#define GTIDPROXY_PROTO_STMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_rw.h"

/* The statement id at bytes 1..4 of a COM_STMT_EXECUTE/SEND_LONG_DATA/
 * CLOSE/RESET/FETCH payload. PROTO_EBAD when p[0] is not one of those
 * commands (checked first); PROTO_ETRUNC when n < 5. Only the command byte
 * and the id are looked at, not the rest of the command. */
int proto_stmt_id(const uint8_t *p, size_t n, uint32_t *id) __attribute__((warn_unused_result));

/* Overwrites that id in place (same checks; p is unchanged on error). */
int proto_stmt_set_id(uint8_t *p, size_t n, uint32_t id) __attribute__((warn_unused_result));

struct proto_stmt_exec {
    uint32_t stmt_id;
    uint8_t flags;       /* CURSOR_TYPE_* */
    uint32_t iterations; /* always 1 from real clients */
    struct proto_str null_bitmap; /* empty when num_params == 0 */
    bool types_bound;             /* new_params_bound_flag == 1 */
    struct proto_str types;       /* 2 * num_params bytes when types_bound */
    size_t values_off;            /* offset in p where the values start (n when none) */
};

/* Parses a COM_STMT_EXECUTE payload for a statement with num_params
 * parameters. PROTO_ETRUNC when a field runs past n; PROTO_EBAD for a
 * wrong command byte or a new_params_bound_flag other than 0/1 (servers
 * take any non-zero byte as 1; clients write 0 or 1). The values are not
 * walked (their sizes depend on the types), so bytes after a 0-parameter
 * header are not an error: values_off is then 10 and less than n. flags and
 * iterations are reported, not checked. *out is meaningful on PROTO_OK
 * only; its views point into p (empty views point at p). */
int proto_stmt_execute_parse(const uint8_t *p, size_t n, uint16_t num_params,
                             struct proto_stmt_exec *out) __attribute__((warn_unused_result));

/* Writes the payload p (a COM_STMT_EXECUTE sent with new_params_bound_flag
 * 0) again with flag 1 and `types` (2 * num_params bytes, from an earlier
 * execution of the same statement) inserted, and the id set to stmt_id:
 * n + 2 * num_params bytes. A payload that already carries types, or has
 * no parameters, is copied with only the id changed (n bytes) and `types`
 * is ignored. Errors of proto_stmt_execute_parse; PROTO_EBAD when types is
 * needed and has the wrong length (nothing written then); PROTO_ENOSPACE
 * from w (w then holds a partial payload). w's buffer must not overlap p. */
int proto_stmt_execute_with_types(struct proto_wr *w, const uint8_t *p, size_t n,
                                  uint16_t num_params, struct proto_str types, uint32_t stmt_id)
    __attribute__((warn_unused_result));

#endif
