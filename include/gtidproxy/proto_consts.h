/*
 * proto_consts.h - numbers of the MySQL/MariaDB wire protocol: capability
 * flags, server status flags, command bytes, packet markers.
 * Values and sources: shared/PROTOCOL.md sections 1.2 and 4.1.
 */
#ifndef GTIDPROXY_PROTO_CONSTS_H
#define GTIDPROXY_PROTO_CONSTS_H

#include <stdint.h>

/* Capability flags (64-bit: bits 32..63 are MariaDB's extended capabilities,
 * sent separately as an int<4> in the handshake packets). */
#define PROTO_CAP_LIST(X)                                                      \
    X(CLIENT_LONG_PASSWORD, 0)                                                 \
    X(CLIENT_FOUND_ROWS, 1)                                                    \
    X(CLIENT_LONG_FLAG, 2)                                                     \
    X(CLIENT_CONNECT_WITH_DB, 3)                                               \
    X(CLIENT_NO_SCHEMA, 4)                                                     \
    X(CLIENT_COMPRESS, 5)                                                      \
    X(CLIENT_ODBC, 6)                                                          \
    X(CLIENT_LOCAL_FILES, 7)                                                   \
    X(CLIENT_IGNORE_SPACE, 8)                                                  \
    X(CLIENT_PROTOCOL_41, 9)                                                   \
    X(CLIENT_INTERACTIVE, 10)                                                  \
    X(CLIENT_SSL, 11)                                                          \
    X(CLIENT_IGNORE_SIGPIPE, 12)                                               \
    X(CLIENT_TRANSACTIONS, 13)                                                 \
    X(CLIENT_RESERVED, 14)                                                     \
    X(CLIENT_SECURE_CONNECTION, 15)                                            \
    X(CLIENT_MULTI_STATEMENTS, 16)                                             \
    X(CLIENT_MULTI_RESULTS, 17)                                                \
    X(CLIENT_PS_MULTI_RESULTS, 18)                                             \
    X(CLIENT_PLUGIN_AUTH, 19)                                                  \
    X(CLIENT_CONNECT_ATTRS, 20)                                                \
    X(CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA, 21)                               \
    X(CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS, 22)                                 \
    X(CLIENT_SESSION_TRACK, 23)                                                \
    X(CLIENT_DEPRECATE_EOF, 24)                                                \
    X(CLIENT_OPTIONAL_RESULTSET_METADATA, 25)                                  \
    X(CLIENT_ZSTD_COMPRESSION_ALGORITHM, 26)                                   \
    X(CLIENT_QUERY_ATTRIBUTES, 27)                                             \
    X(CLIENT_MULTI_FACTOR_AUTHENTICATION, 28)                                  \
    X(CLIENT_CAPABILITY_EXTENSION, 29)                                         \
    X(CLIENT_SSL_VERIFY_SERVER_CERT, 30)                                       \
    X(CLIENT_REMEMBER_OPTIONS, 31)                                             \
    X(MARIADB_CLIENT_PROGRESS, 32)                                             \
    X(MARIADB_CLIENT_COM_MULTI, 33)                                            \
    X(MARIADB_CLIENT_STMT_BULK_OPERATIONS, 34)                                 \
    X(MARIADB_CLIENT_EXTENDED_METADATA, 35)                                    \
    X(MARIADB_CLIENT_CACHE_METADATA, 36)                                       \
    X(MARIADB_CLIENT_BULK_UNIT_RESULTS, 37)

enum {
#define PROTO_CAP_ENUM(name, bit) PROTO_##name = (int)(bit),
    PROTO_CAP_LIST(PROTO_CAP_ENUM)
#undef PROTO_CAP_ENUM
};
/* PROTO_CAP(CLIENT_SESSION_TRACK) is the 64-bit mask of that flag. */
#define PROTO_CAP(name) ((uint64_t)1 << PROTO_##name)

/* Server status flags (OK, EOF, HandshakeV10). */
#define PROTO_SERVER_STATUS_LIST(X)                                            \
    X(SERVER_STATUS_IN_TRANS, 0x0001)                                          \
    X(SERVER_STATUS_AUTOCOMMIT, 0x0002)                                        \
    X(SERVER_MORE_RESULTS_EXISTS, 0x0008)                                      \
    X(SERVER_QUERY_NO_GOOD_INDEX_USED, 0x0010)                                 \
    X(SERVER_QUERY_NO_INDEX_USED, 0x0020)                                      \
    X(SERVER_STATUS_CURSOR_EXISTS, 0x0040)                                     \
    X(SERVER_STATUS_LAST_ROW_SENT, 0x0080)                                     \
    X(SERVER_STATUS_DB_DROPPED, 0x0100)                                        \
    X(SERVER_STATUS_NO_BACKSLASH_ESCAPES, 0x0200)                              \
    X(SERVER_STATUS_METADATA_CHANGED, 0x0400)                                  \
    X(SERVER_QUERY_WAS_SLOW, 0x0800)                                           \
    X(SERVER_PS_OUT_PARAMS, 0x1000)                                            \
    X(SERVER_STATUS_IN_TRANS_READONLY, 0x2000)                                 \
    X(SERVER_SESSION_STATE_CHANGED, 0x4000)                                    \
    X(SERVER_STATUS_ANSI_QUOTES, 0x8000)

enum {
#define PROTO_STATUS_FLAG_ENUM(name, value) PROTO_##name = (value),
    PROTO_SERVER_STATUS_LIST(PROTO_STATUS_FLAG_ENUM)
#undef PROTO_STATUS_FLAG_ENUM
};

/* Command bytes (first payload byte of a command-phase client packet). */
#define PROTO_COM_LIST(X)                                                      \
    X(COM_SLEEP, 0x00)                                                         \
    X(COM_QUIT, 0x01)                                                          \
    X(COM_INIT_DB, 0x02)                                                       \
    X(COM_QUERY, 0x03)                                                         \
    X(COM_FIELD_LIST, 0x04)                                                    \
    X(COM_CREATE_DB, 0x05)                                                     \
    X(COM_DROP_DB, 0x06)                                                       \
    X(COM_REFRESH, 0x07)                                                       \
    X(COM_SHUTDOWN, 0x08)                                                      \
    X(COM_STATISTICS, 0x09)                                                    \
    X(COM_PROCESS_INFO, 0x0A)                                                  \
    X(COM_CONNECT, 0x0B)                                                       \
    X(COM_PROCESS_KILL, 0x0C)                                                  \
    X(COM_DEBUG, 0x0D)                                                         \
    X(COM_PING, 0x0E)                                                          \
    X(COM_TIME, 0x0F)                                                          \
    X(COM_DELAYED_INSERT, 0x10)                                                \
    X(COM_CHANGE_USER, 0x11)                                                   \
    X(COM_BINLOG_DUMP, 0x12)                                                   \
    X(COM_TABLE_DUMP, 0x13)                                                    \
    X(COM_CONNECT_OUT, 0x14)                                                   \
    X(COM_REGISTER_SLAVE, 0x15)                                                \
    X(COM_STMT_PREPARE, 0x16)                                                  \
    X(COM_STMT_EXECUTE, 0x17)                                                  \
    X(COM_STMT_SEND_LONG_DATA, 0x18)                                           \
    X(COM_STMT_CLOSE, 0x19)                                                    \
    X(COM_STMT_RESET, 0x1A)                                                    \
    X(COM_SET_OPTION, 0x1B)                                                    \
    X(COM_STMT_FETCH, 0x1C)                                                    \
    X(COM_DAEMON, 0x1D)                                                        \
    X(COM_BINLOG_DUMP_GTID, 0x1E)                                              \
    X(COM_RESET_CONNECTION, 0x1F)                                              \
    X(COM_STMT_BULK_EXECUTE, 0xFA)

enum proto_com {
#define PROTO_COM_ENUM(name, value) PROTO_##name = (value),
    PROTO_COM_LIST(PROTO_COM_ENUM)
#undef PROTO_COM_ENUM
};

/* "COM_QUERY" for 0x03; "COM_UNKNOWN" for bytes no server knows. */
const char *proto_com_name(uint8_t com);

/* First payload byte of server packets. */
#define PROTO_OK_HEADER        0x00
#define PROTO_AUTH_MORE_HEADER 0x01
#define PROTO_LOCAL_INFILE_HEADER 0xFB
#define PROTO_EOF_HEADER       0xFE /* also AuthSwitchRequest during auth */
#define PROTO_ERR_HEADER       0xFF

/* Largest payload one packet carries; longer payloads continue in the next
 * packet (MY MAX_PACKET_LENGTH = 2^24 - 1). */
#define PROTO_MAX_PAYLOAD 0xFFFFFFu

#endif
