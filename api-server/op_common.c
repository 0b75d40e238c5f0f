/* op_common.c: the frame the SOAP handlers share (op_common.h). */
#include "op_common.h"

int ks_op_member_txn(struct soap *soap, const char *user_id, ks_store_txn_fn fn, void *arg,
                     MYSQL **conn)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL *master;
    ks_rc rc;

    if (ks_auth_require(soap, KS_ROLE_SITE) || ks_check_user_id(soap, user_id))
        return soap->error;
    if ((rc = ks_db_master(ctx->db, &master, &ctx->err)) != KS_OK ||
        (rc = ks_store_txn(ctx, master, fn, arg)) != KS_OK)
        return ks_fault_rc(soap, rc, &ctx->err);
    if (conn)
        *conn = master;
    return SOAP_OK;
}
