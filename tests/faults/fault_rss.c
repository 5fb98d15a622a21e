/*
 * fault_rss.c - the proxy's VmRSS, sampled every FAULT_RSS_PERIOD_MS
 * (fault_rss.h). Only base/max are kept: a case may run for minutes.
 */
#include "fault_rss.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

long fault_rss_read_kb(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", (long)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    char line[256];
    long kb = -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmRSS:", 6) == 0) {
            kb = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(f);
    return kb;
}

void fault_rss_bound_sanitizer(void)
{
    const char *cur = getenv("ASAN_OPTIONS");
    if (cur && strstr(cur, "quarantine_size_mb"))
        return;
    char opts[1024];
    snprintf(opts, sizeof opts, "%s%squarantine_size_mb=%d", cur ? cur : "", cur && *cur ? ":" : "",
             FAULT_ASAN_QUARANTINE_MB);
    setenv("ASAN_OPTIONS", opts, 1);
}

static void sample(struct fault_rss *s)
{
    long kb = fault_rss_read_kb(s->pid);
    if (kb < 0)
        return;
    long cur = atomic_load(&s->max_kb);
    while (kb > cur && !atomic_compare_exchange_weak(&s->max_kb, &cur, kb)) {
    }
}

static void *run(void *arg)
{
    struct fault_rss *s = arg;
    while (!atomic_load(&s->stop)) {
        struct timespec ts = {.tv_sec = 0, .tv_nsec = FAULT_RSS_PERIOD_MS * 1000000L}, t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
        }
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long slept = (t1.tv_sec - t0.tv_sec) * 1000L + (t1.tv_nsec - t0.tv_nsec) / 1000000L;
        if (slept - FAULT_RSS_PERIOD_MS > atomic_load(&s->max_lag_ms))
            atomic_store(&s->max_lag_ms, slept - FAULT_RSS_PERIOD_MS);
        sample(s);
    }
    return NULL;
}

int fault_rss_start(struct fault_rss *s, pid_t pid)
{
    memset(s, 0, sizeof *s);
    s->pid = pid;
    long kb = fault_rss_read_kb(pid);
    atomic_store(&s->base_kb, kb < 0 ? 0 : kb);
    atomic_store(&s->max_kb, kb < 0 ? 0 : kb);
    if (pthread_create(&s->thread, NULL, run, s) != 0)
        return -1;
    s->running = true;
    return 0;
}

void fault_rss_rebase(struct fault_rss *s)
{
    long kb = fault_rss_read_kb(s->pid);
    if (kb < 0)
        return;
    atomic_store(&s->base_kb, kb);
    atomic_store(&s->max_kb, kb);
}

long fault_rss_growth_kb(const struct fault_rss *s)
{
    long d = atomic_load(&s->max_kb) - atomic_load(&s->base_kb);
    return d > 0 ? d : 0;
}

void fault_rss_stop(struct fault_rss *s)
{
    if (!s->running)
        return;
    atomic_store(&s->stop, true);
    pthread_join(s->thread, NULL);
    s->running = false;
    sample(s);
}
