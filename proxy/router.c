/*
 * router.c - the routing rules (router.h).
 */
#include "router.h"

#include <strings.h>

const char *route_target_name(enum route_target t)
{
    static const char *const names[] = {
#define ROUTE_TARGET_NAME(name, text) text,
        ROUTE_TARGET_LIST(ROUTE_TARGET_NAME)
#undef ROUTE_TARGET_NAME
    };
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static bool keyword_is(const struct classify_result *cr, const char *kw)
{
    size_t n = 0;
    while (kw[n])
        n++;
    return cr->keyword.len == n && strncasecmp((const char *)cr->keyword.p, kw, n) == 0;
}

static void decide(struct route_decision *out, enum route_target t, const char *why)
{
    out->target = t;
    out->why = why;
}

void router_note_effects(const struct classify_result *cr, struct route_state *st,
                         bool may_release)
{
    if (cr->flags & CLASSIFY_F_USER_VAR_ASSIGN)
        st->user_vars = true;
    if ((cr->flags & CLASSIFY_F_TEMP_TABLE) && keyword_is(cr, "CREATE"))
        st->pins |= ROUTE_PIN_BIT(ROUTE_PIN_TEMP_TABLE);
    else if (keyword_is(cr, "LOCK"))
        st->pins |= ROUTE_PIN_BIT(ROUTE_PIN_LOCK);
    else if (may_release && keyword_is(cr, "UNLOCK"))
        st->pins &= ~ROUTE_PIN_BIT(ROUTE_PIN_LOCK);
}

const char *route_pin_why(unsigned pins)
{
    static const char *const names[] = {
#define ROUTE_PIN_NAME(name, text) text,
        ROUTE_PIN_LIST(ROUTE_PIN_NAME)
#undef ROUTE_PIN_NAME
    };
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (pins & ROUTE_PIN_BIT(i))
            return names[i];
    return NULL;
}

void router_decide(const struct classify_result *cr, struct route_state *st,
                   struct route_decision *out)
{
    const struct hint_set *h = &cr->hint;
    if (h->present && h->error) {
        decide(out, ROUTE_ERROR, h->error);
        return;
    }
    router_note_effects(cr, st, true);
    if (st->in_trx) {
        decide(out, ROUTE_TRX, "in transaction");
        return;
    }
    if (st->pins) {
        decide(out, ROUTE_PRIMARY, route_pin_why(st->pins));
        return;
    }
    if (st->autocommit_off) {
        decide(out, ROUTE_PRIMARY, "autocommit=0");
        return;
    }
    bool read_trx = cr->kind == CLASSIFY_TRX &&
                    (cr->sub == CLASSIFY_SUB_START || cr->sub == CLASSIFY_SUB_BEGIN) &&
                    cr->read_only == 1;
    if (h->present && h->route == HINT_ROUTE_PRIMARY) {
        decide(out, ROUTE_PRIMARY, "hint route=primary");
        return;
    }
    if (h->present && h->route == HINT_ROUTE_REPLICA) {
        if (cr->kind == CLASSIFY_READ || read_trx)
            decide(out, ROUTE_REPLICA, "hint route=replica");
        else
            decide(out, ROUTE_ERROR, "route=replica on a statement that is not read-only");
        return;
    }
    if (cr->kind == CLASSIFY_READ) {
        if (cr->flags & CLASSIFY_F_PREV_STMT_STATE)
            decide(out, ROUTE_LAST, "reads the previous statement's state");
        else if ((cr->flags & CLASSIFY_F_USES_USER_VAR) && st->user_vars)
            decide(out, ROUTE_PRIMARY, "reads user variables");
        else
            decide(out, ROUTE_REPLICA, "read");
        return;
    }
    if (read_trx) {
        decide(out, ROUTE_REPLICA, "read-only transaction");
        return;
    }
    decide(out, ROUTE_PRIMARY, cr->kind == CLASSIFY_WRITE ? "write" : classify_kind_name(cr->kind));
}
