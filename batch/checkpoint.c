/* checkpoint.c: the checkpoint file of a batch run (checkpoint.h).
 *
 *     # kisekae-batch checkpoint (written whole at every step; do not edit)
 *     format 1
 *     command regenerate
 *     server img1
 *     low m-000123                 ("-" when nothing is done yet)
 *     range m-000201 m-000250      (a batch done above low; repeated)
 *     count written 120            (one line per status)
 *     images_written 360
 *     note m-000042 failed ImageServerUnavailable the image server did not answer
 *     listed_all 0
 *     elapsed 12.5
 */
#include "checkpoint.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "fsutil.h"

#define MAX_FILE_BYTES (64u << 20)

static const char *const status_names[KS_STATUS_COUNT] = {
    "unchanged", "written", "missing", "differs", "moved", "notfound", "failed",
};

const char *ks_status_name(ks_status_t status)
{
    return status >= 0 && status < KS_STATUS_COUNT ? status_names[status] : "?";
}

int ks_status_parse(const char *name)
{
    for (int i = 0; i < KS_STATUS_COUNT; i++)
        if (strcmp(name, status_names[i]) == 0)
            return i;
    return -1;
}

void ks_checkpoint_init(ks_checkpoint_t *ck, const char *command, const char *server)
{
    memset(ck, 0, sizeof *ck);
    snprintf(ck->command, sizeof ck->command, "%s", command);
    snprintf(ck->server, sizeof ck->server, "%s", server);
}

void ks_checkpoint_free(ks_checkpoint_t *ck)
{
    free(ck->ranges);
    free(ck->notes);
    ck->ranges = NULL;
    ck->notes = NULL;
    ck->range_count = ck->range_capacity = ck->note_count = ck->note_capacity = 0;
}

long long ks_checkpoint_done(const ks_checkpoint_t *ck)
{
    long long done = 0;

    for (int i = 0; i < KS_STATUS_COUNT; i++)
        done += ck->counts[i];
    return done;
}

/* Makes room for one more element of size `size` in *array. */
static int grow(void **array, size_t *capacity, size_t count, size_t size)
{
    void *bigger;
    size_t wanted;

    if (count < *capacity)
        return 0;
    wanted = *capacity ? *capacity * 2 : 16;
    bigger = realloc(*array, wanted * size);
    if (!bigger)
        return -1;
    *array = bigger;
    *capacity = wanted;
    return 0;
}

/* Copies src into a buffer of size dst_size, keeping only printable ASCII
 * (a note is one line of the file). */
static void copy_line(char *dst, size_t dst_size, const char *src)
{
    size_t n = 0;

    for (; src && *src && n + 1 < dst_size; src++)
        dst[n++] = (*src >= 0x20 && *src < 0x7f) ? *src : ' ';
    dst[n] = '\0';
}

ks_rc ks_checkpoint_add_range(ks_checkpoint_t *ck, const char *first, const char *last,
                              ks_err_t *err)
{
    ks_checkpoint_range_t *r;

    if (grow((void **)&ck->ranges, &ck->range_capacity, ck->range_count, sizeof *ck->ranges))
        return ks_err(err, KS_NOMEM, "out of memory for the checkpoint's ranges");
    r = &ck->ranges[ck->range_count++];
    snprintf(r->first, sizeof r->first, "%s", first);
    snprintf(r->last, sizeof r->last, "%s", last);
    return KS_OK;
}

ks_rc ks_checkpoint_add_note(ks_checkpoint_t *ck, const char *user_id, ks_status_t status,
                             const char *code, const char *message, ks_err_t *err)
{
    ks_checkpoint_note_t *n;

    if (grow((void **)&ck->notes, &ck->note_capacity, ck->note_count, sizeof *ck->notes))
        return ks_err(err, KS_NOMEM, "out of memory for the checkpoint's notes");
    n = &ck->notes[ck->note_count++];
    snprintf(n->user_id, sizeof n->user_id, "%s", user_id);
    n->status = status;
    copy_line(n->code, sizeof n->code, code);
    for (char *c = n->code; *c; c++)        /* one word */
        if (*c == ' ')
            *c = '_';
    copy_line(n->message, sizeof n->message, message);
    return KS_OK;
}

int ks_checkpoint_covers(const ks_checkpoint_t *ck, const char *user_id)
{
    for (size_t i = 0; i < ck->range_count; i++)
        if (strcmp(ck->ranges[i].first, user_id) <= 0 && strcmp(user_id, ck->ranges[i].last) <= 0)
            return 1;
    return 0;
}

ks_rc ks_checkpoint_save(const char *path, const ks_checkpoint_t *ck, ks_err_t *err)
{
    ks_buf_t buf;
    ks_rc rc;

    ks_buf_init(&buf, MAX_FILE_BYTES);
    ks_buf_addf(&buf, "# kisekae-batch checkpoint (written whole at every step; do not edit)\n"
                      "format 1\ncommand %s\nserver %s\nlow %s\n",
                ck->command, ck->server, ck->low[0] ? ck->low : "-");
    for (size_t i = 0; i < ck->range_count; i++)
        ks_buf_addf(&buf, "range %s %s\n", ck->ranges[i].first, ck->ranges[i].last);
    for (int i = 0; i < KS_STATUS_COUNT; i++)
        ks_buf_addf(&buf, "count %s %lld\n", status_names[i], ck->counts[i]);
    ks_buf_addf(&buf, "images_written %lld\n", ck->images_written);
    for (size_t i = 0; i < ck->note_count; i++) {
        const ks_checkpoint_note_t *n = &ck->notes[i];
        ks_buf_addf(&buf, "note %s %s %s %s\n", n->user_id, status_names[n->status],
                    n->code[0] ? n->code : "-", n->message);
    }
    ks_buf_addf(&buf, "listed_all %d\nelapsed %.1f\n", ck->listed_all, ck->elapsed_s);
    if (buf.overflow) {
        ks_buf_free(&buf);
        return ks_err(err, KS_TOOLARGE, "checkpoint \"%s\" over %u bytes", path, MAX_FILE_BYTES);
    }
    rc = ks_file_write_atomic(path, buf.data, buf.len, err);
    ks_buf_free(&buf);
    return rc;
}

/* Parses one line (NUL-terminated, without its newline) into ck. */
static ks_rc load_line(ks_checkpoint_t *ck, char *line, int *format, ks_err_t *err)
{
    char key[32], a[KS_CHECKPOINT_ID_SIZE], b[KS_CHECKPOINT_ID_SIZE], code[64];
    int offset = 0, status;
    long long value;

    if (line[0] == '#' || line[0] == '\0')
        return KS_OK;
    if (sscanf(line, "%31s %n", key, &offset) != 1)
        return ks_err(err, KS_INVALID, "unreadable line");
    line += offset;
    if (strcmp(key, "format") == 0 && sscanf(line, "%d", format) == 1 && *format == 1)
        return KS_OK;
    if (strcmp(key, "command") == 0 && sscanf(line, "%15s", ck->command) == 1)
        return KS_OK;
    if (strcmp(key, "server") == 0 && sscanf(line, "%64s", ck->server) == 1)
        return KS_OK;
    if (strcmp(key, "low") == 0 && sscanf(line, "%64s", a) == 1) {
        snprintf(ck->low, sizeof ck->low, "%s", strcmp(a, "-") == 0 ? "" : a);
        return KS_OK;
    }
    if (strcmp(key, "range") == 0 && sscanf(line, "%64s %64s", a, b) == 2)
        return ks_checkpoint_add_range(ck, a, b, err);
    if (strcmp(key, "count") == 0 && sscanf(line, "%31s %lld", b, &value) == 2 &&
        (status = ks_status_parse(b)) >= 0 && value >= 0) {
        ck->counts[status] = value;
        return KS_OK;
    }
    if (strcmp(key, "images_written") == 0 && sscanf(line, "%lld", &ck->images_written) == 1)
        return KS_OK;
    if (strcmp(key, "note") == 0 && sscanf(line, "%64s %31s %63s %n", a, b, code, &offset) == 3 &&
        (status = ks_status_parse(b)) >= 0)
        return ks_checkpoint_add_note(ck, a, status, strcmp(code, "-") == 0 ? "" : code,
                                      line + offset, err);
    if (strcmp(key, "listed_all") == 0 && sscanf(line, "%d", &ck->listed_all) == 1)
        return KS_OK;
    if (strcmp(key, "elapsed") == 0 && sscanf(line, "%lf", &ck->elapsed_s) == 1)
        return KS_OK;
    return ks_err(err, KS_INVALID, "unknown or malformed line \"%.60s\"", key);
}

ks_rc ks_checkpoint_load(const char *path, ks_checkpoint_t *ck, ks_err_t *err)
{
    unsigned char *data;
    size_t size;
    int line_no = 0, format = 0;
    char *line, *next;
    ks_rc rc;

    ks_checkpoint_init(ck, "", "");
    rc = ks_file_read(path, MAX_FILE_BYTES, &data, &size, err);
    if (rc != KS_OK)
        return rc;
    for (line = (char *)data; rc == KS_OK && line < (char *)data + size; line = next) {
        char *end = memchr(line, '\n', (size_t)((char *)data + size - line));
        if (!end) {
            rc = ks_err(err, KS_INVALID, "checkpoint \"%s\": its last line is cut off", path);
            break;
        }
        *end = '\0';
        next = end + 1;
        line_no++;
        rc = load_line(ck, line, &format, err);
        if (rc != KS_OK)
            ks_err(err, rc, "checkpoint \"%s\":%d: %s", path, line_no, err->msg);
    }
    free(data);
    if (rc == KS_OK && (format != 1 || !ck->command[0] || !ck->server[0]))
        rc = ks_err(err, KS_INVALID, "checkpoint \"%s\" lacks its format, command or server",
                    path);
    if (rc != KS_OK)
        ks_checkpoint_free(ck);
    return rc;
}
