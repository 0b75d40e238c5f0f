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

#define MAX_WORDS (KS_COMPOSE_MAX_FRAMES + 2)   /* one more than the longest line (frames) */
#define WORD_MAX 80    /* longest word quoted back in a message */

typedef struct {
    const char *start;
    size_t length;
} word_t;

/* Words are printable ASCII: the body is machine-written. */
static int word_char(char c)
{
    return (unsigned char)c > 0x20 && (unsigned char)c < 0x7f;
}

/* Parses a decimal integer in [min, max]. Returns 0 or -1. */
static int parse_int(const word_t *word, long long min, long long max, long long *out)
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

static int word_is(const word_t *word, const char *s)
{
    return word->length == strlen(s) && memcmp(word->start, s, word->length) == 0;
}

/* Copies word into buf of size (NUL-terminated). Returns 0, or -1 when it
 * does not fit. */
static int word_copy(const word_t *word, char *buf, size_t size)
{
    if (word->length >= size)
        return -1;
    memcpy(buf, word->start, word->length);
    buf[word->length] = '\0';
    return 0;
}

/* Parses one integer field, writing the error ("line 4: layer x "12a" is
 * not an integer in -1048576..1048576") on failure. */
static ks_rc field_int(const word_t *word, long long min, long long max,
                           unsigned line, const char *key, const char *field,
                           long long *out, ks_err_t *err)
{
    if (parse_int(word, min, max, out) == 0)
        return KS_OK;
    return ks_err(err, KS_INVALID, "line %u: %s %s \"%.*s\" is not an integer in %lld..%lld",
                  line, key, field, (int)(word->length > WORD_MAX ? WORD_MAX
                                                                      : word->length),
                  word->start, min, max);
}

static ks_rc word_count(int count, int want, unsigned line, const char *key,
                            const char *usage, ks_err_t *err)
{
    if (count == want)
        return KS_OK;
    return ks_err(err, KS_INVALID, "line %u: %s takes %d value%s (%s), got %d", line, key,
                  want - 1, want - 1 == 1 ? "" : "s", usage, count - 1);
}

/* Stable sort by z_order: insertion sort, at most 256 elements. */
static void sort_layers(ks_compose_layer_t *layers, size_t count)
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
    USER_ID = 1, VERSION = 2, CANVAS = 4, THUMB = 8, PHOTO = 16,
    SCENE = 32, BACKGROUND = 64, QUALITY = 128, FRAMES = 256
};

static const char *const kind_names[] = {"compose", "preview", "album"};

/* Keys each kind accepts (layer always) and those it requires. */
static const unsigned allowed[] = {
    USER_ID | VERSION | CANVAS | THUMB | FRAMES,
    USER_ID | VERSION | CANVAS | THUMB,
    USER_ID | PHOTO | CANVAS | SCENE | BACKGROUND | QUALITY,
};
static const unsigned required[] = {
    USER_ID | VERSION | CANVAS,
    CANVAS,
    USER_ID | PHOTO | CANVAS | SCENE,
};

/* Checks that key (bit) is allowed for kind and not seen before on this
 * request, then marks it seen. */
static ks_rc key_once(unsigned *seen, unsigned bit, ks_compose_kind_t kind, unsigned line,
                          const char *key, ks_err_t *err)
{
    if (!(allowed[kind] & bit))
        return ks_err(err, KS_INVALID, "line %u: %s is not a key of a %s request", line, key,
                      kind_names[kind]);
    if (*seen & bit)
        return ks_err(err, KS_INVALID, "line %u: %s given twice", line, key);
    *seen |= bit;
    return KS_OK;
}

/* Copies a sha256 word into out; KS_INVALID when it is not 64 lowercase hex. */
static ks_rc field_sha256(const word_t *word, unsigned line, const char *key,
                              char *out, ks_err_t *err)
{
    if (word_copy(word, out, KS_SHA256_HEX_SIZE) == 0 && ks_sha256_hex_valid(out))
        return KS_OK;
    return ks_err(err, KS_INVALID, "line %u: %s sha256 \"%.*s\" is not 64 lowercase hex digits",
                  line, key, (int)(word->length > WORD_MAX ? WORD_MAX : word->length),
                  word->start);
}

/* ---- one line per key ----------------------------------------------------------- */

/* The parse in progress: the request, its limits, and the line at hand
 * (words[0] is its key). */
typedef struct {
    ks_compose_request_t *req;
    uint32_t max_width, max_height;
    unsigned line, seen;
    const word_t *words;
    int count;                  /* words on the line, the key included */
} parser_t;

/* The value of a word, cut for a message. */
#define QUOTE(word) \
    (int)((word)->length > WORD_MAX ? WORD_MAX : (word)->length), (word)->start

static ks_rc parse_user_id(parser_t *p, ks_err_t *err)
{
    ks_compose_request_t *req = p->req;

    if (word_copy(&p->words[1], req->user_id, sizeof req->user_id) != 0
        || !ks_user_id_valid(req->user_id))
        return ks_err(err, KS_INVALID, "line %u: user_id \"%.*s\" is not 1..%d characters of "
                      "[A-Za-z0-9._-] not starting with '.'", p->line, QUOTE(&p->words[1]),
                      KS_USER_ID_MAX);
    return KS_OK;
}

/* version <number> and photo <number>. */
static ks_rc parse_number(parser_t *p, const char *key, unsigned *out, ks_err_t *err)
{
    long long value;
    ks_rc rc = field_int(&p->words[1], 1, UINT_MAX, p->line, key, "number", &value, err);

    if (rc == KS_OK)
        *out = (unsigned)value;
    return rc;
}

static ks_rc parse_version(parser_t *p, ks_err_t *err)
{
    return parse_number(p, "version", &p->req->version, err);
}

static ks_rc parse_photo(parser_t *p, ks_err_t *err)
{
    return parse_number(p, "photo", &p->req->photo, err);
}

static ks_rc parse_canvas(parser_t *p, ks_err_t *err)
{
    long long width, height;
    ks_rc rc = field_int(&p->words[1], 1, INT_MAX, p->line, "canvas", "width", &width, err);

    if (rc == KS_OK)
        rc = field_int(&p->words[2], 1, INT_MAX, p->line, "canvas", "height", &height, err);
    if (rc != KS_OK)
        return rc;
    if (width > p->max_width || height > p->max_height)
        return ks_err(err, KS_TOOLARGE, "line %u: canvas %lldx%lld is over the limit of %ux%u",
                      p->line, width, height, (unsigned)p->max_width, (unsigned)p->max_height);
    p->req->width = (uint32_t)width;
    p->req->height = (uint32_t)height;
    return KS_OK;
}

static ks_rc parse_thumb(parser_t *p, ks_err_t *err)
{
    static const char *const fields[6] = {"x", "y", "width", "height", "out_width",
                                          "out_height"};
    ks_compose_request_t *req = p->req;
    long long v[6];
    ks_rc rc = KS_OK;

    for (int k = 0; k < 6 && rc == KS_OK; k++)
        rc = field_int(&p->words[1 + k], k < 2 ? 0 : 1, k < 4 ? INT_MAX : KS_RESIZE_MAX,
                           p->line, "thumb", fields[k], &v[k], err);
    if (rc != KS_OK)
        return rc;
    req->has_thumb = 1;
    req->thumb_x = (uint32_t)v[0];
    req->thumb_y = (uint32_t)v[1];
    req->thumb_width = (uint32_t)v[2];
    req->thumb_height = (uint32_t)v[3];
    req->thumb_out_width = (uint32_t)v[4];
    req->thumb_out_height = (uint32_t)v[5];
    return KS_OK;
}

static ks_rc parse_scene(parser_t *p, ks_err_t *err)
{
    long long scene_id;
    ks_rc rc = field_int(&p->words[1], 1, INT_MAX, p->line, "scene", "scene_id", &scene_id,
                             err);

    if (rc == KS_OK)
        rc = field_sha256(&p->words[2], p->line, "scene", p->req->scene_sha256, err);
    if (rc == KS_OK)
        p->req->scene_id = (int)scene_id;
    return rc;
}

static ks_rc parse_background(parser_t *p, ks_err_t *err)
{
    char colour[8];

    if (word_copy(&p->words[1], colour, sizeof colour) != 0 || colour[0] != '#' ||
        !ks_parse_colour(colour, &p->req->background))
        return ks_err(err, KS_INVALID, "line %u: background \"%.*s\" is not #RRGGBB", p->line,
                      QUOTE(&p->words[1]));
    return KS_OK;
}

/* The #RRGGBB of words[index] as KS_TINT(rgb) (KS_TINT_NONE when the line
 * has no such word); KS_INVALID for another form. */
static ks_rc field_tint(parser_t *p, int index, uint32_t *tint, ks_err_t *err)
{
    char colour[8];
    uint32_t rgb;

    *tint = KS_TINT_NONE;
    if (index >= p->count)
        return KS_OK;
    if (word_copy(&p->words[index], colour, sizeof colour) != 0 || colour[0] != '#' ||
        !ks_parse_colour(colour, &rgb))
        return ks_err(err, KS_INVALID, "line %u: tint \"%.*s\" is not #RRGGBB", p->line,
                      QUOTE(&p->words[index]));
    *tint = KS_TINT(rgb);
    return KS_OK;
}

static ks_rc parse_quality(parser_t *p, ks_err_t *err)
{
    long long value;
    ks_rc rc = field_int(&p->words[1], 1, 100, p->line, "quality", "value", &value, err);

    if (rc == KS_OK)
        p->req->quality = (int)value;
    return rc;
}

static ks_rc parse_layer(parser_t *p, ks_err_t *err)
{
    static const struct {
        const char *name;
        long long min, max;
    } fields[5] = {{"item_id", 1, INT_MAX}, {"layer_no", 0, INT_MAX},
                   {"z_order", INT_MIN, INT_MAX},
                   {"x", -KS_COMPOSE_MAX_OFFSET, KS_COMPOSE_MAX_OFFSET},
                   {"y", -KS_COMPOSE_MAX_OFFSET, KS_COMPOSE_MAX_OFFSET}};
    ks_compose_request_t *req = p->req;
    ks_compose_layer_t *layer = &req->layers[req->layer_count];
    long long v[5];
    ks_rc rc = KS_OK;

    for (int k = 0; k < 5 && rc == KS_OK; k++)
        rc = field_int(&p->words[1 + k], fields[k].min, fields[k].max, p->line, "layer",
                           fields[k].name, &v[k], err);
    if (rc == KS_OK)
        rc = field_sha256(&p->words[6], p->line, "layer", layer->sha256, err);
    if (rc == KS_OK)
        rc = field_tint(p, 7, &layer->tint, err);
    if (rc != KS_OK)
        return rc;
    layer->item_id = (int)v[0];
    layer->layer_no = (int)v[1];
    layer->z_order = (int)v[2];
    layer->x = (int)v[3];
    layer->y = (int)v[4];
    layer->frame = -1;
    req->layer_count++;
    return KS_OK;
}

/* frames <ms> <ms>...: an animated avatar of that many frames. */
static ks_rc parse_frames(parser_t *p, ks_err_t *err)
{
    ks_compose_request_t *req = p->req;
    long long value;
    ks_rc rc = KS_OK;

    for (int k = 1; k < p->count && rc == KS_OK; k++) {
        rc = field_int(&p->words[k], 1, 65535, p->line, "frames", "delay", &value, err);
        req->delays_ms[k - 1] = (unsigned)value;
    }
    req->frame_count = p->count - 1;
    return rc;
}

/* flayer <frame> <layer fields>: a layer drawn in one frame only. */
static ks_rc parse_frame_layer(parser_t *p, ks_err_t *err)
{
    long long frame;
    ks_rc rc = field_int(&p->words[1], 0, KS_COMPOSE_MAX_FRAMES - 1, p->line, "flayer", "frame",
                         &frame, err);

    if (rc != KS_OK)
        return rc;
    p->words++;                    /* the rest is a layer line */
    p->count--;
    rc = parse_layer(p, err);
    p->words--;
    p->count++;
    if (rc == KS_OK)
        p->req->layers[p->req->layer_count - 1].frame = (int)frame;
    return rc;
}

/* Every key: its bit (0: may repeat, as layer does), its word count with the
 * key (and how many optional words may follow), what its values are, and its
 * parser. */
static const struct {
    const char *key;
    unsigned bit;
    int words, optional;
    const char *usage;
    ks_rc (*parse)(parser_t *p, ks_err_t *err);
} keys[] = {
    {"user_id", USER_ID, 2, 0, "<user_id>", parse_user_id},
    {"version", VERSION, 2, 0, "<number>", parse_version},
    {"photo", PHOTO, 2, 0, "<number>", parse_photo},
    {"canvas", CANVAS, 3, 0, "<width> <height>", parse_canvas},
    {"thumb", THUMB, 7, 0, "<x> <y> <width> <height> <out_width> <out_height>",
     parse_thumb},
    {"scene", SCENE, 3, 0, "<scene_id> <sha256>", parse_scene},
    {"background", BACKGROUND, 2, 0, "#RRGGBB", parse_background},
    {"quality", QUALITY, 2, 0, "<1..100>", parse_quality},
    {"layer", 0, 7, 1, "<item_id> <layer_no> <z_order> <x> <y> <sha256> [#RRGGBB]",
     parse_layer},
    {"frames", FRAMES, 3, KS_COMPOSE_MAX_FRAMES - 2, "<delay_ms> <delay_ms>...", parse_frames},
    {"flayer", 0, 8, 1, "<frame> <item_id> <layer_no> <z_order> <x> <y> <sha256> [#RRGGBB]",
     parse_frame_layer},
};

/* Parses one line's words (count > 0) into p->req. */
static ks_rc parse_line(parser_t *p, int count, ks_err_t *err)
{
    const word_t *key = &p->words[0];
    ks_rc rc;

    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        if (!word_is(key, keys[k].key))
            continue;
        if (keys[k].bit)
            rc = key_once(&p->seen, keys[k].bit, p->req->kind, p->line,
                              keys[k].key, err);
        else if (p->req->layer_count == KS_COMPOSE_MAX_LAYERS)
            rc = ks_err(err, KS_TOOLARGE, "line %u: more than %d layers", p->line,
                        KS_COMPOSE_MAX_LAYERS);
        else
            rc = KS_OK;
        if (rc == KS_OK && (count < keys[k].words ||
                            count > keys[k].words + keys[k].optional))
            rc = word_count(count, keys[k].words, p->line, keys[k].key,
                                keys[k].usage, err);
        return rc == KS_OK ? keys[k].parse(p, err) : rc;
    }
    return ks_err(err, KS_INVALID, "line %u: unknown key \"%.*s\"", p->line, QUOTE(key));
}

/* Splits the line [p, end) into words (at most MAX_WORDS); *count is
 * how many (0 for an empty line). */
static ks_rc split_words(const char *p, const char *end, unsigned line, word_t *words,
                             int *count, ks_err_t *err)
{
    *count = 0;
    while (p < end) {
        if (*p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        if (!word_char(*p))
            return ks_err(err, KS_INVALID, "line %u: unexpected byte 0x%02x", line,
                          (unsigned char)*p);
        const char *start = p;
        while (p < end && word_char(*p))
            p++;
        if (*count == MAX_WORDS)
            return ks_err(err, KS_INVALID, "line %u: too many values", line);
        words[*count].start = start;
        words[*count].length = (size_t)(p - start);
        (*count)++;
    }
    return KS_OK;
}

/* Checks what only the whole request can show: the keys its kind requires,
 * a layer, and the thumbnail region inside the canvas. */
static ks_rc check_complete(const ks_compose_request_t *req, unsigned seen, ks_err_t *err)
{
    static const unsigned required_bits[] = {USER_ID, VERSION, PHOTO, CANVAS,
                                             SCENE};
    const char *kind = kind_names[req->kind];

    for (size_t k = 0; k < sizeof required_bits / sizeof required_bits[0]; k++) {
        unsigned bit = required_bits[k];
        if (!(required[req->kind] & bit) || (seen & bit))
            continue;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (keys[i].bit == bit)
                return ks_err(err, KS_INVALID, "%s request has no %s", kind, keys[i].key);
    }
    if (req->layer_count == 0 && req->kind != KS_REQUEST_ALBUM)
        return ks_err(err, KS_INVALID, "%s request has no layer", kind);
    for (size_t i = 0; i < req->layer_count; i++)
        if (req->layers[i].frame >= (req->frame_count ? req->frame_count : 0) &&
            req->layers[i].frame >= 0)
            return ks_err(err, KS_INVALID, "layer %d/%d is drawn in frame %d of %d",
                          req->layers[i].item_id, req->layers[i].layer_no,
                          req->layers[i].frame, req->frame_count);
    if ((unsigned long long)req->frame_count * req->width * req->height >
        KS_COMPOSE_MAX_ANIM_PIXELS)
        return ks_err(err, KS_TOOLARGE, "%d frames of %ux%u are over %u pixels in all",
                      req->frame_count, req->width, req->height, KS_COMPOSE_MAX_ANIM_PIXELS);
    if (req->has_thumb && (req->thumb_x > req->width || req->thumb_y > req->height ||
                           req->thumb_width > req->width - req->thumb_x ||
                           req->thumb_height > req->height - req->thumb_y))
        return ks_err(err, KS_INVALID, "thumb region %u,%u %ux%u is not inside the %ux%u canvas",
                      req->thumb_x, req->thumb_y, req->thumb_width, req->thumb_height,
                      req->width, req->height);
    return KS_OK;
}

ks_rc ks_compose_request_parse(const char *body, size_t size, ks_compose_kind_t kind,
                               uint32_t max_width, uint32_t max_height,
                               ks_compose_request_t *req, ks_err_t *err)
{
    const char *p = body, *end = body + size;
    word_t words[MAX_WORDS];
    parser_t parser = {req, max_width, max_height, 0, 0, words, 0};
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
        int count;

        parser.line++;
        if (line_end > p && line_end[-1] == '\r')
            line_end--;
        if ((rc = split_words(p, line_end, parser.line, words, &count, err)) != KS_OK)
            return rc;
        parser.count = count;
        if (count > 0 && (rc = parse_line(&parser, count, err)) != KS_OK)
            return rc;
        p = eol ? eol + 1 : end;
    }
    if ((rc = check_complete(req, parser.seen, err)) != KS_OK)
        return rc;
    sort_layers(req->layers, req->layer_count);
    return KS_OK;
}
