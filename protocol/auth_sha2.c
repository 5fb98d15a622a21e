/*
 * auth_sha2.c - caching_sha2_password: the fast-auth reply and its
 * server-side check, and the full-auth path over a plain transport (password
 * XOR nonce under RSA-OAEP). Facts: shared/PROTOCOL.md 1.6 (MY:sha2
 * Generate_scramble / Validate_scramble, CC plugins/auth/caching_sha2_pw.c).
 * OpenSSL 3 EVP and OSSL_DECODER only; no deprecated RSA_* calls.
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>

#include "auth_internal.h"
#include "gtidproxy/auth.h"

/* Largest RSA block we handle: a 16384-bit key. Servers use 2048. */
#define RSA_BLOCK_MAX 2048
/* OAEP with SHA-1 costs 2 * 20 + 2 bytes of each block (RFC 8017 7.1.1). */
#define OAEP_SHA1_OVERHEAD 42

int auth_sha2_digest2(const void *pw, size_t pw_len, uint8_t out[AUTH_SHA2_LEN])
{
    uint8_t d1[AUTH_SHA2_LEN];
    int rc = auth__digest(EVP_sha256(), pw, pw_len, NULL, 0, d1);
    if (rc == PROTO_OK)
        rc = auth__digest(EVP_sha256(), d1, sizeof d1, NULL, 0, out);
    OPENSSL_cleanse(d1, sizeof d1);
    return rc == PROTO_OK ? AUTH_SHA2_LEN : rc;
}

int auth_sha2_reply(const uint8_t nonce[AUTH_NONCE_LEN], const void *pw, size_t pw_len,
                    uint8_t out[AUTH_SHA2_LEN])
{
    uint8_t d1[AUTH_SHA2_LEN], d2[AUTH_SHA2_LEN], key[AUTH_SHA2_LEN];
    int rc;
    if (pw_len == 0)
        return 0;
    /* Digest first, nonce second: the reverse of mysql_native_password. */
    if ((rc = auth__digest(EVP_sha256(), pw, pw_len, NULL, 0, d1)) == PROTO_OK &&
        (rc = auth__digest(EVP_sha256(), d1, sizeof d1, NULL, 0, d2)) == PROTO_OK &&
        (rc = auth__digest(EVP_sha256(), d2, sizeof d2, nonce, AUTH_NONCE_LEN, key)) == PROTO_OK) {
        for (size_t i = 0; i < AUTH_SHA2_LEN; i++)
            out[i] = d1[i] ^ key[i];
    }
    OPENSSL_cleanse(d1, sizeof d1);
    OPENSSL_cleanse(key, sizeof key);
    return rc == PROTO_OK ? AUTH_SHA2_LEN : rc;
}

bool auth_sha2_verify(const uint8_t nonce[AUTH_NONCE_LEN], const uint8_t *reply, size_t reply_len,
                      const uint8_t known[AUTH_SHA2_LEN])
{
    uint8_t key[AUTH_SHA2_LEN], d1[AUTH_SHA2_LEN], check[AUTH_SHA2_LEN];
    bool ok = false;
    if (reply_len != AUTH_SHA2_LEN)
        return false;
    if (auth__digest(EVP_sha256(), known, AUTH_SHA2_LEN, nonce, AUTH_NONCE_LEN, key) != PROTO_OK)
        return false;
    for (size_t i = 0; i < AUTH_SHA2_LEN; i++)
        d1[i] = reply[i] ^ key[i];
    if (auth__digest(EVP_sha256(), d1, sizeof d1, NULL, 0, check) == PROTO_OK)
        ok = CRYPTO_memcmp(check, known, AUTH_SHA2_LEN) == 0;
    OPENSSL_cleanse(d1, sizeof d1);
    return ok;
}

int auth_sha2_xor_password(const uint8_t nonce[AUTH_NONCE_LEN], const void *pw, size_t pw_len,
                           uint8_t *out, size_t cap)
{
    const uint8_t *in = pw;
    if (pw_len >= cap || pw_len > (size_t)INT32_MAX - 1)
        return PROTO_ENOSPACE;
    for (size_t i = 0; i < pw_len; i++)
        out[i] = in[i] ^ nonce[i % AUTH_NONCE_LEN];
    out[pw_len] = nonce[pw_len % AUTH_NONCE_LEN]; /* the NUL, XORed */
    return (int)(pw_len + 1);
}

/* An RSA key from PEM: selection EVP_PKEY_PUBLIC_KEY accepts
 * SubjectPublicKeyInfo and PKCS#1 public keys, EVP_PKEY_KEYPAIR PKCS#8 and
 * PKCS#1 private keys. NULL when the text is neither or not RSA. */
static EVP_PKEY *load_rsa_pem(const char *pem, size_t pem_len, int selection)
{
    EVP_PKEY *pkey = NULL;
    const unsigned char *data = (const unsigned char *)pem;
    size_t len = pem_len;
    OSSL_DECODER_CTX *dctx =
        OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, "RSA", selection, NULL, NULL);
    if (!dctx)
        return NULL;
    if (!OSSL_DECODER_from_data(dctx, &data, &len)) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    OSSL_DECODER_CTX_free(dctx);
    if (pkey && !EVP_PKEY_is_a(pkey, "RSA")) {
        EVP_PKEY_free(pkey);
        pkey = NULL;
    }
    return pkey;
}

static EVP_PKEY_CTX *oaep_ctx(EVP_PKEY *pkey, bool encrypt)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    if (!ctx)
        return NULL;
    int ok = encrypt ? EVP_PKEY_encrypt_init(ctx) : EVP_PKEY_decrypt_init(ctx);
    if (ok <= 0 || EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0) {
        EVP_PKEY_CTX_free(ctx);
        return NULL;
    }
    return ctx;
}

int auth_sha2_rsa_encrypt(const char *pem, size_t pem_len, const uint8_t nonce[AUTH_NONCE_LEN],
                          const void *pw, size_t pw_len, uint8_t *out, size_t cap, size_t *out_len)
{
    uint8_t plain[RSA_BLOCK_MAX];
    EVP_PKEY_CTX *ctx = NULL;
    int rc;

    *out_len = 0;
    EVP_PKEY *pkey = load_rsa_pem(pem, pem_len, EVP_PKEY_PUBLIC_KEY);
    if (!pkey)
        return PROTO_EBAD;
    int ksize = EVP_PKEY_get_size(pkey);
    if (ksize <= OAEP_SHA1_OVERHEAD || ksize > RSA_BLOCK_MAX) {
        rc = PROTO_EBAD;
        goto out;
    }
    if (pw_len + 1 > (size_t)ksize - OAEP_SHA1_OVERHEAD) {
        rc = PROTO_ETOOBIG;
        goto out;
    }
    if (cap < (size_t)ksize) {
        rc = PROTO_ENOSPACE;
        goto out;
    }
    int plen = auth_sha2_xor_password(nonce, pw, pw_len, plain, sizeof plain);
    if (plen < 0) {
        rc = plen;
        goto out;
    }
    size_t olen = cap;
    ctx = oaep_ctx(pkey, true);
    if (!ctx || EVP_PKEY_encrypt(ctx, out, &olen, plain, (size_t)plen) <= 0) {
        rc = PROTO_EUNSUPPORTED;
        goto out;
    }
    *out_len = olen;
    rc = PROTO_OK;
out:
    OPENSSL_cleanse(plain, sizeof plain);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return rc;
}

int auth_sha2_rsa_decrypt(const char *pem, size_t pem_len, const uint8_t nonce[AUTH_NONCE_LEN],
                          const uint8_t *cipher, size_t cipher_len, uint8_t *out, size_t cap)
{
    uint8_t plain[RSA_BLOCK_MAX];
    EVP_PKEY_CTX *ctx = NULL;
    size_t plen = sizeof plain;
    int rc = PROTO_EBAD;

    EVP_PKEY *pkey = load_rsa_pem(pem, pem_len, EVP_PKEY_KEYPAIR);
    if (!pkey)
        return PROTO_EBAD;
    int ksize = EVP_PKEY_get_size(pkey);
    /* The server insists on exactly one key-sized block (MY:sha2). */
    if (ksize <= 0 || ksize > RSA_BLOCK_MAX || cipher_len != (size_t)ksize)
        goto out;
    ctx = oaep_ctx(pkey, false);
    if (!ctx || EVP_PKEY_decrypt(ctx, plain, &plen, cipher, cipher_len) <= 0 || plen == 0)
        goto out;
    for (size_t i = 0; i < plen; i++)
        plain[i] ^= nonce[i % AUTH_NONCE_LEN];
    if (plain[plen - 1] != 0)
        goto out;
    if (plen - 1 > cap) {
        rc = PROTO_ENOSPACE;
        goto out;
    }
    memcpy(out, plain, plen - 1);
    rc = (int)(plen - 1);
out:
    OPENSSL_cleanse(plain, sizeof plain);
    EVP_PKEY_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return rc;
}
