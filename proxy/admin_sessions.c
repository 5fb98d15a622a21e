/*
 * admin_sessions.c - GET /sessions: every worker lists its own sessions on
 * its own loop (worker_call), so nothing of a session is read while its
 * worker changes it; the admin thread merges, orders by id and pages.
 */
#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "session.h"

/* A GTID set as JSON text ("" when empty); JSON null when out of memory. */
static json_t *gtid_json(const struct gtid_set *g)
{
    size_t len;
    char *text = gtid_set_text(g, &len);
    json_t *j = text ? json_stringn(text, len) : NULL;
    free(text);
    return j ? j : json_null();
}

/* Client-given text (user, schema) need not be UTF-8; JSON must be. */
static json_t *text_json(const char *t)
{
    json_t *j = json_string(t);
    return j ? j : json_string("(not UTF-8)");
}

static json_t *name_or_null(const struct proxy *px, const struct bconn *b)
{
    return b ? json_string(px->backends[b->idx].name) : json_null();
}

static json_t *session_json(struct worker *w, struct session *s, uint64_t now)
{
    struct proxy *px = w->px;
    bool logged_in = s->state != SESS_LOGIN;
    json_t *open = json_array();
    for (size_t i = 0; open && i < s->n_be; i++)
        if (s->be[i])
            json_array_append_new(open, json_string(px->backends[i].name));
    const char *pin = s->route.pins ? route_pin_why(s->route.pins)
                      : s->route.autocommit_off ? "autocommit=0"
                                                : NULL;
    enum gate_level level = s->level_set >= 0 ? (enum gate_level)s->level_set
                                              : (enum gate_level)s->level_cfg;
    const struct bconn *cur = s->cur ? s->cur : s->last;
    bool idle = s->state == SESS_IDLE;
    return json_pack(
        "{sI sI so ss so ss sb so so ss so so so so sI sI sI sI sI}", "id", (json_int_t)s->id,
        "worker", (json_int_t)w->idx, "user",
        logged_in ? text_json(s->auth.login.user) : json_null(), "client", s->peer, "schema",
        s->want.has_schema && s->want.schema[0] ? text_json(s->want.schema) : json_null(),
        "state", sess_state_name(s->state), "in_transaction", s->route.in_trx,
        "transaction_backend", name_or_null(px, s->trx), "pinned",
        pin ? json_string(pin) : json_null(), "consistency", gate_level_name(level),
        "write_gtid", gtid_json(&s->writes), "token_gtid", gtid_json(&s->token), "backend",
        name_or_null(px, cur), "backends_open", open ? open : json_array(), "connected_ms",
        (json_int_t)(now - s->connected_ms), "idle_ms",
        (json_int_t)(idle ? now - s->last_cmd_ms : 0), "queries", (json_int_t)s->queries,
        "bytes_in", (json_int_t)s->bytes_in, "bytes_out", (json_int_t)s->out.sent);
}

/* Runs on the worker's loop: appends its sessions to the array in arg. */
static void list_sessions(struct worker *w, void *arg)
{
    json_t *out = arg;
    uint64_t now = uv_now(&w->loop); /* the clock connected_ms/last_cmd_ms use */
    for (struct session *s = w->sessions; s; s = session_next(s)) {
        if (s->state == SESS_CLOSING)
            continue;
        json_t *j = session_json(w, s, now);
        if (j)
            json_array_append_new(out, j);
    }
}

static int by_id(const void *a, const void *b)
{
    json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "id"));
    json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "id"));
    return x < y ? -1 : x > y;
}

json_t *admin_view_sessions(const struct admin_ctx *a, size_t offset, size_t limit)
{
    json_t *all = json_array();
    if (!all)
        return NULL;
    for (unsigned i = 0; i < a->n_workers; i++)
        (void)worker_call(&a->workers[i], list_sessions, all); /* a stopped worker has none */
    size_t n = json_array_size(all);
    json_t **v = malloc((n ? n : 1) * sizeof *v);
    json_t *page = json_array();
    json_t *res = NULL;
    if (v && page) {
        for (size_t i = 0; i < n; i++)
            v[i] = json_array_get(all, i);
        qsort(v, n, sizeof *v, by_id);
        for (size_t i = offset; i < n && i - offset < limit; i++)
            json_array_append(page, v[i]);
        res = json_pack("{sI sI sI so}", "total", (json_int_t)n, "offset", (json_int_t)offset,
                        "limit", (json_int_t)limit, "sessions", page);
        page = NULL;
    }
    json_decref(page);
    free(v);
    json_decref(all);
    return res;
}
