/*
 * session_gate.c - the consistency gate as a session applies it (DESIGN.md
 * section 3): what the session wrote, the level and need of each read, the
 * replica it goes to, the catch-up wait ahead of it, and the fallback chain.
 *
 *   read ─▶ level, need ─▶ strong? ask the monitor for the primary's set (SESS_GATE)
 *                        └▶ pick: a replica known to be caught up ─▶ send (no extra trip)
 *                                 the closest usable replica ──────▶ wait + read in one
 *                                                                     multi-statement, or
 *                                                                     a wait statement first
 *                                 none usable, or the wait failed ─▶ fallback chain:
 *                                     cache (an entry within max_stale_ms) · primary ·
 *                                     error · replica
 *   (a read the result cache holds a consistent entry for is answered from
 *    it before any of this: session_cache.c)
 *
 * A wait never outlives the read's budget: the wait statement carries what
 * is left of it, and the session timer (budget + GATE_GRACE_MS) abandons a
 * replica that does not answer at all (SIGSTOP, dead network). Nothing of a
 * gated read reaches the client before the wait succeeded, so every
 * fallback is safe.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gtidproxy/proto_frame.h"
#include "gtidproxy/proto_pcmd.h"
#include "log.h"
#include "proxy.h"
#include "session_int.h"
#include "worker.h"

/* How long past its budget a wait may stay unanswered before the replica
 * is abandoned (the server's own timeout normally answers first). */
#define GATE_GRACE_MS 100
/* Wait statements up to this size are built on the stack. */
#define GATE_SQL_MAX 512

static struct proxy *px_of(struct session *s)
{
    return s->w->px;
}

static const struct config *cfg_of(struct session *s)
{
    return s->snap->cfg;
}

static const char *bname(struct session *s, size_t idx)
{
    return px_of(s)->backends[idx].name;
}

void session__gate_init(struct session *s, enum gtid_flavor f)
{
    s->level_set = -1;
    gtid_set_init(&s->writes, f);
    gtid_set_init(&s->token, f);
    gtid_set_init(&s->need, f);
    gtid_set_init(&s->scratch, f);
}

void session__gate_free(struct session *s)
{
    gtid_set_free(&s->writes);
    gtid_set_free(&s->token);
    gtid_set_free(&s->need);
    gtid_set_free(&s->scratch);
}

/* A login or COM_CHANGE_USER: the user's level, a clean slate otherwise. */
void session__gate_login(struct session *s)
{
    const struct config *cfg = cfg_of(s);
    s->level_cfg = s->listener < cfg->n_listeners ? cfg->listeners[s->listener].consistency
                                                  : cfg->default_level;
    for (size_t i = 0; i < cfg->n_users; i++)
        if (strcmp(cfg->users[i].name, s->auth.login.user) == 0 && cfg->users[i].consistency >= 0)
            s->level_cfg = (enum consistency_level)cfg->users[i].consistency;
    s->level_set = -1;
    gtid_set_clear(&s->writes);
    gtid_set_clear(&s->token);
}

/* ------------------------------------------------------- write tracking --- */

/* An OK from backend b for a command sent to the primary (of that time):
 * the GTID it committed joins the session's and the proxy's write sets. A
 * GTID the proxy cannot read would break read-your-writes silently, so the
 * session then stays on the primary. */
void session__track_write(struct session *s, struct bconn *b, const struct proto_ok *ok)
{
    if (!ok->has_session_state || !b->to_primary)
        return;
    int rc = gate_ok_gtids(ok, &s->scratch);
    if (rc == 0)
        return;
    if (rc < 0 || (rc = gtid_set_union(&s->writes, &s->scratch)) != 0) {
        log_warn("C#%u unreadable GTID in an OK from %s (%s): reads pinned to the primary", s->id,
                 bname(s, b->idx), gtid_status_str(rc));
        s->route.pins |= ROUTE_PIN_BIT(ROUTE_PIN_BAD_GTID);
        return;
    }
    proxy_writes_add(px_of(s), &s->scratch);
}

/* ------------------------------------------------------------ counting --- */

static void count(struct session *s, enum gate_outcome o)
{
    gate_count(&s->w->gate, s->g.level, o);
}

/* ------------------------------------------------------------ fallback --- */

static void finish_answered(struct session *s)
{
    s->g.active = false;
    s->g.phase = GPH_NONE;
    session__command_answered(s);
}

/* A catch-up wait on replica idx ended after us microseconds. */
static void count_wait(struct session *s, size_t idx, uint64_t us, bool reached)
{
    struct backend_info *b = &px_of(s)->backends[idx];
    gate_count_wait(&s->w->gate, us, reached);
    atomic_fetch_add_explicit(&b->waits, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&b->wait_us, us, memory_order_relaxed);
    if (!reached)
        atomic_fetch_add_explicit(&b->wait_timeouts, 1, memory_order_relaxed);
}

/* Why replica i cannot take a read now, NULL when it can: the operator's
 * say (offline; draining unless this session holds a connection there),
 * the session's reasons (failed for this read, weight 0, refused a
 * connection lately), then the monitor's (fresh: may serve gated reads;
 * else: reachable). Only `explain` spells out the monitor's reason: that
 * takes the backend's lock, which picking a replica per read must not. */
static const char *replica_unusable(struct session *s, size_t i, uint64_t now, bool fresh,
                                    bool explain)
{
    struct proxy *px = px_of(s);
    struct backend_info *b = &px->backends[i];
    if (i == proxy_primary(px))
        return "not a replica";
    int admin = atomic_load_explicit(&b->admin, memory_order_relaxed);
    if (admin == BACKEND_OFFLINE)
        return "offline (admin)";
    if (admin == BACKEND_DRAINING && !s->be[i])
        return "draining (admin)";
    if (session__was_tried(s, i))
        return "failed for this read";
    if (atomic_load(&b->weight) == 0)
        return "weight 0";
    if (atomic_load(&b->down_until_ms) > now)
        return "refused a connection";
    unsigned lag = cfg_of(s)->max_replica_lag_ms;
    if (fresh && explain)
        return monitor_unusable_why(&px->mon, i, lag);
    if (fresh)
        return monitor_replica_usable(&px->mon, i, lag) ? NULL : "unusable (monitor)";
    return monitor_reachable(&px->mon, i) ? NULL : "down";
}

size_t session__pick_replica(struct session *s, bool fresh)
{
    struct proxy *px = px_of(s);
    uint64_t now = proxy_now_ms();
    struct gate_replica r[CONFIG_MAX_BACKENDS];
    for (size_t i = 0; i < px->n_backends; i++) {
        bool ok = replica_unusable(s, i, now, fresh, false) == NULL;
        r[i] = (struct gate_replica){
            .usable = ok, .caught_up = true, .weight = ok ? atomic_load(&px->backends[i].weight) : 0};
    }
    bool direct;
    return gate_pick(r, px->n_backends, s->w->rr++, &direct);
}

static void explain_none_usable(struct session *s, uint64_t now);

/* g->why for a log line or the ERR. "No replica usable" is written only
 * here: a read that falls back to the primary while every replica is
 * out would otherwise format a few hundred bytes nobody reads. */
static const char *why_text(struct session *s)
{
    if (s->g.why_later) {
        s->g.why_later = false;
        explain_none_usable(s, proxy_now_ms());
    }
    return s->g.why;
}

/* Walks the rest of the fallback chain (why: what failed, for logs and
 * the ERR; NULL: no replica was usable, explained when asked). */
static void fallback(struct session *s, const char *why)
{
    struct sess_gate *g = &s->g;
    g->phase = GPH_NONE;
    uv_timer_stop(&s->timer);
    g->why_later = why == NULL;
    if (why && why != g->why)
        snprintf(g->why, sizeof g->why, "%s", why);
    while (g->next_step < g->n_chain) {
        enum fallback_step step = g->chain[g->next_step++];
        switch (step) {
        case FALLBACK_CACHE:
            if (!session__cache_serve_stale(s))
                continue;
            count(s, GATE_FB_CACHE);
            session_flush(s);
            finish_answered(s);
            return;
        case FALLBACK_PRIMARY:
            log_debug("C#%u %s read -> primary (%s)", s->id, gate_level_name(g->level),
                      why_text(s));
            count(s, GATE_FB_PRIMARY);
            g->active = false;
            s->cmd_is_read = false; /* the primary is the last resort: no retry */
            session__run_on(s, proxy_primary(px_of(s)));
            return;
        case FALLBACK_REPLICA: {
            size_t idx = session__pick_replica(s, false);
            if (idx == SIZE_MAX)
                continue;
            log_debug("C#%u %s read -> %s, may be stale (%s)", s->id, gate_level_name(g->level),
                      bname(s, idx), why_text(s));
            count(s, GATE_FB_STALE);
            g->active = false;
            session__run_on(s, idx);
            return;
        }
        case FALLBACK_ERROR:
            break;
        }
        break;
    }
    count(s, GATE_FB_ERROR);
    session__count_route(s, NULL);
    g->active = false;
    s->state = SESS_IDLE;
    session__reply_error(s, GP_ER_CONSISTENCY, "gtidproxy: consistency level %s not reached: %s",
                         gate_level_name(g->level), why_text(s));
    finish_answered(s);
}

/* ------------------------------------------------------------- routing --- */

/* Formats `need` into buf for messages ("0-1-42", cut with "..."). */
static void need_text(struct session *s, char *buf, size_t cap)
{
    struct proto_wr w;
    proto_wr_init(&w, buf, cap - 1);
    gtid_set_format(&s->need, &w);
    size_t n = w.len <= cap - 1 ? w.len : cap - 1;
    if (proto_wr_finish(&w) != PROTO_OK && cap > 4) {
        n = cap - 4;
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
}

/* "needs 0-1-42; no replica usable: replica1 SQL thread stopped,
 * replica2 down" into g->why. */
static void explain_none_usable(struct session *s, uint64_t now)
{
    struct proxy *px = px_of(s);
    char need[96];
    need_text(s, need, sizeof need);
    size_t n = (size_t)snprintf(s->g.why, sizeof s->g.why, "needs %s; no replica usable:",
                                need[0] ? need : "nothing");
    for (size_t i = 0; i < px->n_backends && n < sizeof s->g.why; i++)
        if (i != proxy_primary(px))
            n += (size_t)snprintf(s->g.why + n, sizeof s->g.why - n, " %s %s,", bname(s, i),
                                  replica_unusable(s, i, now, true, true));
    if (n > 0 && n < sizeof s->g.why && s->g.why[n - 1] == ',')
        s->g.why[n - 1] = '\0';
}

/* Chooses where the read goes now that its need is known. */
static void route(struct session *s)
{
    struct proxy *px = px_of(s);
    struct sess_gate *g = &s->g;
    uint64_t now = proxy_now_ms();
    bool empty = gtid_set_is_empty(&s->need);
    struct gate_replica r[CONFIG_MAX_BACKENDS];
    for (size_t i = 0; i < px->n_backends; i++) {
        r[i] = (struct gate_replica){0};
        if (replica_unusable(s, i, now, true, false))
            continue;
        r[i].usable = true;
        r[i].weight = atomic_load(&px->backends[i].weight);
        /* One look under the replica's lock: missing is 0 exactly when
         * known ⊇ need (gtid_set.h). */
        r[i].missing = empty ? 0 : monitor_known_missing(&px->mon, i, &s->need);
        r[i].caught_up = r[i].missing == 0;
    }
    bool direct = false;
    size_t idx;
    if (g->prefer < px->n_backends && r[g->prefer].usable && r[g->prefer].caught_up) {
        idx = g->prefer; /* a prepared statement's home: no re-prepare */
        direct = true;
    } else {
        idx = gate_pick(r, px->n_backends, s->w->rr++, &direct);
    }
    if (idx == SIZE_MAX) {
        fallback(s, NULL);
        return;
    }
    if (direct) {
        log_debug("C#%u %s read -> %s (caught up)", s->id, gate_level_name(g->level),
                  bname(s, idx));
        count(s, GATE_DIRECT);
        g->phase = GPH_NONE;
        session__run_on(s, idx);
        return;
    }
    if (now >= g->deadline_ms) {
        char need[96];
        need_text(s, need, sizeof need);
        snprintf(g->why, sizeof g->why, "needs %s; no replica had applied it within %u ms", need,
                 g->budget_ms);
        fallback(s, g->why);
        return;
    }
    g->phase = GPH_WAIT;
    g->wait_idx = idx;
    uv_timer_start(&s->timer, session__on_timer, g->deadline_ms - now + GATE_GRACE_MS, 0);
    session__run_on(s, idx);
}

/* The strong level's look-up answered (or not yet: 0). */
static int strong_step(struct session *s)
{
    char why[96];
    int rc = monitor_strong_result(&px_of(s)->mon, s->g.strong_ticket, &s->scratch, why,
                                   sizeof why);
    if (rc == 0)
        return 0;
    s->g.phase = GPH_NONE;
    if (rc < 0) {
        snprintf(s->g.why, sizeof s->g.why, "the primary's executed set is unknown: %s", why);
        fallback(s, s->g.why);
        return 1;
    }
    if (gtid_set_union(&s->need, &s->scratch) != 0) {
        fallback(s, "out of memory");
        return 1;
    }
    s->state = SESS_WAIT_BACKEND;
    if (session__cache_serve_consistent(s))
        return 1;
    route(s);
    return 1;
}

void session__gate_strong_ready(struct session *s)
{
    if (s->state == SESS_GATE && s->g.phase == GPH_STRONG)
        (void)strong_step(s);
}

/* Starts routing a read through the gate (hint: the statement's, or NULL). */
void session__gate_begin(struct session *s, const struct hint_set *hint, size_t prefer)
{
    const struct config *cfg = cfg_of(s);
    struct sess_gate *g = &s->g;
    bool hinted = hint && hint->present && !hint->error;
    g->active = true;
    g->phase = GPH_NONE;
    g->prefer = prefer;
    g->why[0] = '\0';
    g->why_later = false;
    /* hint ▸ session statement ▸ query rule ▸ user ▸ listener ▸ default */
    const struct query_rule *q = s->cmd_rule;
    enum consistency_level configured =
        q && q->consistency >= 0 ? (enum consistency_level)q->consistency : s->level_cfg;
    g->level = gate_level_for(configured, s->level_set, hinted ? hint : NULL);
    g->budget_ms = hinted && (hint->keys & HINT_K_WAIT_MS) ? hint->wait_ms : cfg->wait_timeout_ms;
    g->deadline_ms = proxy_now_ms() + g->budget_ms;
    g->next_step = 0;
    if (hinted && (hint->keys & HINT_K_FALLBACK)) {
        static const enum fallback_step map[] = {
            [HINT_FB_CACHE] = FALLBACK_CACHE,
            [HINT_FB_PRIMARY] = FALLBACK_PRIMARY,
            [HINT_FB_REPLICA] = FALLBACK_REPLICA,
            [HINT_FB_ERROR] = FALLBACK_ERROR,
        };
        g->n_chain = 0;
        for (unsigned i = 0; i < hint->n_fallback && i < CONFIG_MAX_FALLBACK; i++)
            if (hint->fallback[i] != HINT_FB_NONE)
                g->chain[g->n_chain++] = map[hint->fallback[i]];
    } else if (q && q->n_fallback > 0) {
        g->n_chain = (unsigned)q->n_fallback;
        memcpy(g->chain, q->fallback, sizeof g->chain);
    } else {
        g->n_chain = (unsigned)cfg->n_fallback;
        memcpy(g->chain, cfg->fallback, sizeof g->chain);
    }
    /* The hint's token (a view into the command text) is parsed now. */
    const struct gtid_set *token = gtid_set_is_empty(&s->token) ? NULL : &s->token;
    bool token_always = token != NULL;
    if (g->level == GATE_TOKEN && hinted && (hint->keys & HINT_K_TOKEN)) {
        size_t off = 0;
        int rc = gtid_set_parse(&s->scratch, (const char *)hint->token.p, hint->token.len, &off);
        if (rc != 0 || (token && gtid_set_union(&s->scratch, token) != 0)) {
            g->active = false;
            session__reply_error(s, GP_ER_PROXY_STMT,
                                 "gtidproxy: token '%.*s' is not a %s GTID set (%s at offset %zu)",
                                 (int)hint->token.len, (const char *)hint->token.p,
                                 gtid_flavor_name(s->writes.flavor), gtid_status_str(rc), off);
            return;
        }
        token = &s->scratch;
    }
    /* global: the proxy's writes, copied (scratch is free: a hint token
     * means level token). strong: the primary's set joins later. */
    int rc = 0;
    if (g->level == GATE_GLOBAL)
        rc = proxy_writes_copy(px_of(s), &s->scratch);
    if (rc == 0)
        rc = gate_need(&s->need, g->level, &s->writes, g->level == GATE_GLOBAL ? &s->scratch : NULL,
                       NULL, token, token_always);
    if (rc != 0) {
        g->active = false;
        session__reply_error(s, GP_ER_OUT_OF_MEMORY, "gtidproxy: cannot compute the read's need: %s",
                             gtid_status_str(rc));
        return;
    }
    if (g->level == GATE_STRONG) {
        g->strong_ticket = monitor_strong_request(&px_of(s)->mon);
        g->phase = GPH_STRONG;
        s->state = SESS_GATE;
        uv_timer_start(&s->timer, session__on_timer, g->budget_ms + GATE_GRACE_MS, 0);
        return;
    }
    s->state = SESS_WAIT_BACKEND;
    if (session__cache_serve_consistent(s))
        return;
    route(s);
}

/* The read failed on a replica before any byte of it reached the client. */
void session__gate_retry(struct session *s)
{
    uv_timer_stop(&s->timer);
    s->g.phase = GPH_NONE;
    s->state = SESS_WAIT_BACKEND;
    route(s);
}

/* The session timer fired while the gate waited. */
void session__gate_timer(struct session *s)
{
    struct sess_gate *g = &s->g;
    if (g->phase == GPH_STRONG) {
        snprintf(g->why, sizeof g->why, "the primary's executed set was not known within %u ms",
                 g->budget_ms);
        fallback(s, g->why);
        return;
    }
    if (g->phase != GPH_WAIT && g->phase != GPH_WAIT_SENT)
        return;
    size_t idx = g->wait_idx;
    struct bconn *b = s->be[idx];
    if (g->phase == GPH_WAIT_SENT)
        count_wait(s, idx, proxy_now_us() - g->wait_started_us, false);
    char need[96];
    need_text(s, need, sizeof need);
    snprintf(g->why, sizeof g->why, "needs %s; %s did not answer within %u ms", need,
             bname(s, idx), g->budget_ms);
    log_info("C#%u %s; abandoning that connection", s->id, g->why);
    if (b)
        session__drop_backend(s, b);
    session__mark_tried(s, idx);
    s->state = SESS_WAIT_BACKEND;
    fallback(s, g->why);
}

/*
 * Called by proceed() when b is ready for the command. Returns 0 to send
 * the command as it is, 1 when the gate sent something itself (a wait
 * alone, or the wait and the query together: the reply is underway), -1
 * after answering the client.
 */
int session__gate_before_send(struct session *s, struct bconn *b)
{
    struct sess_gate *g = &s->g;
    if (!g->active || g->phase != GPH_WAIT || b->idx != g->wait_idx)
        return 0;
    uint64_t now = proxy_now_ms();
    unsigned left = now < g->deadline_ms ? (unsigned)(g->deadline_ms - now) : 0;
    /* The statement is its fixed text plus the need's; a need too long for
     * the stack (many domains or uuids) gets the heap. */
    char sql[GATE_SQL_MAX];
    struct buf big = {0};
    size_t cap = gtid_set_format_len(&s->need) + GATE_WAIT_SQL_FIXED;
    char *text = sql;
    if (cap > sizeof sql) {
        if (buf_reserve(&big, cap) != 0) {
            session__reply_error(s, GP_ER_OUT_OF_MEMORY, "out of memory");
            return -1;
        }
        text = (char *)big.data;
    } else {
        cap = sizeof sql;
    }
    struct proto_wr w;
    proto_wr_init(&w, text, cap);
    gate_wait_sql(&w, &s->need, left);
    size_t len = w.len;
    g->phase = GPH_WAIT_SENT;
    g->wait_started_us = proxy_now_us();
    int rc;
    const uint8_t *payload = buf_head(&s->cmd) + PROTO_FRAME_HDR_LEN;
    size_t plen = s->cmd_wire - PROTO_FRAME_HDR_LEN;
    bool prefix = s->cmd_com == PROTO_COM_QUERY && s->cmd_whole &&
                  (b->caps & PROTO_CAP(CLIENT_MULTI_STATEMENTS)) &&
                  plen + len + 1 < PROTO_MAX_PAYLOAD;
    log_debug("C#%u wait on %s for %u ms (%s): %.*s", s->id, bname(s, b->idx), left,
              prefix ? "prefixed" : "separate", (int)len, text);
    b->to_primary = false; /* waits run on replicas only */
    if (prefix)
        rc = bconn_send_query_waited(b, text, len, payload + 1, plen - 1);
    else
        rc = bconn_send_wait(b, text, len);
    buf_free(&big);
    if (rc != 0) {
        session__reply_error(s, GP_ER_OUT_OF_MEMORY, "out of memory");
        return -1;
    }
    if (prefix) {
        session__count_route(s, b);
        s->cur = b;
        s->state = SESS_RUNNING;
    }
    return 1;
}

/* The wait on b ended (from backend.c): reached, or not (why: the ERR). */
void session_wait_done(struct session *s, struct bconn *b, bool reached, const char *why)
{
    struct sess_gate *g = &s->g;
    if (!g->active || g->phase != GPH_WAIT_SENT || b->idx != g->wait_idx)
        return;
    uint64_t us = proxy_now_us() - g->wait_started_us;
    count_wait(s, b->idx, us, reached);
    uv_timer_stop(&s->timer);
    if (reached) {
        monitor_known_raise(&px_of(s)->mon, b->idx, &s->need);
        count(s, GATE_WAITED);
        g->phase = GPH_NONE;
        if (s->state == SESS_WAIT_BACKEND) /* a separate wait: now the command */
            session__proceed(s, b);
        return;
    }
    char need[96];
    need_text(s, need, sizeof need);
    snprintf(g->why, sizeof g->why, "needs %s; %s had not applied it within %u ms", need,
             bname(s, b->idx), g->budget_ms);
    if (why && b->err_code != GATE_WAIT_TIMEOUT_ERRNO) /* a timeout is no surprise */
        log_warn("C#%u wait on %s failed: %s", s->id, bname(s, b->idx), why);
    s->cur = NULL;
    s->state = SESS_WAIT_BACKEND;
    session__mark_tried(s, b->idx);
    fallback(s, g->why);
}

/* ---------------------------------------------- statements answered here --- */

static void reply_row(struct session *s, const char *column, size_t column_len, const char *value,
                      size_t len)
{
    struct proto_str name = {(const uint8_t *)column, column_len};
    struct proto_str val = {(const uint8_t *)value, len};
    size_t cap = 256 + 2 * column_len + len;
    struct buf *out = wq_buf(&s->out);
    if (buf_reserve(out, cap) != 0) {
        session_close(s, false, "out of memory");
        return;
    }
    struct proto_wr w;
    proto_wr_init(&w, out->data + out->len, cap);
    int rc = proto_rs_write_row(&w, s->caps, (uint8_t)(s->cmd_last_seq + 1),
                                session__status(s), s->charset, 1, &name, &val);
    if (rc < 0 || proto_wr_finish(&w) != PROTO_OK) {
        session__reply_error(s, GP_ER_OUT_OF_MEMORY, "gtidproxy: cannot build the reply");
        return;
    }
    out->len += w.len;
    session_flush(s);
}

/* SELECT @@gtidproxy_token: what this session wrote, plus a token handed in. */
static void select_token(struct session *s, struct proto_str column)
{
    int rc = gtid_set_copy(&s->scratch, &s->writes);
    if (rc == 0)
        rc = gtid_set_union(&s->scratch, &s->token);
    size_t len;
    char *text = rc == 0 ? gtid_set_text(&s->scratch, &len) : NULL;
    if (!text) {
        session__reply_error(s, GP_ER_OUT_OF_MEMORY, "out of memory");
        return;
    }
    reply_row(s, (const char *)column.p, column.len, text, len);
    free(text);
}

static void set_consistency(struct session *s, struct proto_str v)
{
    if (v.len == 7 && strncasecmp((const char *)v.p, "default", 7) == 0) {
        s->level_set = -1;
        session__reply_ok(s);
        return;
    }
    for (int l = 0; l <= (int)CONSISTENCY_STRONG; l++) {
        const char *name = consistency_level_name((enum consistency_level)l);
        if (strlen(name) == v.len && strncasecmp(name, (const char *)v.p, v.len) == 0) {
            s->level_set = l;
            session__reply_ok(s);
            return;
        }
    }
    session__reply_error(s, GP_ER_PROXY_STMT,
                         "gtidproxy: gtidproxy_consistency must be eventual, session, global, "
                         "strong or default, not '%.*s'",
                         (int)v.len, (const char *)v.p);
}

static void set_token(struct session *s, struct proto_str v)
{
    size_t off = 0;
    int rc = gtid_set_parse(&s->scratch, (const char *)v.p, v.len, &off);
    if (rc != 0) {
        session__reply_error(s, GP_ER_PROXY_STMT,
                             "gtidproxy: gtidproxy_token '%.*s' is not a %s GTID set (%s at "
                             "offset %zu)",
                             (int)v.len, (const char *)v.p, gtid_flavor_name(s->token.flavor),
                             gtid_status_str(rc), off);
        return;
    }
    if (gtid_set_copy(&s->token, &s->scratch) != 0) {
        session__reply_error(s, GP_ER_OUT_OF_MEMORY, "out of memory");
        return;
    }
    session__reply_ok(s);
}

/* Statements the proxy answers itself (proto_pcmd.h). True when the
 * command was answered here. */
bool session__proxy_stmt(struct session *s, const struct classify_result *cr, const uint8_t *text,
                         size_t n)
{
    /* Every shape pcmd_parse answers, and its mistakes (SET GLOBAL, SET
     * with other assignments, several statements), is one of these; other
     * traffic pays nothing. */
    bool set = cr->keyword.len == 3 && strncasecmp((const char *)cr->keyword.p, "SET", 3) == 0;
    bool maybe = set || (cr->flags & CLASSIFY_F_SYS_VAR) ||
                 ((cr->flags & CLASSIFY_F_MULTI_STATEMENT) && cr->kind != CLASSIFY_READ);
    if (!maybe)
        return false;
    struct pcmd pc;
    (void)pcmd_parse(text, n, &pc);
    switch (pc.kind) {
    case PCMD_NONE:
        return false;
    case PCMD_ERROR:
        session__reply_error(s, GP_ER_PROXY_STMT, "gtidproxy: %s", pc.error);
        return true;
    case PCMD_SET:
        if (pc.var == PCMD_VAR_CONSISTENCY)
            set_consistency(s, pc.value);
        else
            set_token(s, pc.value);
        return true;
    case PCMD_SELECT:
        if (pc.var == PCMD_VAR_TOKEN) {
            select_token(s, pc.column);
        } else {
            const char *l = s->level_set >= 0
                                ? consistency_level_name((enum consistency_level)s->level_set)
                                : consistency_level_name(s->level_cfg);
            reply_row(s, (const char *)pc.column.p, pc.column.len, l, strlen(l));
        }
        return true;
    }
    return false;
}
