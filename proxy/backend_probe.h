/*
 * backend_probe.h - a blocking look at a backend's greeting: connect, read
 * the HandshakeV10, close. The proxy needs the primary's version and
 * capabilities before it can greet its first client (it advertises what the
 * backend offers and calls itself "<version>-gtidproxy"). Runs on the main
 * thread at start-up and from the monitor; never on a worker loop.
 */
#ifndef GTIDPROXY_BACKEND_PROBE_H
#define GTIDPROXY_BACKEND_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "backend_auth.h"

/* Connects to host:port (IPv4/IPv6 literal or name) within timeout_ms,
 * reads one packet within the rest of it and parses it as a HandshakeV10
 * into *out. Returns 0, or -1 with a one-line reason in err ("connect:
 * Connection refused", "server sent ERR 1040: Too many connections",
 * "timed out after 2000 ms", "not a MySQL server: ..."); *out is then
 * zeroed. The greeting is read through bauth_feed(), so a probe accepts
 * exactly the servers a login would. Name resolution (getaddrinfo) is not
 * bounded by timeout_ms: give literals where that matters. */
int backend_probe(const char *host, uint16_t port, unsigned timeout_ms, struct bauth_server *out,
                  char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
