/* cluster.h: what op_cluster.c offers the other operations that move
 * members between image servers (MoveAvatar in op_members_admin.c), and the
 * answer of an image server the staff's and the nodes' operations share. */
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

/* Fills the fields that struct ks__ImageServer and ks__SystemImageServer
 * share (answer points to either) from the ks_image_server_t *server, in
 * soap's arena; 0 when out of memory. */
#define KS_CLUSTER_SERVER_ANSWER(soap, answer, server)                                  \
    ((answer)->id = (server)->id, (answer)->weight = (server)->weight,                 \
     (answer)->memberCount = (server)->member_count,                                   \
     (answer)->name = soap_strdup((soap), (server)->name),                             \
     (answer)->internalUrl = soap_strdup((soap), (server)->internal_url),              \
     (answer)->publicUrl = soap_strdup((soap), (server)->public_url),                  \
     (answer)->mode = soap_strdup((soap), (server)->mode),                             \
     (answer)->lastHeartbeat = ks_cluster_time((soap), (server)->last_heartbeat),      \
     (answer)->name && (answer)->internalUrl && (answer)->publicUrl && (answer)->mode)

/* value (-1: none) as an optional time_t / LONG64 of an answer, in soap's
 * arena: NULL when there is none (or out of memory). */
time_t *ks_cluster_time(struct soap *soap, long long value);
LONG64 *ks_cluster_long(struct soap *soap, long long value);

#endif
