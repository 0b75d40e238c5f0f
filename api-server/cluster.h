/* cluster.h: what op_cluster.c offers the other operations that move
 * members between image servers (MoveAvatar in op_members_admin.c). */
#ifndef KS_API_CLUSTER_H
#define KS_API_CLUSTER_H

#include "store.h"

/* Moves member member_id from `from` to `to` in one transaction on conn
 * (the master), as MoveAvatars does (see kisekae.h): *moved is 0 when it was
 * no longer on `from`; album photos left on `from` are added to *kept. The
 * transaction is run again while the database gives it up (ks_store_txn). */
ks_rc ks_cluster_move_member(struct soap *soap, MYSQL *conn, long long member_id,
                             const ks_image_server_t *from, const ks_image_server_t *to,
                             int *moved, int *kept);

#endif
