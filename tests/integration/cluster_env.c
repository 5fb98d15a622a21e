/* cluster_env.c - environment, connections and fault commands for integration
 * tests (cluster_env.h). */
#include "cluster_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static const char *need_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr,
                "integration test: %s is not set; start a cluster and export "
                "`tests/cluster/cluster.sh env` (scripts/test does both)\n",
                name);
        exit(1);
    }
    return v;
}

void cluster_env_load(struct cluster_env *env)
{
    memset(env, 0, sizeof *env);
    env->host = need_env("GTIDPROXY_HOST");
    env->primary_port = (unsigned)atoi(need_env("GTIDPROXY_PRIMARY_PORT"));
    env->app_user = need_env("GTIDPROXY_APP_USER");
    env->app_password = need_env("GTIDPROXY_APP_PASSWORD");
    env->admin_user = need_env("GTIDPROXY_ADMIN_USER");
    env->admin_password = need_env("GTIDPROXY_ADMIN_PASSWORD");
    char ports[256];
    snprintf(ports, sizeof ports, "%s", need_env("GTIDPROXY_REPLICA_PORTS"));
    for (char *save = NULL, *tok = strtok_r(ports, ",", &save); tok && env->replicas < 8;
         tok = strtok_r(NULL, ",", &save))
        env->replica_ports[env->replicas++] = (unsigned)atoi(tok);
}

MYSQL *cluster_connect(const struct cluster_env *env, int node)
{
    MYSQL *m = mysql_init(NULL);
    assert_non_null(m);
    unsigned port = node == 0 ? env->primary_port : env->replica_ports[node - 1];
    if (!mysql_real_connect(m, env->host, env->app_user, env->app_password, NULL, port, NULL,
                            0)) {
        fprintf(stderr, "connect to node %d (port %u): %s\n", node, port, mysql_error(m));
        fail();
    }
    return m;
}

void cluster_run(const char *args)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "%s %s", GTIDPROXY_CLUSTER_SH, args);
    int rc = system(cmd);
    if (rc != 0) {
        fprintf(stderr, "'%s' exited with %d\n", cmd, rc);
        fail();
    }
}

void cluster_exec(MYSQL *m, const char *sql)
{
    if (mysql_query(m, sql) != 0) {
        fprintf(stderr, "'%s': %s\n", sql, mysql_error(m));
        fail();
    }
}

char *cluster_query_value(MYSQL *m, const char *sql)
{
    cluster_exec(m, sql);
    MYSQL_RES *res = mysql_store_result(m);
    assert_non_null(res);
    MYSQL_ROW row = mysql_fetch_row(res);
    if (!row) {
        fprintf(stderr, "'%s' returned no row\n", sql);
        fail();
    }
    char *v = strdup(row[0] ? row[0] : "NULL");
    mysql_free_result(res);
    return v;
}

pid_t cluster_node_pid(int node)
{
    const char *dir = need_env("GTIDPROXY_CLUSTER_DIR");
    char path[512];
    snprintf(path, sizeof path, "%s/node%d/mariadbd.pid", dir, node);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot open %s", path);
    long pid = 0;
    int got = fscanf(f, "%ld", &pid);
    fclose(f);
    if (got != 1 || pid <= 1)
        fail_msg("%s holds no pid", path);
    return (pid_t)pid;
}
