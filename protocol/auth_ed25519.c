/*
 * auth_ed25519.c - MariaDB client_ed25519, server side only: check a
 * client's signature of the nonce against the account's public key (what
 * mysql.user stores as 43 base64 characters). Facts: shared/PROTOCOL.md
 * 1.7 (CC plugins/auth/ed25519.c). The signature is plain Ed25519 (RFC
 * 8032), so OpenSSL's EVP verifies it. Signing (the client side) is not
 * here: MariaDB derives the secret scalar from SHA-512(password) of any
 * length, where RFC 8032 hashes a 32-byte seed, and OpenSSL only signs
 * from seeds.
 */
#include <string.h>

#include <openssl/evp.h>

#include "gtidproxy/auth.h"

int auth_ed25519_parse_pubkey(const char *s, size_t n, uint8_t pub[AUTH_ED25519_PUB_LEN])
{
    /* 32 bytes are 43 base64 digits; MariaDB drops the one '=' of padding.
     * EVP_DecodeBlock wants whole quads, so put it back. */
    unsigned char quad[44], raw[33];
    if (n == 44 && s[43] == '=')
        n = 43;
    if (n != 43)
        return PROTO_EBAD;
    memcpy(quad, s, 43);
    quad[43] = '=';
    if (memchr(quad, '=', 43) != NULL)
        return PROTO_EBAD;
    if (EVP_DecodeBlock(raw, quad, (int)sizeof quad) != 33)
        return PROTO_EBAD;
    memcpy(pub, raw, AUTH_ED25519_PUB_LEN);
    return PROTO_OK;
}

bool auth_ed25519_verify(const uint8_t *nonce, size_t nonce_len, const uint8_t *sig, size_t sig_len,
                         const uint8_t pub[AUTH_ED25519_PUB_LEN])
{
    if (sig_len != AUTH_ED25519_SIG_LEN)
        return false;
    EVP_PKEY *pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, AUTH_ED25519_PUB_LEN);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = pkey && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey) == 1 &&
              EVP_DigestVerify(ctx, sig, sig_len, nonce, nonce_len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(pkey);
    return ok;
}
