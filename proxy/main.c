/*
 * main.c - the gtidproxy command line and process lifecycle.
 *
 *   gtidproxy -c FILE          run in the foreground, log to stderr
 *   gtidproxy --check-config -c FILE
 *   gtidproxy status [...]     a table from a running proxy's admin API
 *
 * The main thread loads the config, learns the primary's greeting, starts
 * the workers and then only handles signals: SIGTERM/SIGINT drain and stop,
 * SIGHUP reloads what can change safely and logs what could not.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <uv.h>

#include "admin.h"
#include "admin_cli.h"
#include "config.h"
#include "log.h"
#include "proxy.h"
#include "reload.h"
#include "worker.h"

/* Until the primary answers, retry its greeting this often. */
#define PROBE_RETRY_MS 1000

struct app {
    const char *file;
    struct proxy px;
    struct worker *workers;
    unsigned n_workers;
    uv_loop_t *loop;
    uv_signal_t sig_term, sig_int, sig_hup, sig_usr1;
    uv_timer_t probe;
    bool stopping;
    struct admin_ctx admin;
};

static void usage(FILE *out)
{
    fprintf(out, "usage: gtidproxy -c FILE                 run with the given config file\n"
                 "       gtidproxy --check-config -c FILE  validate FILE and exit\n"
                 "       gtidproxy status [-c FILE] [--admin URL] [--token T] [--json]\n"
                 "                                         a running proxy's state\n"
                 "       gtidproxy --version | --help\n");
}

static void on_probe(uv_timer_t *t)
{
    struct app *app = t->data;
    char err[256];
    if (proxy_probe_primary(&app->px, err, sizeof err) != 0) {
        log_warn("primary %s not reachable yet: %s", app->px.backends[proxy_primary(&app->px)].name, err);
        return;
    }
    log_info("primary %s is %s", app->px.backends[proxy_primary(&app->px)].name, app->px.profile.version);
    uv_timer_stop(t);
}

static void stop(struct app *app, const char *why)
{
    if (app->stopping)
        return;
    app->stopping = true;
    log_info("%s: stopping (no new sessions; in-flight statements finish)", why);
    atomic_store(&app->px.draining, true);
    for (unsigned i = 0; i < app->n_workers; i++)
        worker_wake(&app->workers[i]);
    uv_close((uv_handle_t *)&app->sig_term, NULL);
    uv_close((uv_handle_t *)&app->sig_int, NULL);
    uv_close((uv_handle_t *)&app->sig_hup, NULL);
    uv_close((uv_handle_t *)&app->sig_usr1, NULL);
    uv_close((uv_handle_t *)&app->probe, NULL);
    /* Closing the handles restored the default actions; a second signal
     * must not kill the drain (it is bounded) or the exit that follows. */
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
    signal(SIGHUP, SIG_IGN);
}

static json_t *reload(void *arg)
{
    struct app *app = arg;
    return reload_config(&app->px, app->file);
}

/* Logs the consistency counters summed over the workers (SIGUSR1 and at
 * exit; the format is gate_counters_format's). */
static void log_stats(struct app *app)
{
    static struct gate_counters sum;
    memset(&sum, 0, sizeof sum);
    for (unsigned i = 0; i < app->n_workers; i++)
        gate_counters_add(&sum, &app->workers[i].gate);
    char buf[4096];
    gate_counters_format(&sum, buf, sizeof buf);
    for (char *line = buf, *end; *line; line = end + 1) {
        end = strchr(line, '\n');
        if (!end)
            break;
        log_info("%.*s", (int)(end - line), line);
    }
}

/* From a monitor thread: a strong look-up answered; wake every worker. */
static void on_strong(void *arg)
{
    struct app *app = arg;
    for (unsigned i = 0; i < app->n_workers; i++)
        worker_wake(&app->workers[i]);
}

static void on_signal(uv_signal_t *h, int signum)
{
    struct app *app = h->data;
    if (signum == SIGUSR1)
        log_stats(app);
    else if (signum == SIGHUP)
        json_decref(reload(app));
    else
        stop(app, signum == SIGTERM ? "SIGTERM" : "SIGINT");
}

static unsigned worker_count(const struct config *cfg)
{
    if (cfg->workers)
        return cfg->workers;
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (unsigned)n : 1;
}

static int run(struct app *app, struct config *cfg)
{
    char err[512];
    log_set_level(cfg->log_level);
    if (proxy_init(&app->px, cfg, err, sizeof err) != 0) {
        fprintf(stderr, "gtidproxy: %s\n", err);
        config_free(cfg);
        return 1;
    }
    app->n_workers = worker_count(cfg);
    app->workers = calloc(app->n_workers, sizeof *app->workers);
    if (!app->workers) {
        fprintf(stderr, "gtidproxy: out of memory\n");
        return 1;
    }
    /* Learn the primary's greeting before listening, so the first clients
     * are not refused; if it is down, start anyway and keep trying. */
    char why[256];
    if (proxy_probe_primary(&app->px, why, sizeof why) != 0)
        log_warn("primary %s not reachable yet: %s", app->px.backends[proxy_primary(&app->px)].name, why);
    else
        log_info("primary %s is %s", app->px.backends[proxy_primary(&app->px)].name,
                 app->px.profile.version);
    app->px.mon.on_strong = on_strong;
    app->px.mon.on_strong_arg = app;
    if (monitor_start(&app->px.mon, &app->px, proxy_flavor(&app->px), err, sizeof err) != 0) {
        fprintf(stderr, "gtidproxy: monitor: %s\n", err);
        return 1;
    }
    /* Signal handlers before anything listens (a SIGTERM that comes once
     * a client could connect drains instead of killing; the main loop acts
     * on it when it runs). Then the workers bind and listen (connections
     * wait in the backlog until their loops run), then the admin port,
     * then the workers' loops. */
    app->loop = uv_default_loop();
    uv_signal_init(app->loop, &app->sig_term);
    uv_signal_init(app->loop, &app->sig_int);
    uv_signal_init(app->loop, &app->sig_hup);
    uv_signal_init(app->loop, &app->sig_usr1);
    app->sig_term.data = app->sig_int.data = app->sig_hup.data = app->sig_usr1.data = app;
    uv_signal_start(&app->sig_term, on_signal, SIGTERM);
    uv_signal_start(&app->sig_int, on_signal, SIGINT);
    uv_signal_start(&app->sig_hup, on_signal, SIGHUP);
    uv_signal_start(&app->sig_usr1, on_signal, SIGUSR1);
    for (unsigned i = 0; i < app->n_workers; i++) {
        if (worker_init(&app->workers[i], i, &app->px) != 0) {
            /* Nothing served yet: report and leave; exit() ends the threads. */
            fprintf(stderr, "gtidproxy: %s\n", app->workers[i].err);
            return 1;
        }
    }
    app->admin = (struct admin_ctx){.px = &app->px,
                                    .workers = app->workers,
                                    .n_workers = app->n_workers,
                                    .reload = reload,
                                    .reload_arg = app};
    if (admin_start(&app->admin, err, sizeof err) != 0) {
        fprintf(stderr, "gtidproxy: %s\n", err);
        return 1;
    }
    unsigned started = 0;
    for (unsigned i = 0; i < app->n_workers; i++, started++) {
        if (worker_start(&app->workers[i]) != 0) {
            fprintf(stderr, "gtidproxy: %s\n", app->workers[i].err);
            return 1;
        }
    }
    {
        for (size_t i = 0; i < cfg->n_listeners; i++)
            log_info("gtidproxy %s listening on %s:%u (%u workers)", GTIDPROXY_VERSION,
                     cfg->listeners[i].address, cfg->listeners[i].port, app->n_workers);
        uv_timer_init(app->loop, &app->probe);
        app->probe.data = app;
        if (!app->px.have_profile)
            uv_timer_start(&app->probe, on_probe, PROBE_RETRY_MS, PROBE_RETRY_MS);
        uv_run(app->loop, UV_RUN_DEFAULT);
    }
    /* No strong look-up may wake a worker that is gone: the monitor's
     * threads stop first (its table stays readable until the end). */
    monitor_stop(&app->px.mon);
    for (unsigned i = 0; i < started; i++)
        worker_join(&app->workers[i]);
    /* Up through the drain (it shows it); after the joins its /sessions
     * calls are refused, not lost. */
    admin_stop(&app->admin);
    log_stats(app);
    monitor_free(&app->px.mon);
    uv_loop_close(app->loop);
    free(app->workers);
    proxy_destroy(&app->px);
    log_info("stopped");
    return 0;
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    bool check_only = false;
    if (argc > 1 && strcmp(argv[1], "status") == 0)
        return admin_cli_main(argc - 1, argv + 1, stdout, stderr);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("gtidproxy %s\n", GTIDPROXY_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "--check-config") == 0) {
            check_only = true;
        } else if (strcmp(argv[i], "-c") == 0 && i + 1 < argc) {
            file = argv[++i];
        } else {
            fprintf(stderr, "gtidproxy: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (!file) {
        usage(stderr);
        return 2;
    }
    char err[512];
    struct config *cfg = config_load(file, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "gtidproxy: %s\n", err);
        return 1;
    }
    if (check_only) {
        config_free(cfg);
        printf("%s: ok\n", file);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    static struct app app;
    app.file = file;
    return run(&app, cfg);
}
