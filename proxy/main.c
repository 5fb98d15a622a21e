/*
 * main.c - the gtidproxy command line.
 *
 * The data plane (listeners, sessions, router) arrives with the proxy-core
 * issue; until then the binary answers --version and --help only, and says
 * so instead of pretending to serve.
 */
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gtidproxy -c FILE        run with the given config file\n"
            "       gtidproxy --check-config -c FILE\n"
            "       gtidproxy --version | --help\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--version") == 0) {
            printf("gtidproxy %s\n", GTIDPROXY_VERSION);
            return 0;
        }
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
    }
    fprintf(stderr, "gtidproxy: the proxy data plane is not implemented yet "
                    "(see README, 'Status')\n");
    usage(stderr);
    return 2;
}
