/*
 * topology.c - the primary-role decision (topology.h).
 */
#include "topology.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *topo_state_name(enum topo_state s)
{
    switch (s) {
#define TOPO_STATE_CASE(name, text)                                                                \
    case name:                                                                                     \
        return text;
        TOPO_STATE_LIST(TOPO_STATE_CASE)
#undef TOPO_STATE_CASE
    }
    return "?";
}

int topology_init(struct topology *t, size_t n, size_t primary)
{
    memset(t, 0, sizeof *t);
    t->seen = calloc(n ? n : 1, sizeof *t->seen);
    if (!t->seen)
        return -1;
    t->n = n;
    t->primary = primary;
    t->state = TOPO_STABLE;
    t->candidate = SIZE_MAX;
    return 0;
}

void topology_free(struct topology *t)
{
    free(t->seen);
    t->seen = NULL;
    t->n = 0;
}

static bool set_state(struct topology *t, enum topo_state s, size_t candidate, uint64_t now)
{
    if (t->state == s && t->candidate == candidate)
        return false;
    t->state = s;
    t->candidate = candidate;
    t->state_since = now;
    return true;
}

/* Were a and b both claiming at some moment, as far as anyone saw? */
static bool overlap(const struct topo_seen *a, const struct topo_seen *b)
{
    return a->claims && b->claims && a->seen_at >= b->claim_since && b->seen_at >= a->claim_since;
}

/* Every backend but c seen not claiming since c began to. */
static bool others_settled(const struct topology *t, size_t c)
{
    for (size_t i = 0; i < t->n; i++)
        if (i != c && (t->seen[i].claims || t->seen[i].seen_at < t->seen[c].claim_since))
            return false;
    return true;
}

bool topology_observe(struct topology *t, size_t idx, bool claims, uint64_t now_ms,
                      uint64_t confirm_ms, bool follow)
{
    if (idx >= t->n)
        return false;
    struct topo_seen *o = &t->seen[idx];
    if (claims && !o->claims)
        o->claim_since = now_ms;
    o->claims = claims;
    o->seen_at = now_ms;

    size_t candidate = SIZE_MAX;
    for (size_t i = 0; i < t->n; i++) {
        for (size_t j = i + 1; j < t->n; j++)
            if (overlap(&t->seen[i], &t->seen[j]))
                return set_state(t, TOPO_SPLIT, SIZE_MAX, now_ms);
        if (i != t->primary && t->seen[i].claims && candidate == SIZE_MAX)
            candidate = i;
    }
    /* A split just ended: whoever still claims has claimed beside another
     * writable server, which says nothing about being the one to follow
     * (the other may only have missed a check). Confirm it from now. */
    if (t->state == TOPO_SPLIT)
        for (size_t i = 0; i < t->n; i++)
            if (t->seen[i].claims)
                t->seen[i].claim_since = now_ms;
    if (candidate == SIZE_MAX || !follow)
        return set_state(t, TOPO_STABLE, SIZE_MAX, now_ms);
    bool changed = set_state(t, TOPO_PENDING, candidate, now_ms);
    if (now_ms - t->seen[candidate].claim_since < confirm_ms || !others_settled(t, candidate))
        return changed;
    t->primary = candidate;
    t->changes++;
    set_state(t, TOPO_STABLE, SIZE_MAX, now_ms);
    return true;
}

void topology_describe(const struct topology *t, const char *const *names, char *out, size_t len)
{
    size_t used = 0;
    switch (t->state) {
    case TOPO_STABLE:
        snprintf(out, len, "%s is the primary", names[t->primary]);
        return;
    case TOPO_PENDING:
        snprintf(out, len,
                 "%s claims the primary role (read_only=0, not replicating) while %s is "
                 "the primary: confirming",
                 names[t->candidate], names[t->primary]);
        return;
    case TOPO_SPLIT:
        used = (size_t)snprintf(out, len,
                                "more than one backend is writable (read_only=0, not "
                                "replicating):");
        for (size_t i = 0; i < t->n && used < len; i++)
            if (t->seen[i].claims)
                used += (size_t)snprintf(out + used, len - used, " %s", names[i]);
        return;
    }
    snprintf(out, len, "?");
}
