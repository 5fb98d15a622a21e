/*
 * proxy.c - the shared runtime (proxy.h): snapshots, backends, the primary's
 * greeting profile.
 */
#include "proxy.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netdb.h>

#include "backend_probe.h"
#include "log.h"

uint64_t proxy_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t proxy_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int64_t proxy_unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

const char *backend_admin_name(enum backend_admin a)
{
    switch (a) {
#define BACKEND_ADMIN_CASE(name, text)                                                             \
    case name:                                                                                     \
        return text;
        BACKEND_ADMIN_LIST(BACKEND_ADMIN_CASE)
#undef BACKEND_ADMIN_CASE
    }
    return "?";
}

void proxy_backend_error(struct proxy *px, size_t idx, const char *fmt, ...)
{
    struct backend_info *b = &px->backends[idx];
    va_list ap;
    va_start(ap, fmt);
    pthread_mutex_lock(&b->err_lock);
    vsnprintf(b->last_error, sizeof b->last_error, fmt, ap);
    b->last_error_unix_ms = proxy_unix_ms();
    pthread_mutex_unlock(&b->err_lock);
    va_end(ap);
}

static struct proxy_snapshot *snapshot_new(struct config *cfg, char *err, size_t errlen)
{
    struct proxy_snapshot *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (cauth_users_build(cfg, &s->users, err, errlen) != 0) {
        free(s);
        return NULL;
    }
    s->cfg = cfg;
    s->loaded_unix_ms = proxy_unix_ms();
    return s;
}

int proxy_init(struct proxy *px, struct config *cfg, char *err, size_t errlen)
{
    memset(px, 0, sizeof *px);
    struct proxy_snapshot *s = snapshot_new(cfg, err, errlen);
    if (!s)
        return -1;
    px->backends = calloc(cfg->n_backends, sizeof *px->backends);
    if (!px->backends) {
        snprintf(err, errlen, "out of memory");
        cauth_users_free(&s->users);
        free(s);
        return -1;
    }
    px->n_backends = cfg->n_backends;
    for (size_t i = 0; i < cfg->n_backends; i++) {
        const struct config_backend *b = &cfg->backends[i];
        px->backends[i].name = b->name;
        px->backends[i].host = b->host;
        px->backends[i].port = b->port;
        atomic_init(&px->backends[i].weight, b->weight);
        pthread_mutex_init(&px->backends[i].err_lock, NULL);
        if (b->role == BACKEND_ROLE_PRIMARY)
            atomic_init(&px->primary_idx, i);
        char why[256];
        if (proxy_resolve(&px->backends[i], why, sizeof why) != 0)
            log_warn("backend %s: %s (will retry when used)", b->name, why);
    }
    if (cfg->cache_max_bytes > 0) {
        px->cache = calloc(1, sizeof *px->cache);
        int rc = px->cache ? cache_store_init(px->cache, (size_t)cfg->cache_max_bytes,
                                              cfg->cache_max_entry_bytes, 0)
                           : CACHE_E_NOMEM;
        if (rc != CACHE_OK) {
            snprintf(err, errlen, "cache: %s", cache_status_str(rc));
            free(px->cache);
            for (size_t i = 0; i < cfg->n_backends; i++)
                pthread_mutex_destroy(&px->backends[i].err_lock);
            free(px->backends);
            cauth_users_free(&s->users);
            free(s);
            return -1;
        }
    }
    pthread_mutex_init(&px->profile_lock, NULL);
    pthread_mutex_init(&px->writes_lock, NULL);
    pthread_mutex_init(&px->reload_lock, NULL);
    px->started_unix_ms = proxy_unix_ms();
    px->started_ms = proxy_now_ms();
    gtid_set_init(&px->writes, GTID_FLAVOR_MARIADB);
    atomic_init(&px->snap, s);
    return 0;
}

void proxy_destroy(struct proxy *px)
{
    struct proxy_snapshot *s = atomic_load(&px->snap);
    while (s) {
        struct proxy_snapshot *older = s->older;
        cauth_users_free(&s->users);
        config_free(s->cfg);
        free(s);
        s = older;
    }
    for (size_t i = 0; i < px->n_backends; i++)
        pthread_mutex_destroy(&px->backends[i].err_lock);
    free(px->backends);
    if (px->cache) {
        cache_store_free(px->cache);
        free(px->cache);
    }
    pthread_mutex_destroy(&px->reload_lock);
    pthread_mutex_destroy(&px->profile_lock);
    pthread_mutex_destroy(&px->writes_lock);
    gtid_set_free(&px->writes);
    memset(px, 0, sizeof *px);
}

int proxy_resolve(struct backend_info *b, char *err, size_t errlen)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    char port[8];
    snprintf(port, sizeof port, "%u", b->port);
    int rc = getaddrinfo(b->host, port, &hints, &res);
    if (rc != 0 || !res) {
        snprintf(err, errlen, "cannot resolve %s: %s", b->host, gai_strerror(rc));
        return -1;
    }
    memcpy(&b->addr, res->ai_addr, res->ai_addrlen);
    b->resolved = true;
    freeaddrinfo(res);
    return 0;
}

static void note(char *buf, size_t len, const char *what)
{
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s%s", used ? "; " : "", what);
}

static bool str_differs(const char *a, const char *b)
{
    return (a == NULL) != (b == NULL) || (a && strcmp(a, b) != 0);
}

/* Which parts of a new config cannot be applied to a running proxy. */
static void compare_fixed(const struct config *old, const struct config *cfg, char *na, size_t len)
{
    bool listeners = old->n_listeners != cfg->n_listeners;
    for (size_t i = 0; !listeners && i < cfg->n_listeners; i++)
        listeners = old->listeners[i].port != cfg->listeners[i].port ||
                    strcmp(old->listeners[i].address, cfg->listeners[i].address) != 0;
    if (listeners)
        note(na, len, "listeners (restart to apply)");
    bool backends = old->n_backends != cfg->n_backends;
    for (size_t i = 0; !backends && i < cfg->n_backends; i++)
        backends = strcmp(old->backends[i].name, cfg->backends[i].name) != 0 ||
                   strcmp(old->backends[i].host, cfg->backends[i].host) != 0 ||
                   old->backends[i].port != cfg->backends[i].port ||
                   old->backends[i].role != cfg->backends[i].role;
    if (backends)
        note(na, len, "backends other than weights (restart to apply)");
    if (old->workers != cfg->workers)
        note(na, len, "workers (restart to apply)");
    if (old->admin_enabled != cfg->admin_enabled || old->admin_port != cfg->admin_port ||
        str_differs(old->admin_address, cfg->admin_address) ||
        str_differs(old->admin_token, cfg->admin_token) ||
        old->admin_max_connections != cfg->admin_max_connections ||
        old->admin_max_body != cfg->admin_max_body)
        note(na, len, "admin (restart to apply)");
    if (old->cache_max_bytes != cfg->cache_max_bytes ||
        old->cache_max_entry_bytes != cfg->cache_max_entry_bytes)
        note(na, len, "cache.max_bytes and cache.max_entry_bytes (restart to apply)");
}

int proxy_reload(struct proxy *px, struct config *cfg, char *not_applied, size_t len, char *err,
                 size_t errlen)
{
    not_applied[0] = '\0';
    struct proxy_snapshot *old = proxy_snap(px);
    compare_fixed(old->cfg, cfg, not_applied, len);
    struct proxy_snapshot *s = snapshot_new(cfg, err, errlen);
    if (!s)
        return -1;
    /* Weights apply when the backend list itself is unchanged. */
    if (cfg->n_backends == px->n_backends)
        for (size_t i = 0; i < cfg->n_backends; i++)
            if (strcmp(cfg->backends[i].name, px->backends[i].name) == 0)
                atomic_store(&px->backends[i].weight, cfg->backends[i].weight);
    s->older = old;
    atomic_store_explicit(&px->snap, s, memory_order_release);
    return 0;
}

int proxy_probe_primary(struct proxy *px, char *err, size_t errlen)
{
    const struct backend_info *b = &px->backends[proxy_primary(px)];
    struct bauth_server srv;
    if (backend_probe(b->host, b->port, proxy_snap(px)->cfg->connect_timeout_ms, &srv, err,
                      errlen) != 0)
        return -1;
    pthread_mutex_lock(&px->profile_lock);
    px->profile = srv;
    px->have_profile = true;
    pthread_mutex_unlock(&px->profile_lock);
    return 0;
}

bool proxy_profile(struct proxy *px, struct bauth_server *out)
{
    pthread_mutex_lock(&px->profile_lock);
    bool ok = px->have_profile;
    if (ok)
        *out = px->profile;
    pthread_mutex_unlock(&px->profile_lock);
    return ok;
}

enum gtid_flavor proxy_flavor(struct proxy *px)
{
    pthread_mutex_lock(&px->profile_lock);
    bool mysql = px->have_profile && !px->profile.mariadb;
    pthread_mutex_unlock(&px->profile_lock);
    return mysql ? GTID_FLAVOR_MYSQL : GTID_FLAVOR_MARIADB;
}

void proxy_writes_add(struct proxy *px, const struct gtid_set *g)
{
    pthread_mutex_lock(&px->writes_lock);
    int rc = px->writes.flavor == g->flavor ? gtid_set_union(&px->writes, g)
                                            : gtid_set_copy(&px->writes, g);
    pthread_mutex_unlock(&px->writes_lock);
    if (rc != 0)
        log_warn("proxy-wide write set: %s (level global may miss a write)", gtid_status_str(rc));
}

int proxy_writes_copy(struct proxy *px, struct gtid_set *out)
{
    pthread_mutex_lock(&px->writes_lock);
    int rc = gtid_set_copy(out, &px->writes);
    pthread_mutex_unlock(&px->writes_lock);
    return rc;
}
