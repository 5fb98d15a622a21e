/*
 * auth_native.c - mysql_native_password: the client reply, the stage2 hash
 * the server stores, its "*HEX" text form, and the server-side check.
 * Facts: shared/PROTOCOL.md 1.5 (CC ma_scramble_41, MY:pw
 * check_scramble_sha1). Also home of auth__digest(), used by auth_sha2.c.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "auth_internal.h"
#include "gtidproxy/auth.h"

int auth__digest(const EVP_MD *md, const void *a, size_t an, const void *b, size_t bn, uint8_t *out)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    int ok = ctx && EVP_DigestInit_ex(ctx, md, NULL) && EVP_DigestUpdate(ctx, a, an) &&
             (bn == 0 || EVP_DigestUpdate(ctx, b, bn)) && EVP_DigestFinal_ex(ctx, out, NULL);
    EVP_MD_CTX_free(ctx);
    return ok ? PROTO_OK : PROTO_EUNSUPPORTED;
}

int auth_native_stage2(const void *pw, size_t pw_len, uint8_t out[AUTH_NATIVE_LEN])
{
    uint8_t stage1[AUTH_NATIVE_LEN];
    int rc = auth__digest(EVP_sha1(), pw, pw_len, NULL, 0, stage1);
    if (rc == PROTO_OK)
        rc = auth__digest(EVP_sha1(), stage1, sizeof stage1, NULL, 0, out);
    OPENSSL_cleanse(stage1, sizeof stage1);
    return rc == PROTO_OK ? AUTH_NATIVE_LEN : rc;
}

int auth_native_reply(const uint8_t nonce[AUTH_NONCE_LEN], const void *pw, size_t pw_len,
                      uint8_t out[AUTH_NATIVE_LEN])
{
    uint8_t stage1[AUTH_NATIVE_LEN], stage2[AUTH_NATIVE_LEN], key[AUTH_NATIVE_LEN];
    int rc;
    if (pw_len == 0)
        return 0;
    if ((rc = auth__digest(EVP_sha1(), pw, pw_len, NULL, 0, stage1)) == PROTO_OK &&
        (rc = auth__digest(EVP_sha1(), stage1, sizeof stage1, NULL, 0, stage2)) == PROTO_OK &&
        (rc = auth__digest(EVP_sha1(), nonce, AUTH_NONCE_LEN, stage2, sizeof stage2, key)) ==
            PROTO_OK) {
        for (size_t i = 0; i < AUTH_NATIVE_LEN; i++)
            out[i] = stage1[i] ^ key[i];
    }
    OPENSSL_cleanse(stage1, sizeof stage1);
    OPENSSL_cleanse(key, sizeof key);
    return rc == PROTO_OK ? AUTH_NATIVE_LEN : rc;
}

int auth_native_parse_hash(const char *s, size_t n, uint8_t stage2[AUTH_NATIVE_LEN])
{
    uint8_t tmp[AUTH_NATIVE_LEN];
    if (n != AUTH_NATIVE_HASH_LEN || s[0] != '*')
        return PROTO_EBAD;
    for (size_t i = 0; i < AUTH_NATIVE_LEN; i++) {
        int hi = proto_hex_digit(s[1 + 2 * i]), lo = proto_hex_digit(s[2 + 2 * i]);
        if (hi < 0 || lo < 0)
            return PROTO_EBAD;
        tmp[i] = (uint8_t)(hi << 4 | lo);
    }
    memcpy(stage2, tmp, sizeof tmp);
    return PROTO_OK;
}

void auth_native_format_hash(const uint8_t stage2[AUTH_NATIVE_LEN],
                             char out[AUTH_NATIVE_HASH_LEN + 1])
{
    static const char digits[] = "0123456789ABCDEF";
    out[0] = '*';
    for (size_t i = 0; i < AUTH_NATIVE_LEN; i++) {
        out[1 + 2 * i] = digits[stage2[i] >> 4];
        out[2 + 2 * i] = digits[stage2[i] & 0xF];
    }
    out[AUTH_NATIVE_HASH_LEN] = '\0';
}

bool auth_native_verify(const uint8_t nonce[AUTH_NONCE_LEN], const uint8_t *reply, size_t reply_len,
                        const uint8_t stage2[AUTH_NATIVE_LEN])
{
    uint8_t key[AUTH_NATIVE_LEN], cand[AUTH_NATIVE_LEN], check[AUTH_NATIVE_LEN];
    bool ok = false;
    if (reply_len != AUTH_NATIVE_LEN)
        return false;
    if (auth__digest(EVP_sha1(), nonce, AUTH_NONCE_LEN, stage2, AUTH_NATIVE_LEN, key) != PROTO_OK)
        return false;
    for (size_t i = 0; i < AUTH_NATIVE_LEN; i++)
        cand[i] = reply[i] ^ key[i];
    if (auth__digest(EVP_sha1(), cand, sizeof cand, NULL, 0, check) == PROTO_OK)
        ok = CRYPTO_memcmp(check, stage2, AUTH_NATIVE_LEN) == 0;
    OPENSSL_cleanse(cand, sizeof cand);
    return ok;
}
