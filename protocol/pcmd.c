/*
 * pcmd.c - recognises the statements gtidproxy answers itself:
 * SET [SESSION] gtidproxy_x = value and SELECT @@gtidproxy_x (shapes and
 * contract: include/gtidproxy/proto_pcmd.h).
 *
 *   text ──lexer (comments skipped)──▶ one pass: keep the first tokens,
 *                                       note every mention of a gtidproxy_
 *                                       variable and what surrounds it
 *        ──▶ no mention:  PCMD_NONE (the server's business)
 *        ──▶ mention:     match the first tokens against the two shapes;
 *                         PCMD_SET / PCMD_SELECT, or PCMD_ERROR + reason
 *
 * A "mention" is what a server would read as a gtidproxy_ variable name:
 *   - a system variable token @@gtidproxy_x, @@scope.gtidproxy_x or
 *     @@`gtidproxy_x`, anywhere in the text;
 *   - in a SET statement, a word or `quoted` identifier gtidproxy_x in an
 *     assignment-target position (after SET, after a scope keyword there,
 *     after a comma outside parentheses).
 * A column or table named gtidproxy_x elsewhere (SELECT gtidproxy_token FROM
 * t) and a user variable @gtidproxy_x are not mentions: those texts go on.
 *
 * Why every mention in any other shape is an error and not NONE: no server
 * knows these variables, so sending the text on could only fail with the
 * server's "Unknown system variable", and the proxy does not split a SET
 * that mixes ours with real ones. The reasons say what to write instead.
 *
 * Quoting: the lexer runs with backslash escapes on and "..." as a string.
 * A value is accepted only when it holds no backslash and no doubled quote,
 * so every sql_mode reads the accepted texts alike (NO_BACKSLASH_ESCAPES
 * cannot move the string's end; ANSI_QUOTES would make "x" an identifier to
 * a server, but the proxy answers the statement itself and takes "x" as a
 * string). A text with a mention and any executable comment is an error:
 * whether a server runs the comment's content depends on its version.
 *
 * No allocation; the result's views point into the caller's text.
 */
#include "gtidproxy/proto_pcmd.h"

#include <string.h>

#include "gtidproxy/classify.h"

static const char *const kind_names[] = {
#define KIND_NAME(name, text) text,
    PCMD_KIND_LIST(KIND_NAME)
#undef KIND_NAME
};

static const char *const var_names[] = {
#define VAR_NAME(name, text) text,
    PCMD_VAR_LIST(VAR_NAME)
#undef VAR_NAME
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *pcmd_kind_name(enum pcmd_kind k)
{
    return (unsigned)k < NELEM(kind_names) ? kind_names[k] : "?";
}

const char *pcmd_var_name(enum pcmd_var v)
{
    return (unsigned)v < NELEM(var_names) ? var_names[v] : "?";
}

/* Reasons (pcmd.error). Static texts, written for the application
 * developer who reads them in an ERR packet. */
#define R_LEX                                                                                      \
    "malformed statement naming a gtidproxy variable (unterminated string, identifier or "         \
    "comment, or a NUL byte)"
#define R_UNKNOWN "unknown gtidproxy variable: there are gtidproxy_consistency and gtidproxy_token"
#define R_GLOBAL  "gtidproxy variables are per session: GLOBAL, PERSIST and @@global. do not apply"
#define R_EXEC    "a statement naming a gtidproxy variable cannot have an executable comment"
#define R_ALONE   "a statement naming a gtidproxy variable must be the only statement in the query"
#define R_ONE_SET "set a gtidproxy variable in a SET of its own, with no other assignment"
#define R_VERB                                                                                     \
    "a gtidproxy variable is read with SELECT @@gtidproxy_x and set with SET gtidproxy_x = "       \
    "'value'"
#define R_SELECT                                                                                   \
    "select a gtidproxy variable alone: SELECT @@gtidproxy_x (no other items, alias or clauses)"
#define R_SYSVAR "write a gtidproxy variable as @@gtidproxy_x or @@session.gtidproxy_x"
#define R_SET                                                                                      \
    "set a gtidproxy variable with SET [SESSION] gtidproxy_x = 'value' or SET @@gtidproxy_x = "    \
    "'value'"
#define R_EQUALS  "expected '=' after the gtidproxy variable"
#define R_MISSING "missing value after '=' for a gtidproxy variable"
#define R_ESCAPE  "a gtidproxy variable's value must not contain a backslash or a doubled quote"
#define R_QUOTED  "the value of gtidproxy_token must be a quoted string"
#define R_VALUE   "the value of gtidproxy_consistency must be a quoted string or a word"
#define R_TRAIL   "unexpected text after the value of a gtidproxy variable"

#define PREFIX     "gtidproxy_"
#define PREFIX_LEN (sizeof PREFIX - 1)

/* Longest accepted shape: SET SESSION name = value ';' (6 tokens). One more
 * is kept so a trailing extra token can be told apart. */
#define KEEP_TOKENS 7

static bool has_prefix(const uint8_t *p, size_t n)
{
    return n >= PREFIX_LEN && proto_ieq(p, PREFIX_LEN, PREFIX);
}

/* The variable named p[0..n), or -1 when it is not one of ours. */
static int var_lookup(const uint8_t *p, size_t n)
{
    for (size_t v = 0; v < NELEM(var_names); v++)
        if (proto_ieq(p, n, var_names[v]))
            return (int)v;
    return -1;
}

/* How a name token relates to our variables. */
struct name_info {
    bool mention; /* names a gtidproxy_ variable */
    bool global;  /* with a server-wide scope (@@global., @@persist.) */
    bool plain;   /* unquoted, scope none or session: an accepted form */
    int var;      /* enum pcmd_var, or -1 (unknown or not a mention) */
};

static bool is_global_scope(const uint8_t *p, size_t n)
{
    return proto_ieq(p, n, "global") || proto_ieq(p, n, "persist") ||
           proto_ieq(p, n, "persist_only");
}

/* A SYSVAR token's text: "@@name", "@@scope.name", "@@`name`" (any quote;
 * the lexer takes no scope before a quoted name: "@@session.`x`" lexes as
 * "@@session." and a QIDENT). */
static struct name_info sysvar_info(const uint8_t *p, size_t n)
{
    struct name_info ni = {.var = -1};
    const uint8_t *s = p + 2;
    size_t len = n - 2;
    if (len >= 2 && (s[0] == '`' || s[0] == '\'' || s[0] == '"')) {
        ni.mention = has_prefix(s + 1, len - 2);
        ni.var = ni.mention ? var_lookup(s + 1, len - 2) : -1;
        return ni; /* a quoted name is never an accepted form (plain false) */
    }
    const uint8_t *dot = memchr(s, '.', len);
    if (dot == NULL) {
        ni.mention = has_prefix(s, len);
        ni.plain = ni.mention;
        ni.var = ni.mention ? var_lookup(s, len) : -1;
        return ni;
    }
    size_t scope_len = (size_t)(dot - s);
    const uint8_t *name = dot + 1;
    size_t name_len = len - scope_len - 1;
    /* A gtidproxy_ name on either side of the dot (MySQL's structured
     * variables put the component first) is a mention. */
    ni.mention = has_prefix(name, name_len) || has_prefix(s, scope_len);
    if (!ni.mention)
        return ni;
    ni.global = is_global_scope(s, scope_len);
    ni.plain = proto_ieq(s, scope_len, "session") && memchr(name, '.', name_len) == NULL;
    ni.var = var_lookup(name, name_len);
    if (!ni.plain && ni.var < 0 && has_prefix(s, scope_len))
        ni.var = var_lookup(s, scope_len); /* @@gtidproxy_token.x: known name, bad form */
    return ni;
}

/* What one pass over the whole text found. */
struct scan {
    struct classify_token tok[KEEP_TOKENS]; /* the first tokens */
    size_t ntok;                            /* tokens in the text (all of them) */
    size_t semis;                           /* ';' tokens */
    size_t last_semi;                       /* index of the last one */
    unsigned set_commas;                    /* top-level commas in SET statements */
    bool mention, unknown, global, lex_error;
    bool in_exec; /* some token is inside an executable comment */
};

static void note_mention(struct scan *sc, struct name_info ni)
{
    if (!ni.mention)
        return;
    sc->mention = true;
    if (ni.var < 0)
        sc->unknown = true;
    if (ni.global)
        sc->global = true;
}

static bool is_punct(const uint8_t *text, const struct classify_token *t, char c)
{
    return t->type == CLASSIFY_TOK_PUNCT && t->len == 1 && text[t->off] == (uint8_t)c;
}

static bool is_word(const uint8_t *text, const struct classify_token *t, const char *lc)
{
    return t->type == CLASSIFY_TOK_WORD && proto_ieq(text + t->off, t->len, lc);
}

static void scan_text(const uint8_t *text, size_t n, struct scan *sc)
{
    struct classify_lexer lx;
    struct classify_token t;
    bool stmt_start = true; /* next token starts a statement */
    bool in_set = false;    /* inside a SET statement */
    bool at_target = false; /* next token is an assignment target */
    bool scope_global = false;
    unsigned depth = 0; /* parentheses inside the SET */

    memset(sc, 0, sizeof *sc);
    classify_lex_init(&lx, text, n, 0);
    for (;;) {
        classify_lex_next(&lx, &t);
        if (t.type == CLASSIFY_TOK_END)
            break;
        if (t.type == CLASSIFY_TOK_ERROR) {
            sc->lex_error = true;
            break;
        }
        if (sc->ntok < KEEP_TOKENS)
            sc->tok[sc->ntok] = t;
        sc->ntok++;
        if (t.bits & CLASSIFY_TB_IN_EXEC)
            sc->in_exec = true;
        if (t.type == CLASSIFY_TOK_SEMI) {
            sc->semis++;
            sc->last_semi = sc->ntok - 1;
            stmt_start = true;
            in_set = at_target = scope_global = false;
            depth = 0;
            continue;
        }
        bool target = at_target;
        at_target = false;
        if (stmt_start) {
            stmt_start = false;
            if (is_word(text, &t, "set")) {
                in_set = true;
                at_target = true;
                continue;
            }
        }
        if (t.type == CLASSIFY_TOK_SYSVAR) {
            note_mention(sc, sysvar_info(text + t.off, t.len));
        } else if (in_set && target &&
                   (t.type == CLASSIFY_TOK_WORD || t.type == CLASSIFY_TOK_QIDENT)) {
            const uint8_t *w = text + t.off;
            size_t wl = t.len;
            if (t.type == CLASSIFY_TOK_QIDENT) {
                w++;
                wl -= 2;
            } else if (proto_ieq(w, wl, "session") || proto_ieq(w, wl, "local") ||
                       proto_ieq(w, wl, "statement") || is_global_scope(w, wl)) {
                scope_global = is_global_scope(w, wl);
                at_target = true;
                continue;
            }
            struct name_info ni = {.var = -1};
            ni.mention = has_prefix(w, wl);
            ni.var = ni.mention ? var_lookup(w, wl) : -1;
            ni.global = scope_global;
            note_mention(sc, ni);
        }
        if (in_set) {
            if (is_punct(text, &t, '('))
                depth++;
            else if (is_punct(text, &t, ')') && depth > 0)
                depth--;
            else if (is_punct(text, &t, ',') && depth == 0) {
                sc->set_commas++;
                at_target = true;
                scope_global = false;
            }
        }
    }
}

static void fail(struct pcmd *out, const char *reason)
{
    out->kind = PCMD_ERROR;
    out->error = reason;
}

/* The value token of a SET (t: STRING or WORD) into out->value, or a
 * reason. */
static const char *take_value(const uint8_t *text, const struct classify_token *t,
                              enum pcmd_var var, struct pcmd *out)
{
    if (t->type == CLASSIFY_TOK_STRING) {
        if (t->bits & CLASSIFY_TB_BACKSLASH)
            return R_ESCAPE;
        const uint8_t *body = text + t->off + 1;
        size_t len = t->len - 2;
        /* The lexer ended the string at its first lone quote, so any quote
         * byte inside is half of a doubled one. */
        if (memchr(body, text[t->off], len) != NULL)
            return R_ESCAPE;
        out->value.p = body;
        out->value.len = len;
        return NULL;
    }
    if (t->type == CLASSIFY_TOK_WORD && var == PCMD_VAR_CONSISTENCY) {
        out->value.p = text + t->off;
        out->value.len = t->len;
        return NULL;
    }
    return var == PCMD_VAR_TOKEN ? R_QUOTED : R_VALUE;
}

/* SELECT shape over the k significant tokens (trailing ';' dropped). */
static const char *match_select(const uint8_t *text, const struct scan *sc, size_t k,
                                struct pcmd *out)
{
    if (k < 2 || sc->tok[1].type != CLASSIFY_TOK_SYSVAR)
        return R_SELECT;
    const struct classify_token *t = &sc->tok[1];
    struct name_info ni = sysvar_info(text + t->off, t->len);
    if (!ni.mention)
        return R_SELECT; /* SELECT @@version, @@gtidproxy_token */
    if (!ni.plain)
        return R_SYSVAR;
    if (k != 2)
        return R_SELECT;
    out->kind = PCMD_SELECT;
    out->var = (enum pcmd_var)ni.var;
    out->column.p = text + t->off;
    out->column.len = t->len;
    return NULL;
}

/* SET shape: SET [SESSION] name = value, name a word or (without SESSION)
 * @@name / @@session.name. */
static const char *match_set(const uint8_t *text, const struct scan *sc, size_t k, struct pcmd *out)
{
    size_t i = 1;
    int var = -1;
    if (k > i && is_word(text, &sc->tok[i], "session"))
        i++;
    if (k <= i)
        return R_SET;
    const struct classify_token *name = &sc->tok[i];
    if (name->type == CLASSIFY_TOK_WORD) {
        var = var_lookup(text + name->off, name->len);
    } else if (name->type == CLASSIFY_TOK_SYSVAR && i == 1) {
        struct name_info ni = sysvar_info(text + name->off, name->len);
        if (ni.mention && !ni.plain)
            return R_SYSVAR;
        var = ni.var;
    }
    if (var < 0)
        return R_SET;
    if (k <= i + 1 || !is_punct(text, &sc->tok[i + 1], '='))
        return R_EQUALS;
    if (k <= i + 2)
        return R_MISSING;
    const char *why = take_value(text, &sc->tok[i + 2], (enum pcmd_var)var, out);
    if (why != NULL)
        return why;
    if (k > i + 3)
        return R_TRAIL;
    out->kind = PCMD_SET;
    out->var = (enum pcmd_var)var;
    return NULL;
}

int pcmd_parse(const void *p, size_t n, struct pcmd *out)
{
    const uint8_t *text = (const uint8_t *)p;
    struct scan sc;

    memset(out, 0, sizeof *out);
    out->kind = PCMD_NONE;
    scan_text(text, n, &sc);
    if (!sc.mention)
        return PROTO_OK;

    /* Whole-text reasons first: they hold whatever the first tokens are. */
    if (sc.lex_error) {
        fail(out, R_LEX);
        return PROTO_OK;
    }
    if (sc.unknown) {
        fail(out, R_UNKNOWN);
        return PROTO_OK;
    }
    if (sc.global) {
        fail(out, R_GLOBAL);
        return PROTO_OK;
    }
    if (sc.in_exec) {
        fail(out, R_EXEC);
        return PROTO_OK;
    }
    size_t k = sc.ntok;
    if (sc.semis == 1 && sc.last_semi == sc.ntok - 1)
        k--; /* the one optional trailing ';' */
    else if (sc.semis > 0) {
        fail(out, R_ALONE);
        return PROTO_OK;
    }
    bool is_set = k > 0 && is_word(text, &sc.tok[0], "set");
    if (is_set && sc.set_commas > 0) {
        fail(out, R_ONE_SET);
        return PROTO_OK;
    }

    const char *why;
    if (is_set)
        why = match_set(text, &sc, k, out);
    else if (k > 0 && is_word(text, &sc.tok[0], "select"))
        why = match_select(text, &sc, k, out);
    else
        why = R_VERB;
    if (why != NULL) {
        memset(out, 0, sizeof *out);
        fail(out, why);
    }
    return PROTO_OK;
}
