/* deflate_runs.h: a zlib stream encoder made for raster rows.
 *
 * A general deflate encoder searches the whole 32 KiB window for matches,
 * through hash tables, at every position. In an RGBA raster nearly every
 * useful match is one of two: the pixel before (a run of one colour,
 * transparency included) or the same place one row above. This encoder looks
 * only there, directly, so finding matches costs a few compares per run; it
 * then codes the result with Huffman codes built for it (one dynamic block).
 * On avatar composites it is two to three times faster than libdeflate's
 * fastest level for an output of about the same size.
 */
#ifndef KS_DEFLATE_RUNS_H
#define KS_DEFLATE_RUNS_H

#include <stddef.h>
#include <stdint.h>

/* Working memory kept between calls by one thread (the token list and the
 * match table), so that an encode does not allocate. */
typedef struct ks_deflate_runs_scratch ks_deflate_runs_scratch_t;

/* NULL when out of memory. */
ks_deflate_runs_scratch_t *ks_deflate_runs_scratch_new(void);
void ks_deflate_runs_scratch_free(ks_deflate_runs_scratch_t *scratch);

/* The most ks_deflate_runs() can write for len bytes of input. */
size_t ks_deflate_runs_bound(size_t len);

/* Compresses in[0..len) into a zlib stream (RFC 1950 around RFC 1951) at
 * out, which holds at least ks_deflate_runs_bound(len) bytes. period is the
 * byte distance of one row to the next (0: rows are not used); pixel is the
 * bytes of a pixel (1..8). Returns the bytes written, or 0 when out of
 * memory. Deterministic: the same input always gives the same bytes. */
size_t ks_deflate_runs(ks_deflate_runs_scratch_t *scratch, const uint8_t *in, size_t len,
                       size_t period, unsigned pixel, uint8_t *out);

#endif
