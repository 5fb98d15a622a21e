/*
 * log.h - the proxy's log: one line per event on stderr, with a level that
 * can change at run time (SIGHUP reload).
 *
 *   2026-11-21T10:00:00.123Z gtidproxy[4242] info  w1 C#42 app@127.0.0.1:51234: routed to replica2
 *
 * Thread-safe: each line is formatted into a stack buffer and written with
 * one write(2), so lines from different workers never interleave. Context
 * (worker, session) is the caller's prefix; sessions use their own macro.
 */
#ifndef GTIDPROXY_LOG_H
#define GTIDPROXY_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

void log_set_level(enum log_level level);
enum log_level log_get_level(void);

static inline bool log_enabled(enum log_level level)
{
    return level <= log_get_level();
}

/* Writes one line if level is enabled. Lines longer than 1 KiB are cut. */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The timestamp form of log lines and the admin API, "2026-11-21T10:00:00.123Z"
 * (UTC), for unix_ms milliseconds since the epoch; cap >= LOG_TIME_LEN + 1.
 * Returns the length written (LOG_TIME_LEN), 0 if the time is unrepresentable. */
#define LOG_TIME_LEN 24
size_t log_time(char *buf, size_t cap, int64_t unix_ms);

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...)                                                                             \
    do {                                                                                           \
        if (log_enabled(LOG_DEBUG))                                                                \
            log_msg(LOG_DEBUG, __VA_ARGS__);                                                       \
    } while (0)

#endif
