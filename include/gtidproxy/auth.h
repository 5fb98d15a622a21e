/*
 * auth.h - the password math of the auth plugins the proxy speaks:
 * mysql_native_password (SHA-1), caching_sha2_password (SHA-256, plus
 * RSA-OAEP for full authentication over a plain transport), and the
 * server-side check of MariaDB's client_ed25519. Facts: shared/PROTOCOL.md
 * 1.5-1.7.
 *
 * Everything is computed with OpenSSL 3 libcrypto (EVP only). Passwords are
 * byte strings (pointer + length), not C strings. Functions that compute
 * return the number of bytes written or a negative PROTO_E* code:
 * PROTO_EBAD for bad input, PROTO_EUNSUPPORTED when libcrypto fails (no
 * SHA-1 in a FIPS-only provider, say). Verifiers return true only for a
 * proven match and compare in constant time.
 *
 * The proxy keeps only derived secrets for clients it authenticates itself:
 * stage2 = SHA1(SHA1(pw)) for native (what mysql.user stores as "*HEX"),
 * SHA256(SHA256(pw)) for caching_sha2's fast path. Neither yields the
 * password, so neither lets the proxy log in to a backend.
 */
#ifndef GTIDPROXY_AUTH_H
#define GTIDPROXY_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gtidproxy/proto_rw.h"

/* The nonce ("scramble") of HandshakeV10 / AuthSwitchRequest that the
 * native and caching_sha2 plugins use: 20 bytes (sent with a NUL). */
#define AUTH_NONCE_LEN  20
#define AUTH_NATIVE_LEN 20 /* SHA-1 digest: reply and stage2 */
#define AUTH_SHA2_LEN   32 /* SHA-256 digest: reply and stored digest */
/* "*" + 40 hex digits, as in mysql.user and SELECT PASSWORD('x'). */
#define AUTH_NATIVE_HASH_LEN 41

/* caching_sha2_password: bytes after the 0x01 of AuthMoreData, and the
 * client's request for the server's RSA key (MY:sha2). */
#define AUTH_SHA2_REQUEST_PUBLIC_KEY 0x02
#define AUTH_SHA2_FAST_AUTH_OK       0x03
#define AUTH_SHA2_PERFORM_FULL_AUTH  0x04

/* ---- mysql_native_password ---- */

/* reply = SHA1(pw) XOR SHA1(nonce ‖ SHA1(SHA1(pw))). Writes 20 bytes and
 * returns 20; an empty password writes nothing and returns 0 (the client
 * then sends an empty auth response). */
int auth_native_reply(const uint8_t nonce[AUTH_NONCE_LEN], const void *pw, size_t pw_len,
                      uint8_t out[AUTH_NATIVE_LEN]) __attribute__((warn_unused_result));

/* stage2 = SHA1(SHA1(pw)). Returns 20. */
int auth_native_stage2(const void *pw, size_t pw_len, uint8_t out[AUTH_NATIVE_LEN])
    __attribute__((warn_unused_result));

/* Parses "*" + 40 hex digits (either case) into stage2. Exactly 41 bytes;
 * anything else (an empty string for a password-less account, a 16-digit
 * pre-4.1 hash) is PROTO_EBAD. Returns PROTO_OK. */
int auth_native_parse_hash(const char *s, size_t n, uint8_t stage2[AUTH_NATIVE_LEN])
    __attribute__((warn_unused_result));

/* Writes "*" + 40 upper-case hex digits + NUL (the server's format). */
void auth_native_format_hash(const uint8_t stage2[AUTH_NATIVE_LEN],
                             char out[AUTH_NATIVE_HASH_LEN + 1]);

/* Server-side check (MY:pw check_scramble_sha1): cand = reply XOR
 * SHA1(nonce ‖ stage2); ok iff SHA1(cand) == stage2. A reply that is not
 * exactly 20 bytes is a mismatch (empty passwords have no stage2: the
 * caller handles password-less accounts itself). */
bool auth_native_verify(const uint8_t nonce[AUTH_NONCE_LEN], const uint8_t *reply, size_t reply_len,
                        const uint8_t stage2[AUTH_NATIVE_LEN]);

/* ---- caching_sha2_password ---- */

/* Fast-auth reply = SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) ‖ nonce).
 * Writes 32 bytes and returns 32; an empty password returns 0. */
int auth_sha2_reply(const uint8_t nonce[AUTH_NONCE_LEN], const void *pw, size_t pw_len,
                    uint8_t out[AUTH_SHA2_LEN]) __attribute__((warn_unused_result));

/* The digest the server caches: SHA256(SHA256(pw)). Returns 32. */
int auth_sha2_digest2(const void *pw, size_t pw_len, uint8_t out[AUTH_SHA2_LEN])
    __attribute__((warn_unused_result));

/* Server-side fast-path check (MY:sha2 Validate_scramble): d = reply XOR
 * SHA256(known ‖ nonce); ok iff SHA256(d) == known. Reply must be 32 bytes. */
bool auth_sha2_verify(const uint8_t nonce[AUTH_NONCE_LEN], const uint8_t *reply, size_t reply_len,
                      const uint8_t known[AUTH_SHA2_LEN]);

/* Full auth, the bytes under the RSA: out[i] = (pw ‖ 0x00)[i] XOR
 * nonce[i % 20]. Returns pw_len + 1, or PROTO_ENOSPACE when cap is short.
 * Applying it twice gives back pw ‖ 0x00. */
int auth_sha2_xor_password(const uint8_t nonce[AUTH_NONCE_LEN], const void *pw, size_t pw_len,
                           uint8_t *out, size_t cap) __attribute__((warn_unused_result));

/* Full auth over a plain transport, client side: RSA-OAEP (SHA-1, as the
 * servers use RSA_PKCS1_OAEP_PADDING) of auth_sha2_xor_password() under the
 * server's public key, given as the PEM it sends after a 0x02 request
 * (SubjectPublicKeyInfo "BEGIN PUBLIC KEY", or PKCS#1 "BEGIN RSA PUBLIC
 * KEY"). The ciphertext is the key size (256 bytes for RSA-2048); *out_len
 * gets it. PROTO_EBAD for a PEM that is not an RSA public key; PROTO_ETOOBIG
 * when the password does not fit one OAEP block (key bytes - 42);
 * PROTO_ENOSPACE when cap is below the key size. Allocates inside
 * libcrypto (auth is not the per-packet path) and frees before returning. */
int auth_sha2_rsa_encrypt(const char *pem, size_t pem_len, const uint8_t nonce[AUTH_NONCE_LEN],
                          const void *pw, size_t pw_len, uint8_t *out, size_t cap, size_t *out_len)
    __attribute__((warn_unused_result));

/* Server side of the same (a proxy that owns an RSA key pair): decrypts
 * with the PEM private key (PKCS#8 or PKCS#1) and undoes the XOR, leaving
 * the password (without its NUL) in out. Returns its length; PROTO_EBAD for
 * a bad key, a ciphertext that is not exactly the key size, a failed
 * decryption, or a plaintext without the trailing NUL. */
int auth_sha2_rsa_decrypt(const char *pem, size_t pem_len, const uint8_t nonce[AUTH_NONCE_LEN],
                          const uint8_t *cipher, size_t cipher_len, uint8_t *out, size_t cap)
    __attribute__((warn_unused_result));

/* ---- MariaDB client_ed25519 (server side only) ---- */

#define AUTH_ED25519_NONCE_LEN 32 /* sent bare in AuthSwitchRequest */
#define AUTH_ED25519_SIG_LEN   64
#define AUTH_ED25519_PUB_LEN   32

/* Parses the account's public key as mysql.user shows it: 43 base64
 * digits (44 with one '=' is accepted too). PROTO_EBAD otherwise. */
int auth_ed25519_parse_pubkey(const char *s, size_t n, uint8_t pub[AUTH_ED25519_PUB_LEN])
    __attribute__((warn_unused_result));

/* True iff sig (must be 64 bytes) is an Ed25519 signature of the nonce
 * under pub. The proxy can thus check ed25519 clients from the public key
 * alone; it cannot compute a reply for a backend (see auth_ed25519.c). */
bool auth_ed25519_verify(const uint8_t *nonce, size_t nonce_len, const uint8_t *sig, size_t sig_len,
                         const uint8_t pub[AUTH_ED25519_PUB_LEN]);

#endif
