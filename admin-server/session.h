/* session.h: the security rules of staff sign-in, apart from the database
 * and the request so unit tests reach each one.
 *
 * Session ids: 32 bytes from the system CSPRNG (randombytes_buf), sent as
 * 64 hex digits in the cookie and stored only as their SHA-256. CSRF
 * tokens: the SHA-256 of "csrf:" and a secret the browser holds in a cookie
 * (the session id, or before sign-in the sign-in form's own cookie), so a
 * page of another site can neither read nor forge one. Passwords: Argon2id
 * (crypto_pwhash_str), rehashed when the configured cost changes.
 */
#ifndef KS_ADMIN_SESSION_H
#define KS_ADMIN_SESSION_H

#include <stddef.h>
#include "ks.h"

#define KS_SESSION_ID_BYTES 32
#define KS_SESSION_ID_HEX (KS_SESSION_ID_BYTES * 2 + 1)
#define KS_SESSION_HASH_HEX 65
#define KS_PASSWORD_HASH_MAX 128     /* crypto_pwhash_STRBYTES */
#define KS_PASSWORD_MIN 10
#define KS_PASSWORD_MAX 200

/* Initialises libsodium; -1 when it cannot. Call once at start. */
int ks_session_crypto_init(void);

/* A new random id as hex (size KS_SESSION_ID_HEX). */
void ks_session_new_id(char id[KS_SESSION_ID_HEX]);

/* 1 when id is 64 lowercase hex digits (what ks_session_new_id makes). */
int ks_session_id_valid(const char *id);

/* The hash stored for id (64 hex digits and a NUL). */
void ks_session_hash(const char *id, char hash[KS_SESSION_HASH_HEX]);

/* 0 while a session created at created and last used at last_seen is
 * alive at now; 1 when idle longer than idle_s or older than max_age_s. */
int ks_session_expired(long long now, long long created, long long last_seen, int idle_s,
                       int max_age_s);

/* The CSRF token of a browser secret (a session id or the sign-in form's
 * cookie). */
void ks_csrf_token(const char *secret, char token[KS_SESSION_HASH_HEX]);

/* 1 when given is the token of secret (compared in constant time); 0 for
 * NULL or anything else. */
int ks_csrf_check(const char *secret, const char *given);

/* Hashes password with Argon2id at the given cost into hash. */
ks_rc ks_password_hash(const char *password, int opslimit, size_t memlimit,
                       char hash[KS_PASSWORD_HASH_MAX], ks_err_t *err);

/* 1 when password matches hash, else 0. */
int ks_password_verify(const char *hash, const char *password);

/* 1 when hash was made with another cost than the one given (rehash it). */
int ks_password_needs_rehash(const char *hash, int opslimit, size_t memlimit);

/* KS_OK when password is acceptable (length KS_PASSWORD_MIN..MAX), else
 * KS_INVALID with the reason. */
ks_rc ks_password_check_policy(const char *password, ks_err_t *err);

/* Seconds an attempt must wait after failures failed ones (of an account
 * or an address): 0 below after, then 1, 2, 4... up to max_s. */
int ks_login_delay(int failures, int after, int max_s);

#endif
