/*
 * fuzz_classify.c - the statement classifier and its lexer on arbitrary
 * bytes. Crashing is not the only failure: every invariant below abort()s.
 *
 *   - a READ never carries a CLASSIFY_F_FORCE_PRIMARY flag; cacheable is
 *     exactly "READ without CLASSIFY_F_NOT_CACHEABLE";
 *   - kind/sub are valid enum values; every span and view lies inside the
 *     input; a valid hint's values are within their documented limits;
 *   - classifying twice gives the same answer (no hidden state);
 *   - fail-closed composition: if x is READ, x + "\n;DELETE FROM t" is
 *     WRITE (whatever x hides, an appended write is never read-only);
 *   - walking x with classify_stmt consumes it in at most n+1 steps;
 *   - lexer tokens move forward and stay inside the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gtidproxy/classify.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond))                                                                               \
            abort();                                                                               \
    } while (0)

static void check_view(struct proto_str v, const uint8_t *p, size_t n)
{
    if (v.len == 0)
        return;
    CHECK(v.p >= p && v.p + v.len <= p + n);
}

static void check_result(const struct classify_result *r, const uint8_t *p, size_t n, unsigned opts)
{
    CHECK((unsigned)r->kind <= CLASSIFY_OTHER);
    CHECK((unsigned)r->sub <= CLASSIFY_SUB_DEALLOCATE);
    if (r->kind == CLASSIFY_READ) {
        CHECK((r->flags & CLASSIFY_F_FORCE_PRIMARY) == 0);
        if (!(opts & CLASSIFY_O_STORED_FUNC_READ))
            CHECK((r->flags & CLASSIFY_F_STORED_FUNC) == 0);
    }
    CHECK(r->cacheable == (r->kind == CLASSIFY_READ && !(r->flags & CLASSIFY_F_NOT_CACHEABLE)));
    if (r->flags & CLASSIFY_F_LEX_ERROR)
        CHECK(r->kind == CLASSIFY_WRITE);
    CHECK(r->stmt_off + r->stmt_len <= n);
    CHECK(r->next <= n);
    CHECK(r->read_only >= -1 && r->read_only <= 1);
    CHECK(r->autocommit >= -1 && r->autocommit <= 1);
    check_view(r->keyword, p, n);
    check_view(r->name, p, n);
    check_view(r->prepare_text, p, n);
    const struct hint_set *h = &r->hint;
    if (h->present && !h->error) {
        CHECK(h->keys != 0);
        CHECK(h->wait_ms <= HINT_MAX_WAIT_MS);
        CHECK(h->max_stale_ms <= HINT_MAX_STALE_MS);
        CHECK(h->n_fallback <= HINT_MAX_FALLBACK);
        if (h->keys & HINT_K_TOKEN)
            CHECK(h->consistency == HINT_CONS_TOKEN && h->token.len > 0);
        check_view(h->token, p, n);
    }
    if (h->error)
        check_view(h->error_at, p, n);
    if (!h->present)
        CHECK(h->error == NULL && h->keys == 0);

    char small[24], big[1024];
    size_t need = classify_flags_format(r->flags, small, sizeof small);
    CHECK(strlen(small) < sizeof small);
    CHECK(classify_flags_format(r->flags, big, sizeof big) == need);
    CHECK(strlen(big) == need);
}

static void check_lexer(const uint8_t *p, size_t n, unsigned mode)
{
    struct classify_lexer lx;
    struct classify_token t;
    classify_lex_init(&lx, p, n, mode);
    size_t last = 0, count = 0;
    for (;;) {
        classify_lex_next(&lx, &t);
        CHECK(t.off >= last && t.off + t.len <= n);
        if (t.type == CLASSIFY_TOK_END)
            break;
        if (t.type != CLASSIFY_TOK_ERROR)
            CHECK(t.len > 0);
        last = t.off + t.len;
        CHECK(++count <= n + 1);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const unsigned opt_sets[] = {
        0,
        CLASSIFY_O_STORED_FUNC_READ,
        CLASSIFY_O_SQL_MODE_KNOWN,
        CLASSIFY_O_SQL_MODE_KNOWN | CLASSIFY_O_NO_BACKSLASH_ESCAPES | CLASSIFY_O_ANSI_QUOTES,
    };
    struct classify_result r, again;

    for (size_t i = 0; i < sizeof opt_sets / sizeof opt_sets[0]; i++) {
        unsigned opts = opt_sets[i];
        classify_query(data, size, opts, &r);
        check_result(&r, data, size, opts);
        classify_query(data, size, opts, &again);
        CHECK(again.kind == r.kind && again.sub == r.sub && again.flags == r.flags &&
              again.next == r.next && again.stmt_off == r.stmt_off);
    }

    /* Reference result for the rest: default options. */
    classify_query(data, size, 0, &r);
    if (r.kind == CLASSIFY_READ) {
        static const char tail[] = "\n;DELETE FROM t";
        size_t n2 = size + sizeof tail - 1;
        uint8_t *buf = malloc(n2);
        CHECK(buf != NULL);
        memcpy(buf, data, size);
        memcpy(buf + size, tail, sizeof tail - 1);
        classify_query(buf, n2, 0, &again);
        CHECK(again.kind == CLASSIFY_WRITE);
        CHECK(again.flags & CLASSIFY_F_MULTI_STATEMENT);
        free(buf);
    }

    size_t off = 0, steps = 0;
    while (off < size) {
        classify_stmt(data + off, size - off, 0, &again);
        check_result(&again, data + off, size - off, 0);
        CHECK(again.next <= size - off);
        if (again.next == 0)
            break; /* nothing consumed: only possible when no ';' follows */
        off += again.next;
        CHECK(++steps <= size + 1);
    }

    check_lexer(data, size, 0);
    check_lexer(data, size, CLASSIFY_LEX_COMMENTS | CLASSIFY_LEX_SQ_NOESC);
    check_lexer(data, size, CLASSIFY_LEX_SKIP_COND | CLASSIFY_LEX_DQ_IDENT);
    return 0;
}
