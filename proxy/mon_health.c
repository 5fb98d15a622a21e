/*
 * mon_health.c - the health state machine with hysteresis (mon_health.h).
 * Pure: the monitor (monitor.c) feeds it check results and logs what it
 * says changed.
 */
#include "mon_health.h"

#include <stdio.h>

const char *mon_health_name(enum mon_health h)
{
    switch (h) {
#define MON_HEALTH_CASE(name, text)                                                                \
    case name:                                                                                     \
        return text;
        MON_HEALTH_LIST(MON_HEALTH_CASE)
#undef MON_HEALTH_CASE
    case MON_HEALTH_N:
        break;
    }
    return "?";
}

void mon_health_init(struct mon_health_state *h, uint64_t now_ms)
{
    *h = (struct mon_health_state){.state = MON_UNKNOWN, .since_ms = now_ms};
}

/* Counts saturate: a server down for years must not wrap back to 0. */
static unsigned bump(unsigned n)
{
    return n < UINT32_MAX ? n + 1 : n;
}

bool mon_health_step(struct mon_health_state *h, bool ok, unsigned fall, unsigned rise,
                     uint64_t now_ms)
{
    fall = fall ? fall : 1;
    rise = rise ? rise : 1;
    enum mon_health next = h->state;
    if (ok) {
        h->fails = 0;
        h->oks = bump(h->oks);
        /* Only down makes a good check wait for company. */
        if (h->state != MON_DOWN || h->oks >= rise)
            next = MON_UP;
    } else {
        h->oks = 0;
        h->fails = bump(h->fails);
        if (h->fails >= fall)
            next = MON_DOWN;
        else if (h->state == MON_UP)
            next = MON_SUSPECT;
        /* unknown stays unknown until it answers or fall is reached;
         * suspect stays suspect. */
    }
    if (next == h->state)
        return false;
    h->state = next;
    h->since_ms = now_ms;
    h->transitions++;
    return true;
}

bool mon_health_recovering(const struct mon_health_state *h)
{
    return h->state == MON_DOWN && h->oks > 0;
}

unsigned mon_health_count(const struct mon_health_state *h)
{
    return h->state == MON_UP || mon_health_recovering(h) ? h->oks : h->fails;
}

const char *mon_health_reason(const struct mon_health_state *h, unsigned fall, unsigned rise,
                              const char *err, char *buf, size_t len)
{
    if (!len)
        return buf;
    fall = fall ? fall : 1;
    rise = rise ? rise : 1;
    const char *e = err && *err ? err : "not reachable";
    switch (h->state) {
    case MON_UP:
        buf[0] = '\0';
        break;
    case MON_UNKNOWN:
    case MON_SUSPECT: /* failing, not yet fall times in a row */
        if (h->fails == 0)
            snprintf(buf, len, "not checked yet");
        else
            snprintf(buf, len, "%s (failed %u/%u)", e, h->fails, fall);
        break;
    case MON_DOWN:
        if (h->oks > 0)
            snprintf(buf, len, "recovering %u/%u", h->oks, rise);
        else
            snprintf(buf, len, "%s", e);
        break;
    case MON_HEALTH_N:
    default:
        snprintf(buf, len, "?");
        break;
    }
    return buf;
}
