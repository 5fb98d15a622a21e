/*
 * micro_gtid.c - cost of the GTID-set operations on the consistency gate's
 * hot path (include/gtidproxy/gtid_set.h): contains(known, need) per read,
 * and parse + union of an OK packet's GTID into a session set per write.
 * Prints ns/op; exits non-zero when an operation gives a wrong answer.
 * Usage: micro_gtid [iterations]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gtidproxy/gtid_set.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int parse_cstr(struct gtid_set *s, const char *text)
{
    return gtid_set_parse(s, text, strlen(text), NULL);
}

/* A replica's gtid_executed after a few failovers: 8 uuids, one interval each. */
static const char *const my_known = "0a1e4c5a-1111-11ee-8000-000000000001:1-81234567,"
                                    "0a1e4c5a-1111-11ee-8000-000000000002:1-1234,"
                                    "0a1e4c5a-1111-11ee-8000-000000000003:1-99,"
                                    "0a1e4c5a-1111-11ee-8000-000000000004:1-5000000,"
                                    "0a1e4c5a-1111-11ee-8000-000000000005:1-7,"
                                    "0a1e4c5a-1111-11ee-8000-000000000006:1-70000,"
                                    "0a1e4c5a-1111-11ee-8000-000000000007:1-3,"
                                    "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-123456789";
static const char *const my_need = "3e11fa47-71ca-11e1-9e33-c80aa9429562:123456000";
static const char *const mdb_known = "0-1-81234567,1-2-1234,2-3-99,7-1-5000000,100-5-9";
static const char *const mdb_need = "0-1-81234000";

static int bench(enum gtid_flavor f, const char *known_text, const char *need_text, long iters)
{
    struct gtid_set known, need, session, own;
    gtid_set_init(&known, f);
    gtid_set_init(&need, f);
    gtid_set_init(&session, f);
    gtid_set_init(&own, f);
    if (parse_cstr(&known, known_text) || parse_cstr(&need, need_text))
        return 1;

    volatile long hits = 0;
    double t0 = now_ns();
    for (long i = 0; i < iters; i++)
        hits += gtid_set_contains(&known, &need);
    double t1 = now_ns();
    if (hits != iters)
        return 1;

    /* per committed write: parse the OK's GTID text, union it in */
    char text[128];
    double t2 = now_ns();
    for (long i = 0; i < iters; i++) {
        int n = f == GTID_FLAVOR_MYSQL
                    ? snprintf(text, sizeof text, "3e11fa47-71ca-11e1-9e33-c80aa9429562:%ld", i + 1)
                    : snprintf(text, sizeof text, "0-1-%ld", i + 1);
        if (gtid_set_parse(&own, text, (size_t)n, NULL) != PROTO_OK ||
            gtid_set_union(&session, &own) != PROTO_OK)
            return 1;
    }
    double t3 = now_ns();
    if (!gtid_set_contains(&session, &own) || gtid_set_format_len(&session) > 64)
        return 1;

    printf("%-8s contains %6.1f ns/op   parse+union %6.1f ns/op   (%ld iterations)\n",
           gtid_flavor_name(f), (t1 - t0) / (double)iters, (t3 - t2) / (double)iters, iters);
    gtid_set_free(&known);
    gtid_set_free(&need);
    gtid_set_free(&session);
    gtid_set_free(&own);
    return 0;
}

int main(int argc, char **argv)
{
    long iters = argc > 1 ? atol(argv[1]) : 1000000;
    if (iters <= 0)
        iters = 1;
    if (bench(GTID_FLAVOR_MYSQL, my_known, my_need, iters) ||
        bench(GTID_FLAVOR_MARIADB, mdb_known, mdb_need, iters)) {
        fprintf(stderr, "micro_gtid: wrong result\n");
        return 1;
    }
    return 0;
}
