/* auth.c: HTTP Basic authentication against the api_clients table.
 *
 * Secrets are stored as Argon2id hashes (libsodium's crypto_pwhash_str, at
 * its interactive limits: some 64 MiB and tens of milliseconds per check),
 * so a stolen table gives nothing cheaply. Rows of older stacks
 * ("sha256$salt$hash") are accepted once and replaced by an Argon2id hash.
 *
 * Every call reads its client's row (role, bound image server, version) on
 * the master, so a revoked or changed credential is refused at once by
 * every API server; only when the master does not answer, a replica's copy
 * serves (nobody can revoke anything then). The costly check of the secret
 * is remembered per worker thread for the row's version, so a busy client
 * pays it once per thread, not per call: a new secret or a revocation bumps
 * the version and the memory no longer matches. With auth_recheck_ms above
 * 0, a client verified that recently is not even read again (a database
 * query less per call; a revocation then takes up to that long). Each
 * worker thread keeps its own memory: every request reads it, and a shared
 * one behind a lock made the workers queue for it. Behind it sits one
 * shared list of the secrets verified (verified_*), read only when a
 * thread's memory misses, so the process pays the costly check once per
 * client and version, not once per thread: under load, a burst of calls
 * landing on threads that had not seen the client made each pay it at once.
 *
 * Failed logins are counted per client; past KS_AUTH_FREE_FAILURES in a
 * row, a secret is checked at most once per delay that grows with them (up
 * to KS_AUTH_THROTTLE_MAX_S): guessing is slowed to a crawl, and a client
 * whose verified secret is remembered keeps working meanwhile.
 *
 * A node client (an image server) is bound to one image server
 * (api_clients.image_server): the node operations act for that server only
 * (ctx->image_server). One bound to none is refused.
 */
#include <openssl/crypto.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "auth.h"
#include "log.h"
#include "store_clients.h"

#define KS_AUTH_CACHE_SLOTS 64
#define KS_AUTH_FREE_FAILURES 5       /* failed logins in a row before checks are spaced */
#define KS_AUTH_THROTTLE_MAX_S 30     /* the longest wait between checks */

typedef struct {
    char name[65];
    char proof[KS_SHA256_HEX_SIZE];    /* ks_auth_proof of name and password */
    unsigned long long version;        /* the row's version the secret was verified for */
    unsigned roles;                    /* the row's, when it was last read */
    char image_server[64];
    long long read_ms;                 /* when the row was last read (monotonic) */
} auth_entry_t;

static __thread auth_entry_t auth_cache[KS_AUTH_CACHE_SLOTS];

/* The secrets this process verified: name, proof and row version, by a
 * hash of the name (a newer one takes the slot). */
#define KS_AUTH_VERIFIED_SLOTS 256
typedef struct {
    char name[65];
    char proof[KS_SHA256_HEX_SIZE];
    unsigned long long version;
} verified_t;
static verified_t verified[KS_AUTH_VERIFIED_SLOTS];
static pthread_mutex_t verified_lock = PTHREAD_MUTEX_INITIALIZER;

static verified_t *verified_slot(const char *name)
{
    return &verified[ks_fnv1a(name) % KS_AUTH_VERIFIED_SLOTS];
}

int ks_auth_verified_has(const char *name, const char *proof, unsigned long long version)
{
    verified_t *v = verified_slot(name);
    int found;

    pthread_mutex_lock(&verified_lock);
    found = strcmp(v->name, name) == 0 && v->version == version &&
            CRYPTO_memcmp(v->proof, proof, KS_SHA256_HEX_SIZE) == 0;
    pthread_mutex_unlock(&verified_lock);
    return found;
}

void ks_auth_verified_add(const char *name, const char *proof, unsigned long long version)
{
    verified_t *v = verified_slot(name);

    pthread_mutex_lock(&verified_lock);
    snprintf(v->name, sizeof v->name, "%s", name);
    memcpy(v->proof, proof, sizeof v->proof);
    v->version = version;
    pthread_mutex_unlock(&verified_lock);
}

unsigned ks_auth_role_bits(const char *role)
{
    if (strcmp(role, "site") == 0)
        return KS_ROLE_SITE;
    if (strcmp(role, "admin") == 0)
        return KS_ROLE_ADMIN | KS_ROLE_SITE;   /* staff may do what a site does */
    if (strcmp(role, "node") == 0)
        return KS_ROLE_NODE;
    return 0;
}

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_ok;

static void init_sodium(void)
{
    sodium_ok = sodium_init() >= 0;
}

static int sodium_ready(void)
{
    pthread_once(&sodium_once, init_sodium);
    return sodium_ok;
}

ks_rc ks_auth_hash_secret(const char *secret, char *out, size_t size, ks_err_t *err)
{
    char hash[crypto_pwhash_STRBYTES];

    if (strlen(secret) < 8 || strlen(secret) > 256)
        return ks_err(err, KS_INVALID, "a secret must be 8..256 characters");
    if (!sodium_ready())
        return ks_err(err, KS_ERROR, "sodium_init() failed");
    if (crypto_pwhash_str(hash, secret, strlen(secret), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
        return ks_err(err, KS_NOMEM, "crypto_pwhash_str() failed (out of memory)");
    if ((size_t)snprintf(out, size, "%s", hash) >= size)
        return ks_err(err, KS_ERROR, "secret hash buffer too small");
    return KS_OK;
}

/* 1 when secret matches a legacy stored hash ("sha256$salt$hash"), in
 * constant time. */
static int legacy_matches(const char *secret, const char *stored)
{
    char salt[64], hash[KS_SHA256_HEX_SIZE], buf[512];
    const char *dollar;
    int n;

    if (strncmp(stored, "sha256$", 7) != 0)
        return 0;
    stored += 7;
    dollar = strchr(stored, '$');
    if (!dollar || (size_t)(dollar - stored) >= sizeof salt || strlen(dollar + 1) != 64)
        return 0;
    memcpy(salt, stored, (size_t)(dollar - stored));
    salt[dollar - stored] = '\0';
    n = snprintf(buf, sizeof buf, "%s%s", salt, secret);
    ks_sha256_hex(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1, hash);
    OPENSSL_cleanse(buf, sizeof buf);
    return CRYPTO_memcmp(hash, dollar + 1, 64) == 0;
}

int ks_auth_secret_matches(const char *secret, const char *stored, int *legacy)
{
    *legacy = strncmp(stored, "sha256$", 7) == 0;
    if (*legacy)
        return legacy_matches(secret, stored);
    return sodium_ready() && crypto_pwhash_str_verify(stored, secret, strlen(secret)) == 0;
}

/* Reads client name's row (enabled ones only) into *row; *found is 0 when
 * there is none. The master answers when it can, else a replica (see the
 * top). */
static ks_rc read_client(ks_api_ctx_t *ctx, const char *name, ks_client_row_t *row, int *found)
{
    MYSQL *conn;
    ks_rc rc;

    if (ks_db_master_read(ctx->db, &conn, &ctx->err) != KS_OK ||
        ((rc = ks_store_client(ctx, conn, name, KS_AUTH_FREE_FAILURES, KS_AUTH_THROTTLE_MAX_S,
                               row)) != KS_OK && rc != KS_NOTFOUND)) {
        if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK)
            return rc;
        rc = ks_store_client(ctx, conn, name, KS_AUTH_FREE_FAILURES, KS_AUTH_THROTTLE_MAX_S, row);
    }
    *found = rc == KS_OK;
    return rc == KS_NOTFOUND ? KS_OK : rc;
}

/* Records a login of name on the master: a failure counts, a success after
 * failures resets the count; a legacy hash is replaced (fresh_hash, else
 * NULL). Best effort: a failure here is logged, the call goes on (and
 * ctx->err is left as it was). */
static void record_login(ks_api_ctx_t *ctx, const char *name, int ok, const char *old_hash,
                         const char *fresh_hash)
{
    ks_err_t saved = ctx->err;
    MYSQL *conn;
    ks_rc rc;

    if ((rc = ks_db_master_read(ctx->db, &conn, &ctx->err)) == KS_OK)
        rc = ok ? ks_store_client_passed(ctx, conn, name, old_hash, fresh_hash)
                : ks_store_client_failed(ctx, conn, name);
    if (rc != KS_OK)
        ks_log_warn("recording a login of API client \"%s\": %s", name, ctx->err.msg);
    ctx->err = saved;
}

static int unauthorized(struct soap *soap, const char *why)
{
    ks_fault(soap, "Unauthorized", "%s", why);
    soap->authrealm = "kisekae";
    return soap->error = 401;
}

/* 1 when e remembers name with the secret of proof. */
static int remembers(const auth_entry_t *e, const char *name, const char *proof)
{
    return strcmp(e->name, name) == 0 && CRYPTO_memcmp(e->proof, proof, KS_SHA256_HEX_SIZE) == 0;
}

/* Checks password (proof: its hash with name) against row, or the thread's
 * memory e of an earlier check; SOAP_OK, or the fault. */
static int check_secret(struct soap *soap, const char *name, const char *password,
                        const char *proof, const ks_client_row_t *row, auth_entry_t *e)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    int legacy, ok;

    if (remembers(e, name, proof) && e->version == row->version)
        return SOAP_OK;
    /* A secret this process verified at this version passes as the
     * thread's own memory does, throttled or not: failed guesses by
     * others must not lock out the client that holds the secret. */
    if (ks_auth_verified_has(name, proof, row->version))
        goto remember;
    if (row->throttled) {
        ks_log_warn("API client \"%s\": %u failed logins in a row; this one is refused"
                    " unchecked", name, row->failed_logins);
        return unauthorized(soap, "too many failed logins for these credentials; try again"
                                  " later");
    }
    ok = ks_auth_secret_matches(password, row->secret_hash, &legacy);
    if (!ok) {
        record_login(ctx, name, 0, row->secret_hash, NULL);
        ks_log_info("authentication of API client \"%s\" failed (%u in a row)", name,
                    row->failed_logins + 1);
        return unauthorized(soap, "wrong API credentials");
    }
    if (legacy || row->failed_logins) {
        char fresh[160];
        ks_err_t err;
        int rehash = legacy && ks_auth_hash_secret(password, fresh, sizeof fresh, &err) == KS_OK;
        record_login(ctx, name, 1, row->secret_hash, rehash ? fresh : NULL);
        if (rehash)
            ks_log_info("API client \"%s\": its secret's hash is Argon2id now", name);
    }
    ks_auth_verified_add(name, proof, row->version);
remember:
    snprintf(e->name, sizeof e->name, "%s", name);
    memcpy(e->proof, proof, sizeof e->proof);
    e->version = row->version;
    return SOAP_OK;
}

/* Grants what e remembers of the client to the call. */
static int grant(struct soap *soap, const char *name, unsigned wanted, const auth_entry_t *e)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);

    if (!(e->roles & wanted))
        return ks_fault(soap, "Forbidden", "API client \"%s\" may not call this operation", name);
    ctx->roles = e->roles;
    memcpy(ctx->image_server, e->image_server, sizeof ctx->image_server);
    return SOAP_OK;
}

void ks_auth_proof(const char *name, const char *password, char proof[KS_SHA256_HEX_SIZE])
{
    char buf[600];
    int n = snprintf(buf, sizeof buf, "%s:%s", name, password);

    ks_sha256_hex(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1, proof);
    OPENSSL_cleanse(buf, sizeof buf);
}

void ks_auth_remember(const char *name, const char *proof, unsigned long long version,
                      unsigned roles, const char *image_server)
{
    auth_entry_t *e = &auth_cache[ks_fnv1a(name) % KS_AUTH_CACHE_SLOTS];

    snprintf(e->name, sizeof e->name, "%s", name);
    memcpy(e->proof, proof, sizeof e->proof);
    e->version = version;
    e->roles = roles;
    snprintf(e->image_server, sizeof e->image_server, "%s", image_server);
    e->read_ms = ks_now_ms();
}

int ks_auth_require(struct soap *soap, unsigned roles)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    const char *name = soap->userid, *password = soap->passwd;
    char proof[KS_SHA256_HEX_SIZE];
    auth_entry_t *e;
    ks_client_row_t row;
    unsigned row_roles;
    int found;
    ks_rc rc;

    ctx->roles = 0;
    ctx->image_server[0] = '\0';
    if (!name || !password || !*name)
        return unauthorized(soap, "HTTP Basic credentials are required");
    if (strlen(name) > 64 || strlen(password) > 256)
        return unauthorized(soap, "wrong API credentials");
    ks_auth_proof(name, password, proof);
    e = &auth_cache[ks_fnv1a(name) % KS_AUTH_CACHE_SLOTS];
    if (ctx->conf->auth_recheck_ms > 0 && remembers(e, name, proof) &&
        ks_now_ms() - e->read_ms < ctx->conf->auth_recheck_ms)
        return grant(soap, name, roles, e);
    if ((rc = read_client(ctx, name, &row, &found)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (!found) {
        ks_log_info("authentication of API client \"%s\" failed: no such client", name);
        return unauthorized(soap, "wrong API credentials");
    }
    if (check_secret(soap, name, password, proof, &row, e) != SOAP_OK)
        return soap->error;
    row_roles = ks_auth_role_bits(row.role);
    if ((row_roles & KS_ROLE_NODE) && !row.image_server[0]) {
        ks_log_warn("API client \"%s\" (node) is bound to no image server: refused", name);
        e->name[0] = '\0';
        return unauthorized(soap, "wrong API credentials");
    }
    ks_auth_remember(name, proof, row.version, row_roles, row.image_server);
    return grant(soap, name, roles, e);
}

int ks_auth_acts_for(struct soap *soap, const char *server)
{
    const ks_api_ctx_t *ctx = ks_api_ctx(soap);

    if (!ctx->image_server[0] || strcmp(ctx->image_server, server) != 0)
        return ks_fault(soap, "Forbidden", "this node credential acts for image server \"%s\","
                        " not \"%s\"", ctx->image_server, server);
    return SOAP_OK;
}
