/*
 * reload.c - config reload with a report (reload.h).
 */
#include "reload.h"

#include <stdio.h>
#include <string.h>

#include "config_json.h"
#include "log.h"

/* "a; b" (proxy_reload's not_applied) into ["a", "b"]. */
static json_t *split_list(const char *text)
{
    json_t *a = json_array();
    for (const char *p = text; a && *p;) {
        const char *end = strstr(p, "; ");
        size_t n = end ? (size_t)(end - p) : strlen(p);
        json_array_append_new(a, json_stringn(p, n));
        p += n + (end ? 2 : 0);
    }
    return a;
}

/* "a, b, c" from a JSON array of strings, into buf. */
static void join_paths(const json_t *paths, char *buf, size_t cap)
{
    size_t used = 0, i;
    json_t *v;
    buf[0] = '\0';
    json_array_foreach(paths, i, v)
    {
        if (used >= cap)
            break;
        used += (size_t)snprintf(buf + used, cap - used, "%s%s", i ? ", " : "",
                                 json_string_value(v));
    }
}

json_t *reload_config(struct proxy *px, const char *file)
{
    char err[512], not_applied[512], changed_text[512];
    pthread_mutex_lock(&px->reload_lock);
    struct config *cfg = config_load(file, err, sizeof err);
    if (!cfg)
        goto failed;
    json_t *before = config_to_json(proxy_snap(px)->cfg, false);
    json_t *after = config_to_json(cfg, false);
    json_t *changed = before && after ? config_json_diff(before, after) : NULL;
    json_decref(before);
    json_decref(after);
    enum log_level level = cfg->log_level;
    if (proxy_reload(px, cfg, not_applied, sizeof not_applied, err, sizeof err) != 0) {
        config_free(cfg);
        json_decref(changed);
        goto failed;
    }
    log_set_level(level);
    atomic_fetch_add(&px->reloads, 1);
    if (!changed)
        changed = json_array();
    join_paths(changed, changed_text, sizeof changed_text);
    if (not_applied[0])
        log_warn("reloaded %s (changed: %s); not applied: %s", file,
                 changed_text[0] ? changed_text : "nothing", not_applied);
    else
        log_info("reloaded %s (changed: %s)", file, changed_text[0] ? changed_text : "nothing");
    pthread_mutex_unlock(&px->reload_lock);
    return json_pack("{sb so so}", "reloaded", 1, "changed", changed, "not_applied",
                     split_list(not_applied));

failed:
    atomic_fetch_add(&px->reload_failures, 1);
    log_error("reload failed, keeping the running config: %s", err);
    pthread_mutex_unlock(&px->reload_lock);
    return json_pack("{sb ss}", "reloaded", 0, "error", err);
}
