/* fuzz_gtid_mariadb.c - libFuzzer target: MariaDB GTID position text (see
 * fuzz_gtid_common.h for the invariants). Seeds: corpus/gtid_mariadb/. */
#include "fuzz_gtid_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_gtid_run(GTID_FLAVOR_MARIADB, data, size);
}
