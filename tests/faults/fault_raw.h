/*
 * fault_raw.h - a bare, non-blocking MySQL client for the client-limit
 * cases: thousands of connections in one thread (a burst, slow clients)
 * where libmariadb's one-blocking-handle-per-connection model does not fit.
 * It speaks just enough: read the greeting or the refusal, log in with
 * mysql_native_password, send one COM_QUERY and read its reply to the end.
 * Packets are framed, parsed and built with protocol/ (gtidcore), never by
 * hand.
 *
 * Nothing here calls cmocka; errors come back as return values.
 */
#ifndef GTIDPROXY_FAULT_RAW_H
#define GTIDPROXY_FAULT_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a raw connection is. */
#define RAW_STATE_LIST(X)                                                                          \
    X(RAW_CONNECTING, "connecting") /* connect() in progress */                                    \
    X(RAW_GREETING, "greeting")     /* waiting for HandshakeV10 or an ERR */                       \
    X(RAW_GREETED, "greeted")       /* greeting read, login deliberately not sent */               \
    X(RAW_AUTH, "auth")             /* login sent, waiting for OK */                               \
    X(RAW_IDLE, "idle")             /* logged in */                                                \
    X(RAW_QUERY, "query")           /* a query sent, reading its reply */                          \
    X(RAW_REFUSED, "refused")       /* got an ERR instead of a greeting / login OK */              \
    X(RAW_CLOSED, "closed")         /* the peer closed (EOF or reset) */                           \
    X(RAW_FAILED, "failed")         /* something this client did not expect */

enum raw_state {
#define RAW_STATE_ENUM(name, text) name,
    RAW_STATE_LIST(RAW_STATE_ENUM)
#undef RAW_STATE_ENUM
};
const char *raw_state_name(enum raw_state s);

struct raw_conn {
    int fd;
    enum raw_state state;
    double t_start;    /* connect() called */
    double t_first;    /* greeting or refusal read */
    double t_changed;  /* last state change */
    unsigned err_code; /* RAW_REFUSED: the ERR's code */
    char why[160];     /* RAW_REFUSED / RAW_FAILED / RAW_CLOSED: what happened */
    uint64_t caps;     /* negotiated at login */
    uint8_t *in;
    size_t in_len, in_cap;
    int eofs;           /* EOF packets seen in the current query's reply */
    bool reply_started; /* the current query's first reply packet was read */
};

/* Starts a non-blocking connect to host:port; 0, or -errno. c->fd is set
 * (or -1) and c->state is RAW_CONNECTING. */
int raw_connect(struct raw_conn *c, const char *host, unsigned port, double now);

/* After the socket became writable in RAW_CONNECTING: checks SO_ERROR and
 * moves to RAW_GREETING (or RAW_FAILED). */
void raw_connected(struct raw_conn *c, double now);

/* Whether raw_step() answers a greeting with a login. */
struct raw_login {
    const char *user, *password;
    bool send_login; /* false: stop at RAW_GREETED (a client that never logs in) */
};

/*
 * Reads what the socket has and advances:
 *   RAW_GREETING -> RAW_AUTH (login sent) or RAW_GREETED (send_login false),
 *                   or RAW_REFUSED (an ERR: err_code, why);
 *   RAW_GREETED  -> RAW_REFUSED on ERR (a timeout's farewell);
 *   RAW_AUTH     -> RAW_IDLE on OK, RAW_REFUSED on ERR;
 *   RAW_QUERY    -> RAW_IDLE when the reply ended (OK, or a result set's
 *                   final EOF), RAW_REFUSED on ERR;
 *   any state    -> RAW_CLOSED when the peer closed, RAW_FAILED on bytes
 *                   this client does not expect (an auth switch, say).
 * Returns the new state. Call it when the socket is readable.
 */
enum raw_state raw_step(struct raw_conn *c, const struct raw_login *login, double now);

/* Sends COM_QUERY sql (RAW_IDLE -> RAW_QUERY). 0, or -1 (state RAW_FAILED). */
int raw_query(struct raw_conn *c, const char *sql, double now);

/* Writes bytes as they are (a slow client's dribble); 0, or -errno. */
int raw_write(struct raw_conn *c, const void *p, size_t n);

/* Closes the socket and frees the buffer; the state stays. */
void raw_close(struct raw_conn *c);

#endif
