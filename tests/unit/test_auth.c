/*
 * test_auth.c - password math (auth.h). mysql_native_password against a real
 * MariaDB 10.11 capture (nonce + libmariadb reply for 'apppw') and the
 * server's SELECT PASSWORD('apppw'); caching_sha2_password against vectors
 * computed independently with Python's hashlib (commands in comments); the
 * RSA full-auth path with a key pair generated here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bio.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "gtidproxy/auth.h"
#include "gtidproxy/proto_handshake.h"
#include "testsupport.h"

/* SELECT PASSWORD('apppw') on the capture server (fixtures README). */
static const char apppw_hash[] = "*DB14CBAE92D7CB2F84BD3AA7222415B564A4054A";

/* Nonce of a captured HandshakeV10 against the auth data of the client
 * packet answering it (HandshakeResponse41, or AuthSwitchResponse). */
static void native_kat(const char *v10_file, const char *reply_file, bool is_response)
{
    size_t vn, rn;
    uint8_t *v10 = tu_fixture(v10_file, &vn);
    uint8_t *rp = tu_fixture(reply_file, &rn);
    struct proto_handshake_v10 hs;
    struct proto_str reply;
    assert_int_equal(proto_handshake_v10_parse(v10, vn, &hs), PROTO_OK);
    assert_int_equal(hs.scramble_len, AUTH_NONCE_LEN);
    if (is_response) {
        struct proto_handshake_response r;
        assert_int_equal(proto_handshake_response_parse(rp, rn, &r), PROTO_OK);
        reply = r.auth;
    } else {
        reply = (struct proto_str){rp, rn};
    }
    assert_int_equal(reply.len, AUTH_NATIVE_LEN);

    uint8_t got[AUTH_NATIVE_LEN];
    assert_int_equal(auth_native_reply(hs.scramble, "apppw", 5, got), AUTH_NATIVE_LEN);
    assert_memory_equal(got, reply.p, AUTH_NATIVE_LEN);

    uint8_t stage2[AUTH_NATIVE_LEN];
    assert_int_equal(auth_native_parse_hash(apppw_hash, strlen(apppw_hash), stage2), PROTO_OK);
    assert_true(auth_native_verify(hs.scramble, reply.p, reply.len, stage2));
    free(v10);
    free(rp);
}

static void test_native_capture(void **state)
{
    (void)state;
    native_kat("handshake/v10_nodb.hex", "handshake/response_nodb.hex", true);
    native_kat("handshake/v10_db.hex", "handshake/response_db.hex", true);
    /* after an AuthSwitchRequest carrying the connection's nonce again */
    native_kat("handshake/cu_v10.hex", "handshake/auth_switch_response.hex", false);
    native_kat("handshake/ed_v10.hex", "handshake/ed_auth_switch_response.hex", false);
}

static void test_native_hash(void **state)
{
    (void)state;
    uint8_t stage2[AUTH_NATIVE_LEN], parsed[AUTH_NATIVE_LEN];
    char text[AUTH_NATIVE_HASH_LEN + 1];
    assert_int_equal(auth_native_stage2("apppw", 5, stage2), AUTH_NATIVE_LEN);
    assert_int_equal(auth_native_parse_hash(apppw_hash, strlen(apppw_hash), parsed), PROTO_OK);
    assert_memory_equal(stage2, parsed, AUTH_NATIVE_LEN);
    auth_native_format_hash(stage2, text);
    assert_string_equal(text, apppw_hash);

    /* lower case is accepted too (python: sha1(sha1(b'apppw')).hexdigest()) */
    const char *lower = "*db14cbae92d7cb2f84bd3aa7222415b564a4054a";
    assert_int_equal(auth_native_parse_hash(lower, strlen(lower), parsed), PROTO_OK);
    assert_memory_equal(stage2, parsed, AUTH_NATIVE_LEN);

    memset(parsed, 0x55, sizeof parsed);
    const char *bad[] = {"",
                         "DB14CBAE92D7CB2F84BD3AA7222415B564A4054A0",
                         "*DB14CBAE92D7CB2F84BD3AA7222415B564A4054",
                         "*DB14CBAE92D7CB2F84BD3AA7222415B564A4054G",
                         "606717496665bcba",
                         "*DB14CBAE92D7CB2F84BD3AA7222415B564A4054A "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(auth_native_parse_hash(bad[i], strlen(bad[i]), parsed), PROTO_EBAD);
    for (size_t i = 0; i < sizeof parsed; i++)
        assert_int_equal(parsed[i], 0x55); /* untouched on failure */
}

static void test_native_verify_rejects(void **state)
{
    (void)state;
    uint8_t nonce[AUTH_NONCE_LEN], reply[AUTH_NATIVE_LEN], stage2[AUTH_NATIVE_LEN];
    memcpy(nonce, "ABCDEFGHIJKLMNOPQRST", AUTH_NONCE_LEN);
    assert_int_equal(auth_native_stage2("apppw", 5, stage2), AUTH_NATIVE_LEN);

    assert_int_equal(auth_native_reply(nonce, "apppw", 5, reply), AUTH_NATIVE_LEN);
    assert_true(auth_native_verify(nonce, reply, sizeof reply, stage2));
    assert_false(auth_native_verify(nonce, reply, sizeof reply - 1, stage2));
    assert_false(auth_native_verify(nonce, reply, 0, stage2));
    for (size_t bit = 0; bit < 8 * sizeof reply; bit++) {
        reply[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_false(auth_native_verify(nonce, reply, sizeof reply, stage2));
        reply[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    /* wrong password; right password under another nonce */
    assert_int_equal(auth_native_reply(nonce, "apppW", 5, reply), AUTH_NATIVE_LEN);
    assert_false(auth_native_verify(nonce, reply, sizeof reply, stage2));
    assert_int_equal(auth_native_reply(nonce, "apppw", 5, reply), AUTH_NATIVE_LEN);
    nonce[19] ^= 1;
    assert_false(auth_native_verify(nonce, reply, sizeof reply, stage2));

    /* an empty password sends an empty reply */
    memset(reply, 0xEE, sizeof reply);
    assert_int_equal(auth_native_reply(nonce, "", 0, reply), 0);
    assert_int_equal(reply[0], 0xEE);
}

/* caching_sha2 vectors, computed with:
 *   python3 -c "import hashlib; s=lambda x: hashlib.sha256(x).digest();
 *     n=NONCE; pw=PW; d1=s(pw); d2=s(d1); k=s(d2+n);
 *     print(bytes(a^b for a,b in zip(d1,k)).hex(), d2.hex())"
 */
struct sha2_vec {
    const char *nonce_hex, *pw, *reply_hex, *digest2_hex;
};
static const struct sha2_vec sha2_vecs[] = {
    /* n = b'ABCDEFGHIJKLMNOPQRST', pw = b'apppw' (also in mysql84_response.hex) */
    {"4142434445464748494a4b4c4d4e4f5051525354", "apppw",
     "f484509371582540ec86e998579cd927da4bbc126e39794d4f99388bfa8e5c32",
     "64605cc2c810cf61dff9891eb9670fba3e38ac470b6565fe274ab387eb24562b"},
    /* n = the captured v10_nodb.hex nonce, pw = b'correct horse battery staple' */
    {"2a2b397c2747722a773c6051573e6e3352245a77", "correct horse battery staple",
     "cb9560672b2e93c0ca5e7e13b7c3ca4a5362bc1f6b87d1de7bc78bdf13dc4c8e",
     "b867db875479bcc0287352cdaa4a1755689b8338777d0915e9acd9f6edbc96cb"},
};

static void test_sha2_vectors(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof sha2_vecs / sizeof sha2_vecs[0]; i++) {
        const struct sha2_vec *v = &sha2_vecs[i];
        uint8_t nonce[AUTH_NONCE_LEN], want[AUTH_SHA2_LEN], want_d2[AUTH_SHA2_LEN];
        uint8_t got[AUTH_SHA2_LEN], d2[AUTH_SHA2_LEN];
        assert_int_equal(tu_hex(v->nonce_hex, nonce, sizeof nonce), AUTH_NONCE_LEN);
        assert_int_equal(tu_hex(v->reply_hex, want, sizeof want), AUTH_SHA2_LEN);
        assert_int_equal(tu_hex(v->digest2_hex, want_d2, sizeof want_d2), AUTH_SHA2_LEN);

        assert_int_equal(auth_sha2_reply(nonce, v->pw, strlen(v->pw), got), AUTH_SHA2_LEN);
        assert_memory_equal(got, want, AUTH_SHA2_LEN);
        assert_int_equal(auth_sha2_digest2(v->pw, strlen(v->pw), d2), AUTH_SHA2_LEN);
        assert_memory_equal(d2, want_d2, AUTH_SHA2_LEN);

        assert_true(auth_sha2_verify(nonce, got, sizeof got, d2));
        assert_false(auth_sha2_verify(nonce, got, sizeof got - 1, d2));
        for (size_t bit = 0; bit < 8 * sizeof got; bit += 7) {
            got[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            assert_false(auth_sha2_verify(nonce, got, sizeof got, d2));
            got[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        nonce[0] ^= 0x80;
        assert_false(auth_sha2_verify(nonce, got, sizeof got, d2));
    }
    uint8_t nonce[AUTH_NONCE_LEN] = {0}, out[AUTH_SHA2_LEN];
    assert_int_equal(auth_sha2_reply(nonce, "", 0, out), 0);
}

static void test_sha2_xor(void **state)
{
    (void)state;
    /* python3 -c "n=bytes.fromhex('2a2b397c2747722a773c6051573e6e3352245a77');
     *   pw=b'correct horse battery staple\0';
     *   print(bytes(c^n[i%20] for i,c in enumerate(pw)).hex())" */
    uint8_t nonce[AUTH_NONCE_LEN], want[64], got[64], back[64];
    const char *pw = "correct horse battery staple";
    tu_hex("2a2b397c2747722a773c6051573e6e3352245a77", nonce, sizeof nonce);
    size_t wn =
        tu_hex("49444b0e4224060a1f531222321e0c5226503f05530b4a0846371e4f77", want, sizeof want);
    int n = auth_sha2_xor_password(nonce, pw, strlen(pw), got, sizeof got);
    assert_int_equal(n, (int)strlen(pw) + 1);
    assert_int_equal((size_t)n, wn);
    assert_memory_equal(got, want, wn);
    /* the NUL went under the XOR too */
    assert_int_equal(got[n - 1], nonce[(n - 1) % AUTH_NONCE_LEN]);
    /* XOR with the same nonce undoes it (the server's side) */
    assert_int_equal(auth_sha2_xor_password(nonce, got, (size_t)n - 1, back, sizeof back), n);
    assert_memory_equal(back, pw, strlen(pw));
    assert_int_equal(auth_sha2_xor_password(nonce, pw, strlen(pw), got, strlen(pw)),
                     PROTO_ENOSPACE);
}

/* ---- RSA full auth ---- */

static char *pem_of(EVP_PKEY *pkey, int selection, const char *structure, size_t *len)
{
    OSSL_ENCODER_CTX *ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, selection, "PEM", structure, NULL);
    unsigned char *data = NULL;
    size_t n = 0;
    assert_non_null(ectx);
    assert_int_equal(OSSL_ENCODER_to_data(ectx, &data, &n), 1);
    OSSL_ENCODER_CTX_free(ectx);
    *len = n;
    return (char *)data;
}

static int decrypt_raw(EVP_PKEY *pkey, const uint8_t *c, size_t cn, uint8_t *out, size_t *on)
{
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pkey, NULL);
    int ok = ctx && EVP_PKEY_decrypt_init(ctx) > 0 &&
             EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) > 0 &&
             EVP_PKEY_decrypt(ctx, out, on, c, cn) > 0;
    EVP_PKEY_CTX_free(ctx);
    return ok;
}

static void test_sha2_rsa(void **state)
{
    (void)state;
    EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
    assert_non_null(pkey);
    size_t spki_len, pkcs1_len, priv_len;
    char *spki = pem_of(pkey, EVP_PKEY_PUBLIC_KEY, "SubjectPublicKeyInfo", &spki_len);
    char *pkcs1 = pem_of(pkey, EVP_PKEY_PUBLIC_KEY, "type-specific", &pkcs1_len);
    char *priv = pem_of(pkey, EVP_PKEY_KEYPAIR, "PrivateKeyInfo", &priv_len);
    assert_non_null(strstr(spki, "BEGIN PUBLIC KEY"));
    assert_non_null(strstr(pkcs1, "BEGIN RSA PUBLIC KEY"));

    uint8_t nonce[AUTH_NONCE_LEN], xored[64], cipher[512], plain[512];
    memcpy(nonce, "ABCDEFGHIJKLMNOPQRST", AUTH_NONCE_LEN);
    int xn = auth_sha2_xor_password(nonce, "apppw", 5, xored, sizeof xored);
    assert_int_equal(xn, 6);

    const char *pems[] = {spki, pkcs1};
    size_t pem_lens[] = {spki_len, pkcs1_len};
    for (size_t i = 0; i < 2; i++) {
        size_t cn = 0, pn = sizeof plain;
        assert_int_equal(auth_sha2_rsa_encrypt(pems[i], pem_lens[i], nonce, "apppw", 5, cipher,
                                               sizeof cipher, &cn),
                         PROTO_OK);
        assert_int_equal(cn, 256);
        /* decrypted independently of auth_sha2.c: the XORed password */
        assert_true(decrypt_raw(pkey, cipher, cn, plain, &pn));
        assert_int_equal(pn, (size_t)xn);
        assert_memory_equal(plain, xored, pn);
        /* and by the server-side helper: the password itself */
        uint8_t pw[64];
        assert_int_equal(auth_sha2_rsa_decrypt(priv, priv_len, nonce, cipher, cn, pw, sizeof pw),
                         5);
        assert_memory_equal(pw, "apppw", 5);
        /* tampering, a short block, a wrong nonce */
        cipher[100] ^= 1;
        assert_int_equal(auth_sha2_rsa_decrypt(priv, priv_len, nonce, cipher, cn, pw, sizeof pw),
                         PROTO_EBAD);
        cipher[100] ^= 1;
        assert_int_equal(
            auth_sha2_rsa_decrypt(priv, priv_len, nonce, cipher, cn - 1, pw, sizeof pw),
            PROTO_EBAD);
        nonce[5] ^= 0x20; /* un-XOR leaves no trailing NUL */
        assert_int_equal(auth_sha2_rsa_decrypt(priv, priv_len, nonce, cipher, cn, pw, sizeof pw),
                         PROTO_EBAD);
        nonce[5] ^= 0x20;
        assert_int_equal(auth_sha2_rsa_decrypt(priv, priv_len, nonce, cipher, cn, pw, 4),
                         PROTO_ENOSPACE);
    }

    /* Two encryptions differ (OAEP is randomized) but both decrypt. */
    uint8_t c2[512];
    size_t cn = 0, cn2 = 0;
    assert_int_equal(
        auth_sha2_rsa_encrypt(spki, spki_len, nonce, "apppw", 5, cipher, sizeof cipher, &cn),
        PROTO_OK);
    assert_int_equal(auth_sha2_rsa_encrypt(spki, spki_len, nonce, "apppw", 5, c2, sizeof c2, &cn2),
                     PROTO_OK);
    assert_memory_not_equal(cipher, c2, cn);

    /* Limits: a password that fills one OAEP block, and one byte more. */
    char longpw[256];
    memset(longpw, 'x', sizeof longpw);
    assert_int_equal(auth_sha2_rsa_encrypt(spki, spki_len, nonce, longpw, 256 - 42 - 1, cipher,
                                           sizeof cipher, &cn),
                     PROTO_OK);
    assert_int_equal(
        auth_sha2_rsa_encrypt(spki, spki_len, nonce, longpw, 256 - 42, cipher, sizeof cipher, &cn),
        PROTO_ETOOBIG);
    assert_int_equal(auth_sha2_rsa_encrypt(spki, spki_len, nonce, "apppw", 5, cipher, 255, &cn),
                     PROTO_ENOSPACE);
    static const char junk[] = "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n";
    assert_int_equal(
        auth_sha2_rsa_encrypt(junk, sizeof junk - 1, nonce, "apppw", 5, cipher, sizeof cipher, &cn),
        PROTO_EBAD);
    assert_int_equal(auth_sha2_rsa_encrypt("", 0, nonce, "apppw", 5, cipher, sizeof cipher, &cn),
                     PROTO_EBAD);
    /* a public key cannot decrypt */
    assert_int_equal(auth_sha2_rsa_decrypt(spki, spki_len, nonce, c2, cn2, plain, sizeof plain),
                     PROTO_EBAD);

    OPENSSL_free(spki);
    OPENSSL_free(pkcs1);
    OPENSSL_free(priv);
    EVP_PKEY_free(pkey);
}

/* ---- client_ed25519 ---- */

/* Capture C (fixtures README): account ed IDENTIFIED VIA ed25519 USING
 * PASSWORD('edpw'); mysql.user authentication_string below. Checked
 * independently with `openssl pkeyutl -verify -rawin` on the same bytes. */
static const char ed_pub_b64[] = "LIEvGDGjHTmKyz3peLRjPqahOct5n6/BQCNm1bOvot4";

static void test_ed25519_capture(void **state)
{
    (void)state;
    size_t sn, rn;
    uint8_t *sw = tu_fixture("handshake/ed25519_auth_switch.hex", &sn);
    uint8_t *sig = tu_fixture("handshake/ed25519_reply.hex", &rn);
    struct proto_auth_switch as;
    uint8_t pub[AUTH_ED25519_PUB_LEN], want[AUTH_ED25519_PUB_LEN];

    assert_int_equal(proto_auth_switch_parse(sw, sn, &as), PROTO_OK);
    assert_true(proto_str_eq(as.plugin, "client_ed25519"));
    assert_int_equal(as.data.len, AUTH_ED25519_NONCE_LEN);
    assert_int_equal(as.scramble.len, AUTH_ED25519_NONCE_LEN); /* no NUL to strip */
    assert_int_equal(rn, AUTH_ED25519_SIG_LEN);

    assert_int_equal(auth_ed25519_parse_pubkey(ed_pub_b64, strlen(ed_pub_b64), pub), PROTO_OK);
    tu_hex("2c812f1831a31d398acb3de978b4633ea6a139cb799fafc1402366d5b3afa2de", want,
           sizeof want); /* python3: base64.b64decode(s + "=").hex() */
    assert_memory_equal(pub, want, sizeof want);
    assert_true(auth_ed25519_verify(as.scramble.p, as.scramble.len, sig, rn, pub));

    assert_false(auth_ed25519_verify(as.scramble.p, as.scramble.len, sig, rn - 1, pub));
    assert_false(auth_ed25519_verify(as.scramble.p, as.scramble.len - 1, sig, rn, pub));
    for (size_t bit = 0; bit < 8 * rn; bit += 13) {
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_false(auth_ed25519_verify(as.scramble.p, as.scramble.len, sig, rn, pub));
        sig[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    pub[0] ^= 1;
    assert_false(auth_ed25519_verify(as.scramble.p, as.scramble.len, sig, rn, pub));

    char padded[45];
    memcpy(padded, ed_pub_b64, 43);
    padded[43] = '=';
    padded[44] = 0;
    assert_int_equal(auth_ed25519_parse_pubkey(padded, 44, pub), PROTO_OK);
    assert_memory_equal(pub, want, sizeof want);
    padded[10] = '!';
    assert_int_equal(auth_ed25519_parse_pubkey(padded, 44, pub), PROTO_EBAD);
    assert_int_equal(auth_ed25519_parse_pubkey(ed_pub_b64, 42, pub), PROTO_EBAD);
    assert_int_equal(auth_ed25519_parse_pubkey("", 0, pub), PROTO_EBAD);
    padded[10] = '=';
    assert_int_equal(auth_ed25519_parse_pubkey(padded, 44, pub), PROTO_EBAD);
    free(sw);
    free(sig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_native_capture),
        cmocka_unit_test(test_native_hash),
        cmocka_unit_test(test_native_verify_rejects),
        cmocka_unit_test(test_sha2_vectors),
        cmocka_unit_test(test_sha2_xor),
        cmocka_unit_test(test_sha2_rsa),
        cmocka_unit_test(test_ed25519_capture),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
