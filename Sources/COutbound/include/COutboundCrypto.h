/*
 * JWS signing keys through OpenSSL's libcrypto (3.x EVP interface): load a PEM private key,
 * sign a JWS signing input (RS256/RS384: RSASSA-PKCS1-v1_5; ES256/ES384: ECDSA, returned in
 * JWS's fixed-size r||s form, RFC 7518 §3.4), and read the public numbers a JWK needs.
 * No cryptography is written here: every operation is one libcrypto call.
 *
 * https://www.openssl.org/docs/man3.0/man3/PEM_read_bio_PrivateKey.html
 * https://www.openssl.org/docs/man3.0/man3/EVP_DigestSignInit.html
 * https://www.openssl.org/docs/man3.0/man3/EVP_PKEY_get_bn_param.html
 */
#ifndef COUTBOUND_CRYPTO_H
#define COUTBOUND_CRYPTO_H

#include <stddef.h>

typedef struct evp_pkey_st EVP_PKEY;

/** What kind of key a loaded private key is. */
typedef enum {
    OUTBOUND_KEY_OTHER = 0,
    OUTBOUND_KEY_RSA = 1,
    OUTBOUND_KEY_EC_P256 = 2,
    OUTBOUND_KEY_EC_P384 = 3,
    OUTBOUND_KEY_EC_OTHER = 4,
} outbound_key_kind;

/**
 * Reads an unencrypted PEM private key from memory; NULL when the bytes hold none (a public
 * key, a certificate, an encrypted key: no password is ever asked for). Free with
 * outbound_key_free.
 */
EVP_PKEY *outbound_key_from_pem(const void *pem, size_t length);

void outbound_key_free(EVP_PKEY *key);

outbound_key_kind outbound_key_kind_of(const EVP_PKEY *key);

/** The key's size in bits (RSA modulus, EC field). */
int outbound_key_bits(const EVP_PKEY *key);

/**
 * Signs `data` with SHA-`hash_bits` (256 or 384). RSA: the PKCS #1 v1.5 signature. EC: r||s,
 * each left-padded to `field_bytes` (32 for P-256, 48 for P-384). Writes at most `capacity`
 * bytes to `signature` and the length to `*signature_length`. Returns 1 on success, 0 on failure.
 */
int outbound_key_sign(EVP_PKEY *key, int hash_bits, size_t field_bytes, const void *data, size_t length,
                      unsigned char *signature, size_t capacity, size_t *signature_length);

/**
 * The RSA public modulus (n) or exponent (e) (which: 'n' or 'e'), big-endian without leading
 * zeros; or the EC public point's x or y (which: 'x' or 'y'), left-padded to `pad` bytes.
 * Returns the number of bytes written, 0 on failure.
 */
size_t outbound_key_public_number(const EVP_PKEY *key, char which, size_t pad, unsigned char *out, size_t capacity);

/** Fills `buffer` with `length` bytes from getrandom(2); 1 on success, 0 on failure. */
int outbound_random_bytes(void *buffer, size_t length);

#endif
