/*
 * test_lexer.c - SQL tokens: types, exact spans, comment and quoting rules,
 * executable comments, ambiguity bits, errors, and every truncation of a
 * few statements (exactly-sized buffers: ASan catches any over-read).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/classify.h"

/* Renders the token stream as "TYPE:text[+bits] ..." (COMMENT: its body).
 * Bits: x in exec comment, c conditional, b backslash, l line comment,
 * u unterminated. Returns the lexer's ambiguity bits. */
static unsigned render(const char *in, size_t n, unsigned mode, char *out, size_t cap)
{
    struct classify_lexer lx;
    struct classify_token t;
    size_t len = 0;
    classify_lex_init(&lx, in, n, mode);
    out[0] = '\0';
    for (int guard = 0; guard < 1000; guard++) {
        classify_lex_next(&lx, &t);
        if (t.type == CLASSIFY_TOK_END)
            break;
        const char *text = in + (t.type == CLASSIFY_TOK_COMMENT ? t.body_off : t.off);
        size_t tlen = t.type == CLASSIFY_TOK_COMMENT ? t.body_len : t.len;
        if (t.type == CLASSIFY_TOK_ERROR)
            tlen = 0;
        char bits[8];
        size_t nb = 0;
        if (t.bits & CLASSIFY_TB_IN_EXEC)
            bits[nb++] = 'x';
        if (t.bits & CLASSIFY_TB_COND_EXEC)
            bits[nb++] = 'c';
        if (t.bits & CLASSIFY_TB_BACKSLASH)
            bits[nb++] = 'b';
        if (t.bits & CLASSIFY_TB_LINE)
            bits[nb++] = 'l';
        if (t.bits & CLASSIFY_TB_UNTERMINATED)
            bits[nb++] = 'u';
        bits[nb] = '\0';
        int w = snprintf(out + len, cap - len, "%s%s:%.*s%s%s", len ? " " : "",
                         classify_tok_name(t.type), (int)tlen, text, nb ? "+" : "", bits);
        assert_true(w > 0 && (size_t)w < cap - len);
        len += (size_t)w;
    }
    return lx.amb;
}

struct lexvec {
    const char *in;
    unsigned mode;
    const char *want;
    unsigned amb;
};

#define CM CLASSIFY_LEX_COMMENTS

static const struct lexvec lexvecs[] = {
    {"SELECT a,b FROM t;", 0, "WORD:SELECT WORD:a PUNCT:, WORD:b WORD:FROM WORD:t SEMI:;", 0},
    {"  x  ", 0, "WORD:x", 0},
    {"", 0, "", 0},
    {"@a:=@@session.x + @`b c` - @'d'", 0,
     "USERVAR:@a PUNCT::= SYSVAR:@@session.x PUNCT:+ USERVAR:@`b c` PUNCT:- USERVAR:@'d'", 0},
    {"@ ?", 0, "PUNCT:@ PARAM:?", 0},
    {"'a\\'b' \"c\"\"d\"", 0, "STRING:'a\\'b'+b STRING:\"c\"\"d\"", CLASSIFY_AMB_SQ_BACKSLASH},
    {"'it''s'", 0, "STRING:'it''s'", 0},
    {"\"x\\\"y\"", 0, "STRING:\"x\\\"y\"+b", CLASSIFY_AMB_DQ_BACKSLASH},
    /* NO_BACKSLASH_ESCAPES: the string ends at the second quote. */
    {"'a\\'b'", CLASSIFY_LEX_SQ_NOESC, "STRING:'a\\'+b WORD:b ERROR:+u", CLASSIFY_AMB_SQ_BACKSLASH},
    {"'a\\\\' x", 0, "STRING:'a\\\\'+b WORD:x", CLASSIFY_AMB_SQ_BACKSLASH},
    {"`a``b` `c\\`", 0, "QIDENT:`a``b` QIDENT:`c\\`", 0},
    {"\"x\"", CLASSIFY_LEX_DQ_IDENT, "QIDENT:\"x\"", 0},
    {"/* c */ -- d\n# e\nx", CM, "COMMENT: c  COMMENT: d+l COMMENT: e+l WORD:x", 0},
    {"/* c */ -- d\n# e\nx", 0, "WORD:x", 0},
    {"1--1", 0, "NUMBER:1 PUNCT:- PUNCT:- NUMBER:1", 0},
    {"1--", CM, "NUMBER:1 COMMENT:+l", 0},
    {"1 --\t2", CM, "NUMBER:1 COMMENT:\t2+l", 0},
    {"1 --\x01x", CM, "NUMBER:1 COMMENT:\x01x+l", 0},
    {"-- a\r\nb", CM, "COMMENT: a\r+l WORD:b", 0},
    {"/*+ BKA(t) */ x", CM, "COMMENT:+ BKA(t)  WORD:x", 0},
    {"/**/x/***/", CM, "COMMENT: WORD:x COMMENT:*", 0},
    {"*/ 1", 0, "PUNCT:* PUNCT:/ NUMBER:1", 0},
    /* executable comments */
    {"/*!50000 SELECT */ 1", 0, "WORD:SELECT+x NUMBER:1", 0},
    {"/*! a */", 0, "WORD:a+x", 0},
    {"/*!*/", 0, "", 0},
    {"/*!80000 a */ b", 0, "WORD:a+xc WORD:b", CLASSIFY_AMB_COND_EXEC},
    {"/*!100500 a */", 0, "WORD:a+xc", CLASSIFY_AMB_COND_EXEC},
    {"/*!50699 a */", 0, "WORD:a+x", 0},
    {"/*!50700 a */", 0, "WORD:a+xc", CLASSIFY_AMB_COND_EXEC},
    {"/*!1000000 a */", 0, "NUMBER:0+xc WORD:a+xc", CLASSIFY_AMB_COND_EXEC},
    {"/*!99999 a */", 0, "WORD:a+xc", CLASSIFY_AMB_COND_EXEC},
    {"/*!80000 a */ b", CLASSIFY_LEX_SKIP_COND, "WORD:b", CLASSIFY_AMB_COND_EXEC},
    {"/*!80000 a */ b", CLASSIFY_LEX_SKIP_COND | CM, "COMMENT:!80000 a  WORD:b",
     CLASSIFY_AMB_COND_EXEC},
    {"/*!40101 a */ b", CLASSIFY_LEX_SKIP_COND, "WORD:a+x WORD:b", 0},
    {"/*M! a */", 0, "WORD:a+xc", CLASSIFY_AMB_COND_EXEC},
    {"/*M!100300 a */", 0, "WORD:a+xc", CLASSIFY_AMB_COND_EXEC},
    {"/*!123 a */", 0, "NUMBER:123+x WORD:a+x", 0},
    {"/*! a /* b */ c */ d", CM, "WORD:a+x COMMENT: b +x WORD:c+x WORD:d", 0},
    {"/*! a /*! b */ */", 0, "WORD:a+x ERROR:+x", 0},
    {"/*! a", 0, "WORD:a+x ERROR:+xu", 0},
    /* numbers and words */
    {"1.5e3 .5 0x1F 1abc 1e 1.x 2E-3 x1", 0,
     "NUMBER:1.5e3 NUMBER:.5 NUMBER:0x1F WORD:1abc WORD:1e NUMBER:1. WORD:x NUMBER:2E-3 WORD:x1",
     0},
    {"t.c db.f(1)", 0, "WORD:t PUNCT:. WORD:c WORD:db PUNCT:. WORD:f PUNCT:( NUMBER:1 PUNCT:)", 0},
    {"caf\xc3\xa9 $x _y", 0, "WORD:caf\xc3\xa9 WORD:$x WORD:_y", 0},
    /* errors: then END */
    {"'abc", 0, "ERROR:+u", 0},
    {"a \"abc", 0, "WORD:a ERROR:+u", 0},
    {"`abc", 0, "ERROR:+u", 0},
    {"@'x", 0, "ERROR:+u", 0},
    {"/* x", 0, "ERROR:+u", 0},
    {"x /*", 0, "WORD:x ERROR:+u", 0},
};

static void test_vectors(void **state)
{
    (void)state;
    char got[1024];
    for (size_t i = 0; i < sizeof lexvecs / sizeof lexvecs[0]; i++) {
        const struct lexvec *v = &lexvecs[i];
        unsigned amb = render(v->in, strlen(v->in), v->mode, got, sizeof got);
        if (strcmp(got, v->want) != 0 || amb != v->amb) {
            print_error("input [%s] mode %#x\n  got  [%s] amb %#x\n  want [%s] amb %#x\n", v->in,
                        v->mode, got, amb, v->want, v->amb);
            fail();
        }
    }
}

/* NUL bytes: an error in code and line comments, text in block comments
 * and strings. */
static void test_nul(void **state)
{
    (void)state;
    char got[256];
    static const struct {
        const char in[16];
        size_t n;
        const char *want;
    } v[] =
        {
            {"a\0b", 3, "WORD:a ERROR:"},    {"# \0\nb", 5, "ERROR:"},
            {"-- \0\nb", 6, "ERROR:"},       {"/*\0*/b", 6, "WORD:b"},
            {"'\0'b", 4, "STRING:' WORD:b"}, /* printing stops at the NUL */
        };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        render(v[i].in, v[i].n, 0, got, sizeof got);
        if (strcmp(got, v[i].want) != 0) {
            print_error("case %zu got [%s] want [%s]\n", i, got, v[i].want);
            fail();
        }
    }
}

/* The NUL inside a string belongs to the string token. */
static void test_nul_in_string(void **state)
{
    (void)state;
    struct classify_lexer lx;
    struct classify_token t;
    classify_lex_init(&lx, "'\0'b", 4, 0);
    classify_lex_next(&lx, &t);
    assert_int_equal(t.type, CLASSIFY_TOK_STRING);
    assert_int_equal(t.len, 3);
    classify_lex_next(&lx, &t);
    assert_int_equal(t.type, CLASSIFY_TOK_WORD);
    assert_int_equal(t.off, 3);
}

static void test_error_is_sticky(void **state)
{
    (void)state;
    struct classify_lexer lx;
    struct classify_token t;
    const char *in = "x 'abc";
    classify_lex_init(&lx, in, strlen(in), 0);
    classify_lex_next(&lx, &t);
    assert_int_equal(t.type, CLASSIFY_TOK_WORD);
    classify_lex_next(&lx, &t);
    assert_int_equal(t.type, CLASSIFY_TOK_ERROR);
    assert_int_equal(t.off, 2);
    for (int i = 0; i < 3; i++) {
        classify_lex_next(&lx, &t);
        assert_int_equal(t.type, CLASSIFY_TOK_END);
        assert_int_equal(t.off, strlen(in));
    }
    assert_string_equal(classify_tok_name(CLASSIFY_TOK_SYSVAR), "SYSVAR");
    assert_string_equal(classify_tok_name((enum classify_tok)99), "?");
}

/* Every prefix of a few statements in every mode: tokens stay inside the
 * prefix, move forward, are non-empty, and the stream ends. */
static void test_truncations(void **state)
{
    (void)state;
    static const char *const stmts[] = {
        "SELECT /*!50000 a, */ `b``c`, 'd\\'e''f', \"g\" FROM t -- x\n WHERE id=@v;",
        "/*M!100100 SET @a:=1.5e-3 */ # c\nSELECT @@global.x, ?, 0x1F /*+ h */",
        "INSERT INTO t VALUES ('\\\\', \"\\\"\", 1--1) /* end */",
        "/*!80000 /* inner */ x */ -- \n;;",
    };
    static const unsigned modes[] = {
        0,
        CLASSIFY_LEX_COMMENTS,
        CLASSIFY_LEX_SQ_NOESC | CLASSIFY_LEX_DQ_NOESC | CLASSIFY_LEX_COMMENTS,
        CLASSIFY_LEX_SKIP_COND | CLASSIFY_LEX_DQ_IDENT,
    };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        size_t n = strlen(stmts[i]);
        for (size_t m = 0; m < sizeof modes / sizeof modes[0]; m++) {
            for (size_t cut = 0; cut <= n; cut++) {
                char *buf = malloc(cut ? cut : 1);
                assert_non_null(buf);
                memcpy(buf, stmts[i], cut);
                struct classify_lexer lx;
                struct classify_token t;
                classify_lex_init(&lx, buf, cut, modes[m]);
                size_t last = 0, count = 0;
                for (;;) {
                    classify_lex_next(&lx, &t);
                    assert_true(t.off >= last);
                    assert_true(t.off + t.len <= cut);
                    if (t.type == CLASSIFY_TOK_COMMENT)
                        assert_true(t.body_off + t.body_len <= cut);
                    if (t.type == CLASSIFY_TOK_END)
                        break;
                    if (t.type != CLASSIFY_TOK_ERROR)
                        assert_true(t.len > 0);
                    last = t.off + t.len;
                    assert_true(++count <= cut + 1);
                }
                free(buf);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vectors),       cmocka_unit_test(test_nul),
        cmocka_unit_test(test_nul_in_string), cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_truncations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
