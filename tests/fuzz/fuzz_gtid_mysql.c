/* fuzz_gtid_mysql.c - libFuzzer target: MySQL GTID set text (see
 * fuzz_gtid_common.h for the invariants). Seeds: corpus/gtid_mysql/. */
#include "fuzz_gtid_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_gtid_run(GTID_FLAVOR_MYSQL, data, size);
}
