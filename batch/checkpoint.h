/* checkpoint.h: where a batch run stands, on disk, so that a run stopped in
 * any way (SIGINT, kill -9, a crash) resumes without skipping a member.
 *
 * Members are listed in userId order (bytes: user ids are ASCII compared
 * with ascii_bin) and handed out in batches of consecutive members, which
 * complete out of order across threads. The checkpoint keeps `low`, the
 * last userId of the longest run of completed batches from the start (every
 * member up to it is done), and the ranges [first, last] of the batches
 * completed above it. A resumed run lists from `low` on and skips members
 * inside those ranges; only the batches in flight at the stop are done again.
 *
 * It also keeps the counts by status, the members worth naming in the
 * summary (failed ones; for an audit, the members found missing or
 * differing) and the elapsed time of earlier runs. The file is text,
 * written whole with ks_file_write_atomic (temp file, fsync, rename, fsync
 * of the folder): a reader sees the previous version or the new one.
 */
#ifndef KS_BATCH_CHECKPOINT_H
#define KS_BATCH_CHECKPOINT_H

#include <stddef.h>
#include "ks.h"
#include "paths.h"

#define KS_CHECKPOINT_ID_SIZE (KS_USER_ID_MAX + 1)

typedef enum {
    KS_STATUS_UNCHANGED, KS_STATUS_WRITTEN, KS_STATUS_MISSING, KS_STATUS_DIFFERS,
    KS_STATUS_MOVED, KS_STATUS_NOTFOUND, KS_STATUS_FAILED, KS_STATUS_COUNT
} ks_status_t;

typedef struct {
    char first[KS_CHECKPOINT_ID_SIZE], last[KS_CHECKPOINT_ID_SIZE];
} ks_checkpoint_range_t;

typedef struct {
    char user_id[KS_CHECKPOINT_ID_SIZE];
    ks_status_t status;
    char code[32];                 /* a fault code, or "" */
    char message[200];             /* one line */
} ks_checkpoint_note_t;

typedef struct {
    char command[16];              /* regenerate | audit */
    char server[KS_CHECKPOINT_ID_SIZE];
    char low[KS_CHECKPOINT_ID_SIZE];   /* "" when no member is done yet */
    ks_checkpoint_range_t *ranges;     /* done above low, in listing order */
    size_t range_count, range_capacity;
    ks_checkpoint_note_t *notes;
    size_t note_count, note_capacity;
    long long counts[KS_STATUS_COUNT];
    long long images_written;
    int listed_all;                /* the listing reached its end and every batch is done */
    double elapsed_s;              /* of the runs before this one */
} ks_checkpoint_t;

/* The status's name ("unchanged"...), and back (-1 when unknown). */
const char *ks_status_name(ks_status_t status);
int ks_status_parse(const char *name);

/* Empties ck for command on server. */
void ks_checkpoint_init(ks_checkpoint_t *ck, const char *command, const char *server);
void ks_checkpoint_free(ks_checkpoint_t *ck);

/* Members done so far (every status). */
long long ks_checkpoint_done(const ks_checkpoint_t *ck);

ks_rc ks_checkpoint_add_range(ks_checkpoint_t *ck, const char *first, const char *last,
                              ks_err_t *err);
ks_rc ks_checkpoint_add_note(ks_checkpoint_t *ck, const char *user_id, ks_status_t status,
                             const char *code, const char *message, ks_err_t *err);

/* 1 when user_id lies in one of the ranges done above low. */
int ks_checkpoint_covers(const ks_checkpoint_t *ck, const char *user_id);

/* Reads path into ck (initialised here). KS_NOTFOUND when there is no file,
 * KS_INVALID (with the line) when it is not a checkpoint. */
ks_rc ks_checkpoint_load(const char *path, ks_checkpoint_t *ck, ks_err_t *err);

/* Writes ck to path atomically. */
ks_rc ks_checkpoint_save(const char *path, const ks_checkpoint_t *ck, ks_err_t *err);

#endif
