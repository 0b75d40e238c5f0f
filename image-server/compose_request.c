/* compose_request.c: strict parser of the compose request body (see
 * compose_request.h and PROTOCOL.md). The API tier generates these bodies, so
 * anything unexpected is a bug worth a clear 400, never a guess.
 *
 * Lines end with "\n" (a "\r" before it is tolerated); words are separated by
 * spaces or tabs and are printable ASCII; empty lines are skipped. Numbers are decimal, with an
 * optional '-' where negatives are allowed, and no '+' or other decoration.
 */
#include "compose_request.h"

#include <limits.h>
#include <string.h>

#define KS__MAX_WORDS 8    /* one more than the longest line, to catch extras */
#define KS__WORD_MAX 80    /* longest word quoted back in a message */

typedef struct {
    const char *start;
    size_t length;
} ks__word_t;

/* Words are printable ASCII: the body is machine-written. */
static int ks__word_char(char c)
{
    return (unsigned char)c > 0x20 && (unsigned char)c < 0x7f;
}

/* Parses a decimal integer in [min, max]. Returns 0 or -1. */
static int ks__parse_int(const ks__word_t *word, long long min, long long max, long long *out)
{
    const char *p = word->start, *end = word->start + word->length;
    int negative = 0;
    long long value = 0;

    if (p < end && *p == '-') {
        negative = 1;
        p++;
    }
    if (p == end)
        return -1;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return -1;
        if (value > (LLONG_MAX - 9) / 10)
            return -1;   /* far out of any range we accept */
        value = value * 10 + (*p - '0');
    }
    if (negative)
        value = -value;
    if (value < min || value > max)
        return -1;
    *out = value;
    return 0;
}

static int ks__word_is(const ks__word_t *word, const char *s)
{
    return word->length == strlen(s) && memcmp(word->start, s, word->length) == 0;
}

/* Copies word into buf of size (NUL-terminated). Returns 0, or -1 when it
 * does not fit. */
static int ks__word_copy(const ks__word_t *word, char *buf, size_t size)
{
    if (word->length >= size)
        return -1;
    memcpy(buf, word->start, word->length);
    buf[word->length] = '\0';
    return 0;
}

/* Parses one integer field, writing the error ("line 4: layer x "12a" is
 * not an integer in -1048576..1048576") on failure. */
static ks_rc ks__field_int(const ks__word_t *word, long long min, long long max,
                           unsigned line, const char *key, const char *field,
                           long long *out, ks_err_t *err)
{
    if (ks__parse_int(word, min, max, out) == 0)
        return KS_OK;
    return ks_err(err, KS_INVALID, "line %u: %s %s \"%.*s\" is not an integer in %lld..%lld",
                  line, key, field, (int)(word->length > KS__WORD_MAX ? KS__WORD_MAX
                                                                      : word->length),
                  word->start, min, max);
}

static ks_rc ks__word_count(int count, int want, unsigned line, const char *key,
                            const char *usage, ks_err_t *err)
{
    if (count == want)
        return KS_OK;
    return ks_err(err, KS_INVALID, "line %u: %s takes %d value%s (%s), got %d", line, key,
                  want - 1, want - 1 == 1 ? "" : "s", usage, count - 1);
}

/* Stable sort by z_order: insertion sort, at most 256 elements. */
static void ks__sort_layers(ks_compose_layer_t *layers, size_t count)
{
    for (size_t i = 1; i < count; i++) {
        ks_compose_layer_t moving = layers[i];
        size_t j = i;
        while (j > 0 && layers[j - 1].z_order > moving.z_order) {
            layers[j] = layers[j - 1];
            j--;
        }
        layers[j] = moving;
    }
}

ks_rc ks_compose_request_parse(const char *body, size_t size, uint32_t max_width,
                               uint32_t max_height, ks_compose_request_t *req, ks_err_t *err)
{
    const char *p = body, *end = body + size;
    unsigned line = 0;
    int have_user_id = 0, have_version = 0, have_canvas = 0;
    ks_rc rc;

    memset(req, 0, sizeof *req);
    if (size > KS_COMPOSE_MAX_BODY)
        return ks_err(err, KS_TOOLARGE, "compose request is %zu bytes, over %d", size,
                      KS_COMPOSE_MAX_BODY);
    if (memchr(body, '\0', size) != NULL)
        return ks_err(err, KS_INVALID, "compose request contains a NUL byte");

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        const char *line_end = eol ? eol : end;
        ks__word_t words[KS__MAX_WORDS];
        int count = 0;
        long long value;

        line++;
        if (line_end > p && line_end[-1] == '\r')
            line_end--;
        for (const char *q = p; q < line_end;) {
            if (*q == ' ' || *q == '\t') {
                q++;
                continue;
            }
            if (!ks__word_char(*q))
                return ks_err(err, KS_INVALID, "line %u: unexpected byte 0x%02x", line,
                              (unsigned char)*q);
            const char *start = q;
            while (q < line_end && ks__word_char(*q))
                q++;
            if (count == KS__MAX_WORDS)
                return ks_err(err, KS_INVALID, "line %u: too many values", line);
            words[count].start = start;
            words[count].length = (size_t)(q - start);
            count++;
        }
        p = eol ? eol + 1 : end;
        if (count == 0)
            continue;

        const ks__word_t *key = &words[0];
        if (ks__word_is(key, "user_id")) {
            if (have_user_id)
                return ks_err(err, KS_INVALID, "line %u: user_id given twice", line);
            rc = ks__word_count(count, 2, line, "user_id", "<user_id>", err);
            if (rc != KS_OK)
                return rc;
            if (ks__word_copy(&words[1], req->user_id, sizeof req->user_id) != 0
                || !ks_user_id_valid(req->user_id))
                return ks_err(err, KS_INVALID,
                              "line %u: user_id \"%.*s\" is not 1..%d characters of "
                              "[A-Za-z0-9._-] not starting with '.'",
                              line, (int)(words[1].length > KS__WORD_MAX ? KS__WORD_MAX
                                                                         : words[1].length),
                              words[1].start, KS_USER_ID_MAX);
            have_user_id = 1;
        } else if (ks__word_is(key, "version")) {
            if (have_version)
                return ks_err(err, KS_INVALID, "line %u: version given twice", line);
            rc = ks__word_count(count, 2, line, "version", "<version>", err);
            if (rc == KS_OK)
                rc = ks__field_int(&words[1], 1, UINT_MAX, line, "version", "number", &value,
                                   err);
            if (rc != KS_OK)
                return rc;
            req->version = (unsigned)value;
            have_version = 1;
        } else if (ks__word_is(key, "canvas")) {
            long long width, height;
            if (have_canvas)
                return ks_err(err, KS_INVALID, "line %u: canvas given twice", line);
            rc = ks__word_count(count, 3, line, "canvas", "<width> <height>", err);
            if (rc == KS_OK)
                rc = ks__field_int(&words[1], 1, INT_MAX, line, "canvas", "width", &width,
                                   err);
            if (rc == KS_OK)
                rc = ks__field_int(&words[2], 1, INT_MAX, line, "canvas", "height", &height,
                                   err);
            if (rc != KS_OK)
                return rc;
            if (width > max_width || height > max_height)
                return ks_err(err, KS_TOOLARGE,
                              "line %u: canvas %lldx%lld is over the limit of %ux%u", line,
                              width, height, (unsigned)max_width, (unsigned)max_height);
            req->width = (uint32_t)width;
            req->height = (uint32_t)height;
            have_canvas = 1;
        } else if (ks__word_is(key, "layer")) {
            ks_compose_layer_t *layer;
            long long item_id, layer_no, z_order, x, y;
            if (req->layer_count == KS_COMPOSE_MAX_LAYERS)
                return ks_err(err, KS_TOOLARGE, "line %u: more than %d layers", line,
                              KS_COMPOSE_MAX_LAYERS);
            rc = ks__word_count(count, 7, line, "layer",
                                "<item_id> <layer_no> <z_order> <x> <y> <sha256>", err);
            if (rc == KS_OK)
                rc = ks__field_int(&words[1], 1, INT_MAX, line, "layer", "item_id", &item_id,
                                   err);
            if (rc == KS_OK)
                rc = ks__field_int(&words[2], 0, INT_MAX, line, "layer", "layer_no",
                                   &layer_no, err);
            if (rc == KS_OK)
                rc = ks__field_int(&words[3], INT_MIN, INT_MAX, line, "layer", "z_order",
                                   &z_order, err);
            if (rc == KS_OK)
                rc = ks__field_int(&words[4], -KS_COMPOSE_MAX_OFFSET, KS_COMPOSE_MAX_OFFSET,
                                   line, "layer", "x", &x, err);
            if (rc == KS_OK)
                rc = ks__field_int(&words[5], -KS_COMPOSE_MAX_OFFSET, KS_COMPOSE_MAX_OFFSET,
                                   line, "layer", "y", &y, err);
            if (rc != KS_OK)
                return rc;
            layer = &req->layers[req->layer_count];
            if (ks__word_copy(&words[6], layer->sha256, sizeof layer->sha256) != 0
                || !ks_sha256_hex_valid(layer->sha256))
                return ks_err(err, KS_INVALID,
                              "line %u: layer sha256 \"%.*s\" is not 64 lowercase hex digits",
                              line, (int)(words[6].length > KS__WORD_MAX ? KS__WORD_MAX
                                                                         : words[6].length),
                              words[6].start);
            layer->item_id = (int)item_id;
            layer->layer_no = (int)layer_no;
            layer->z_order = (int)z_order;
            layer->x = (int)x;
            layer->y = (int)y;
            req->layer_count++;
        } else {
            return ks_err(err, KS_INVALID, "line %u: unknown key \"%.*s\"", line,
                          (int)(key->length > KS__WORD_MAX ? KS__WORD_MAX : key->length),
                          key->start);
        }
    }

    if (!have_user_id)
        return ks_err(err, KS_INVALID, "compose request has no user_id");
    if (!have_version)
        return ks_err(err, KS_INVALID, "compose request has no version");
    if (!have_canvas)
        return ks_err(err, KS_INVALID, "compose request has no canvas");
    if (req->layer_count == 0)
        return ks_err(err, KS_INVALID, "compose request has no layer");
    ks__sort_layers(req->layers, req->layer_count);
    return KS_OK;
}
