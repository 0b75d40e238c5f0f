/* assign.h: which image server takes a new member, decided in the API
 * process without a database lock (the rule and why it was chosen: assign.c).
 *
 * A picker (ks_assign_t) keeps, per image server, the creations it has in
 * flight and the members it created that image_servers.member_count does
 * not show yet (pending, until store.c adds them to it).
 * The caller reads the servers' rows (mode, weight, member_count) on each
 * call, so a server drained or marked down is left out from the next call
 * on. Every function is thread-safe; none touches the database.
 */
#ifndef KS_API_ASSIGN_H
#define KS_API_ASSIGN_H

#define KS_ASSIGN_SERVERS_MAX 64      /* servers a picker keeps counts for (KS_IMAGE_SERVERS_MAX) */

typedef struct {
    int id;                           /* image_servers.id, > 0 */
    int weight;                       /* its share of new members; 0 or less takes none */
    long long member_count;           /* image_servers.member_count as read now */
    int active;                       /* mode 'active': takes new members */
} ks_assign_server_t;

typedef struct ks_assign ks_assign_t;

/* A picker of its own (the unit tests run several, as several API servers
 * would); NULL when out of memory. Free with ks_assign_free. */
ks_assign_t *ks_assign_new(void);
void ks_assign_free(ks_assign_t *picker);

/* The API process's picker, made on first use and kept for the process's
 * life (NULL only when out of memory at that first use). */
ks_assign_t *ks_assign_process(void);

/* The index in servers[0..count) of the server for the next new member: of
 * the active ones with a weight that are not in exclude[0..n_exclude), the
 * one with the fewest members per unit of weight, counting the members this
 * picker has created or is creating that member_count does not show (ties:
 * the lowest id). Counts one creation in flight on it, which the caller
 * ends with ks_assign_finish. -1 when no server qualifies. */
int ks_assign_pick(ks_assign_t *picker, const ks_assign_server_t *servers, int count,
                   const int *exclude, int n_exclude);

/* Counts one creation in flight on server id, chosen by the caller (a
 * creation that names its server); end it with ks_assign_finish. */
void ks_assign_hold(ks_assign_t *picker, int id);

/* Ends a creation in flight on server id: created (committed) makes it one
 * more pending member of the server, else it is forgotten. */
void ks_assign_finish(ks_assign_t *picker, int id, int created);

/* Takes (and zeroes) the pending members of server id, to be added to its
 * member_count. Returns how many were taken. */
long long ks_assign_take_pending(ks_assign_t *picker, int id);

/* Takes the pending members of every server that has some: ids[i] and
 * counts[i], at most max of them. Returns how many servers. */
int ks_assign_take_all_pending(ks_assign_t *picker, int *ids, long long *counts, int max);

/* Gives back count pending members of server id (adding them to
 * member_count failed: they are tried again later). */
void ks_assign_give_back(ks_assign_t *picker, int id, long long count);

#endif
