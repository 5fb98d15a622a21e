/*
 * hints.c - gtidproxy query hints: `gtidproxy: key=value ...` in a comment.
 *
 * Owns the hint syntax documented in classify.h (keys, values, limits) and
 * its validation. The classifier hands it the text of every comment it
 * meets; this file decides whether that text is a hint and fills a
 * struct hint_set. Views in the set point into the caller's query text.
 *
 * Fail loudly: anything not understood makes the hint invalid with a
 * reason (the proxy answers with an error), never silently ignored, so a
 * typo like `consistancy=strong` cannot downgrade a read's consistency.
 */
#include "gtidproxy/classify.h"

#include <string.h>

static const char *const cons_names[] = {
#define CONS_NAME(name, text) text,
    HINT_CONSISTENCY_LIST(CONS_NAME)
#undef CONS_NAME
};

static const char *const fb_names[] = {
#define FB_NAME(name, text) text,
    HINT_FALLBACK_LIST(FB_NAME)
#undef FB_NAME
};

static const char *const route_names[] = {
#define ROUTE_NAME(name, text) text,
    HINT_ROUTE_LIST(ROUTE_NAME)
#undef ROUTE_NAME
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

const char *hint_consistency_name(enum hint_consistency c)
{
    return (unsigned)c < NELEM(cons_names) ? cons_names[c] : "?";
}

const char *hint_fallback_name(enum hint_fallback f)
{
    return (unsigned)f < NELEM(fb_names) ? fb_names[f] : "?";
}

const char *hint_route_name(enum hint_route r)
{
    return (unsigned)r < NELEM(route_names) ? route_names[r] : "?";
}

void hint_init(struct hint_set *h)
{
    memset(h, 0, sizeof *h);
}

static bool blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

#define HINT_PREFIX     "gtidproxy:"
#define HINT_PREFIX_LEN (sizeof HINT_PREFIX - 1)

/* Offset just past the prefix, or 0 when the text is not a hint. */
static size_t prefix_end(const uint8_t *body, size_t len)
{
    size_t i = 0;
    while (i < len && blank(body[i]))
        i++;
    if (len - i < HINT_PREFIX_LEN || !proto_ieq(body + i, HINT_PREFIX_LEN, HINT_PREFIX))
        return 0;
    return i + HINT_PREFIX_LEN;
}

bool hint_is_hint(const uint8_t *body, size_t len)
{
    return prefix_end(body, len) != 0;
}

static int bad(struct hint_set *h, const char *why, const uint8_t *at, size_t n)
{
    if (!h->error) {
        h->error = why;
        h->error_at.p = at;
        h->error_at.len = n;
    }
    return PROTO_EBAD;
}

/* Decimal 0..max; no sign, no blanks, at most 10 digits. */
static bool parse_uint(const uint8_t *p, size_t n, uint32_t max, uint32_t *out)
{
    if (n == 0 || n > 10)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > max)
        return false;
    *out = (uint32_t)v;
    return true;
}

/* GTID set text, unquoted: MariaDB d-s-n lists and MySQL uuid:ranges. */
static bool token_chars(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t c = p[i];
        bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  c == ':' || c == ',' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

static int set_fallback(struct hint_set *h, const uint8_t *v, size_t n)
{
    size_t i = 0;
    h->n_fallback = 0;
    for (;;) {
        size_t j = i;
        while (j < n && v[j] != ',')
            j++;
        if (j == i)
            return bad(h, "empty entry in fallback list", v, n);
        enum hint_fallback f = HINT_FB_NONE;
        for (unsigned k = HINT_FB_NONE + 1; k < NELEM(fb_names); k++)
            if (proto_ieq(v + i, j - i, fb_names[k]))
                f = (enum hint_fallback)k;
        if (f == HINT_FB_NONE)
            return bad(h, "unknown fallback (cache, primary, replica, error)", v + i, j - i);
        for (unsigned k = 0; k < h->n_fallback; k++)
            if (h->fallback[k] == f)
                return bad(h, "fallback listed twice", v + i, j - i);
        if (h->n_fallback == HINT_MAX_FALLBACK)
            return bad(h, "too many fallbacks", v, n);
        h->fallback[h->n_fallback++] = f;
        if (j == n)
            return PROTO_OK;
        i = j + 1;
    }
}

/* One key=value. */
static int apply(struct hint_set *h, const uint8_t *k, size_t kn, const uint8_t *v, size_t vn,
                 bool quoted)
{
    unsigned key = 0;
#define KEY_MATCH(name, bit, text)                                                                 \
    if (proto_ieq(k, kn, text))                                                                    \
        key = HINT_K_##name;
    HINT_KEY_LIST(KEY_MATCH)
#undef KEY_MATCH
    if (key == 0)
        return bad(h, "unknown gtidproxy hint key", k, kn);
    if (h->keys & key)
        return bad(h, "gtidproxy hint key given twice", k, kn);
    if (vn == 0)
        return bad(h, "empty gtidproxy hint value", k, kn);
    if (quoted && key != HINT_K_TOKEN)
        return bad(h, "only token= takes a quoted value", v, vn);
    h->keys |= key;

    switch (key) {
    case HINT_K_CONSISTENCY:
        for (unsigned i = HINT_CONS_UNSET + 1; i < NELEM(cons_names); i++)
            if (proto_ieq(v, vn, cons_names[i]))
                h->consistency = (enum hint_consistency)i;
        if (h->consistency == HINT_CONS_UNSET)
            return bad(h,
                       "bad consistency (eventual, session, global, strong, "
                       "token)",
                       v, vn);
        return PROTO_OK;
    case HINT_K_TOKEN:
        if (!quoted && !token_chars(v, vn))
            return bad(h,
                       "token has characters outside [0-9A-Za-z:,-]; "
                       "quote it",
                       v, vn);
        h->token.p = v;
        h->token.len = vn;
        return PROTO_OK;
    case HINT_K_WAIT_MS:
        if (!parse_uint(v, vn, HINT_MAX_WAIT_MS, &h->wait_ms))
            return bad(h, "wait_ms is not a number in 0..3600000", v, vn);
        return PROTO_OK;
    case HINT_K_MAX_STALE_MS:
        if (!parse_uint(v, vn, HINT_MAX_STALE_MS, &h->max_stale_ms))
            return bad(h, "max_stale_ms is not a number in 0..86400000", v, vn);
        return PROTO_OK;
    case HINT_K_FALLBACK:
        return set_fallback(h, v, vn);
    case HINT_K_ROUTE:
        if (proto_ieq(v, vn, "primary"))
            h->route = HINT_ROUTE_PRIMARY;
        else if (proto_ieq(v, vn, "replica"))
            h->route = HINT_ROUTE_REPLICA;
        else
            return bad(h, "bad route (primary, replica)", v, vn);
        return PROTO_OK;
    case HINT_K_CACHE:
        if (proto_ieq(v, vn, "on"))
            h->cache = true;
        else if (proto_ieq(v, vn, "off"))
            h->cache = false;
        else
            return bad(h, "bad cache (on, off)", v, vn);
        return PROTO_OK;
    default:
        return bad(h, "unknown gtidproxy hint key", k, kn);
    }
}

int hint_parse(const uint8_t *body, size_t len, struct hint_set *h)
{
    size_t i = prefix_end(body, len);
    if (i == 0)
        return PROTO_OK;
    h->present = true;
    if (h->error)
        return PROTO_EBAD;
    unsigned pairs = 0;
    for (;;) {
        while (i < len && blank(body[i]))
            i++;
        if (i >= len)
            break;
        size_t k = i;
        while (i < len && !blank(body[i]) && body[i] != '=')
            i++;
        if (i >= len || body[i] != '=' || i == k)
            return bad(h, "expected key=value in gtidproxy hint", body + k, i - k);
        size_t kn = i - k;
        i++; /* '=' */
        bool quoted = false;
        size_t v, vn;
        if (i < len && (body[i] == '\'' || body[i] == '"')) {
            uint8_t q = body[i];
            quoted = true;
            v = ++i;
            while (i < len && body[i] != q)
                i++;
            if (i >= len)
                return bad(h, "unterminated quoted value", body + v - 1, len - v + 1);
            vn = i - v;
            i++; /* closing quote */
            if (i < len && !blank(body[i]))
                return bad(h, "text after a quoted value", body + i, 1);
        } else {
            v = i;
            while (i < len && !blank(body[i]))
                i++;
            vn = i - v;
        }
        int rc = apply(h, body + k, kn, body + v, vn, quoted);
        if (rc != PROTO_OK)
            return rc;
        pairs++;
    }
    if (pairs == 0)
        return bad(h, "empty gtidproxy hint", body, len);
    return PROTO_OK;
}

int hint_finish(struct hint_set *h)
{
    if (h->error)
        return PROTO_EBAD;
    if (h->keys & HINT_K_TOKEN) {
        if (h->consistency == HINT_CONS_UNSET)
            h->consistency = HINT_CONS_TOKEN;
        else if (h->consistency != HINT_CONS_TOKEN)
            return bad(h, "token= conflicts with the consistency level", h->token.p, h->token.len);
    } else if (h->consistency == HINT_CONS_TOKEN) {
        return bad(h, "consistency=token needs token=", NULL, 0);
    }
    return PROTO_OK;
}
