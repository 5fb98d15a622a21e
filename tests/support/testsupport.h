/*
 * testsupport.h - helpers shared by the unit and integration tests:
 * hex vectors and fixture files.
 *
 * Fixture files live in tests/fixtures/<area>/<name>.hex: hex digits with any
 * whitespace; '#' starts a comment that runs to the end of the line. Each
 * area's README.md says how its fixtures were captured.
 */
#ifndef GTIDPROXY_TESTSUPPORT_H
#define GTIDPROXY_TESTSUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* Decodes hex (whitespace and '#' comments allowed) into out; aborts the test
 * program on a bad digit or when out is too small. Returns the byte count. */
size_t tu_hex(const char *hex, uint8_t *out, size_t cap);

/* Reads tests/fixtures/<rel> (a .hex file) and decodes it. The caller frees
 * the result. Aborts the test program when the file is missing or bad. */
uint8_t *tu_fixture(const char *rel, size_t *len);

#endif
