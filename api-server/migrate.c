/* migrate.c: schema migrations and the administration commands of kisekae-api.
 *
 * The migrations in sql/migrations/NNN_name.sql are compiled into the binary;
 * `kisekae-api --migrate` applies the pending ones with common/db_migrate.c
 * (the admin server applies its own the same way).
 */
#include <string.h>
#include "api.h"
#include "db_migrate.h"
#include "store_clients.h"
#include "store_servers.h"

extern const ks_embedded_t ks_embedded_migrations[];

ks_rc ks_migrate(ks_db_pool_t *pool, ks_err_t *err)
{
    return ks_db_migrate(pool, ks_embedded_migrations, err);
}

/* Runs fn(ctx, conn, arg) in one transaction (ks_store_txn) on the master,
 * as a call would, with a database session of pool of its own. */
static ks_rc on_master(ks_db_pool_t *pool, ks_store_txn_fn fn, void *arg, ks_err_t *err)
{
    ks_api_ctx_t ctx = {.db = ks_db_session_new(pool)};
    MYSQL *conn;
    ks_rc rc;

    if (!ctx.db)
        return ks_err(err, KS_NOMEM, "out of memory");
    if ((rc = ks_db_master(ctx.db, &conn, &ctx.err)) == KS_OK)
        rc = ks_store_txn(&ctx, conn, fn, arg);
    if (rc != KS_OK)
        *err = ctx.err;
    ks_db_session_free(ctx.db);
    return rc;
}

/* A client to add (ks_add_client), its secret hashed. */
typedef struct {
    const char *name, *role, *image_server;
    char hash[160];
} client_t;

static ks_rc set_client(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const client_t *c = arg;

    return ks_store_client_set(ctx, conn, c->name, c->hash, c->role, c->image_server);
}

/* Checks a client to add: KS_INVALID, saying why, when it is not one. */
static ks_rc check_client(const char *name, const char *role, const char *image_server,
                          ks_err_t *err)
{
    if (strcmp(role, "site") && strcmp(role, "admin") && strcmp(role, "node"))
        return ks_err(err, KS_INVALID, "role must be site, admin or node, not \"%s\"", role);
    if (!*name || strlen(name) > 64)
        return ks_err(err, KS_INVALID, "a client name must be 1..64 characters");
    if (strcmp(role, "node") == 0 && (!image_server || !*image_server))
        return ks_err(err, KS_INVALID, "a node client acts for one image server: name it with"
                      " --image-server NAME");
    if (strcmp(role, "node") != 0 && image_server)
        return ks_err(err, KS_INVALID, "only a node client acts for an image server");
    if (image_server && strlen(image_server) > 63)
        return ks_err(err, KS_INVALID, "an image server name is 1..63 characters");
    return KS_OK;
}

ks_rc ks_add_client(ks_db_pool_t *pool, const char *name, const char *role,
                    const char *image_server, const char *secret, ks_err_t *err)
{
    client_t client = {.name = name, .role = role, .image_server = image_server};
    ks_rc rc;

    if ((rc = check_client(name, role, image_server, err)) != KS_OK ||
        (rc = ks_auth_hash_secret(secret, client.hash, sizeof client.hash, err)) != KS_OK)
        return rc;
    return on_master(pool, set_client, &client, err);
}

static ks_rc revoke_client(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    return ks_store_client_revoke(ctx, conn, arg);
}

ks_rc ks_revoke_client(ks_db_pool_t *pool, const char *name, ks_err_t *err)
{
    return on_master(pool, revoke_client, (void *)name, err);
}

/* The image servers to record: each inserted, or a registered one given its URLs. */
typedef struct {
    const ks_api_image_server_conf_t *servers;
    int count;
} servers_t;

static ks_rc upsert_servers(ks_api_ctx_t *ctx, MYSQL *conn, void *arg)
{
    const servers_t *s = arg;
    ks_rc rc = KS_OK;

    for (int i = 0; i < s->count && rc == KS_OK; i++)
        rc = ks_store_server_upsert(ctx, conn, s->servers[i].name, s->servers[i].internal_url,
                                    s->servers[i].public_url, s->servers[i].weight);
    return rc;
}

ks_rc ks_set_image_server(ks_db_pool_t *pool, const ks_api_image_server_conf_t *server,
                          ks_err_t *err)
{
    servers_t one = {server, 1};

    return on_master(pool, upsert_servers, &one, err);
}

ks_rc ks_register_image_servers(ks_db_pool_t *pool, const ks_api_conf_t *conf, ks_err_t *err)
{
    servers_t all = {conf->image_servers, conf->image_server_count};

    return on_master(pool, upsert_servers, &all, err);
}
