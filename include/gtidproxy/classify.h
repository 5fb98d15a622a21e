/*
 * classify.h - SQL statement classifier for read/write routing, the lexer it
 * runs on, and gtidproxy query hints.
 *
 * Owned by protocol/lexer.c (tokens), protocol/classify.c (statement kinds
 * and flags) and protocol/hints.c (the `gtidproxy:` comment hints).
 *
 *   COM_QUERY text ──> lexer ──tokens──> classify ──> struct classify_result
 *                        │                              (kind, flags, spans)
 *                        └──comments──> hints ──────────> result.hint
 *
 * Contract for the router (DESIGN.md section 3 "Routing"):
 *   - kind READ means the classifier PROVED the text read-only: every
 *     statement in it is a SELECT / SHOW / DESCRIBE / EXPLAIN SELECT / HELP /
 *     DO / TABLE / VALUES with none of the CLASSIFY_F_FORCE_PRIMARY flags.
 *     A READ may still carry advisory flags (NONDETERMINISTIC, USES_USER_VAR,
 *     SYS_VAR, SERVER_STATE, PREV_STMT_STATE) the router may act on.
 *   - Anything unknown, malformed (unterminated string / comment, stray NUL
 *     byte) or ambiguous is WRITE: when in doubt, the primary.
 *   - TRX and SESSION statements carry a subkind and what the router needs
 *     (read-only transaction, autocommit value, database name, statement
 *     name); SESSION statements whose expressions have side effects
 *     (SET @a = GET_LOCK(...), NEXTVAL, LAST_INSERT_ID()) are WRITE.
 *   - OTHER: touches no data (empty query, GET DIAGNOSTICS).
 *
 * Stored functions. `SELECT f(x)` where f is not a known built-in may write
 * (a function can INSERT), so by default it is WRITE with flag STORED_FUNC.
 * Rule-based peer proxies (a ProxySQL `^SELECT` query rule) send such a
 * SELECT to a replica; the price of doing so is a failed or lost write (the
 * replica is read_only and errors, or, worse, accepts it and diverges). The price of our
 * default is load on the primary for function-heavy read traffic. Callers
 * that know their functions are read-only pass CLASSIFY_O_STORED_FUNC_READ,
 * which keeps such a SELECT READ (the flag is still reported). Built-ins are
 * recognised from a fixed list (classify.c); a new server built-in missing
 * from it is treated as a stored function, which errs on the safe side.
 *
 * Ambiguity. The same bytes lex differently depending on server state the
 * proxy may not know: sql_mode NO_BACKSLASH_ESCAPES / ANSI_QUOTES (is a
 * backslash before a quote an escape, or does the string end there?) and
 * the server's version and flavour (conditional executable comments, see
 * below). When such a construct is seen and the first reading is not
 * already WRITE, the text is classified again under each other reading (at
 * most 8 passes in all, each linear); if the readings disagree the result is
 * WRITE with CLASSIFY_F_AMBIGUOUS. So a crafted SELECT whose string hides a
 * "; DELETE ..." under the other quoting rules is WRITE whatever the
 * sql_mode. Another reading in which the FIRST statement has a string or
 * comment that runs unterminated to the end of the text does not count as
 * disagreeing: a server lexing that way rejects the whole text before
 * running anything (so 'O\'Brien' stays READ). Pass
 * CLASSIFY_O_SQL_MODE_KNOWN (with the session's NO_BACKSLASH_ESCAPES /
 * ANSI_QUOTES bits) to skip the quoting readings.
 * Client character sets whose multi-byte characters can contain 0x5C or
 * 0x27 bytes (big5, cp932, gbk, sjis, gb18030) are not supported: the lexer
 * assumes an ASCII-transparent encoding such as utf8mb4 or latin1.
 *
 * Executable comments (written here with a space after the slash, as a C
 * comment cannot hold the real thing): "/ *! ... * /", "/ *!NNNNN ... * /"
 * (5 or 6 digit version) and "/ *M! ... * /", "/ *M!NNNNNN ... * /" (MariaDB
 * only) hold code that MySQL and MariaDB run. A 5-digit version up to
 * 50699 is run by every server we support; 50700 and up (MariaDB 10.11
 * skips 50700..99999, MySQL 8 runs them: checked on MariaDB 10.11.19),
 * every 6-digit version and every M! comment (MySQL ignores it) are
 * conditional and trigger the second reading (comment skipped). Optimizer
 * hints "/ *+ ... * /" are comments. Nested executable comments are an
 * error (WRITE).
 *
 * Work: one pass per reading over the bytes, a 1-token look-ahead, no
 * allocation, no recursion deeper than one level (EXPLAIN x, SET STATEMENT
 * ... FOR x). Every result view points into the caller's text.
 */
#ifndef GTIDPROXY_CLASSIFY_H
#define GTIDPROXY_CLASSIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_rw.h"

/* ------------------------------------------------------------------ */
/* Lexer                                                              */
/* ------------------------------------------------------------------ */

#define CLASSIFY_TOK_LIST(X)                                                                       \
    X(END)     /* end of input */                                                                  \
    X(WORD)    /* unquoted identifier or keyword */                                                \
    X(QIDENT)  /* `backtick` identifier (or "x" when ANSI_QUOTES) */                               \
    X(STRING)  /* 'x' or "x"; span includes the quotes */                                          \
    X(NUMBER)  /* 12, 1.5e3, 0x1F, .5 */                                                           \
    X(USERVAR) /* @name, @'name', @`name` */                                                       \
    X(SYSVAR)  /* @@name, @@session.name */                                                        \
    X(PARAM)   /* ? placeholder */                                                                 \
    X(PUNCT)   /* one operator byte, or := */                                                      \
    X(SEMI)    /* ; outside strings and comments */                                                \
    X(COMMENT) /* a comment (only with CLASSIFY_LEX_COMMENTS) */                                   \
    X(ERROR)   /* unterminated string/comment, NUL byte, nested exec */

enum classify_tok {
#define CLASSIFY_TOK_ENUM(name) CLASSIFY_TOK_##name,
    CLASSIFY_TOK_LIST(CLASSIFY_TOK_ENUM)
#undef CLASSIFY_TOK_ENUM
};
const char *classify_tok_name(enum classify_tok t);

/* Token attribute bits (classify_token.bits). */
#define CLASSIFY_TB_BACKSLASH    0x01u /* a backslash inside this string/ident */
#define CLASSIFY_TB_IN_EXEC      0x02u /* token is inside an executable comment */
#define CLASSIFY_TB_COND_EXEC    0x04u /* ... and that comment is conditional */
#define CLASSIFY_TB_LINE         0x08u /* COMMENT: a -- or # line comment */
#define CLASSIFY_TB_UNTERMINATED 0x10u /* ERROR: string/comment runs to end */

struct classify_token {
    enum classify_tok type;
    unsigned bits; /* CLASSIFY_TB_* */
    size_t off;    /* span in the input */
    size_t len;
    size_t body_off; /* COMMENT: text between the markers */
    size_t body_len;
};

/* Lexer behaviour bits (classify_lexer.mode). */
#define CLASSIFY_LEX_SQ_NOESC  0x01u /* backslash is not an escape in '...' */
#define CLASSIFY_LEX_DQ_NOESC  0x02u /* ... nor in "..." */
#define CLASSIFY_LEX_SKIP_COND 0x04u /* conditional exec comments are skipped */
#define CLASSIFY_LEX_DQ_IDENT  0x08u /* "x" is an identifier (ANSI_QUOTES) */
#define CLASSIFY_LEX_COMMENTS  0x10u /* return COMMENT tokens */

/* Ambiguity bits a lexer collects (classify_lexer.amb): which other
 * readings of the text exist. Same values as the mode bits they flip. */
#define CLASSIFY_AMB_SQ_BACKSLASH CLASSIFY_LEX_SQ_NOESC
#define CLASSIFY_AMB_DQ_BACKSLASH CLASSIFY_LEX_DQ_NOESC
#define CLASSIFY_AMB_COND_EXEC    CLASSIFY_LEX_SKIP_COND

/* A cursor over caller-owned SQL text. Plain data; no cleanup. */
struct classify_lexer {
    const uint8_t *p;
    size_t n;
    size_t pos;
    unsigned mode;  /* CLASSIFY_LEX_* */
    unsigned amb;   /* CLASSIFY_AMB_* seen so far */
    bool in_exec;   /* inside an executable comment */
    bool exec_cond; /* that comment is conditional */
    bool failed;    /* an ERROR token was returned; END from now on */
};

void classify_lex_init(struct classify_lexer *lx, const void *p, size_t n, unsigned mode);
/* Next token. Never reads past p[n-1]; each call consumes at least one byte
 * or returns END/ERROR. After ERROR every later call returns END. */
void classify_lex_next(struct classify_lexer *lx, struct classify_token *t);

/* ------------------------------------------------------------------ */
/* Hints: gtidproxy directives in a comment                           */
/* ------------------------------------------------------------------ */
/*
 * Syntax: a comment whose text starts (after blanks) with `gtidproxy:`,
 * followed by blank-separated key=value pairs:
 *
 *   SELECT / * gtidproxy: consistency=eventual wait_ms=200 * / * FROM t
 *   (without the spaces inside the comment markers; block comments and
 *   line comments, -- and #, are accepted)
 *
 *   consistency = eventual | session | global | strong | token
 *   token       = GTID set text, kept as a view, not parsed here; unquoted
 *                 it is [0-9A-Za-z:,-]+ (MariaDB 0-1-5,1-2-9 or MySQL
 *                 uuid:1-5); quote it ('...' or "...") for anything else.
 *                 token= implies consistency=token; another level with it
 *                 is an error.
 *   wait_ms     = 0..3600000 (at most one hour)
 *   max_stale_ms= 0..86400000 (cache fallback age limit, one day)
 *   fallback    = comma list of cache | primary | replica | error, 1..4
 *                 distinct entries, tried in order
 *   route       = primary | replica (force the route; replica on a write
 *                 is the proxy's business to refuse)
 *   cache       = on | off
 *
 * A plain comment to both servers, so the statement and its reply are
 * unchanged. Several hint comments in one query merge; a key given twice,
 * an unknown key, a bad value, an empty hint or a missing `=` make the
 * whole hint invalid: `error` says why and `error_at` points at the
 * offending text. Invalid hints are never ignored silently; the proxy
 * answers them with an error. Hints inside executable comments are code,
 * not hints. Note: the mysql/mariadb command-line clients strip comments
 * unless run with --comments.
 */
#define HINT_CONSISTENCY_LIST(X)                                                                   \
    X(UNSET, "unset")                                                                              \
    X(EVENTUAL, "eventual")                                                                        \
    X(SESSION, "session")                                                                          \
    X(GLOBAL, "global")                                                                            \
    X(STRONG, "strong")                                                                            \
    X(TOKEN, "token")

enum hint_consistency {
#define HINT_CONS_ENUM(name, text) HINT_CONS_##name,
    HINT_CONSISTENCY_LIST(HINT_CONS_ENUM)
#undef HINT_CONS_ENUM
};
const char *hint_consistency_name(enum hint_consistency c);

#define HINT_FALLBACK_LIST(X)                                                                      \
    X(NONE, "none")                                                                                \
    X(CACHE, "cache")                                                                              \
    X(PRIMARY, "primary")                                                                          \
    X(REPLICA, "replica")                                                                          \
    X(ERROR, "error")

enum hint_fallback {
#define HINT_FB_ENUM(name, text) HINT_FB_##name,
    HINT_FALLBACK_LIST(HINT_FB_ENUM)
#undef HINT_FB_ENUM
};
const char *hint_fallback_name(enum hint_fallback f);

#define HINT_ROUTE_LIST(X)                                                                         \
    X(UNSET, "unset")                                                                              \
    X(PRIMARY, "primary")                                                                          \
    X(REPLICA, "replica")

enum hint_route {
#define HINT_ROUTE_ENUM(name, text) HINT_ROUTE_##name,
    HINT_ROUTE_LIST(HINT_ROUTE_ENUM)
#undef HINT_ROUTE_ENUM
};
const char *hint_route_name(enum hint_route r);

/* Which keys a hint set (hint_set.keys). */
#define HINT_KEY_LIST(X)                                                                           \
    X(CONSISTENCY, 0, "consistency")                                                               \
    X(TOKEN, 1, "token")                                                                           \
    X(WAIT_MS, 2, "wait_ms")                                                                       \
    X(MAX_STALE_MS, 3, "max_stale_ms")                                                             \
    X(FALLBACK, 4, "fallback")                                                                     \
    X(ROUTE, 5, "route")                                                                           \
    X(CACHE, 6, "cache")

enum hint_key {
#define HINT_KEY_ENUM(name, bit, text) HINT_K_##name = 1u << (bit),
    HINT_KEY_LIST(HINT_KEY_ENUM)
#undef HINT_KEY_ENUM
};

#define HINT_MAX_FALLBACK 4
#define HINT_MAX_WAIT_MS  3600000u
#define HINT_MAX_STALE_MS 86400000u

struct hint_set {
    bool present;              /* at least one gtidproxy: comment */
    const char *error;         /* NULL when valid; static reason text */
    struct proto_str error_at; /* the offending text (view), when error */
    unsigned keys;             /* HINT_K_* given */
    enum hint_consistency consistency;
    struct proto_str token; /* without quotes */
    uint32_t wait_ms;
    uint32_t max_stale_ms;
    enum hint_fallback fallback[HINT_MAX_FALLBACK];
    unsigned n_fallback;
    enum hint_route route;
    bool cache; /* valid when keys & HINT_K_CACHE */
};

void hint_init(struct hint_set *h);
/* True when the comment text `body` (between the comment markers) starts
 * with `gtidproxy:` (blanks before it allowed, prefix case-insensitive). */
bool hint_is_hint(const uint8_t *body, size_t len);
/* Parses one hint comment body into h, merging with what h already holds.
 * Returns PROTO_OK, or PROTO_EBAD with h->error / h->error_at set (the
 * first error wins; later calls keep it). Non-hint text is PROTO_OK and
 * leaves h unchanged. */
__attribute__((warn_unused_result)) int hint_parse(const uint8_t *body, size_t len,
                                                   struct hint_set *h);
/* Checks what only the whole set can tell (consistency=token needs a
 * token=, token= with another level conflicts). PROTO_OK or PROTO_EBAD
 * with h->error set. classify_query calls it when a hint was present. */
__attribute__((warn_unused_result)) int hint_finish(struct hint_set *h);

/* ------------------------------------------------------------------ */
/* Classification                                                     */
/* ------------------------------------------------------------------ */

#define CLASSIFY_KIND_LIST(X)                                                                      \
    X(READ)                                                                                        \
    X(WRITE)                                                                                       \
    X(TRX)                                                                                         \
    X(SESSION)                                                                                     \
    X(OTHER)

enum classify_kind {
#define CLASSIFY_KIND_ENUM(name) CLASSIFY_##name,
    CLASSIFY_KIND_LIST(CLASSIFY_KIND_ENUM)
#undef CLASSIFY_KIND_ENUM
};
const char *classify_kind_name(enum classify_kind k);

#define CLASSIFY_SUB_LIST(X)                                                                       \
    X(NONE)                                                                                        \
    X(BEGIN) /* BEGIN [WORK] */                                                                    \
    X(START) /* START TRANSACTION [READ ONLY|...] */                                               \
    X(COMMIT)                                                                                      \
    X(ROLLBACK)                                                                                    \
    X(SAVEPOINT)                                                                                   \
    X(RELEASE_SAVEPOINT)                                                                           \
    X(ROLLBACK_TO)                                                                                 \
    X(AUTOCOMMIT)      /* SET autocommit=..., value in .autocommit */                              \
    X(SET_TRANSACTION) /* SET [SESSION] TRANSACTION ... */                                         \
    X(XA)                                                                                          \
    X(SET) /* SET NAMES / CHARACTER SET / x= / @@x= / @a= */                                       \
    X(USE)                                                                                         \
    X(PREPARE)                                                                                     \
    X(EXECUTE)                                                                                     \
    X(DEALLOCATE)

enum classify_sub {
#define CLASSIFY_SUB_ENUM(name) CLASSIFY_SUB_##name,
    CLASSIFY_SUB_LIST(CLASSIFY_SUB_ENUM)
#undef CLASSIFY_SUB_ENUM
};
const char *classify_sub_name(enum classify_sub s);

#define CLASSIFY_FLAG_LIST(X)                                                                      \
    X(LOCKING_READ, 0)         /* FOR UPDATE, FOR SHARE, LOCK IN SHARE MODE */                     \
    X(SELECT_INTO, 1)          /* INTO @var / OUTFILE / DUMPFILE */                                \
    X(USER_VAR_ASSIGN, 2)      /* @a := x, SET @a = x, INTO @a */                                  \
    X(LOCK_FUNC, 3)            /* GET_LOCK, RELEASE_LOCK, IS_FREE_LOCK, ... */                     \
    X(LAST_INSERT_ID, 4)       /* LAST_INSERT_ID(), @@identity */                                  \
    X(FOUND_ROWS, 5)           /* FOUND_ROWS(), SQL_CALC_FOUND_ROWS */                             \
    X(ROW_COUNT, 6)            /* ROW_COUNT() */                                                   \
    X(NONDETERMINISTIC, 7)     /* NOW(), RAND(), UUID(), CURRENT_USER, ... */                      \
    X(TEMP_TABLE, 8)           /* CREATE/DROP TEMPORARY TABLE */                                   \
    X(MULTI_STATEMENT, 9)      /* more than one statement */                                       \
    X(USES_USER_VAR, 10)       /* reads @x */                                                      \
    X(SEQUENCE, 11)            /* NEXTVAL, LASTVAL, SETVAL, NEXT VALUE FOR */                      \
    X(STORED_FUNC, 12)         /* calls a function not known to be built in */                     \
    X(SYS_VAR, 13)             /* reads @@x */                                                     \
    X(SERVER_STATE, 14)        /* replication/server state: SHOW SLAVE STATUS,                     \
                                  MASTER_GTID_WAIT, LOAD_FILE, VERSION() ... */                    \
    X(PREV_STMT_STATE, 15)     /* SHOW WARNINGS, @@warning_count, GET DIAG. */                     \
    X(LEX_ERROR, 16)           /* unterminated string/comment, NUL byte */                         \
    X(AMBIGUOUS, 17)           /* readings (sql_mode, version) disagree */                         \
    X(GLOBAL_CHANGE, 18)       /* SET GLOBAL / PERSIST: server-wide */                             \
    X(SESSION_VARS, 19)        /* SET also changes other session variables */                      \
    X(TRX_CHAIN, 20)           /* COMMIT/ROLLBACK AND CHAIN */                                     \
    X(TRX_RELEASE, 21)         /* COMMIT/ROLLBACK RELEASE (disconnects) */                         \
    X(CONSISTENT_SNAPSHOT, 22) /* START TRANSACTION WITH CONSISTENT SNAPSHOT */                    \
    X(EXEC_COMMENT, 23)        /* the text has executable comments */                              \
    X(EXPLAIN, 24)             /* EXPLAIN / DESCRIBE / ANALYZE of a statement */

enum classify_flag {
#define CLASSIFY_FLAG_ENUM(name, bit) CLASSIFY_F_##name = 1u << (bit),
    CLASSIFY_FLAG_LIST(CLASSIFY_FLAG_ENUM)
#undef CLASSIFY_FLAG_ENUM
};

/* Flags that make a would-be READ a WRITE (STORED_FUNC unless
 * CLASSIFY_O_STORED_FUNC_READ). A READ never carries any of them. */
#define CLASSIFY_F_FORCE_PRIMARY                                                                   \
    (CLASSIFY_F_LOCKING_READ | CLASSIFY_F_SELECT_INTO | CLASSIFY_F_USER_VAR_ASSIGN |               \
     CLASSIFY_F_LOCK_FUNC | CLASSIFY_F_LAST_INSERT_ID | CLASSIFY_F_FOUND_ROWS |                    \
     CLASSIFY_F_ROW_COUNT | CLASSIFY_F_TEMP_TABLE | CLASSIFY_F_SEQUENCE | CLASSIFY_F_LEX_ERROR |   \
     CLASSIFY_F_AMBIGUOUS | CLASSIFY_F_GLOBAL_CHANGE)

/* Flags that make a READ reply unfit for a cache keyed by query text. */
#define CLASSIFY_F_NOT_CACHEABLE                                                                   \
    (CLASSIFY_F_FORCE_PRIMARY | CLASSIFY_F_NONDETERMINISTIC | CLASSIFY_F_USES_USER_VAR |           \
     CLASSIFY_F_STORED_FUNC | CLASSIFY_F_SYS_VAR | CLASSIFY_F_SERVER_STATE |                       \
     CLASSIFY_F_PREV_STMT_STATE | CLASSIFY_F_MULTI_STATEMENT)

/* Name of one flag bit ("LOCKING_READ"), or "?" for an unknown bit. */
const char *classify_flag_name(uint32_t bit);
/* Writes "A|B|C" (or "-" for none) into buf, always NUL-terminated when
 * cap > 0. Returns the length it needed (like snprintf). */
size_t classify_flags_format(uint32_t flags, char *buf, size_t cap);

/* Options (classify_query's opts). */
#define CLASSIFY_O_STORED_FUNC_READ     0x01u /* SELECT f() stays READ */
#define CLASSIFY_O_SQL_MODE_KNOWN       0x02u /* the two bits below are the truth */
#define CLASSIFY_O_NO_BACKSLASH_ESCAPES 0x04u
#define CLASSIFY_O_ANSI_QUOTES          0x08u

struct classify_result {
    enum classify_kind kind;
    enum classify_sub sub;
    uint32_t flags;                /* CLASSIFY_F_* of all statements */
    int8_t read_only;              /* START TRANSACTION / SET TRANSACTION:
                                      1 READ ONLY, 0 READ WRITE, -1 not said */
    int8_t autocommit;             /* SET autocommit: 0/1, -1 not a literal */
    bool cacheable;                /* READ with no CLASSIFY_F_NOT_CACHEABLE flag */
    unsigned statements;           /* non-empty statements in the text */
    struct proto_str keyword;      /* first keyword as written (view) */
    size_t stmt_off;               /* first statement: first to last token, */
    size_t stmt_len;               /*   without blanks, comments and ';' */
    size_t next;                   /* offset just past the first statement's ';'
                                      (n when there is none) */
    struct proto_str name;         /* USE db, PREPARE/EXECUTE/DEALLOCATE name,
                                      SAVEPOINT/RELEASE/ROLLBACK TO name; quotes
                                      stripped, doubled quotes NOT undone */
    struct proto_str prepare_text; /* PREPARE s FROM '...': inside quotes,
                                escapes not undone; empty for FROM @var */
    struct hint_set hint;
};

/* Classifies a whole COM_QUERY text (p, n). Every statement is looked at:
 * several statements (CLASSIFY_F_MULTI_STATEMENT) are READ only when each
 * non-empty one is READ, else WRITE, and .sub is then NONE; the proxy walks
 * them one by one with classify_stmt when it needs each statement's
 * effect (SET autocommit=0; ...). keyword, name, prepare_text, read_only,
 * autocommit and the spans describe the first statement; flags are the
 * union over all statements.
 * Returns PROTO_OK; the text itself is never an error (malformed text is
 * WRITE with CLASSIFY_F_LEX_ERROR). out is fully written. */
int classify_query(const void *p, size_t n, unsigned opts, struct classify_result *out);

/* Classifies only the first statement of (p, n), as classify_query would
 * classify p[0 .. out->next) (hints: comments up to its ';' only), plus
 * CLASSIFY_F_MULTI_STATEMENT when anything but blanks and comments
 * follows. Use it to walk a multi-statement text: next call at p + next. */
int classify_stmt(const void *p, size_t n, unsigned opts, struct classify_result *out);

/* Internal, exposed for tests: checks the built-in word table is sorted
 * and that lookups find every entry. Returns the number of entries, or -1
 * with *bad set to the first misplaced entry's index. */
int classify__word_table_check(size_t *bad);

#endif
