/* sha256.c: SHA-256 as lowercase hex, through OpenSSL's EVP one-shot digest.
 * Item layers are identified by this digest everywhere (database, pushes,
 * compose requests), so the hex form is the only one the project uses.
 *
 * The API hashes every request's credentials: the algorithm is fetched from
 * OpenSSL's provider once, not on each call (EVP_sha256() makes OpenSSL 3
 * fetch it again every time, through a lock all threads share). */
#include "sha256.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>

static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void fetch_sha256(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

static void to_hex(const unsigned char digest[32], char hex[KS_SHA256_HEX_SIZE])
{
    static const char digits[] = "0123456789abcdef";

    for (unsigned int i = 0; i < 32; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 0x0f];
    }
    hex[64] = '\0';
}

void ks_sha256_hex(const void *data, size_t size, char hex[KS_SHA256_HEX_SIZE])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;

    pthread_once(&sha256_once, fetch_sha256);
    /* EVP_Digest only fails when the library cannot allocate a context;
     * there is no sane digest to return then. */
    if (EVP_Digest(data, size, digest, &digest_size, sha256_md ? sha256_md : EVP_sha256(),
                   NULL) != 1
        || digest_size != 32)
        abort();
    to_hex(digest, hex);
}

void ks_hmac_sha256_hex(const void *key, size_t key_size, const void *data, size_t size,
                        char hex[KS_SHA256_HEX_SIZE])
{
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int digest_size = 0;

    if (!HMAC(EVP_sha256(), key, (int)key_size, data, size, digest, &digest_size) ||
        digest_size != 32)
        abort();
    to_hex(digest, hex);
}

int ks_sha256_hex_valid(const char *s)
{
    size_t i;

    if (s == NULL)
        return 0;
    for (i = 0; i < 64; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return 0;
    }
    return s[64] == '\0';
}
