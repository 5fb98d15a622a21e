/*
 * sess_vars.h - the session state a client established (system variables it
 * changed, its default schema), and the SQL that brings another backend
 * connection to the same state.
 *
 *   client: SET NAMES utf8mb4 ──▶ primary ──OK + session state──▶ svars_apply_block(want)
 *   next read on replica2:   svars_sync_sql(want, replica2.have) ──▶ "SET @@SESSION.x=..., ..."
 *
 * The servers report every changed variable (session_track_system_variables
 * = '*') and the schema (session_track_schema) in their OK packets, so the
 * proxy never parses a SET itself: it records what the server says changed.
 * Values are the server's own text, written back quoted (or bare when they
 * are numbers) in one SET statement, in name order, which also puts
 * character_set_* before collation_* (setting a charset resets its
 * collation).
 *
 * A struct sess_vars is plain data owned by one session (or one backend
 * connection's `have` copy); not thread-safe.
 */
#ifndef GTIDPROXY_SESS_VARS_H
#define GTIDPROXY_SESS_VARS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "gtidproxy/proto_rw.h"

struct svar {
    char *name;
    char *value;
};

struct sess_vars {
    struct svar *v; /* sorted by name */
    size_t n, cap;
    bool has_schema; /* a schema was chosen (login database, USE, COM_INIT_DB) */
    char *schema;    /* when has_schema; "" after the schema was dropped */
    uint64_t gen;    /* bumped on every change */
    /* character_set_connection changed. MariaDB does not report the
     * collation_connection that SET NAMES / SET CHARACTER SET change with
     * it, so the session asks the server for it (session.c). */
    bool charset_touched;
};

void svars_init(struct sess_vars *s);
void svars_free(struct sess_vars *s);
/* Back to the state of a fresh connection (COM_RESET_CONNECTION keeps the
 * schema: pass keep_schema). */
void svars_reset(struct sess_vars *s, bool keep_schema);

/* True for variables the proxy sets or the server sets by itself
 * (last_gtid, session_track_*): never recorded, never replayed. */
bool svars_is_internal(struct proto_str name);

/* Records one variable's new value. Returns 0, -1 out of memory. */
int svars_set(struct sess_vars *s, struct proto_str name, struct proto_str value)
    __attribute__((warn_unused_result));
int svars_set_schema(struct sess_vars *s, struct proto_str schema)
    __attribute__((warn_unused_result));

/* Records what an OK's session-state block says changed (system variables,
 * schema); other entries are ignored. Returns 0, or -1 for a malformed
 * block or out of memory. */
int svars_apply_block(struct sess_vars *s, struct proto_str block)
    __attribute__((warn_unused_result));

/* dst := src (deep copy). Returns 0 or -1. */
int svars_copy(struct sess_vars *dst, const struct sess_vars *src)
    __attribute__((warn_unused_result));

/* dst's variables := src's; dst's schema stays. Returns 0 or -1. */
int svars_copy_vars(struct sess_vars *dst, const struct sess_vars *src)
    __attribute__((warn_unused_result));

/* Appends to out `lead` then the assignments
 *     @@SESSION.a = 'x', @@SESSION.b = 42
 * (lead "SET " makes one statement; ", " continues an existing SET) for every variable of want
 * whose value differs in (or is missing from) have. String values are quoted for the sql_mode in
 * force on the backend (have's sql_mode: with NO_BACKSLASH_ESCAPES a backslash is literal). Returns
 * the number of variables written (0: nothing to do, out untouched), or -1 out of memory. Variables
 * whose names are not plain identifiers are skipped (they cannot come from a server). */
int svars_sync_sql(const struct sess_vars *want, const struct sess_vars *have, const char *lead,
                   struct buf *out) __attribute__((warn_unused_result));

/* True when want has a schema that have lacks or names differently. */
bool svars_schema_differs(const struct sess_vars *want, const struct sess_vars *have);

#endif
