/* deflate_runs.c: the raster-row zlib encoder (deflate_runs.h).
 *
 * Two passes. The first walks the input once, greedily, a pixel (or a row's
 * filter byte) at a time: where one starts it measures the match with the
 * previous pixel (distance `pixel`), with the row above (distance `period`)
 * and, when neither reaches 3 bytes, with the last earlier place with the
 * same 4 bytes (a small hash table); inside a pixel, only the match with the
 * previous pixel, found in one compare of the whole pixel. The longest match
 * of at least 3 bytes wins, literals otherwise. Matches are kept as 32-bit
 * words (position, token); literals are only counted, and read from the
 * input again when written. The second pass builds length-limited Huffman
 * codes from the counts (RFC 1951's 15 bits for literals/lengths and
 * distances, 7 for the code length code) and writes one final dynamic
 * block, then the Adler-32.
 */
#include "deflate_runs.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define MIN_MATCH 3
#define MAX_MATCH 258
#define WINDOW 32768
#define LITLEN_SYMS 286
#define DIST_SYMS 30
#define CODELEN_SYMS 19
#define END_OF_BLOCK 256

/* A match's token: bit 31 set, its length in bits 0..8, its distance minus
 * one in bits 9..23 and its distance code in bits 24..28 (known when the
 * match is found, so not looked up again). (The token list holds matches
 * only, each after its position; the bytes between matches are literals.) */
#define MATCH 0x80000000u
#define TOKEN(length, dist, dcode) \
    (MATCH | (uint32_t)(dcode) << 24 | (uint32_t)((dist) - 1) << 9 | (uint32_t)(length))

/* Where a literal region looks for an earlier copy: the last position of each
 * hash of the 4 bytes there. */
#define HASH_BITS 12

static const uint16_t length_base[29] = {
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31,
    35, 43, 51, 59, 67, 83, 99, 115, 131, 163, 195, 227, 258};
static const uint8_t length_extra[29] = {
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint16_t dist_base[DIST_SYMS] = {
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
    1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577};
static const uint8_t dist_extra[DIST_SYMS] = {
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12,
    12, 13, 13};
static const uint8_t codelen_order[CODELEN_SYMS] = {
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15};

/* Symbol tables, filled once: the length code (index into length_*) of
 * each match length 3..258, and the distance code of (dist - 1) for dist
 * 1..256 and of 256 + ((dist - 1) >> 7) above (zlib's layout: every code
 * above 256 spans whole multiples of 128). */
static uint8_t length_sym[MAX_MATCH + 1];
static uint8_t dist_sym[512];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static unsigned dist_code(size_t dist)
{
    unsigned code = 0;

    while (code < DIST_SYMS - 1 && dist_base[code + 1] <= dist)
        code++;
    return code;
}

static void tables_init(void)
{
    unsigned code = 0;

    for (unsigned length = MIN_MATCH; length <= MAX_MATCH; length++) {
        while (code < 28 && length_base[code + 1] <= length)
            code++;
        length_sym[length] = (uint8_t)code;
    }
    for (unsigned d = 1; d <= 256; d++)
        dist_sym[d - 1] = (uint8_t)dist_code(d);
    for (unsigned k = 2; k < 256; k++)
        dist_sym[256 + k] = (uint8_t)dist_code((size_t)k * 128 + 1);
}

static inline unsigned dist_lookup(uint32_t dist_minus_1)
{
    /* an index chosen without a branch: the distances of earlier copies
     * fall on either side of 256 at random */
    uint32_t far = dist_minus_1 >= 256;
    return dist_sym[(dist_minus_1 >> (7 * far)) + (far << 8)];
}

static inline uint32_t hash4(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, 4);
    return (v * 0x9e3779b1u) >> (32 - HASH_BITS);
}

/* n rounded down to a multiple of pixel (1..8; 4 for RGBA, without dividing). */
static inline size_t round_down(size_t n, unsigned pixel)
{
    if ((pixel & (pixel - 1)) == 0)
        return n & ~(size_t)(pixel - 1);
    return n / pixel * pixel;
}

/* v as read from memory in little-endian byte order: byte k of the input in
 * bits 8k..8k+7. */
static inline uint64_t le64(uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    return __builtin_bswap64(v);
#else
    return v;
#endif
}

/* How many bytes from a and b agree, up to max. */
static inline size_t match_length(const uint8_t *a, const uint8_t *b, size_t max)
{
    size_t n = 0;

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (n + 8 <= max) {
        uint64_t x, y;
        memcpy(&x, a + n, 8);
        memcpy(&y, b + n, 8);
        if (x != y)
            return n + (size_t)(__builtin_ctzll(x ^ y) >> 3);
        n += 8;
    }
#endif
    while (n < max && a[n] == b[n])
        n++;
    return n;
}

/* ---- Huffman codes ----------------------------------------------------------- */

typedef struct {
    uint32_t freq;
    uint16_t sym;
} leaf_t;

/* Sorts leaves[0..n) by frequency, ties in the order they come in (symbol
 * order): a radix sort, 8 bits of frequency a round, as many rounds as the
 * largest frequency needs. (qsort and its calls of a compare function were
 * 2% of an avatar's encode.) spare holds n leaves. */
static void leaves_sort(leaf_t *leaves, leaf_t *spare, unsigned n)
{
    leaf_t *from = leaves, *to = spare;
    uint32_t largest = 0;

    for (unsigned i = 0; i < n; i++)
        largest |= leaves[i].freq;
    for (unsigned shift = 0; shift < 32 && (largest >> shift) != 0; shift += 8) {
        unsigned start[257] = {0};
        for (unsigned i = 0; i < n; i++)
            start[((from[i].freq >> shift) & 0xff) + 1]++;
        for (unsigned digit = 1; digit < 256; digit++)
            start[digit] += start[digit - 1];
        for (unsigned i = 0; i < n; i++)
            to[start[(from[i].freq >> shift) & 0xff]++] = from[i];
        leaf_t *swap = from;
        from = to;
        to = swap;
    }
    if (from != leaves)
        memcpy(leaves, from, n * sizeof *leaves);
}

/* Fills lens[0..count) with code lengths of at most limit bits for the
 * frequencies freq[0..count) (count <= LITLEN_SYMS). Symbols of
 * frequency 0 get length 0. Fewer than two used symbols are padded with
 * symbols of frequency 1, so the code is always complete. */
static void huffman_lengths(uint32_t *freq, unsigned count, unsigned limit, uint8_t *lens)
{
    leaf_t leaves[LITLEN_SYMS], spare[LITLEN_SYMS];
    uint32_t weight[2 * LITLEN_SYMS];
    uint16_t parent[2 * LITLEN_SYMS];
    unsigned bl_count[16] = {0};
    unsigned n = 0;

    for (unsigned s = 0; s < count; s++)
        if (freq[s] != 0)
            n++;
    for (unsigned s = 0; n < 2 && s < count; s++)
        if (freq[s] == 0) {
            freq[s] = 1;
            n++;
        }
    n = 0;
    for (unsigned s = 0; s < count; s++) {
        lens[s] = 0;
        if (freq[s] != 0)
            leaves[n++] = (leaf_t){freq[s], (uint16_t)s};
    }
    leaves_sort(leaves, spare, n);

    /* Huffman's tree by the two-queue method: leaves 0..n-1 in ascending
     * weight, internal nodes n.. made in ascending weight too, so a node's
     * parent always has a higher index than the node. */
    for (unsigned i = 0; i < n; i++)
        weight[i] = leaves[i].freq;
    unsigned next_leaf = 0, next_node = n, made = n;
    for (unsigned k = 0; k + 1 < n; k++) {
        unsigned pick[2];
        for (int j = 0; j < 2; j++) {
            if (next_leaf < n && (next_node >= made || weight[next_leaf] <= weight[next_node]))
                pick[j] = next_leaf++;
            else
                pick[j] = next_node++;
        }
        weight[made] = weight[pick[0]] + weight[pick[1]];
        parent[pick[0]] = parent[pick[1]] = (uint16_t)made;
        made++;
    }

    /* Depths, root (made - 1) first, counted per length with the deeper
     * leaves cut to limit. That breaks the Kraft sum; it is restored by
     * steps that each lower it by one unit of 2^-limit: drop a leaf from
     * limit, and move one leaf from the longest shorter length down a level
     * beside the dropped one (miniz's method). */
    unsigned depth[2 * LITLEN_SYMS];
    depth[made - 1] = 0;
    for (unsigned i = made - 1; i-- > 0;) {
        depth[i] = depth[parent[i]] + 1;
        if (i < n)
            bl_count[depth[i] > limit ? limit : depth[i]]++;
    }
    uint32_t total = 0;
    for (unsigned bits = 1; bits <= limit; bits++)
        total += bl_count[bits] << (limit - bits);
    while (total > (1u << limit)) {
        bl_count[limit]--;
        for (unsigned bits = limit - 1; bits > 0; bits--)
            if (bl_count[bits] != 0) {
                bl_count[bits]--;
                bl_count[bits + 1] += 2;
                break;
            }
        total--;
    }

    /* The longest codes go to the rarest symbols. */
    unsigned i = 0;
    for (unsigned bits = limit; bits >= 1; bits--)
        for (unsigned k = 0; k < bl_count[bits]; k++)
            lens[leaves[i++].sym] = (uint8_t)bits;
}

/* Canonical codes for lens, bit-reversed for deflate's LSB-first order. */
static void huffman_codes(const uint8_t *lens, unsigned count, uint16_t *codes)
{
    unsigned bl_count[16] = {0}, next[16];
    unsigned code = 0;

    for (unsigned s = 0; s < count; s++)
        bl_count[lens[s]]++;
    bl_count[0] = 0;
    for (unsigned bits = 1; bits < 16; bits++) {
        code = (code + bl_count[bits - 1]) << 1;
        next[bits] = code;
    }
    for (unsigned s = 0; s < count; s++) {
        unsigned len = lens[s], c, r = 0;
        if (len == 0)
            continue;
        c = next[len]++;
        for (unsigned b = 0; b < len; b++, c >>= 1)
            r = (r << 1) | (c & 1);
        codes[s] = (uint16_t)r;
    }
}

/* ---- bit output -------------------------------------------------------------- */

/* Bits go into a 64-bit accumulator, LSB first, and leave it eight bytes at a
 * time without a test: drain() stores all eight, then advances by the
 * whole bytes it holds. Whether a write was due was a branch the processor
 * guessed wrong every few literals; the stores past the end are overwritten
 * later, or land in the slack ks_deflate_runs_bound() leaves for them. */
typedef struct {
    uint8_t *out;
    uint64_t acc;
    unsigned count;    /* bits in acc: below 8 after a drain, below 64 always */
} bits_t;

/* Appends the n low bits of bits. Between two drains at most 56 bits may be
 * added (so that count stays below 64, where drain's shift would be
 * wrong): three literals of 15 bits, or a length and a distance with their
 * extra bits (48). */
static inline void add(bits_t *w, uint64_t bits, unsigned n)
{
    w->acc |= bits << w->count;
    w->count += n;
}

/* Writes the whole bytes of acc out; stores 8 bytes at w->out. */
static inline void drain(bits_t *w)
{
    uint64_t acc = w->acc;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(w->out, &acc, 8);
#else
    for (int b = 0; b < 8; b++)
        w->out[b] = (uint8_t)(acc >> (8 * b));
#endif
    w->out += w->count >> 3;
    w->acc = acc >> (w->count & 56);
    w->count &= 7;
}

static inline void put(bits_t *w, uint32_t bits, unsigned n)
{
    add(w, bits, n);
    drain(w);
}

/* Writes out the last partial byte. */
static inline void flush(bits_t *w)
{
    if (w->count > 0)
        *w->out++ = (uint8_t)w->acc;
    w->acc = 0;
    w->count = 0;
}

/* ---- the block header ---------------------------------------------------------- */

/* Run-length codes the literal/length and distance code lengths (RFC 1951
 * 3.2.7) into syms (symbol | extra value << 8); returns how many. */
static unsigned codelen_runs(const uint8_t *lens, unsigned count, uint16_t *syms)
{
    unsigned n = 0;

    for (unsigned i = 0; i < count;) {
        unsigned value = lens[i], run = 1;
        while (i + run < count && lens[i + run] == value)
            run++;
        i += run;
        if (value == 0) {
            while (run >= 11) {
                unsigned r = run > 138 ? 138 : run;
                syms[n++] = (uint16_t)(18 | (r - 11) << 8);
                run -= r;
            }
            if (run >= 3) {
                syms[n++] = (uint16_t)(17 | (run - 3) << 8);
                run = 0;
            }
        } else {
            syms[n++] = (uint16_t)value;
            run--;
            while (run >= 3) {
                unsigned r = run > 6 ? 6 : run;
                syms[n++] = (uint16_t)(16 | (r - 3) << 8);
                run -= r;
            }
        }
        while (run-- > 0)
            syms[n++] = (uint16_t)value;
    }
    return n;
}

/* ---- the encoder ------------------------------------------------------------- */

/* Token lists up to this many entries are kept between calls (4 MiB). */
#define TOKENS_KEEP ((size_t)1 << 20)

struct ks_deflate_runs_scratch {
    uint32_t *tokens;
    size_t capacity;
    uint32_t last[(size_t)1 << HASH_BITS];     /* a position (0 at first) */
};

ks_deflate_runs_scratch_t *ks_deflate_runs_scratch_new(void)
{
    return calloc(1, sizeof(ks_deflate_runs_scratch_t));
}

void ks_deflate_runs_scratch_free(ks_deflate_runs_scratch_t *scratch)
{
    if (scratch != NULL)
        free(scratch->tokens);
    free(scratch);
}

/* Makes room for at least want tokens. */
static int tokens_reserve(ks_deflate_runs_scratch_t *scratch, size_t want)
{
    if (want <= scratch->capacity)
        return 1;
    size_t capacity = scratch->capacity < 4096 ? 4096 : scratch->capacity;
    while (capacity < want)
        capacity *= 2;
    uint32_t *grown = realloc(scratch->tokens, capacity * sizeof *grown);
    if (grown == NULL)
        return 0;
    scratch->tokens = grown;
    scratch->capacity = capacity;
    return 1;
}

size_t ks_deflate_runs_bound(size_t len)
{
    /* zlib header and Adler-32, the block header (under 400 bytes), at
     * most 15 bits a literal, and the 8 bytes a drain stores at its end. */
    return 2 + 4 + 512 + len * 15 / 8 + 16;
}

/* ---- pass 1: matches ------------------------------------------------------------ */

/* What the first pass knows of the input: its shape and the distance codes
 * of the two neighbours, looked up once. */
typedef struct {
    const uint8_t *in;
    size_t len;
    size_t period;                 /* bytes per row (filter byte included), or 0 */
    unsigned pixel;                /* bytes per pixel, 1..8 */
    unsigned pixel_dcode, period_dcode;
    uint64_t unit_mask;            /* the low `pixel` bytes of a 64-bit word */
} input_t;

/* A match found: where it starts, how long, how far back. length 0: none. */
typedef struct {
    size_t at, length, dist;
    unsigned dcode;
} match_t;

/* The unit holding position i: a pixel, or a row's filter byte (rows start
 * at multiples of period; without rows, pixels at multiples of pixel).
 * *row_start and *row_end follow i through the rows. */
static inline void find_unit(const input_t *input, size_t i, size_t *row_start,
                            size_t *row_end, size_t *unit, size_t *unit_end)
{
    if (input->period == 0) {
        *unit = round_down(i, input->pixel);
        *unit_end = *unit + input->pixel;
    } else {
        while (i >= *row_end) {
            *row_start = *row_end;
            *row_end += input->period;
        }
        if (i == *row_start) {
            *unit = i;
            *unit_end = i + 1;
        } else {
            *unit = *row_start + 1 + round_down(i - *row_start - 1, input->pixel);
            *unit_end = *unit + input->pixel < *row_end ? *unit + input->pixel : *row_end;
        }
    }
    if (*unit_end > input->len)
        *unit_end = input->len;
}

/* Where a unit starts at i: the longer match with the pixel before and the
 * row above; when neither reaches 3 bytes, with the last earlier place of
 * the same 4 bytes (last[], a hash table of positions that starts all 0, a
 * real place to compare with). */
static inline match_t match_at_unit(const input_t *input, uint32_t *last, size_t i)
{
    const uint8_t *in = input->in;
    size_t max = input->len - i < MAX_MATCH ? input->len - i : MAX_MATCH;
    match_t m = {i, 0, 0, 0};

    if (i >= input->pixel) {
        m.length = match_length(in + i, in + i - input->pixel, max);
        m.dist = input->pixel;
        m.dcode = input->pixel_dcode;
    }
    if (input->period != 0 && i >= input->period && m.length < max) {
        size_t up = match_length(in + i, in + i - input->period, max);
        if (up > m.length) {
            m.length = up;
            m.dist = input->period;
            m.dcode = input->period_dcode;
        }
    }
    if (m.length < MIN_MATCH && max >= 4) {
        uint32_t h = hash4(in + i), here, there;
        size_t candidate = last[h];
        last[h] = (uint32_t)i;
        memcpy(&here, in + i, 4);
        memcpy(&there, in + candidate, 4);
        if (here == there && i - candidate - 1 < WINDOW) {
            m.length = 4 + match_length(in + i + 4, in + candidate + 4, max - 4);
            m.dist = i - candidate;
            m.dcode = dist_lookup((uint32_t)(m.dist - 1));
        }
    }
    return m;
}

/* Inside a whole pixel [unit, unit_end), at i: a match can only be with the
 * pixel before and must reach the pixel's end to be 3 bytes long, so it
 * starts where the pixel's last bytes that equal the pixel before's begin
 * (at i at the earliest): one compare of the whole pixel finds it. The old
 * byte-by-byte search of those places was a third of the mispredicted
 * branches. */
static inline match_t match_inside_pixel(const input_t *input, size_t i, size_t unit,
                                                 size_t unit_end)
{
    const uint8_t *in = input->in;
    unsigned pixel = input->pixel;
    match_t m = {i, 0, 0, 0};
    uint64_t here, before;

    if (unit_end - unit != pixel || unit < pixel || unit + 8 > input->len)
        return m;
    memcpy(&here, in + unit, 8);
    memcpy(&before, in + unit - pixel, 8);
    uint64_t differ = le64(here ^ before) & input->unit_mask;
    size_t from = differ == 0 ? unit : unit + 1 + ((63 - (unsigned)__builtin_clzll(differ)) >> 3);
    if (from < i)
        from = i;
    if (from < unit_end) {
        size_t max = input->len - from < MAX_MATCH ? input->len - from : MAX_MATCH;
        m.at = from;
        m.length = unit_end - from +
                   match_length(in + unit_end, in + unit_end - pixel, max - (unit_end - from));
        m.dist = pixel;
        m.dcode = input->pixel_dcode;
    }
    return m;
}

/* Pass 1: walks the input a unit at a time and keeps each match of 3 bytes
 * or more as two words in scratch->tokens (its position, then its token);
 * the literals are the bytes between them and are only counted. Fills the
 * symbol counts and *count (words kept). 0 when out of memory. */
static int find_matches(ks_deflate_runs_scratch_t *scratch, const input_t *input,
                            uint32_t *litlen_freq, uint32_t *dist_freq, size_t *count_out)
{
    const uint8_t *in = input->in;
    size_t len = input->len, count = 0;
    size_t row_start = 0, row_end = input->period != 0 ? input->period : SIZE_MAX;
    uint32_t *tokens, *last = scratch->last;

    /* Room for len / 16 words to start with, grown when needed. */
    if (!tokens_reserve(scratch, len / 16 + 1024))
        return 0;
    tokens = scratch->tokens;
    memset(last, 0, sizeof scratch->last);
    for (size_t i = 0; i < len;) {
        size_t unit, unit_end;
        find_unit(input, i, &row_start, &row_end, &unit, &unit_end);
        match_t m = i == unit ? match_at_unit(input, last, i)
                                  : match_inside_pixel(input, i, unit, unit_end);
        if (m.length < MIN_MATCH) {
            for (; i < unit_end; i++)
                litlen_freq[in[i]]++;
            continue;
        }
        for (; i < m.at; i++)
            litlen_freq[in[i]]++;
        if (count + 2 > scratch->capacity) {
            if (!tokens_reserve(scratch, count + 2))
                return 0;
            tokens = scratch->tokens;
        }
        tokens[count++] = (uint32_t)m.at;
        tokens[count++] = TOKEN(m.length, m.dist, m.dcode);
        litlen_freq[257 + length_sym[m.length]]++;
        dist_freq[m.dcode]++;
        i = m.at + m.length;
    }
    litlen_freq[END_OF_BLOCK] = 1;
    *count_out = count;
    return 1;
}

/* ---- pass 2: codes and output --------------------------------------------------- */

/* The block's Huffman codes, and its header's run-length coded code lengths. */
typedef struct {
    uint8_t lens[LITLEN_SYMS + DIST_SYMS];   /* literal/length, then distance */
    uint16_t litlen_codes[LITLEN_SYMS], dist_codes[DIST_SYMS];
    unsigned hlit, hdist, hclen;
    uint16_t runs[LITLEN_SYMS + DIST_SYMS];  /* the code lengths, run-length coded */
    unsigned run_count;
    uint8_t codelen_lens[CODELEN_SYMS];
    uint16_t codelen_codes[CODELEN_SYMS];
} codes_t;

/* Length-limited codes from the counts: 15 bits for literals/lengths and
 * distances, 7 for the code length code (RFC 1951). */
static void build_codes(uint32_t *litlen_freq, uint32_t *dist_freq, codes_t *c)
{
    uint8_t *lens = c->lens, all_lens[LITLEN_SYMS + DIST_SYMS];
    uint32_t codelen_freq[CODELEN_SYMS] = {0};

    huffman_lengths(litlen_freq, LITLEN_SYMS, 15, lens);
    huffman_lengths(dist_freq, DIST_SYMS, 15, lens + LITLEN_SYMS);
    c->hlit = LITLEN_SYMS;
    c->hdist = DIST_SYMS;
    while (c->hlit > 257 && lens[c->hlit - 1] == 0)
        c->hlit--;
    while (c->hdist > 1 && lens[LITLEN_SYMS + c->hdist - 1] == 0)
        c->hdist--;
    huffman_codes(lens, LITLEN_SYMS, c->litlen_codes);
    huffman_codes(lens + LITLEN_SYMS, DIST_SYMS, c->dist_codes);

    memcpy(all_lens, lens, c->hlit);
    memcpy(all_lens + c->hlit, lens + LITLEN_SYMS, c->hdist);
    c->run_count = codelen_runs(all_lens, c->hlit + c->hdist, c->runs);
    for (unsigned k = 0; k < c->run_count; k++)
        codelen_freq[c->runs[k] & 0xff]++;
    huffman_lengths(codelen_freq, CODELEN_SYMS, 7, c->codelen_lens);
    huffman_codes(c->codelen_lens, CODELEN_SYMS, c->codelen_codes);
    c->hclen = CODELEN_SYMS;
    while (c->hclen > 4 && c->codelen_lens[codelen_order[c->hclen - 1]] == 0)
        c->hclen--;
}

/* The block header: one final dynamic block and its code lengths. */
static void write_header(bits_t *w, const codes_t *c)
{
    put(w, 1, 1);                       /* BFINAL */
    put(w, 2, 2);                       /* dynamic Huffman */
    put(w, c->hlit - 257, 5);
    put(w, c->hdist - 1, 5);
    put(w, c->hclen - 4, 4);
    for (unsigned k = 0; k < c->hclen; k++)
        put(w, c->codelen_lens[codelen_order[k]], 3);
    for (unsigned k = 0; k < c->run_count; k++) {
        unsigned sym = c->runs[k] & 0xff, extra = c->runs[k] >> 8;
        put(w, c->codelen_codes[sym], c->codelen_lens[sym]);
        if (sym == 16)
            put(w, extra, 2);
        else if (sym == 17)
            put(w, extra, 3);
        else if (sym == 18)
            put(w, extra, 7);
    }
}

/* The data: the literals between the matches (read from the input again),
 * each match's length and distance, the end of the block. */
static void write_data(bits_t *w, const uint8_t *in, size_t len, const uint32_t *tokens,
                           size_t count, const codes_t *c)
{
    const uint8_t *lens = c->lens;
    const uint16_t *litlen_codes = c->litlen_codes;
    size_t pos = 0;                         /* the next byte to code */

    for (size_t k = 0; k <= count; k += 2) {
        size_t until = k < count ? tokens[k] : len;
        /* Literals three at a time (45 bits at most), then one by one. */
        for (; pos + 3 <= until; pos += 3) {
            add(w, litlen_codes[in[pos]], lens[in[pos]]);
            add(w, litlen_codes[in[pos + 1]], lens[in[pos + 1]]);
            add(w, litlen_codes[in[pos + 2]], lens[in[pos + 2]]);
            drain(w);
        }
        for (; pos < until; pos++)
            put(w, litlen_codes[in[pos]], lens[in[pos]]);
        if (k == count)
            break;
        uint32_t token = tokens[k + 1];
        unsigned length = token & 0x1ff, code = length_sym[length], sym = 257 + code;
        add(w, litlen_codes[sym] | (uint32_t)(length - length_base[code]) << lens[sym],
                lens[sym] + length_extra[code]);
        uint32_t dist_minus_1 = (token >> 9) & 0x7fff;
        unsigned dcode = (token >> 24) & 0x1f;
        unsigned dlen = lens[LITLEN_SYMS + dcode];
        add(w, c->dist_codes[dcode] | (dist_minus_1 + 1 - dist_base[dcode]) << dlen,
                dlen + dist_extra[dcode]);
        drain(w);
        pos += length;
    }
    put(w, litlen_codes[END_OF_BLOCK], lens[END_OF_BLOCK]);
    flush(w);
}

size_t ks_deflate_runs(ks_deflate_runs_scratch_t *scratch, const uint8_t *in, size_t len,
                       size_t period, unsigned pixel, uint8_t *out)
{
    uint32_t litlen_freq[LITLEN_SYMS] = {0}, dist_freq[DIST_SYMS] = {0};
    codes_t codes;
    size_t count;

    if (pixel == 0 || pixel > 8)
        return 0;
    if (period <= pixel || period > WINDOW)
        period = 0;                          /* rows out of reach: runs only */
    if (pthread_once(&tables_once, tables_init) != 0)
        return 0;
    input_t input = {
        .in = in, .len = len, .period = period, .pixel = pixel,
        .pixel_dcode = dist_lookup(pixel - 1),
        .period_dcode = period != 0 ? dist_lookup((uint32_t)(period - 1)) : 0,
        .unit_mask = pixel == 8 ? ~(uint64_t)0 : ((uint64_t)1 << (8 * pixel)) - 1,
    };
    if (!find_matches(scratch, &input, litlen_freq, dist_freq, &count))
        return 0;
    build_codes(litlen_freq, dist_freq, &codes);

    out[0] = 0x78;                          /* deflate, 32 KiB window */
    out[1] = 0x01;                          /* fastest; (0x7801 % 31) == 0 */
    bits_t w = {out + 2, 0, 0};
    write_header(&w, &codes);
    write_data(&w, in, len, scratch->tokens, count, &codes);
    if (scratch->capacity > TOKENS_KEEP) {
        free(scratch->tokens);
        scratch->tokens = NULL;
        scratch->capacity = 0;
    }

    uint32_t adler = libdeflate_adler32(1, in, len);
    uint8_t *p = w.out;
    p[0] = (uint8_t)(adler >> 24);
    p[1] = (uint8_t)(adler >> 16);
    p[2] = (uint8_t)(adler >> 8);
    p[3] = (uint8_t)adler;
    return (size_t)(p + 4 - out);
}
