/* store_clients.h: SQL of the api_clients table: the row a call's
 * credentials are checked against and the record of each login (auth.c),
 * and the administration commands that add and revoke clients (migrate.c).
 * Functions write their error into ctx->err and return a ks_rc. */
#ifndef KS_API_STORE_CLIENTS_H
#define KS_API_STORE_CLIENTS_H

#include "store.h"

/* An enabled client's row, as one call reads it. */
typedef struct {
    char secret_hash[161];
    char role[16];                     /* site | admin | node */
    char image_server[64];             /* a node's server, else "" */
    unsigned long long version;        /* bumped by a new secret and a revocation */
    unsigned failed_logins;            /* in a row */
    int throttled;                     /* too many failures, too recently: no check now */
} ks_client_row_t;

/* The enabled client name (KS_NOTFOUND when there is none). It is
 * throttled while it has free_failures failed logins or more in a row and
 * the last came less than (failed logins - free_failures + 1) seconds ago,
 * at most throttle_max_s. */
ks_rc ks_store_client(ks_api_ctx_t *ctx, MYSQL *conn, const char *name, int free_failures,
                      int throttle_max_s, ks_client_row_t *out);

/* Counts a failed login of client name. */
ks_rc ks_store_client_failed(ks_api_ctx_t *ctx, MYSQL *conn, const char *name);

/* Records a login of client name that passed with the secret of old_hash
 * (a row whose secret changed meanwhile is left alone): its failed logins
 * start again from 0, and its hash becomes fresh_hash (else NULL: kept). */
ks_rc ks_store_client_passed(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                             const char *old_hash, const char *fresh_hash);

/* Adds client name, or gives an existing one (enabled again) the new
 * secret_hash, role and image_server (NULL: none); either way its version
 * changes, so what API servers remember of its old secret no longer counts. */
ks_rc ks_store_client_set(ks_api_ctx_t *ctx, MYSQL *conn, const char *name,
                          const char *secret_hash, const char *role, const char *image_server);

/* Disables client name and bumps its version (KS_NOTFOUND when there is none). */
ks_rc ks_store_client_revoke(ks_api_ctx_t *ctx, MYSQL *conn, const char *name);

#endif
