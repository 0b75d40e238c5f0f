/* http_frame.h: where an HTTP/1.x request ends in the bytes received so far.
 *
 * A server that hands a connection to a worker only once a whole request is
 * there (so a slow client holds no worker) must find the request's end
 * itself: the header's blank line, then Content-Length bytes or the chunks
 * of a chunked body. The framer is fed the buffer again after every read and
 * resumes where it stopped; it never trusts the client: the header and the
 * body have declared maximums, and anything it does not understand (two
 * lengths, an unknown transfer coding, folded lines) is refused rather than
 * guessed at, so that the framer and gSOAP, which parses the header again,
 * can never disagree on where a request ends.
 *
 * A chunked body is decoded in place, so every framed request is a header
 * and a plain body of body_len bytes; ks_http_frame_header() writes the
 * header gSOAP should see for it (Content-Length instead of the chunking,
 * no Expect: the server has answered that itself).
 */
#ifndef KS_HTTP_FRAME_H
#define KS_HTTP_FRAME_H

#include <stddef.h>

typedef enum {
    KS_FRAME_MORE,        /* the request is not complete yet */
    KS_FRAME_DONE,        /* a whole request; see header_len, body_len, request_len */
    KS_FRAME_BAD          /* refuse it: status and reason say why */
} ks_frame_state_t;

typedef struct {
    size_t max_header_bytes;     /* request line and header fields */
    size_t max_body_bytes;       /* the body, after chunked decoding */
} ks_http_limits_t;

typedef struct {
    /* Results, valid as their state allows. */
    size_t start;               /* empty lines skipped before the request line */
    size_t header_len;          /* request line through the blank line; 0 until complete */
    char method[16];
    int chunked;                /* Transfer-Encoding: chunked */
    int expect_continue;        /* Expect: 100-continue */
    unsigned long long content_length;   /* valid when has_length */
    int has_length;
    size_t body_len;            /* decoded body bytes, at buf + start + header_len */
    size_t request_len;         /* DONE: raw bytes the request took, from buf */
    int status;                 /* BAD: the HTTP status to answer */
    int too_large;              /* BAD: because a limit was passed */
    char reason[160];           /* BAD: for the caller, without the client's bytes */

    /* The framer's own state. */
    size_t scanned;             /* bytes searched for the end of the header */
    size_t raw;                 /* chunked: next raw byte to decode */
    int chunk_state;
    unsigned long long chunk_left;
    size_t trailer_bytes;
} ks_http_frame_t;

void ks_http_frame_init(ks_http_frame_t *frame);

/* Looks at the len bytes of buf (everything received for this request so far,
 * from its first byte) and says whether they hold a whole request. May move
 * bytes of a chunked body within buf (decoding). Once DONE or BAD, the state
 * does not change until ks_http_frame_init(). */
ks_frame_state_t ks_http_frame_feed(ks_http_frame_t *frame, char *buf, size_t len,
                                    const ks_http_limits_t *limits);

/* While a chunked body is being received: drops the chunk framing already
 * decoded, so the buffer holds the header, the decoded body and what is not
 * decoded yet, and never grows much past the limits whatever the chunk sizes.
 * Returns the new length of buf. */
size_t ks_http_frame_compact(ks_http_frame_t *frame, char *buf, size_t len);

/* 1 when the header must be rewritten for gSOAP (chunked or Expect). */
int ks_http_frame_rewrites(const ks_http_frame_t *frame);

/* Writes into out the framed request's header without its Expect,
 * Transfer-Encoding and Content-Length fields and with
 * "Content-Length: body_len". Returns its length, or -1 when it does not fit. */
int ks_http_frame_header(const ks_http_frame_t *frame, const char *buf, char *out,
                         size_t size);

/* The reason phrase of an HTTP status every kisekae server sends (RFC 9110),
 * for status lines and FastCGI Status headers; "Internal Server Error" for
 * any other. */
const char *ks_http_reason(int status);

/* The value of the hex digit c (either case), or -1. */
int ks_http_hex_value(char c);

#endif
