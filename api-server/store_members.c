/* store_members.c: SQL of the members table for SearchMembers
 * (store_members.h). user_id is ascii_bin: a prefix LIKE and the keyset
 * bound both use its unique index. */
#include "store_members.h"

#include <stdlib.h>

ks_rc ks_store_search_members(struct soap *soap, MYSQL *conn, const ks_member_search_t *search,
                              struct ks__MemberSummary **members, int *count, int *more)
{
    ks_api_ctx_t *ctx = ks_api_ctx(soap);
    MYSQL_RES *res;
    MYSQL_ROW row;
    ks_buf_t sql;
    ks_rc rc;
    int n = 0;

    ks_buf_init(&sql, 1024);
    ks_buf_addf(&sql, "SELECT m.user_id, m.version, s.name FROM members m"
                " JOIN image_servers s ON s.id = m.image_server_id WHERE 1 = 1");
    if (search->prefix && *search->prefix) {
        ks_buf_addf(&sql, " AND m.user_id LIKE ");    /* '_' of a user id matches itself */
        ks_sql_like(&sql, conn, search->prefix, 0);
    }
    if (search->image_server_id)
        ks_buf_addf(&sql, " AND m.image_server_id = %d", search->image_server_id);
    if (search->after_user_id) {
        ks_buf_addf(&sql, " AND m.user_id > ");
        ks_sql_str(&sql, conn, search->after_user_id);
    }
    /* one row beyond the page says whether another page follows */
    ks_buf_addf(&sql, " ORDER BY m.user_id LIMIT %d", search->limit + 1);
    if ((rc = ks_store_run(ctx, conn, &sql, &res)) != KS_OK)
        return rc;
    *members = soap_new_ks__MemberSummary(soap, (int)mysql_num_rows(res) + 1);
    if (!*members) {
        mysql_free_result(res);
        return ks_err(&ctx->err, KS_NOMEM, "out of memory");
    }
    *more = 0;
    while ((row = mysql_fetch_row(res))) {
        struct ks__MemberSummary *m;
        if (n == search->limit) {
            *more = 1;
            break;
        }
        m = &(*members)[n++];
        m->userId = soap_strdup(soap, row[0]);
        m->version = atoi(row[1]);
        m->imageServer = soap_strdup(soap, row[2]);
    }
    mysql_free_result(res);
    *count = n;
    return KS_OK;
}
