/*
 * admin_cli.h - `gtidproxy status`: a compact human table from the admin
 * API (GET /status, /backends, /consistency), so an operator needs no jq.
 */
#ifndef GTIDPROXY_ADMIN_CLI_H
#define GTIDPROXY_ADMIN_CLI_H

#include <jansson.h>
#include <stdio.h>

/* The admin port when neither --admin nor -c says where it is. */
#define ADMIN_CLI_DEFAULT_URL "http://127.0.0.1:6080"

/* gtidproxy status [-c FILE] [--admin URL] [--token TOKEN] [--json]
 *   argv[0] is the subcommand's name ("status") and is skipped.
 *   URL: --admin, else FILE's admin section (address, port) when -c is
 *   given, else ADMIN_CLI_DEFAULT_URL; "host:port" without a scheme means
 *   http://. Token: --token, else env GTIDPROXY_ADMIN_TOKEN, else FILE's
 *   admin.token. --json prints the three raw documents as one JSON object
 *   {"status":..,"backends":..,"consistency":..}.
 * Returns the exit status: 0 ok; 1 the admin API did not answer, answered
 * an error or a document the table cannot read (one line on err naming the
 * URL and the cause, e.g. "gtidproxy status: http://127.0.0.1:6080/status:
 * Couldn't connect to server"); 2 usage (bad arguments, or a -c FILE that
 * does not load or has no admin section). --help prints the usage on out
 * and returns 0. Nothing is printed on out unless all three documents
 * arrived. */
int admin_cli_main(int argc, char **argv, FILE *out, FILE *err);

/* Prints the table (pure; the tests feed it fixture JSON): a header line
 * from status, the backend table, the consistency table and a waits line.
 * Columns are as wide as their content; JSON null prints as "-". Returns
 * 0, or -1 when a document is NULL or lacks a field the table needs (that
 * cell prints "?"; everything else is still printed). */
int admin_cli_format(FILE *out, const json_t *status, const json_t *backends,
                     const json_t *consistency);

#endif
