/* op_common.h: what the SOAP handlers (op_*.c) share beyond the checks of
 * api.h: the frame of a site's write on one member. */
#ifndef KS_API_OP_COMMON_H
#define KS_API_OP_COMMON_H

#include "store.h"

/* A site's write on member user_id: checks that the caller is a site
 * (ks_auth_require) and user_id (ks_check_user_id), then runs fn(ctx, conn,
 * arg) in one transaction on the master (ks_store_txn); *conn is left set
 * to the master's connection for the reads that follow (conn may be NULL).
 * Returns SOAP_OK, or sets the fault and returns its error. */
int ks_op_member_txn(struct soap *soap, const char *user_id, ks_store_txn_fn fn, void *arg,
                     MYSQL **conn);

#endif
