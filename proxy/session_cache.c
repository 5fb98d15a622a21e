/*
 * session_cache.c - the result cache as a session uses it (cache.h): which
 * reads it looks up, serving an entry, capturing a reply and storing it.
 *
 *   dispatch: a read for the gate ──▶ select: cacheable? limits? key
 *   gate: need known ──▶ consistent hit (tag ⊇ need, age ≤ ttl) ──▶ served, no backend
 *   proceed: the read goes to b ──▶ tag := known(b) (∪ need when the gate
 *            vouches for b; ∪ the proxy's writes on the primary); capture on
 *   relay: every byte the client gets ──▶ reply buffer (up to max_entry_bytes)
 *   reply done: one result set, no error/warning/state change ──▶ stored
 *   fallback step `cache` ──▶ entry age ≤ max_stale ──▶ served (stale serve)
 *
 * Which reads: COM_QUERY text reads the gate routes (so never inside a
 * transaction, with autocommit off, or in a session pinned to the primary)
 * that the classifier calls cacheable (no non-deterministic functions, user
 * or system variables, locking, several statements), selected by a query
 * rule with cache limits or a hint (`cache=on`, `max_stale_ms=`), and not
 * refused by a hint `cache=off`. Prepared statements are not cached (yet).
 *
 * Why the tag is a lower bound of what the read saw: it is taken before the
 * read is sent, and what a server has applied only grows. A tag ⊇ need
 * therefore proves the stored reply reflects every GTID the new read needs.
 */
#include <string.h>

#include "gtidproxy/proto_consts.h"
#include "gtidproxy/proto_reseq.h"
#include "log.h"
#include "proxy.h"
#include "session_int.h"
#include "worker.h"

/* The client capabilities that change the bytes of a text result set:
 * entries are shared only between clients that agree on them. */
#define CACHE_KEY_CAPS                                                                             \
    (PROTO_CAP(CLIENT_PROTOCOL_41) | PROTO_CAP(CLIENT_SESSION_TRACK) |                             \
     PROTO_CAP(CLIENT_DEPRECATE_EOF) | PROTO_CAP(CLIENT_OPTIONAL_RESULTSET_METADATA) |             \
     PROTO_CAP(CLIENT_MULTI_RESULTS) | PROTO_CAP(MARIADB_CLIENT_PROGRESS) |                        \
     PROTO_CAP(MARIADB_CLIENT_EXTENDED_METADATA) | PROTO_CAP(MARIADB_CLIENT_CACHE_METADATA))

static struct proxy *px_of(struct session *s)
{
    return s->w->px;
}

void session__cache_init(struct session *s, enum gtid_flavor f)
{
    gtid_set_init(&s->cache.tag, f);
    /* Blocks of the worker's pool, given back after each cached read: an
     * idle session holds none. */
    s->cache.key.pool = s->cache.reply.pool = &s->w->pool;
}

void session__cache_free(struct session *s)
{
    buf_free(&s->cache.key);
    buf_free(&s->cache.reply);
    gtid_set_free(&s->cache.tag);
}

/* ------------------------------------------------------------------ key --- */

static int put_u32(struct buf *b, uint32_t v)
{
    uint8_t le[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    return buf_append(b, le, sizeof le);
}

static int put_str(struct buf *b, const char *p, size_t n)
{
    return put_u32(b, (uint32_t)n) || buf_append(b, p, n);
}

/* Everything that makes two identical texts answer differently: the user
 * (privileges), the default schema, every session variable the client
 * changed (sql_mode, time_zone, character sets, ...), the handshake's
 * character set, the capabilities above; then the text. Each part is
 * length-prefixed, so no two different tuples give the same bytes. */
static int build_key(struct session *s, const uint8_t *text, size_t n)
{
    struct buf *k = &s->cache.key;
    buf_consume(k, buf_pending(k));
    uint64_t caps = s->caps & CACHE_KEY_CAPS;
    uint8_t head[9] = {s->charset};
    for (int i = 0; i < 8; i++)
        head[1 + i] = (uint8_t)(caps >> (8 * i));
    const struct sess_vars *v = &s->want;
    const char *schema = v->has_schema && v->schema ? v->schema : "";
    if (buf_append(k, head, sizeof head) ||
        put_str(k, s->auth.login.user, strlen(s->auth.login.user)) || put_u32(k, v->has_schema) ||
        put_str(k, schema, strlen(schema)) || put_u32(k, (uint32_t)v->n))
        return -1;
    for (size_t i = 0; i < v->n; i++)
        if (put_str(k, v->v[i].name, strlen(v->v[i].name)) ||
            put_str(k, v->v[i].value, strlen(v->v[i].value)))
            return -1;
    return buf_append(k, text, n);
}

/* ------------------------------------------------------------ selecting --- */

void session__cache_select(struct session *s, const struct classify_result *cr, const uint8_t *text,
                           size_t n, const struct query_rule *rule)
{
    const struct config *cfg = s->snap->cfg;
    struct sess_cache *c = &s->cache;
    const struct hint_set *h = &cr->hint;
    bool hinted = h->present && !h->error;
    if (!px_of(s)->cache || !cr->cacheable || s->cmd_com != PROTO_COM_QUERY || !s->cmd_whole)
        return;
    if (hinted && (h->keys & HINT_K_CACHE) && !h->cache) {
        worker_stat_add(&s->w->cache.bypasses, 1);
        return;
    }
    /* A rule that stores gives both limits; else a hint (cache=on, or a
     * max_stale_ms) selects the read with the cache's own limits. A hint's
     * max_stale_ms wins either way. */
    if (rule && query_rule_stores(rule)) {
        c->ttl_ms = rule->cache_ttl_ms;
        c->max_stale_ms = rule->max_stale_ms;
    } else if (hinted &&
               (((h->keys & HINT_K_CACHE) && h->cache) || (h->keys & HINT_K_MAX_STALE_MS))) {
        c->ttl_ms = cfg->cache_ttl_ms;
        c->max_stale_ms = cfg->cache_max_stale_ms;
    } else {
        return;
    }
    if (hinted && (h->keys & HINT_K_MAX_STALE_MS))
        c->max_stale_ms = h->max_stale_ms;
    if (build_key(s, text, n) != 0) {
        log_warn("C#%u out of memory building a cache key: not cached", s->id);
        return;
    }
    c->on = true;
}

/* -------------------------------------------------------------- serving --- */

/* The read is over: key and reply go back to the pool. */
static void release_buffers(struct sess_cache *c)
{
    buf_consume(&c->reply, buf_pending(&c->reply));
    buf_release(&c->reply);
    buf_consume(&c->key, buf_pending(&c->key));
    buf_release(&c->key);
}

void session__cache_drop(struct session *s)
{
    if (!s->cache.on)
        return;
    s->cache.on = s->cache.capture = false;
    release_buffers(&s->cache);
}

/* Queues e's reply as the answer to the current command; the caller
 * counts it, then flushes (counters move before the client can see the
 * answer and ask the admin API) and calls session__command_answered().
 * False when it cannot
 * (out of memory, a damaged entry): the caller goes on without. */
static bool serve(struct session *s, const struct cache_entry *e)
{
    size_t n;
    const uint8_t *v = cache_entry_value(e, &n);
    struct buf *out = wq_buf(&s->out);
    if (buf_reserve(out, n) != 0)
        return false;
    uint8_t *dst = out->data + out->len;
    memcpy(dst, v, n);
    if (proto_reseq(dst, n, (uint8_t)(s->cmd_last_seq + 1)) != PROTO_OK) {
        log_warn("C#%u a cached reply is not whole packets: not served", s->id);
        return false;
    }
    out->len += n;
    s->cache.on = s->cache.capture = false;
    release_buffers(&s->cache);
    s->g.active = false;
    s->g.phase = GPH_NONE;
    s->state = SESS_IDLE;
    session__count_route(s, NULL);
    return true;
}

/* The entry for the current command when age allows (max_age_ms), with a
 * reference held; NULL otherwise. */
static const struct cache_entry *lookup(struct session *s, unsigned max_age_ms, uint64_t now)
{
    struct cache_store *cs = px_of(s)->cache;
    const struct cache_entry *e =
        cache_get(cs, buf_head(&s->cache.key), buf_pending(&s->cache.key));
    if (e && cache_entry_age_ms(e, now) > max_age_ms) {
        cache_release(cs, e);
        e = NULL;
    }
    return e;
}

bool session__cache_serve_consistent(struct session *s)
{
    struct sess_cache *c = &s->cache;
    if (!c->on)
        return false;
    if (c->ttl_ms > 0) {
        struct cache_store *cs = px_of(s)->cache;
        const struct cache_entry *e = lookup(s, c->ttl_ms, proxy_now_ms());
        bool ok = e && gtid_set_contains(cache_entry_tag(e), &s->need) && serve(s, e);
        cache_release(cs, e);
        if (ok) {
            log_debug("C#%u %s read served from the cache (consistent)", s->id,
                      gate_level_name(s->g.level));
            worker_stat_add(&s->w->cache.hits, 1);
            session_flush(s);
            session__command_answered(s);
            return true;
        }
        worker_stat_add(&s->w->cache.misses, 1); /* looked up, not served */
    }
    c->capture = true; /* the read goes to a server: keep its reply */
    return false;
}

bool session__cache_serve_stale(struct session *s)
{
    struct sess_cache *c = &s->cache;
    if (!c->on || c->max_stale_ms == 0)
        return false;
    struct cache_store *cs = px_of(s)->cache;
    const struct cache_entry *e = lookup(s, c->max_stale_ms, proxy_now_ms());
    bool ok = e && serve(s, e);
    if (ok)
        log_debug("C#%u %s read served from the cache, %llu ms old (%s)", s->id,
                  gate_level_name(s->g.level),
                  (unsigned long long)cache_entry_age_ms(e, proxy_now_ms()), s->g.why);
    cache_release(cs, e);
    if (ok)
        worker_stat_add(&s->w->cache.stale_serves, 1);
    return ok;
}

/* ------------------------------------------------------------ capturing --- */

/* The read is about to be sent to b: what b has applied now is what the
 * reply will reflect at least. */
void session__cache_sending(struct session *s, const struct bconn *b)
{
    struct sess_cache *c = &s->cache;
    if (!c->capture)
        return;
    struct proxy *px = px_of(s);
    buf_consume(&c->reply, buf_pending(&c->reply));
    c->server = b->idx;
    int rc = monitor_known_copy(&px->mon, b->idx, &c->tag);
    /* The gate still vouching for b (direct, or a wait that must succeed
     * before the read runs) means b has applied the need too. */
    if (rc == 0 && s->g.active)
        rc = gtid_set_union(&c->tag, &s->need);
    if (rc == 0 && b->idx == proxy_primary(px)) {
        /* Every write acknowledged through this proxy is on the primary. */
        rc = proxy_writes_copy(px, &s->scratch);
        if (rc == 0)
            rc = gtid_set_union(&c->tag, &s->scratch);
    }
    if (rc != 0)
        c->capture = false;
}

void session_cache_reply(struct session *s, const uint8_t *p, size_t n)
{
    struct sess_cache *c = &s->cache;
    if (!c->capture)
        return;
    if (buf_pending(&c->reply) + n > px_of(s)->cache->max_entry_bytes ||
        buf_append(&c->reply, p, n) != 0) {
        c->capture = false; /* too big (or no memory): served, not stored */
        buf_consume(&c->reply, buf_pending(&c->reply));
        buf_release(&c->reply);
    }
}

/* True for a reply the cache may hand to another client later: one whole
 * result set that ended cleanly outside any transaction, with nothing the
 * client would look at afterwards (warnings, changed session state). */
static bool storable(const struct proto_trk_result *r)
{
    return !r->is_error && r->status_valid && r->result_sets == 1 && r->oks == 0 &&
           !(r->status & (PROTO_SERVER_MORE_RESULTS_EXISTS | PROTO_SERVER_STATUS_IN_TRANS)) &&
           r->warnings == 0 && r->session_states == 0 && !r->local_infile && !r->out_params;
}

void session__cache_done(struct session *s, const struct proto_trk_result *res)
{
    struct sess_cache *c = &s->cache;
    c->on = false;
    if (!c->capture)
        return; /* every reply passes here: nothing to do for most */
    c->capture = false;
    if (storable(res)) {
        int rc =
            cache_put(px_of(s)->cache, buf_head(&c->key), buf_pending(&c->key), buf_head(&c->reply),
                      buf_pending(&c->reply), &c->tag, (unsigned)c->server, proxy_now_ms());
        if (rc != CACHE_OK && rc != CACHE_E_TOO_BIG)
            log_warn("C#%u reply not cached: %s", s->id, cache_status_str(rc));
    }
    release_buffers(c);
}
