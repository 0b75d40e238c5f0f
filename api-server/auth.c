/* auth.c: HTTP Basic authentication against the api_clients table.
 *
 * A verified client is remembered for KS_AUTH_TTL_S seconds (keyed by name and
 * a hash of the password it sent), so a busy client costs one table read per
 * period, not one per call; a changed or disabled credential takes effect
 * within that period. Each worker thread keeps its own cache: every request
 * reads it, and a shared one behind a lock made the workers queue for it.
 *
 * A node client (an image server) is bound to one image server
 * (api_clients.image_server): the node operations act for that server only
 * (ctx->image_server). One bound to none is refused.
 */
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include "api.h"
#include "log.h"
#include "sha256.h"

#define KS_AUTH_TTL_S 10
#define KS_AUTH_CACHE_SLOTS 64

typedef struct {
    char name[65];
    char proof[KS_SHA256_HEX_SIZE];    /* sha256 of name ':' password */
    unsigned roles;
    char image_server[64];             /* a node's server, else "" */
    time_t expires;
} auth_entry_t;

static __thread auth_entry_t auth_cache[KS_AUTH_CACHE_SLOTS];

static time_t now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec;
}

static unsigned slot_of(const char *name)
{
    unsigned h = 2166136261u;
    for (; *name; name++)
        h = (h ^ (unsigned char)*name) * 16777619u;
    return h % KS_AUTH_CACHE_SLOTS;
}

static unsigned role_bit(const char *role)
{
    if (strcmp(role, "site") == 0)
        return KS_ROLE_SITE;
    if (strcmp(role, "admin") == 0)
        return KS_ROLE_ADMIN | KS_ROLE_SITE;   /* staff may do what a site does */
    if (strcmp(role, "node") == 0)
        return KS_ROLE_NODE;
    return 0;
}

static void salted_hash(const char *salt, const char *secret, char hex[KS_SHA256_HEX_SIZE])
{
    char buf[512];
    int n = snprintf(buf, sizeof buf, "%s%s", salt, secret);
    ks_sha256_hex(buf, n < (int)sizeof buf ? (size_t)n : sizeof buf - 1, hex);
    OPENSSL_cleanse(buf, sizeof buf);
}

ks_rc ks_auth_hash_secret(const char *secret, char *out, size_t size, ks_err_t *err)
{
    unsigned char raw[16];
    char salt[33], hash[KS_SHA256_HEX_SIZE];

    if (strlen(secret) < 8 || strlen(secret) > 256)
        return ks_err(err, KS_INVALID, "a secret must be 8..256 characters");
    if (RAND_bytes(raw, sizeof raw) != 1)
        return ks_err(err, KS_ERROR, "RAND_bytes() failed");
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(salt + 2 * i, 3, "%02x", raw[i]);
    salted_hash(salt, secret, hash);
    if ((size_t)snprintf(out, size, "sha256$%s$%s", salt, hash) >= size)
        return ks_err(err, KS_ERROR, "secret hash buffer too small");
    return KS_OK;
}

/* 1 when secret matches stored ("sha256$salt$hash"), in constant time. */
static int secret_matches(const char *secret, const char *stored)
{
    char salt[64], hash[KS_SHA256_HEX_SIZE];
    const char *dollar;

    if (strncmp(stored, "sha256$", 7) != 0)
        return 0;
    stored += 7;
    dollar = strchr(stored, '$');
    if (!dollar || (size_t)(dollar - stored) >= sizeof salt || strlen(dollar + 1) != 64)
        return 0;
    memcpy(salt, stored, (size_t)(dollar - stored));
    salt[dollar - stored] = '\0';
    salted_hash(salt, secret, hash);
    return CRYPTO_memcmp(hash, dollar + 1, 64) == 0;
}

/* Looks the client up in the database: *roles is 0 when it is unknown,
 * disabled, the password is wrong or it is a node bound to no image server;
 * image_server receives a node's server. */
static ks_rc verify(struct soap *soap, const char *name, const char *password, unsigned *roles,
                    char image_server[64])
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *conn;
    MYSQL_RES *res = NULL;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;

    *roles = 0;
    image_server[0] = '\0';
    if ((rc = ks_db_reader(ctx->db, &conn, &ctx->err)) != KS_OK)
        return rc;
    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT secret_hash, role, image_server FROM api_clients"
                     " WHERE enabled = 1 AND name = ");
    ks_sql_str(&sql, conn, name);
    rc = ks_sql_run(&sql, ctx->db, conn, &res, &ctx->err);
    if (rc == KS_OK && (row = mysql_fetch_row(res)) && secret_matches(password, row[0])) {
        *roles = role_bit(row[1]);
        if (*roles & KS_ROLE_NODE) {
            if (row[2] && *row[2] && strlen(row[2]) < 64) {
                strcpy(image_server, row[2]);
            } else {
                ks_log_warn("API client \"%s\" (node) is bound to no image server: refused",
                            name);
                *roles = 0;
            }
        }
    }
    if (res)
        mysql_free_result(res);
    ks_buf_free(&sql);
    return rc;
}

static int unauthorized(struct soap *soap, const char *why)
{
    ks_fault(soap, "Unauthorized", "%s", why);
    soap->authrealm = "kisekae";
    return soap->error = 401;
}

int ks_auth_require(struct soap *soap, unsigned roles)
{
    const char *name = soap->userid, *password = soap->passwd;
    char buf[600], proof[KS_SHA256_HEX_SIZE], image_server[64] = "";
    unsigned granted = 0, slot;
    auth_entry_t *e;
    int n;

    ks_api_ctx(soap)->roles = 0;
    ks_api_ctx(soap)->image_server[0] = '\0';
    if (!name || !password || !*name)
        return unauthorized(soap, "HTTP Basic credentials are required");
    if (strlen(name) > 64 || strlen(password) > 256)
        return unauthorized(soap, "wrong API credentials");
    n = snprintf(buf, sizeof buf, "%s:%s", name, password);
    ks_sha256_hex(buf, (size_t)n, proof);
    OPENSSL_cleanse(buf, sizeof buf);

    slot = slot_of(name);
    e = &auth_cache[slot];
    if (strcmp(e->name, name) == 0 && strcmp(e->proof, proof) == 0 && e->expires > now_s()) {
        granted = e->roles;
        memcpy(image_server, e->image_server, sizeof image_server);
    }

    if (!granted) {
        ks_rc rc = verify(soap, name, password, &granted, image_server);
        if (rc != KS_OK)
            return ks_fault_rc(soap, rc, &ks_api_ctx(soap)->err);
        if (!granted) {
            ks_log_info("authentication of API client \"%s\" failed", name);
            return unauthorized(soap, "wrong API credentials");
        }
        snprintf(e->name, sizeof e->name, "%s", name);
        memcpy(e->proof, proof, sizeof e->proof);
        e->roles = granted;
        memcpy(e->image_server, image_server, sizeof e->image_server);
        e->expires = now_s() + KS_AUTH_TTL_S;
    }
    if (!(granted & roles))
        return ks_fault(soap, "Forbidden", "API client \"%s\" may not call this operation", name);
    ks_api_ctx(soap)->roles = granted;
    memcpy(ks_api_ctx(soap)->image_server, image_server, sizeof image_server);
    return SOAP_OK;
}

int ks_auth_acts_for(struct soap *soap, const char *server)
{
    const ks_api_ctx_t *ctx = ks_api_ctx(soap);

    if (!ctx->image_server[0] || strcmp(ctx->image_server, server) != 0)
        return ks_fault(soap, "Forbidden", "this node credential acts for image server \"%s\","
                        " not \"%s\"", ctx->image_server, server);
    return SOAP_OK;
}
