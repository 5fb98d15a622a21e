/*
 * fault_rss.h - samples a process's resident set size (VmRSS in
 * /proc/<pid>/status) every 100 ms on a thread of its own, keeping only a
 * baseline and the maximum (bounded memory however long the case runs). The fault suite uses it on
 * the proxy: "the proxy's RSS stays bounded" is checked as max - baseline.
 */
#ifndef GTIDPROXY_FAULT_RSS_H
#define GTIDPROXY_FAULT_RSS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/types.h>

#define FAULT_RSS_PERIOD_MS 100

struct fault_rss {
    pid_t pid;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    atomic_long base_kb; /* set by fault_rss_rebase(); the first sample before that */
    atomic_long max_kb;  /* largest sample since the last rebase */
    /* The longest the sampler overslept its period, in ms: how long this
     * machine left a ready thread without a CPU. A case whose timings look
     * wrong while this is seconds measured the machine, not the proxy. */
    atomic_long max_lag_ms;
};

/*
 * Bounds AddressSanitizer's quarantine in the processes this one starts
 * from now on (the proxy): ASan keeps freed blocks resident up to
 * quarantine_size_mb (256 MB by default) to catch use-after-free, so under
 * load an ASan proxy's RSS climbs by the quarantine whether or not it leaks.
 * With FAULT_ASAN_QUARANTINE_MB the RSS bound measures the proxy; the
 * shorter quarantine still catches use-after-free of recent frees, and
 * LeakSanitizer still runs at exit. Appends to ASAN_OPTIONS unless it sets
 * quarantine_size_mb already; harmless for a proxy built without ASan.
 */
#define FAULT_ASAN_QUARANTINE_MB 16
void fault_rss_bound_sanitizer(void);

/* Reads VmRSS of pid now, in KB; -1 when the process is gone. Thread-safe. */
long fault_rss_read_kb(pid_t pid);

/* Starts sampling pid (takes one sample at once, which becomes the
 * baseline). Returns 0, or -1 when the thread cannot start. Thread-safe
 * with respect to other samplers; call start/stop from one thread. */
int fault_rss_start(struct fault_rss *s, pid_t pid);

/* Baseline := a sample taken now; the maximum restarts from it. Call it
 * when the warm-up is over (connections open, buffers grown once). */
void fault_rss_rebase(struct fault_rss *s);

/* max - base in KB (0 when nothing was sampled). */
long fault_rss_growth_kb(const struct fault_rss *s);

/* Stops and joins the sampler; safe on one never started. */
void fault_rss_stop(struct fault_rss *s);

#endif
