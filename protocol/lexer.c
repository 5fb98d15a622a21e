/*
 * lexer.c - tokens of MySQL/MariaDB SQL text, for the statement classifier.
 *
 * Owns: comments (block, executable, optimizer-hint, -- and #), quoted
 * strings and identifiers, user and system variables, numbers, words,
 * statement separators. It does not know keywords (classify.c does).
 *
 * Rules followed (MySQL 8 reference manual "Comments" and "String
 * Literals"; MariaDB KB "Comment Syntax"):
 *   - `--` starts a comment only when followed by a blank or control byte
 *     (or the end of the text): `1--1` is 1 minus minus 1.
 *   - `#` and `--` comments run to '\n'.
 *   - strings: '...' and "..." with doubled quotes and, unless the mode
 *     says otherwise, backslash escapes; `...` identifiers with doubled
 *     backticks and no escapes.
 *   - executable comments are code; the lexer tracks that it is inside one
 *     and the closing star-slash ends it. Conditional ones (version >=
 *     50700, or M!) are skipped in CLASSIFY_LEX_SKIP_COND mode.
 * What it refuses (ERROR token, then END): unterminated strings, quoted
 * identifiers and comments (bit CLASSIFY_TB_UNTERMINATED: the construct
 * runs to the end of the text, so the server rejects that statement too),
 * a NUL byte in code or in a line comment (MySQL's line comment scanner
 * stops at NUL, so what follows could be code to the server but comment
 * to us), an executable comment inside another.
 *
 * Every read is p[i] with i < n checked first; each call consumes at least
 * one byte or ends. No allocation, no globals.
 */
#include "gtidproxy/classify.h"

#include <string.h>

static const char *const tok_names[] = {
#define TOK_NAME(name) #name,
    CLASSIFY_TOK_LIST(TOK_NAME)
#undef TOK_NAME
};

const char *classify_tok_name(enum classify_tok t)
{
    if ((unsigned)t >= sizeof tok_names / sizeof tok_names[0])
        return "?";
    return tok_names[t];
}

/* Versions up to this run on every server we support. Checked on MariaDB
 * 10.11.19: it runs a 5-digit version up to 50699 and skips 50700..99999
 * (MySQL 5.7+ features), runs 6-digit versions up to its own (101119).
 * MySQL >= 5.7 runs every version up to its own. So 50700 and up, every
 * 6-digit version and every M! comment are conditional. */
#define EXEC_VERSION_UNCONDITIONAL 50699u

static inline bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static inline bool is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Bytes of an unquoted identifier: [A-Za-z0-9_$] and every byte >= 0x80
 * (multi-byte UTF-8 characters). */
static inline bool is_word(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '_' ||
           c == '$' || c >= 0x80;
}

void classify_lex_init(struct classify_lexer *lx, const void *p, size_t n, unsigned mode)
{
    memset(lx, 0, sizeof *lx);
    lx->p = (const uint8_t *)p;
    lx->n = n;
    lx->mode = mode;
}

static void set_tok(struct classify_lexer *lx, struct classify_token *t, enum classify_tok type,
                    size_t off, size_t end)
{
    t->type = type;
    t->off = off;
    t->len = end - off;
    t->body_off = off;
    t->body_len = 0;
    t->bits = 0;
    if (lx->in_exec)
        t->bits |= CLASSIFY_TB_IN_EXEC | (lx->exec_cond ? CLASSIFY_TB_COND_EXEC : 0u);
}

static void fail(struct classify_lexer *lx, struct classify_token *t, size_t off, bool unterminated)
{
    set_tok(lx, t, CLASSIFY_TOK_ERROR, off, lx->n);
    if (unterminated)
        t->bits |= CLASSIFY_TB_UNTERMINATED;
    lx->failed = true;
    lx->pos = lx->n;
}

/* Scans a quoted run starting at p[start] == q. Returns the offset just past
 * the closing quote, or 0 when unterminated (0 is never a valid end: the
 * opening quote is at least one byte). */
static size_t scan_quoted(const struct classify_lexer *lx, size_t start, uint8_t q, bool esc,
                          unsigned *bits)
{
    const uint8_t *p = lx->p;
    size_t i = start + 1;
    while (i < lx->n) {
        uint8_t c = p[i];
        if (c == '\\' && q != '`') {
            *bits |= CLASSIFY_TB_BACKSLASH;
            if (esc) {
                i += 2;
                continue;
            }
        }
        if (c == q) {
            if (i + 1 < lx->n && p[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
    return 0;
}

/* Escape rule and ambiguity bit for a quote character in this mode. */
static bool quote_escapes(const struct classify_lexer *lx, uint8_t q)
{
    if (q == '\'')
        return !(lx->mode & CLASSIFY_LEX_SQ_NOESC);
    if (q == '"')
        return !(lx->mode & (CLASSIFY_LEX_DQ_NOESC | CLASSIFY_LEX_DQ_IDENT));
    return false;
}

static void note_backslash(struct classify_lexer *lx, uint8_t q, unsigned bits)
{
    if (!(bits & CLASSIFY_TB_BACKSLASH))
        return;
    if (q == '\'')
        lx->amb |= CLASSIFY_AMB_SQ_BACKSLASH;
    else if (q == '"')
        lx->amb |= CLASSIFY_AMB_DQ_BACKSLASH;
}

/* Line comment from p[start]; body begins at body. Returns false on NUL. */
static bool line_comment(struct classify_lexer *lx, struct classify_token *t, size_t start,
                         size_t body)
{
    size_t i = body;
    while (i < lx->n && lx->p[i] != '\n') {
        if (lx->p[i] == 0)
            return false;
        i++;
    }
    set_tok(lx, t, CLASSIFY_TOK_COMMENT, start, i);
    t->bits |= CLASSIFY_TB_LINE;
    t->body_off = body;
    t->body_len = i - body;
    lx->pos = i;
    return true;
}

/* Block comment from p[start] ("/" "*"); the search for the closing
 * star-slash begins at from. Returns false when unterminated. A NUL byte
 * inside is comment text, as for the servers (their block comment scanner
 * stops only at the end of the text). */
static bool block_comment(struct classify_lexer *lx, struct classify_token *t, size_t start,
                          size_t from)
{
    size_t i = from;
    while (i + 1 < lx->n) {
        if (lx->p[i] == '*' && lx->p[i + 1] == '/') {
            set_tok(lx, t, CLASSIFY_TOK_COMMENT, start, i + 2);
            t->body_off = start + 2;
            t->body_len = i - (start + 2);
            lx->pos = i + 2;
            return true;
        }
        i++;
    }
    return false;
}

/* At p[start] == '/', p[start+1] == '*'. Returns true when a token (a
 * COMMENT) was produced, false when the lexer entered an executable
 * comment and should go on scanning; sets *err to 1 for an unterminated
 * comment, -1 for a nested executable comment. */
static bool slash_star(struct classify_lexer *lx, struct classify_token *t, size_t start, int *err)
{
    const uint8_t *p = lx->p;
    size_t n = lx->n;
    size_t i = start + 2;
    bool mariadb = false;

    if (i + 1 < n && (p[i] == 'M' || p[i] == 'm') && p[i + 1] == '!') {
        mariadb = true;
        i++;
    }
    if (i >= n || p[i] != '!') {
        if (!block_comment(lx, t, start, start + 2))
            *err = 1;
        return true;
    }
    i++; /* past '!' */
    if (lx->in_exec) {
        *err = -1; /* nested executable comment */
        return true;
    }
    /* A version is 5 or 6 digits; MariaDB takes the first 6 of a longer
     * run and lexes the rest as code (checked: a 7-digit run is version
     * of the first 6, then code). Fewer than 5 digits are code. */
    size_t d = 0;
    uint32_t version = 0;
    while (i + d < n && d < 6 && is_digit(p[i + d])) {
        version = version * 10 + (uint32_t)(p[i + d] - '0');
        d++;
    }
    bool has_version = (d == 5 || d == 6);
    if (has_version)
        i += d;
    bool cond = mariadb || (has_version && version > EXEC_VERSION_UNCONDITIONAL);
    if (cond)
        lx->amb |= CLASSIFY_AMB_COND_EXEC;
    if (cond && (lx->mode & CLASSIFY_LEX_SKIP_COND)) {
        if (!block_comment(lx, t, start, i))
            *err = 1;
        return true;
    }
    lx->in_exec = true;
    lx->exec_cond = cond;
    lx->pos = i;
    return false;
}

void classify_lex_next(struct classify_lexer *lx, struct classify_token *t)
{
    const uint8_t *p = lx->p;
    const size_t n = lx->n;

    for (;;) {
        if (lx->failed) {
            set_tok(lx, t, CLASSIFY_TOK_END, n, n);
            return;
        }
        while (lx->pos < n && is_blank(p[lx->pos]))
            lx->pos++;
        size_t s = lx->pos;
        if (s >= n) {
            if (lx->in_exec) {
                fail(lx, t, n, true); /* unterminated executable comment */
                return;
            }
            set_tok(lx, t, CLASSIFY_TOK_END, n, n);
            return;
        }
        uint8_t c = p[s];
        uint8_t c1 = s + 1 < n ? p[s + 1] : 0;
        bool has1 = s + 1 < n;

        switch (c) {
        case 0:
            fail(lx, t, s, false);
            return;
        case '#':
            if (!line_comment(lx, t, s, s + 1)) {
                fail(lx, t, s, false);
                return;
            }
            if (lx->mode & CLASSIFY_LEX_COMMENTS)
                return;
            continue;
        case '-':
            if (has1 && c1 == '-' && (s + 2 >= n || p[s + 2] <= 0x20 || p[s + 2] == 0x7f)) {
                if (!line_comment(lx, t, s, s + 2)) {
                    fail(lx, t, s, false);
                    return;
                }
                if (lx->mode & CLASSIFY_LEX_COMMENTS)
                    return;
                continue;
            }
            break;
        case '/':
            if (has1 && c1 == '*') {
                int err = 0;
                bool produced = slash_star(lx, t, s, &err);
                if (err) {
                    fail(lx, t, s, err > 0);
                    return;
                }
                if (produced && (lx->mode & CLASSIFY_LEX_COMMENTS))
                    return;
                continue;
            }
            break;
        case '*':
            if (lx->in_exec && has1 && c1 == '/') {
                lx->in_exec = false;
                lx->exec_cond = false;
                lx->pos = s + 2;
                continue;
            }
            break;
        case '\'':
        case '"':
        case '`': {
            unsigned bits = 0;
            bool ident = c == '`' || (c == '"' && (lx->mode & CLASSIFY_LEX_DQ_IDENT));
            size_t end = scan_quoted(lx, s, c, quote_escapes(lx, c), &bits);
            note_backslash(lx, c, bits);
            if (end == 0) {
                fail(lx, t, s, true);
                return;
            }
            set_tok(lx, t, ident ? CLASSIFY_TOK_QIDENT : CLASSIFY_TOK_STRING, s, end);
            t->bits |= bits;
            lx->pos = end;
            return;
        }
        case '@': {
            bool sys = has1 && c1 == '@';
            size_t i = s + (sys ? 2 : 1);
            if (i < n && (p[i] == '\'' || p[i] == '"' || p[i] == '`')) {
                unsigned bits = 0;
                size_t end = scan_quoted(lx, i, p[i], quote_escapes(lx, p[i]), &bits);
                note_backslash(lx, p[i], bits);
                if (end == 0) {
                    fail(lx, t, s, true);
                    return;
                }
                i = end;
            } else {
                while (i < n && (is_word(p[i]) || p[i] == '.'))
                    i++;
            }
            if (i == s + 1) { /* a lone '@' */
                set_tok(lx, t, CLASSIFY_TOK_PUNCT, s, s + 1);
                lx->pos = s + 1;
                return;
            }
            set_tok(lx, t, sys ? CLASSIFY_TOK_SYSVAR : CLASSIFY_TOK_USERVAR, s, i);
            lx->pos = i;
            return;
        }
        case '?':
            set_tok(lx, t, CLASSIFY_TOK_PARAM, s, s + 1);
            lx->pos = s + 1;
            return;
        case ';':
            set_tok(lx, t, CLASSIFY_TOK_SEMI, s, s + 1);
            lx->pos = s + 1;
            return;
        case ':':
            if (has1 && c1 == '=') {
                set_tok(lx, t, CLASSIFY_TOK_PUNCT, s, s + 2);
                lx->pos = s + 2;
                return;
            }
            break;
        default:
            break;
        }

        /* Numbers: digits [. digits] [e[+-]digits], 0x.., or .digits. A
         * digit run followed by a letter is an identifier (MySQL allows
         * 1abc); a '.' never swallows the letters after it. */
        if (is_digit(c) || (c == '.' && has1 && is_digit(c1))) {
            size_t i = s;
            while (i < n && is_digit(p[i]))
                i++;
            bool ident = false;
            if (i < n && p[i] == '.') {
                i++;
                while (i < n && is_digit(p[i]))
                    i++;
            } else if (i < n && is_word(p[i]) && p[i] != 'e' && p[i] != 'E') {
                ident = true; /* 0x1F, 0b01, 1abc: one word-like token */
                while (i < n && is_word(p[i]))
                    i++;
            }
            if (!ident && i < n && (p[i] == 'e' || p[i] == 'E')) {
                size_t j = i + 1;
                if (j < n && (p[j] == '+' || p[j] == '-'))
                    j++;
                if (j < n && is_digit(p[j])) {
                    while (j < n && is_digit(p[j]))
                        j++;
                    i = j;
                } else if (i > s && p[i - 1] != '.') {
                    ident = true; /* 1e, 1ea: identifier */
                    while (i < n && is_word(p[i]))
                        i++;
                }
            }
            bool word = ident && !(c == '0' && (s + 1 < n) &&
                                   (c1 == 'x' || c1 == 'X' || c1 == 'b' || c1 == 'B'));
            set_tok(lx, t, word ? CLASSIFY_TOK_WORD : CLASSIFY_TOK_NUMBER, s, i);
            lx->pos = i;
            return;
        }
        if (is_word(c)) {
            size_t i = s + 1;
            while (i < n && is_word(p[i]))
                i++;
            set_tok(lx, t, CLASSIFY_TOK_WORD, s, i);
            lx->pos = i;
            return;
        }
        set_tok(lx, t, CLASSIFY_TOK_PUNCT, s, s + 1);
        lx->pos = s + 1;
        return;
    }
}
