/* testsupport.c - hex vectors and fixture files for tests (testsupport.h). */
#include "testsupport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gtidproxy/proto_rw.h"

size_t tu_hex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    int hi = -1;
    for (const char *s = hex; *s; s++) {
        if (*s == '#') {
            while (*s && *s != '\n')
                s++;
            if (!*s)
                break;
            continue;
        }
        if (*s == ' ' || *s == '\n' || *s == '\t' || *s == '\r')
            continue;
        int d = proto_hex_digit(*s);
        if (d < 0) {
            fprintf(stderr, "tu_hex: bad hex digit '%c'\n", *s);
            abort();
        }
        if (hi < 0) {
            hi = d;
            continue;
        }
        if (n == cap) {
            fprintf(stderr, "tu_hex: output buffer of %zu bytes too small\n", cap);
            abort();
        }
        out[n++] = (uint8_t)(hi << 4 | d);
        hi = -1;
    }
    if (hi >= 0) {
        fprintf(stderr, "tu_hex: odd number of hex digits\n");
        abort();
    }
    return n;
}

uint8_t *tu_fixture(const char *rel, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", GTIDPROXY_FIXTURE_DIR, rel);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "tu_fixture: cannot open %s\n", path);
        abort();
    }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)size + 1);
    if (!text || fread(text, 1, (size_t)size, f) != (size_t)size) {
        fprintf(stderr, "tu_fixture: cannot read %s\n", path);
        abort();
    }
    fclose(f);
    text[size] = '\0';
    /* Two hex digits per byte at most; +1 keeps malloc(0) out of the way. */
    uint8_t *out = malloc((size_t)size / 2 + 1);
    if (!out)
        abort();
    *len = tu_hex(text, out, (size_t)size / 2 + 1);
    free(text);
    return out;
}
