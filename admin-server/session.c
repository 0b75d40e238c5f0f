/* session.c: session ids, CSRF tokens, passwords and throttling (session.h). */
#include "session.h"

#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "sha256.h"

int ks_session_crypto_init(void)
{
    return sodium_init() < 0 ? -1 : 0;
}

void ks_session_new_id(char id[KS_SESSION_ID_HEX])
{
    unsigned char bytes[KS_SESSION_ID_BYTES];

    randombytes_buf(bytes, sizeof bytes);
    sodium_bin2hex(id, KS_SESSION_ID_HEX, bytes, sizeof bytes);
    sodium_memzero(bytes, sizeof bytes);
}

int ks_session_id_valid(const char *id)
{
    if (!id || strlen(id) != KS_SESSION_ID_HEX - 1)
        return 0;
    for (const char *p = id; *p; p++)
        if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
            return 0;
    return 1;
}

void ks_session_hash(const char *id, char hash[KS_SESSION_HASH_HEX])
{
    ks_sha256_hex(id, strlen(id), hash);
}

int ks_session_expired(long long now, long long created, long long last_seen, int idle_s,
                       int max_age_s)
{
    return now - last_seen > idle_s || now - created > max_age_s || now < created - 300;
}

void ks_csrf_token(const char *secret, char token[KS_SESSION_HASH_HEX])
{
    char text[KS_SESSION_ID_HEX + 8];

    snprintf(text, sizeof text, "csrf:%s", secret);
    ks_sha256_hex(text, strlen(text), token);
    sodium_memzero(text, sizeof text);
}

int ks_csrf_check(const char *secret, const char *given)
{
    char expected[KS_SESSION_HASH_HEX];

    if (!secret || !given || !ks_session_id_valid(secret) ||
        strlen(given) != KS_SESSION_HASH_HEX - 1)
        return 0;
    ks_csrf_token(secret, expected);
    return sodium_memcmp(expected, given, KS_SESSION_HASH_HEX - 1) == 0;
}

ks_rc ks_password_hash(const char *password, int opslimit, size_t memlimit,
                       char hash[KS_PASSWORD_HASH_MAX], ks_err_t *err)
{
    if (crypto_pwhash_str(hash, password, strlen(password), (unsigned long long)opslimit,
                          memlimit) != 0)
        return ks_err(err, KS_NOMEM, "crypto_pwhash_str() failed (out of memory?)");
    return KS_OK;
}

int ks_password_verify(const char *hash, const char *password)
{
    return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

int ks_password_needs_rehash(const char *hash, int opslimit, size_t memlimit)
{
    return crypto_pwhash_str_needs_rehash(hash, (unsigned long long)opslimit, memlimit) != 0;
}

ks_rc ks_password_check_policy(const char *password, ks_err_t *err)
{
    size_t len = strlen(password);

    if (len < KS_PASSWORD_MIN)
        return ks_err(err, KS_INVALID, "a password needs at least %d characters",
                      KS_PASSWORD_MIN);
    if (len > KS_PASSWORD_MAX)
        return ks_err(err, KS_INVALID, "a password has at most %d characters", KS_PASSWORD_MAX);
    return KS_OK;
}

int ks_login_delay(int failures, int after, int max_s)
{
    int shift;

    if (failures < after)
        return 0;
    shift = failures - after;
    if (shift >= 20)
        return max_s;
    return (1 << shift) < max_s ? (1 << shift) : max_s;
}
