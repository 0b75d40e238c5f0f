/* db_migrate.h: numbered schema migrations, applied in order, for any
 * database a kisekae binary owns (the API's avatar database, the admin
 * server's kisekae_admin).
 *
 * Migrations are files NNN_name.sql compiled into the binary with ks_embed()
 * (CMakeLists.txt). ks_db_migrate takes a named lock (per database, so two
 * servers never migrate the same one at once), reads schema_version and
 * applies every migration numbered above it, in order, recording each: any
 * older schema is brought to the current one, and running it again changes
 * nothing. The connection must allow several statements in one query
 * (db_pool.c connects with CLIENT_MULTI_STATEMENTS).
 */
#ifndef KS_DB_MIGRATE_H
#define KS_DB_MIGRATE_H

#include "db_pool.h"
#include "embedded.h"
#include "ks.h"

/* Applies the pending migrations of the table (ending with {NULL}) to the
 * pool's master. KS_OK, or the failed statement's error in err. */
ks_rc ks_db_migrate(ks_db_pool_t *pool, const ks_embedded_t *migrations, ks_err_t *err);

#endif
