/*
 * test_pcmd.c - the statements gtidproxy answers itself (proto_pcmd.h):
 * every accepted shape with its variable and value / column view, every
 * rejected shape with the reason it gives, texts that are not ours
 * (PCMD_NONE), and every truncation of a few statements. Inputs are copied
 * into exactly-sized buffers so ASan catches any read past the text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "gtidproxy/classify.h"
#include "gtidproxy/proto_pcmd.h"

#define CONS  PCMD_VAR_CONSISTENCY
#define TOKEN PCMD_VAR_TOKEN

struct vec {
    const char *in;
    enum pcmd_kind kind;
    enum pcmd_var var; /* SET / SELECT */
    const char *want;  /* SET: value; SELECT: column; ERROR: a word of the reason */
};

/* Parses in (copied to an exact-size buffer) and checks views lie inside. */
static void parse_exact(const char *in, size_t n, struct pcmd *out, uint8_t **buf)
{
    *buf = malloc(n ? n : 1);
    assert_non_null(*buf);
    memcpy(*buf, in, n);
    assert_int_equal(pcmd_parse(*buf, n, out), PROTO_OK);
    if (out->value.p != NULL)
        assert_true(out->value.p >= *buf && out->value.p + out->value.len <= *buf + n);
    if (out->column.p != NULL)
        assert_true(out->column.p >= *buf && out->column.p + out->column.len <= *buf + n);
    assert_true(out->kind == PCMD_ERROR ? out->error != NULL : out->error == NULL);
}

static void check_vec(const struct vec *v)
{
    struct pcmd r;
    uint8_t *buf;
    parse_exact(v->in, strlen(v->in), &r, &buf);
    if (r.kind != v->kind)
        fail_msg("\"%s\": kind %s, want %s (error: %s)", v->in, pcmd_kind_name(r.kind),
                 pcmd_kind_name(v->kind), r.error ? r.error : "-");
    switch (v->kind) {
    case PCMD_SET:
        assert_int_equal(r.var, v->var);
        assert_non_null(r.value.p);
        if (r.value.len != strlen(v->want) || memcmp(r.value.p, v->want, r.value.len) != 0)
            fail_msg("\"%s\": value \"%.*s\", want \"%s\"", v->in, (int)r.value.len, r.value.p,
                     v->want);
        assert_null(r.column.p);
        break;
    case PCMD_SELECT:
        assert_int_equal(r.var, v->var);
        if (r.column.len != strlen(v->want) || memcmp(r.column.p, v->want, r.column.len) != 0)
            fail_msg("\"%s\": column \"%.*s\", want \"%s\"", v->in, (int)r.column.len, r.column.p,
                     v->want);
        assert_null(r.value.p);
        break;
    case PCMD_ERROR:
        if (strstr(r.error, v->want) == NULL)
            fail_msg("\"%s\": reason \"%s\" lacks \"%s\"", v->in, r.error, v->want);
        assert_null(r.value.p);
        assert_null(r.column.p);
        break;
    case PCMD_NONE:
        assert_null(r.value.p);
        assert_null(r.column.p);
        break;
    }
    free(buf);
}

static const struct vec accepted[] = {
    /* SET, every spelling of the name */
    {"SET gtidproxy_consistency = 'strong'", PCMD_SET, CONS, "strong"},
    {"set GTIDPROXY_CONSISTENCY='eventual'", PCMD_SET, CONS, "eventual"},
    {"SET SESSION gtidproxy_consistency = \"session\"", PCMD_SET, CONS, "session"},
    {"SET session gtidproxy_token = '0-1-5,1-2-9'", PCMD_SET, TOKEN, "0-1-5,1-2-9"},
    {"SET @@gtidproxy_token = '0-1-5'", PCMD_SET, TOKEN, "0-1-5"},
    {"SET @@session.gtidproxy_token='0-1-5'", PCMD_SET, TOKEN, "0-1-5"},
    {"SET @@SESSION.GtidProxy_Consistency='global'", PCMD_SET, CONS, "global"},
    /* the value: both quotes, empty, a bare word for the level, taken as
     * written (the caller checks it) */
    {"SET gtidproxy_token = ''", PCMD_SET, TOKEN, ""},
    {"SET gtidproxy_token = \"\"", PCMD_SET, TOKEN, ""},
    {"SET gtidproxy_consistency = strong", PCMD_SET, CONS, "strong"},
    {"SET gtidproxy_consistency = DEFAULT", PCMD_SET, CONS, "DEFAULT"},
    {"SET gtidproxy_consistency = 'no-such-level'", PCMD_SET, CONS, "no-such-level"},
    {"SET gtidproxy_token = '3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5'", PCMD_SET, TOKEN,
     "3E11FA47-71CA-11E1-9E33-C80AA9429562:1-5"},
    {"SET gtidproxy_token = '0-1-5, 1-2-9'", PCMD_SET, TOKEN, "0-1-5, 1-2-9"},
    {"SET gtidproxy_token = \"it's\"", PCMD_SET, TOKEN, "it's"},
    /* blanks, comments, one trailing ';' */
    {"  \t\nSET\tgtidproxy_token\n=\r'0-1-5'  ", PCMD_SET, TOKEN, "0-1-5"},
    {"SET gtidproxy_token='0-1-5';", PCMD_SET, TOKEN, "0-1-5"},
    {"SET gtidproxy_token='0-1-5' ; -- done\n", PCMD_SET, TOKEN, "0-1-5"},
    {"/* lead */ SET /* a */ gtidproxy_token /* b */ = /* c */ '0-1-5' /* d */", PCMD_SET, TOKEN,
     "0-1-5"},
    {"# line\nSET gtidproxy_token = '0-1-5' # tail", PCMD_SET, TOKEN, "0-1-5"},
    {"/* gtidproxy: consistency=strong */ SET gtidproxy_token = '0-1-5'", PCMD_SET, TOKEN, "0-1-5"},
    /* SELECT */
    {"SELECT @@gtidproxy_token", PCMD_SELECT, TOKEN, "@@gtidproxy_token"},
    {"select @@GTIDPROXY_TOKEN;", PCMD_SELECT, TOKEN, "@@GTIDPROXY_TOKEN"},
    {"SELECT @@gtidproxy_consistency", PCMD_SELECT, CONS, "@@gtidproxy_consistency"},
    {"SELECT @@session.gtidproxy_token", PCMD_SELECT, TOKEN, "@@session.gtidproxy_token"},
    {"SELECT @@SESSION.gtidproxy_consistency ; ", PCMD_SELECT, CONS,
     "@@SESSION.gtidproxy_consistency"},
    {"/*x*/SELECT/*y*/@@gtidproxy_token/*z*/;/*w*/", PCMD_SELECT, TOKEN, "@@gtidproxy_token"},
    {"SELECT /*+ MAX_EXECUTION_TIME(5) */ @@gtidproxy_token", PCMD_SELECT, TOKEN,
     "@@gtidproxy_token"},
};

static const struct vec rejected[] = {
    /* two assignments, in either order */
    {"SET gtidproxy_token = '0-1-5', gtidproxy_consistency = 'strong'", PCMD_ERROR, 0,
     "no other assignment"},
    {"SET autocommit = 0, gtidproxy_token = '0-1-5'", PCMD_ERROR, 0, "no other assignment"},
    {"SET gtidproxy_token = '0-1-5', @a = 1", PCMD_ERROR, 0, "no other assignment"},
    {"SET SESSION sql_mode = '', SESSION gtidproxy_token = '1-1-1'", PCMD_ERROR, 0,
     "no other assignment"},
    /* server-wide scopes */
    {"SET GLOBAL gtidproxy_token = '0-1-5'", PCMD_ERROR, 0, "per session"},
    {"SET PERSIST gtidproxy_consistency = 'strong'", PCMD_ERROR, 0, "per session"},
    {"SET @@global.gtidproxy_token = '0-1-5'", PCMD_ERROR, 0, "per session"},
    {"SELECT @@GLOBAL.gtidproxy_consistency", PCMD_ERROR, 0, "per session"},
    /* unknown names, wherever they are */
    {"SET gtidproxy_foo = 1", PCMD_ERROR, 0, "unknown gtidproxy variable"},
    {"SET SESSION gtidproxy_tokens = '0-1-5'", PCMD_ERROR, 0, "unknown gtidproxy variable"},
    {"SELECT @@gtidproxy_foo", PCMD_ERROR, 0, "unknown gtidproxy variable"},
    {"SELECT @@session.gtidproxy_", PCMD_ERROR, 0, "unknown gtidproxy variable"},
    {"SELECT 1 FROM t WHERE @@gtidproxy_level = 2", PCMD_ERROR, 0, "unknown gtidproxy variable"},
    /* a larger SELECT */
    {"SELECT @@gtidproxy_token, 1", PCMD_ERROR, 0, "select a gtidproxy variable alone"},
    {"SELECT 1, @@gtidproxy_token", PCMD_ERROR, 0, "select a gtidproxy variable alone"},
    {"SELECT @@gtidproxy_token AS t", PCMD_ERROR, 0, "select a gtidproxy variable alone"},
    {"SELECT @@gtidproxy_token t", PCMD_ERROR, 0, "select a gtidproxy variable alone"},
    {"SELECT @@gtidproxy_token FROM dual", PCMD_ERROR, 0, "select a gtidproxy variable alone"},
    {"SELECT @@version, @@gtidproxy_token", PCMD_ERROR, 0, "select a gtidproxy variable alone"},
    {"SELECT CONCAT(@@gtidproxy_token)", PCMD_ERROR, 0, "select a gtidproxy variable alone"},
    {"SELECT", PCMD_NONE, 0, NULL}, /* no mention at all */
    /* other verbs */
    {"(SELECT @@gtidproxy_token)", PCMD_ERROR, 0, "is read with SELECT"},
    {"DO @@gtidproxy_token", PCMD_ERROR, 0, "is read with SELECT"},
    {"INSERT INTO t VALUES (@@gtidproxy_token)", PCMD_ERROR, 0, "is read with SELECT"},
    /* other spellings of the variable */
    {"SELECT @@local.gtidproxy_token", PCMD_ERROR, 0, "@@session.gtidproxy_x"},
    {"SELECT @@`gtidproxy_token`", PCMD_ERROR, 0, "@@session.gtidproxy_x"},
    {"SET @@`gtidproxy_token` = 'x'", PCMD_ERROR, 0, "@@session.gtidproxy_x"},
    {"SELECT @@gtidproxy_token.x", PCMD_ERROR, 0, "@@session.gtidproxy_x"},
    {"SET LOCAL gtidproxy_token = '0-1-5'", PCMD_ERROR, 0, "SET [SESSION] gtidproxy_x"},
    {"SET SESSION @@gtidproxy_token = '0-1-5'", PCMD_ERROR, 0, "SET [SESSION] gtidproxy_x"},
    {"SET `gtidproxy_token` = '0-1-5'", PCMD_ERROR, 0, "SET [SESSION] gtidproxy_x"},
    {"SET STATEMENT gtidproxy_token = '1-1-1' FOR SELECT 1", PCMD_ERROR, 0,
     "SET [SESSION] gtidproxy_x"},
    /* '=' and the value */
    {"SET gtidproxy_token := '0-1-5'", PCMD_ERROR, 0, "expected '='"},
    {"SET gtidproxy_token '0-1-5'", PCMD_ERROR, 0, "expected '='"},
    {"SET gtidproxy_token", PCMD_ERROR, 0, "expected '='"},
    {"SET gtidproxy_token =", PCMD_ERROR, 0, "missing value"},
    {"SET gtidproxy_token = ;", PCMD_ERROR, 0, "missing value"},
    {"SET gtidproxy_token = '0-1-\\5'", PCMD_ERROR, 0, "backslash"},
    {"SET gtidproxy_token = 'a\\'b'", PCMD_ERROR, 0, "backslash"},
    {"SET gtidproxy_consistency = \"str\\\"ong\"", PCMD_ERROR, 0, "backslash"},
    {"SET gtidproxy_token = 'it''s'", PCMD_ERROR, 0, "doubled quote"},
    {"SET gtidproxy_token = 0", PCMD_ERROR, 0, "must be a quoted string"},
    {"SET gtidproxy_token = abc", PCMD_ERROR, 0, "must be a quoted string"},
    {"SET gtidproxy_token = @x", PCMD_ERROR, 0, "must be a quoted string"},
    {"SET gtidproxy_consistency = 1", PCMD_ERROR, 0, "a quoted string or a word"},
    {"SET gtidproxy_consistency = `strong`", PCMD_ERROR, 0, "a quoted string or a word"},
    {"SET gtidproxy_token = _utf8mb4'0-1-5'", PCMD_ERROR, 0, "must be a quoted string"},
    {"SET gtidproxy_consistency = _latin1'strong'", PCMD_ERROR, 0, "unexpected text"},
    {"SET gtidproxy_token = '0-1-5' '1-1-1'", PCMD_ERROR, 0, "unexpected text"},
    {"SET gtidproxy_consistency = strong COLLATE utf8mb4_bin", PCMD_ERROR, 0, "unexpected text"},
    {"SET gtidproxy_token = CONCAT('0-1-5')", PCMD_ERROR, 0, "must be a quoted string"},
    {"SET gtidproxy_consistency = UPPER('strong')", PCMD_ERROR, 0, "unexpected text"},
    /* malformed text */
    {"SET gtidproxy_token = '0-1-5", PCMD_ERROR, 0, "unterminated"},
    {"SET gtidproxy_token = \"0-1-5", PCMD_ERROR, 0, "unterminated"},
    {"SELECT @@gtidproxy_token /* open", PCMD_ERROR, 0, "unterminated"},
    /* not alone in the query */
    {"SET gtidproxy_token = '0-1-5';;", PCMD_ERROR, 0, "only statement"},
    {"SET gtidproxy_token = '0-1-5'; SELECT 1", PCMD_ERROR, 0, "only statement"},
    {"SELECT 1; SELECT @@gtidproxy_token", PCMD_ERROR, 0, "only statement"},
    {"SET autocommit=0; SET gtidproxy_token = '0-1-5'", PCMD_ERROR, 0, "only statement"},
    {";SELECT @@gtidproxy_token", PCMD_ERROR, 0, "only statement"},
    /* executable comments: the server's version decides what runs */
    {"/*!40101 SET gtidproxy_token = '0-1-5' */", PCMD_ERROR, 0, "executable comment"},
    {"SELECT /*!99999 @@gtidproxy_token */", PCMD_ERROR, 0, "executable comment"},
    {"/*M! SET */ gtidproxy_token = '0-1-5'", PCMD_ERROR, 0, "executable comment"},
};

static const struct vec not_ours[] = {
    {"SET @gtidproxy_token = 1", PCMD_NONE, 0, NULL}, /* user variable */
    {"SELECT @gtidproxy_token", PCMD_NONE, 0, NULL},  /* user variable */
    {"SET @`gtidproxy_token` = 1", PCMD_NONE, 0, NULL},
    {"SELECT @@version", PCMD_NONE, 0, NULL},
    {"SELECT @@session.sql_mode", PCMD_NONE, 0, NULL},
    {"SET autocommit = 0", PCMD_NONE, 0, NULL},
    {"SET NAMES utf8mb4", PCMD_NONE, 0, NULL},
    {"SET SESSION TRANSACTION READ ONLY", PCMD_NONE, 0, NULL},
    {"SET @a = (SELECT gtidproxy_token FROM t)", PCMD_NONE, 0, NULL}, /* a column */
    {"SELECT gtidproxy_token FROM t", PCMD_NONE, 0, NULL},            /* a column */
    {"SELECT 'SELECT @@gtidproxy_token'", PCMD_NONE, 0, NULL},        /* in a string */
    {"SELECT 1 /* SET gtidproxy_token = 'x' */", PCMD_NONE, 0, NULL}, /* in a comment */
    {"SELECT 1 -- @@gtidproxy_token", PCMD_NONE, 0, NULL},
    {"SELECT 'abc", PCMD_NONE, 0, NULL}, /* malformed, but not ours: the server says so */
    {"SET x = 'abc ; SET gtidproxy_token = '", PCMD_NONE, 0, NULL}, /* all inside a string */
    {"SET", PCMD_NONE, 0, NULL},
    {";", PCMD_NONE, 0, NULL},
    {"", PCMD_NONE, 0, NULL},
};

static void run(const struct vec *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        check_vec(&v[i]);
}

static void test_accepted(void **state)
{
    (void)state;
    run(accepted, sizeof accepted / sizeof accepted[0]);
}

static void test_rejected(void **state)
{
    (void)state;
    run(rejected, sizeof rejected / sizeof rejected[0]);
}

static void test_not_ours(void **state)
{
    (void)state;
    run(not_ours, sizeof not_ours / sizeof not_ours[0]);
}

/* The caller runs pcmd_parse only on texts the classifier calls
 * SESSION/SET, or READ with CLASSIFY_F_SYS_VAR (proto_pcmd.h): every
 * accepted shape must be one of those, or the proxy would never see it. */
static void test_accepted_reach_the_parser(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        const char *in = accepted[i].in;
        struct classify_result c;
        assert_int_equal(classify_query(in, strlen(in), 0, &c), PROTO_OK);
        bool reached = (c.kind == CLASSIFY_SESSION && c.sub == CLASSIFY_SUB_SET) ||
                       (c.kind == CLASSIFY_READ && (c.flags & CLASSIFY_F_SYS_VAR));
        if (!reached)
            fail_msg("\"%s\" classifies as %s/%s", in, classify_kind_name(c.kind),
                     classify_sub_name(c.sub));
    }
}

/* A NUL byte ends the text for the lexer (ERROR): a statement that named a
 * variable before it is malformed, never accepted with the rest ignored. */
static void test_nul_byte(void **state)
{
    (void)state;
    static const char in[] = "SET gtidproxy_token = '0-1-5'\0; DROP TABLE t";
    struct pcmd r;
    uint8_t *buf;
    parse_exact(in, sizeof in - 1, &r, &buf);
    assert_int_equal(r.kind, PCMD_ERROR);
    assert_non_null(strstr(r.error, "NUL"));
    free(buf);
}

/* The view points at the value inside the caller's text. */
static void test_views_into_text(void **state)
{
    (void)state;
    static const char in[] = "SET gtidproxy_token = \"0-1-5\"";
    struct pcmd r;
    assert_int_equal(pcmd_parse(in, sizeof in - 1, &r), PROTO_OK);
    assert_int_equal(r.kind, PCMD_SET);
    assert_ptr_equal(r.value.p, (const uint8_t *)in + 23);
    assert_int_equal(r.value.len, 5);
}

/* Every prefix of accepted texts parses without reading past its end, and
 * a prefix that cuts the value short is never accepted with a wrong value. */
static void test_truncations(void **state)
{
    (void)state;
    static const char *const texts[] = {
        "SET SESSION gtidproxy_token = '0-1-5,1-2-9';",
        "SELECT @@session.gtidproxy_consistency;",
        "/* c */ SET @@gtidproxy_consistency = \"strong\" -- x",
    };
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        size_t n = strlen(texts[i]);
        for (size_t k = 0; k <= n; k++) {
            struct pcmd r;
            uint8_t *buf;
            parse_exact(texts[i], k, &r, &buf);
            if (r.kind == PCMD_SET)
                assert_true(r.value.len == 11 || r.value.len == 6); /* whole value only */
            free(buf);
        }
    }
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(pcmd_kind_name(PCMD_NONE), "none");
    assert_string_equal(pcmd_kind_name(PCMD_SET), "set");
    assert_string_equal(pcmd_kind_name(PCMD_SELECT), "select");
    assert_string_equal(pcmd_kind_name(PCMD_ERROR), "error");
    assert_string_equal(pcmd_kind_name((enum pcmd_kind)99), "?");
    assert_string_equal(pcmd_var_name(PCMD_VAR_CONSISTENCY), "gtidproxy_consistency");
    assert_string_equal(pcmd_var_name(PCMD_VAR_TOKEN), "gtidproxy_token");
    assert_string_equal(pcmd_var_name((enum pcmd_var)7), "?");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_accepted),        cmocka_unit_test(test_rejected),
        cmocka_unit_test(test_not_ours),        cmocka_unit_test(test_nul_byte),
        cmocka_unit_test(test_views_into_text), cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_names),           cmocka_unit_test(test_accepted_reach_the_parser),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
