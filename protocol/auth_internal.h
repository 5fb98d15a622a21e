/*
 * auth_internal.h - helpers shared by auth_native.c and auth_sha2.c only.
 */
#ifndef GTIDPROXY_AUTH_INTERNAL_H
#define GTIDPROXY_AUTH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* out = md(a ‖ b); b may be NULL with bn 0. Returns PROTO_OK or
 * PROTO_EUNSUPPORTED when libcrypto fails. out holds EVP_MD_get_size(md). */
int auth__digest(const EVP_MD *md, const void *a, size_t an, const void *b, size_t bn,
                 uint8_t *out);

#endif
