#include "COutboundCrypto.h"

#include <errno.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <string.h>
#include <sys/random.h>

/* Never prompt: an encrypted key is a configuration error, not a question on the terminal. */
static int no_password(char *buffer, int size, int rwflag, void *userdata) {
    (void)buffer; (void)size; (void)rwflag; (void)userdata;
    return -1;
}

EVP_PKEY *outbound_key_from_pem(const void *pem, size_t length) {
    if (length > (size_t)0x7fffffff) return NULL;
    BIO *bio = BIO_new_mem_buf(pem, (int)length);
    if (bio == NULL) return NULL;
    EVP_PKEY *key = PEM_read_bio_PrivateKey(bio, NULL, no_password, NULL);
    BIO_free(bio);
    return key;
}

void outbound_key_free(EVP_PKEY *key) {
    EVP_PKEY_free(key);
}

outbound_key_kind outbound_key_kind_of(const EVP_PKEY *key) {
    if (EVP_PKEY_is_a(key, "RSA")) return OUTBOUND_KEY_RSA;
    if (EVP_PKEY_is_a(key, "EC")) {
        char group[64] = {0};
        size_t length = 0;
        if (!EVP_PKEY_get_group_name(key, group, sizeof group, &length)) return OUTBOUND_KEY_EC_OTHER;
        if (strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0) return OUTBOUND_KEY_EC_P256;
        if (strcmp(group, "secp384r1") == 0 || strcmp(group, "P-384") == 0) return OUTBOUND_KEY_EC_P384;
        return OUTBOUND_KEY_EC_OTHER;
    }
    return OUTBOUND_KEY_OTHER;
}

int outbound_key_bits(const EVP_PKEY *key) {
    return EVP_PKEY_get_bits(key);
}

/* DER ECDSA-Sig-Value (what libcrypto produces) to JWS's r||s of fixed width. */
static int der_to_raw(const unsigned char *der, size_t der_length, size_t field_bytes,
                      unsigned char *out, size_t capacity, size_t *out_length) {
    if (capacity < 2 * field_bytes) return 0;
    const unsigned char *cursor = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &cursor, (long)der_length);
    if (sig == NULL) return 0;
    const BIGNUM *r = NULL, *s = NULL;
    ECDSA_SIG_get0(sig, &r, &s);
    int ok = BN_bn2binpad(r, out, (int)field_bytes) == (int)field_bytes
          && BN_bn2binpad(s, out + field_bytes, (int)field_bytes) == (int)field_bytes;
    ECDSA_SIG_free(sig);
    if (ok) *out_length = 2 * field_bytes;
    return ok;
}

int outbound_key_sign(EVP_PKEY *key, int hash_bits, size_t field_bytes, const void *data, size_t length,
                      unsigned char *signature, size_t capacity, size_t *signature_length) {
    const EVP_MD *md = hash_bits == 384 ? EVP_sha384() : hash_bits == 256 ? EVP_sha256() : NULL;
    if (md == NULL) return 0;
    EVP_MD_CTX *context = EVP_MD_CTX_new();
    if (context == NULL) return 0;
    int ok = 0;
    unsigned char *der = NULL;
    size_t needed = 0;
    /* RSA keys sign with PKCS #1 v1.5 padding unless told otherwise (RSA_PKCS1_PADDING). */
    if (EVP_DigestSignInit(context, NULL, md, NULL, key) == 1
        && EVP_DigestSign(context, NULL, &needed, data, length) == 1) {
        int ec = EVP_PKEY_is_a(key, "EC");
        if (!ec && needed <= capacity) {
            ok = EVP_DigestSign(context, signature, &needed, data, length) == 1;
            if (ok) *signature_length = needed;
        } else if (ec && (der = OPENSSL_malloc(needed)) != NULL) {
            ok = EVP_DigestSign(context, der, &needed, data, length) == 1
              && der_to_raw(der, needed, field_bytes, signature, capacity, signature_length);
        }
    }
    OPENSSL_free(der);
    EVP_MD_CTX_free(context);
    return ok;
}

size_t outbound_key_public_number(const EVP_PKEY *key, char which, size_t pad, unsigned char *out, size_t capacity) {
    const char *name;
    switch (which) {
    case 'n': name = OSSL_PKEY_PARAM_RSA_N; break;
    case 'e': name = OSSL_PKEY_PARAM_RSA_E; break;
    case 'x': name = OSSL_PKEY_PARAM_EC_PUB_X; break;
    case 'y': name = OSSL_PKEY_PARAM_EC_PUB_Y; break;
    default: return 0;
    }
    BIGNUM *number = NULL;
    if (!EVP_PKEY_get_bn_param(key, name, &number)) return 0;
    size_t written = 0;
    size_t size = (size_t)BN_num_bytes(number);
    if (pad > 0) {
        if (pad <= capacity && size <= pad && BN_bn2binpad(number, out, (int)pad) == (int)pad) written = pad;
    } else if (size <= capacity) {
        written = (size_t)BN_bn2bin(number, out);
    }
    BN_free(number);
    return written;
}

int outbound_random_bytes(void *buffer, size_t length) {
    unsigned char *cursor = buffer;
    while (length > 0) {
        ssize_t got = getrandom(cursor, length, 0);
        if (got < 0) {
            if (errno == EINTR) continue;
            return 0;
        }
        cursor += got;
        length -= (size_t)got;
    }
    return 1;
}
