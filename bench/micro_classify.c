/*
 * micro_classify.c - how fast is the statement classifier on the hot path?
 *
 * Classifies a sysbench-like mix (point selects, ranges, sums, orders,
 * distincts, index and non-index updates, deletes, inserts, BEGIN/COMMIT)
 * plus commented, hinted and locking statements, for about one second, and
 * prints ns per statement and MB/s of SQL text. Not a test: exit 0 always.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "gtidproxy/classify.h"

static const char *const mix[] = {
    "SELECT c FROM sbtest1 WHERE id=5012",
    "SELECT c FROM sbtest3 WHERE id=77",
    "SELECT c FROM sbtest2 WHERE id=4",
    "SELECT c FROM sbtest1 WHERE id BETWEEN 4001 AND 4100",
    "SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 4001 AND 4100",
    "SELECT c FROM sbtest1 WHERE id BETWEEN 4001 AND 4100 ORDER BY c",
    "SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 4001 AND 4100 ORDER BY c",
    "UPDATE sbtest1 SET k=k+1 WHERE id=5012",
    "UPDATE sbtest1 SET c='83868641912-28773972837-60736120486-75162659906-27563526494' "
    "WHERE id=5012",
    "DELETE FROM sbtest1 WHERE id=5012",
    "INSERT INTO sbtest1 (id, k, c, pad) VALUES (5012, 4993, "
    "'83868641912-28773972837-60736120486-75162659906-27563526494', "
    "'67847967377-48000963322-62604785301-91415491898-96926520291')",
    "BEGIN",
    "COMMIT",
    "/* controller=orders action=show */ SELECT o.id, o.total, c.name FROM orders o "
    "JOIN customers c ON c.id = o.customer_id WHERE o.id = 991 LIMIT 1",
    "SELECT /* gtidproxy: consistency=session wait_ms=200 fallback=cache,primary */ "
    "balance FROM accounts WHERE id = 17",
    "SELECT * FROM inventory WHERE sku = 'AB-1' FOR UPDATE",
    "SELECT COUNT(*) FROM events WHERE created_at > NOW() - INTERVAL 1 HOUR",
    "SET autocommit=1",
    "SELECT name, JSON_EXTRACT(attrs, '$.color') FROM products WHERE name LIKE 'O\\'Brien%'",
};

#define NMIX (sizeof mix / sizeof mix[0])

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(void)
{
    size_t lens[NMIX];
    size_t bytes_per_round = 0;
    for (size_t i = 0; i < NMIX; i++) {
        lens[i] = strlen(mix[i]);
        bytes_per_round += lens[i];
    }

    unsigned reads = 0;
    uint64_t rounds = 0;
    double start = now_s(), elapsed = 0;
    /* Check the clock every 1000 rounds: keeps clock_gettime out of the
     * measurement while stopping within a few ms of one second. */
    while (elapsed < 1.0) {
        for (int k = 0; k < 1000; k++) {
            for (size_t i = 0; i < NMIX; i++) {
                struct classify_result r;
                classify_query(mix[i], lens[i], 0, &r);
                reads += r.kind == CLASSIFY_READ;
            }
        }
        rounds += 1000;
        elapsed = now_s() - start;
    }
    double stmts = (double)rounds * NMIX;
    printf("micro_classify: %.0f statements in %.3f s: %.1f ns/statement, %.1f MB/s "
           "(%zu-statement mix, avg %.0f bytes; %u reads seen)\n",
           stmts, elapsed, elapsed * 1e9 / stmts,
           (double)rounds * (double)bytes_per_round / elapsed / 1e6, (size_t)NMIX,
           (double)bytes_per_round / NMIX, reads);
    return 0;
}
