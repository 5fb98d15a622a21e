/* test_admin_snapshot.c - what admin_snapshot_take() reads and what it
 * leaves alone (admin_snapshot.c), over a real struct proxy with a monitor
 * table filled by hand (no threads): the /metrics parts carry no GTID
 * texts (nothing to allocate), /status never waits on the monitor's locks,
 * a backend the monitor lacks shows no other backend's set, and the
 * monitor's health comes with the reason made for it. The values
 * themselves are test_admin_view's and test_admin_metrics'. */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "admin.h"
#include "admin_snapshot.h"

#define CONF                                                                                       \
    "{\"listeners\": [{\"name\": \"app\", \"port\": 6033}],"                                       \
    " \"backends\": ["                                                                             \
    "  {\"name\": \"primary\", \"host\": \"127.0.0.1\", \"port\": 13306, \"role\": \"primary\"},"  \
    "  {\"name\": \"replica1\", \"host\": \"127.0.0.1\", \"port\": 13307, \"role\": \"replica\"}," \
    "  {\"name\": \"replica2\", \"host\": \"127.0.0.1\", \"port\": 13308, \"role\": \"replica\"}],"\
    " \"users\": [{\"name\": \"app\", \"password\": \"pw\"}],"                                     \
    " \"backend_credentials\": {\"user\": \"app\", \"password\": \"pw\"},"                         \
    " \"monitor\": {\"user\": \"mon\", \"password\": \"mpw\"}}"

struct fx {
    struct proxy px;
    struct worker w[2];
    struct admin_ctx a;
    struct admin_snapshot snap;
};

static void set_known(struct fx *f, size_t idx, const char *text)
{
    struct mon_backend *b = &f->px.mon.be[idx];
    assert_int_equal(gtid_set_parse(&b->known, text, strlen(text), NULL), 0);
    b->known_at_ms = proxy_now_ms();
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof *f);
    assert_non_null(f);
    char err[256] = "";
    struct config *cfg = config_parse(CONF, "t.json", err, sizeof err);
    if (!cfg)
        fail_msg("config: %s", err);
    assert_int_equal(proxy_init(&f->px, cfg, err, sizeof err), 0);
    struct monitor *m = &f->px.mon;
    assert_int_equal(monitor_init(m, &f->px, GTID_FLAVOR_MARIADB, err, sizeof err), 0);
    for (size_t i = 0; i < m->n; i++)
        atomic_store(&m->be[i].health, MON_UP);
    set_known(f, 0, "0-1-50");
    set_known(f, 1, "0-1-42");
    set_known(f, 2, "0-1-50");
    struct gtid_set g;
    gtid_set_init(&g, GTID_FLAVOR_MARIADB);
    assert_int_equal(gtid_set_parse(&g, "0-1-50", 6, NULL), 0);
    proxy_writes_add(&f->px, &g);
    gtid_set_free(&g);
    f->a = (struct admin_ctx){.px = &f->px, .workers = f->w, .n_workers = 2};
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    monitor_free(&f->px.mon);
    proxy_destroy(&f->px);
    free(f);
    return 0;
}

/* /metrics' parts: every number, no text (the only thing a take would
 * allocate); the JSON views' parts: the texts. */
static void test_metrics_parts_have_no_texts(void **state)
{
    struct fx *f = *state;
    struct admin_snapshot *s = &f->snap;
    assert_int_equal(admin_snapshot_take(&f->a, s, ADMIN_SNAP_METRICS), 0);
    assert_int_equal(s->parts, ADMIN_SNAP_METRICS);
    assert_null(s->status.writes_gtid);
    assert_int_equal(s->n_backends, 3);
    for (size_t i = 0; i < 3; i++)
        assert_null(s->backends[i].known_gtid);
    /* The distance needs no copy of either set. */
    assert_true(s->backends[1].lag_tx_known);
    assert_int_equal(s->backends[1].lag_tx, 8);
    assert_int_equal(s->backends[2].lag_tx, 0);
    assert_false(s->backends[0].lag_tx_known); /* the primary has none */
    admin_snapshot_release(s);

    assert_int_equal(admin_snapshot_take(&f->a, s, ADMIN_SNAP_METRICS | ADMIN_SNAP_GTID_TEXT), 0);
    assert_string_equal(s->status.writes_gtid, "0-1-50");
    assert_string_equal(s->backends[0].known_gtid, "0-1-50");
    assert_string_equal(s->backends[1].known_gtid, "0-1-42");
    assert_int_equal(s->backends[1].lag_tx, 8);
    admin_snapshot_release(s);
    assert_null(s->status.writes_gtid);
    assert_null(s->backends[1].known_gtid);
}

/* Parts not asked for are empty. */
static void test_parts_not_taken_are_empty(void **state)
{
    struct fx *f = *state;
    struct admin_snapshot *s = &f->snap;
    atomic_store(&f->px.clients_total, 9);
    gate_count(&f->w[1].gate, GATE_SESSION, GATE_DIRECT);
    assert_int_equal(admin_snapshot_take(&f->a, s, ADMIN_SNAP_STATUS), 0);
    assert_int_equal(s->status.clients_total, 9);
    assert_int_equal(s->n_backends, 0);
    assert_int_equal(s->consistency.reads[GATE_SESSION][GATE_DIRECT], 0);
    admin_snapshot_release(s);
    assert_int_equal(admin_snapshot_take(&f->a, s, ADMIN_SNAP_CONSISTENCY), 0);
    assert_int_equal(s->status.clients_total, 0);
    assert_int_equal(s->consistency.reads[GATE_SESSION][GATE_DIRECT], 1);
    admin_snapshot_release(s);
}

struct take_arg {
    struct fx *f;
    unsigned what;
    int rc;
};

static void *take_thread(void *p)
{
    struct take_arg *t = p;
    t->rc = admin_snapshot_take(&t->f->a, &t->f->snap, t->what);
    if (t->rc == 0)
        admin_snapshot_release(&t->f->snap);
    return NULL;
}

/* Runs a take on another thread; true when it finished within 2 s. */
static bool take_finishes(struct fx *f, unsigned what)
{
    struct take_arg t = {f, what, -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, take_thread, &t), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    if (pthread_timedjoin_np(th, NULL, &until) == ETIMEDOUT)
        return false;
    assert_int_equal(t.rc, 0);
    return true;
}

/* /status (and /consistency, /cache) never touch the monitor: with every
 * monitor lock held elsewhere they still answer. /backends does wait, which
 * shows the locks held here are the ones it would take. */
static void test_status_does_not_wait_on_the_monitor(void **state)
{
    struct fx *f = *state;
    struct monitor *m = &f->px.mon;
    for (size_t i = 0; i < m->n; i++)
        pthread_mutex_lock(&m->be[i].lock);
    bool status_done = take_finishes(f, ADMIN_SNAP_STATUS | ADMIN_SNAP_CONSISTENCY |
                                            ADMIN_SNAP_CACHE | ADMIN_SNAP_GTID_TEXT);
    struct take_arg t = {f, ADMIN_SNAP_BACKENDS, -1};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, take_thread, &t), 0);
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += 200 * 1000 * 1000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    bool backends_waited = pthread_timedjoin_np(th, NULL, &until) == ETIMEDOUT;
    for (size_t i = 0; i < m->n; i++)
        pthread_mutex_unlock(&m->be[i].lock);
    if (backends_waited)
        assert_int_equal(pthread_join(th, NULL), 0);
    assert_true(status_done);
    assert_true(backends_waited);
}

/* A backend the monitor's table lacks (the monitor not started, or a
 * shorter table) shows "" and no distance, never the set of the backend
 * read before it. */
static void test_unmonitored_backend_shows_no_set(void **state)
{
    struct fx *f = *state;
    struct admin_snapshot *s = &f->snap;
    f->px.mon.n = 2; /* replica2 is not in the table */
    assert_int_equal(admin_snapshot_take(&f->a, s, ADMIN_SNAP_BACKENDS | ADMIN_SNAP_GTID_TEXT), 0);
    f->px.mon.n = 3;
    assert_string_equal(s->backends[1].known_gtid, "0-1-42");
    assert_string_equal(s->backends[2].known_gtid, "");
    assert_false(s->backends[2].lag_tx_known);
    assert_false(s->backends[2].known_age_known);
    assert_int_equal(s->backends[2].state, ADMIN_BSTATE_UNKNOWN);
    assert_int_equal(s->backends[2].health, MON_UNKNOWN);
    admin_snapshot_release(s);
}

/* The monitor's health comes with the metrics parts (no text to
 * allocate): state, reason, since, transitions. The reason is shown only
 * when the monitor made it for the state workers see (it publishes the
 * atomic just after releasing the lock); otherwise it is derived from the
 * last error, never a reason of another state. */
static void test_health_taken_with_its_reason(void **state)
{
    struct fx *f = *state;
    struct admin_snapshot *s = &f->snap;
    struct mon_backend *b = &f->px.mon.be[1];
    uint64_t t0 = proxy_now_ms();
    mon_health_init(&b->hs, t0);
    assert_true(mon_health_step(&b->hs, true, 3, 2, t0));
    assert_true(mon_health_step(&b->hs, false, 3, 2, t0));
    snprintf(b->last_error, sizeof b->last_error, "connect: refused (2002)");
    mon_health_reason(&b->hs, 3, 2, b->last_error, b->health_reason, sizeof b->health_reason);
    atomic_store(&b->health, MON_SUSPECT);

    int64_t unix_before = proxy_unix_ms();
    assert_int_equal(admin_snapshot_take(&f->a, s, ADMIN_SNAP_METRICS), 0);
    int64_t unix_after = proxy_unix_ms();
    const struct admin_snap_backend *r1 = &s->backends[1];
    assert_int_equal(r1->health, MON_SUSPECT);
    assert_true(r1->has_health_reason);
    assert_string_equal(r1->health_reason, "connect: refused (2002) (failed 1/3)");
    assert_true(r1->health_since_known);
    assert_true(r1->health_since_unix_ms >= unix_before - (int64_t)(proxy_now_ms() - t0) - 5);
    assert_true(r1->health_since_unix_ms <= unix_after + 5);
    assert_int_equal(r1->health_transitions, 2);
    assert_int_equal(r1->state, ADMIN_BSTATE_LAGGING); /* a suspect replica reads nothing */
    assert_string_equal(r1->why, "suspect: connect: refused (2002) (failed 1/3)");
    /* The others: up (the atomic set by hand), no reason; their state
     * machine's since is monitor_init's. */
    assert_int_equal(s->backends[0].health, MON_UP);
    assert_false(s->backends[0].has_health_reason);
    assert_true(s->backends[0].health_since_known);
    admin_snapshot_release(s);

    /* The table moved on (down, recovering) but the atomic still says
     * suspect: the reason shown is the last error, not "recovering". */
    assert_true(mon_health_step(&b->hs, false, 1, 2, t0));
    assert_false(mon_health_step(&b->hs, true, 1, 2, t0));
    mon_health_reason(&b->hs, 1, 2, b->last_error, b->health_reason, sizeof b->health_reason);
    assert_string_equal(b->health_reason, "recovering 1/2");
    assert_int_equal(admin_snapshot_take(&f->a, s, ADMIN_SNAP_BACKENDS), 0);
    assert_int_equal(s->backends[1].health, MON_SUSPECT);
    assert_string_equal(s->backends[1].health_reason, "connect: refused (2002)");
    admin_snapshot_release(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_metrics_parts_have_no_texts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parts_not_taken_are_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_does_not_wait_on_the_monitor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unmonitored_backend_shows_no_set, setup, teardown),
        cmocka_unit_test_setup_teardown(test_health_taken_with_its_reason, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
