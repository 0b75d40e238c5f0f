/* compose_request.c: strict parser of the compose request body (see
 * compose_request.h and PROTOCOL.md): compose, preview and album bodies. The API tier generates these bodies, so
 * anything unexpected is a bug worth a clear 400, never a guess.
 *
 * Lines end with "\n" (a "\r" before it is tolerated); words are separated by
 * spaces or tabs and are printable ASCII; empty lines are skipped. Numbers are decimal, with an
 * optional '-' where negatives are allowed, and no '+' or other decoration.
 */
#include "compose_request.h"

#include <limits.h>
#include <string.h>

#include "jpeg_codec.h"

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

/* The keys, as bits of what a request kind allows and what it has. */
enum {
    KS__USER_ID = 1, KS__VERSION = 2, KS__CANVAS = 4, KS__THUMB = 8, KS__PHOTO = 16,
    KS__SCENE = 32, KS__BACKGROUND = 64, KS__QUALITY = 128
};

static const char *const ks__kind_names[] = {"compose", "preview", "album"};

/* Keys each kind accepts (layer always) and those it requires. */
static const unsigned ks__allowed[] = {
    KS__USER_ID | KS__VERSION | KS__CANVAS | KS__THUMB,
    KS__USER_ID | KS__VERSION | KS__CANVAS | KS__THUMB,
    KS__USER_ID | KS__PHOTO | KS__CANVAS | KS__SCENE | KS__BACKGROUND | KS__QUALITY,
};
static const unsigned ks__required[] = {
    KS__USER_ID | KS__VERSION | KS__CANVAS,
    KS__CANVAS,
    KS__USER_ID | KS__PHOTO | KS__CANVAS | KS__SCENE,
};

/* Checks that key (bit) is allowed for kind and not seen before on this
 * request, then marks it seen. */
static ks_rc ks__key_once(unsigned *seen, unsigned bit, ks_compose_kind_t kind, unsigned line,
                          const char *key, ks_err_t *err)
{
    if (!(ks__allowed[kind] & bit))
        return ks_err(err, KS_INVALID, "line %u: %s is not a key of a %s request", line, key,
                      ks__kind_names[kind]);
    if (*seen & bit)
        return ks_err(err, KS_INVALID, "line %u: %s given twice", line, key);
    *seen |= bit;
    return KS_OK;
}

/* Copies a sha256 word into out; KS_INVALID when it is not 64 lowercase hex. */
static ks_rc ks__field_sha256(const ks__word_t *word, unsigned line, const char *key,
                              char *out, ks_err_t *err)
{
    if (ks__word_copy(word, out, KS_SHA256_HEX_SIZE) == 0 && ks_sha256_hex_valid(out))
        return KS_OK;
    return ks_err(err, KS_INVALID, "line %u: %s sha256 \"%.*s\" is not 64 lowercase hex digits",
                  line, key, (int)(word->length > KS__WORD_MAX ? KS__WORD_MAX : word->length),
                  word->start);
}

ks_rc ks_compose_request_parse(const char *body, size_t size, ks_compose_kind_t kind,
                               uint32_t max_width, uint32_t max_height,
                               ks_compose_request_t *req, ks_err_t *err)
{
    const char *p = body, *end = body + size;
    unsigned line = 0, seen = 0;
    ks_rc rc;

    memset(req, 0, sizeof *req);
    req->kind = kind;
    req->background = 0xffffff;
    req->quality = KS_JPEG_QUALITY_DEFAULT;
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
            rc = ks__key_once(&seen, KS__USER_ID, kind, line, "user_id", err);
            if (rc == KS_OK)
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
        } else if (ks__word_is(key, "version") || ks__word_is(key, "photo")) {
            int is_version = ks__word_is(key, "version");
            const char *name = is_version ? "version" : "photo";
            rc = ks__key_once(&seen, is_version ? KS__VERSION : KS__PHOTO, kind, line, name,
                              err);
            if (rc == KS_OK)
                rc = ks__word_count(count, 2, line, name, "<number>", err);
            if (rc == KS_OK)
                rc = ks__field_int(&words[1], 1, UINT_MAX, line, name, "number", &value, err);
            if (rc != KS_OK)
                return rc;
            if (is_version)
                req->version = (unsigned)value;
            else
                req->photo = (unsigned)value;
        } else if (ks__word_is(key, "canvas")) {
            long long width, height;
            rc = ks__key_once(&seen, KS__CANVAS, kind, line, "canvas", err);
            if (rc == KS_OK)
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
        } else if (ks__word_is(key, "thumb")) {
            static const char *const fields[6] = {"x", "y", "width", "height", "out_width",
                                                  "out_height"};
            long long v[6];
            rc = ks__key_once(&seen, KS__THUMB, kind, line, "thumb", err);
            if (rc == KS_OK)
                rc = ks__word_count(count, 7, line, "thumb",
                                    "<x> <y> <width> <height> <out_width> <out_height>", err);
            for (int k = 0; k < 6 && rc == KS_OK; k++)
                rc = ks__field_int(&words[1 + k], k < 2 ? 0 : 1, k < 4 ? INT_MAX : KS_RESIZE_MAX,
                                   line, "thumb", fields[k], &v[k], err);
            if (rc != KS_OK)
                return rc;
            req->has_thumb = 1;
            req->thumb_x = (uint32_t)v[0];
            req->thumb_y = (uint32_t)v[1];
            req->thumb_width = (uint32_t)v[2];
            req->thumb_height = (uint32_t)v[3];
            req->thumb_out_width = (uint32_t)v[4];
            req->thumb_out_height = (uint32_t)v[5];
        } else if (ks__word_is(key, "scene")) {
            long long scene_id;
            rc = ks__key_once(&seen, KS__SCENE, kind, line, "scene", err);
            if (rc == KS_OK)
                rc = ks__word_count(count, 3, line, "scene", "<scene_id> <sha256>", err);
            if (rc == KS_OK)
                rc = ks__field_int(&words[1], 1, INT_MAX, line, "scene", "scene_id", &scene_id,
                                   err);
            if (rc == KS_OK)
                rc = ks__field_sha256(&words[2], line, "scene", req->scene_sha256, err);
            if (rc != KS_OK)
                return rc;
            req->scene_id = (int)scene_id;
        } else if (ks__word_is(key, "background")) {
            char colour[8];
            rc = ks__key_once(&seen, KS__BACKGROUND, kind, line, "background", err);
            if (rc == KS_OK)
                rc = ks__word_count(count, 2, line, "background", "#RRGGBB", err);
            if (rc != KS_OK)
                return rc;
            if (ks__word_copy(&words[1], colour, sizeof colour) != 0 || colour[0] != '#' ||
                !ks_parse_colour(colour, &req->background))
                return ks_err(err, KS_INVALID, "line %u: background \"%.*s\" is not #RRGGBB",
                              line, (int)(words[1].length > KS__WORD_MAX ? KS__WORD_MAX
                                                                         : words[1].length),
                              words[1].start);
        } else if (ks__word_is(key, "quality")) {
            rc = ks__key_once(&seen, KS__QUALITY, kind, line, "quality", err);
            if (rc == KS_OK)
                rc = ks__word_count(count, 2, line, "quality", "<1..100>", err);
            if (rc == KS_OK)
                rc = ks__field_int(&words[1], 1, 100, line, "quality", "value", &value, err);
            if (rc != KS_OK)
                return rc;
            req->quality = (int)value;
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
            rc = ks__field_sha256(&words[6], line, "layer", layer->sha256, err);
            if (rc != KS_OK)
                return rc;
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

    static const struct {
        unsigned bit;
        const char *key;
    } keys[] = {{KS__USER_ID, "user_id"}, {KS__VERSION, "version"}, {KS__PHOTO, "photo"},
                {KS__CANVAS, "canvas"}, {KS__SCENE, "scene"}};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if ((ks__required[kind] & keys[k].bit) && !(seen & keys[k].bit))
            return ks_err(err, KS_INVALID, "%s request has no %s", ks__kind_names[kind],
                          keys[k].key);
    if (req->layer_count == 0 && kind != KS_REQUEST_ALBUM)
        return ks_err(err, KS_INVALID, "%s request has no layer", ks__kind_names[kind]);
    if (req->has_thumb && (req->thumb_x > req->width || req->thumb_y > req->height ||
                           req->thumb_width > req->width - req->thumb_x ||
                           req->thumb_height > req->height - req->thumb_y))
        return ks_err(err, KS_INVALID, "thumb region %u,%u %ux%u is not inside the %ux%u canvas",
                      req->thumb_x, req->thumb_y, req->thumb_width, req->thumb_height,
                      req->width, req->height);
    ks__sort_layers(req->layers, req->layer_count);
    return KS_OK;
}
