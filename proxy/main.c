/*
 * main.c - the gtidproxy command line.
 *
 * `--check-config -c FILE` validates a configuration and exits non-zero with
 * the reason. The data plane (listeners, sessions, router) arrives with the
 * proxy-core issue; until then `-c FILE` alone loads the config and says that
 * serving is not implemented yet, instead of pretending to serve.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

static void usage(FILE *out)
{
    fprintf(out, "usage: gtidproxy -c FILE                 run with the given config file\n"
                 "       gtidproxy --check-config -c FILE  validate FILE and exit\n"
                 "       gtidproxy --version | --help\n");
}

int main(int argc, char **argv)
{
    const char *file = NULL;
    bool check_only = false;
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
    config_free(cfg);
    if (check_only) {
        printf("%s: ok\n", file);
        return 0;
    }
    fprintf(stderr, "gtidproxy: the proxy data plane is not implemented yet "
                    "(see README, 'Status')\n");
    return 2;
}
