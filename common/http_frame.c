/* http_frame.c: the HTTP/1.x request framer of http_frame.h. */
#include "http_frame.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CHUNK_LINE_MAX 1024     /* "1a2b;ext=..." */
#define TRAILER_MAX 8192

enum { CHUNK_SIZE, CHUNK_DATA, CHUNK_DATA_END, CHUNK_TRAILER };

void ks_http_frame_init(ks_http_frame_t *frame)
{
    memset(frame, 0, sizeof *frame);
}

static ks_frame_state_t bad(ks_http_frame_t *frame, int status, int too_large, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));

static ks_frame_state_t bad(ks_http_frame_t *frame, int status, int too_large, const char *fmt,
                            ...)
{
    va_list ap;

    frame->status = status;
    frame->too_large = too_large;
    va_start(ap, fmt);
    vsnprintf(frame->reason, sizeof frame->reason, fmt, ap);
    va_end(ap);
    return KS_FRAME_BAD;
}

static int is_token_char(unsigned char c)
{
    return c > 32 && c < 127 && !strchr("\"(),/:;<=>?@[\\]{}", c);
}

/* The line at p (up to, not including, its LF and an optional CR before it). */
static size_t line_length(const char *p, const char *end, const char **next)
{
    const char *lf = memchr(p, '\n', (size_t)(end - p));
    size_t n = (size_t)(lf - p);

    *next = lf + 1;
    if (n > 0 && p[n - 1] == '\r')
        n--;
    return n;
}

static int equals_ci(const char *s, size_t n, const char *word)
{
    return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/* Parses the complete header at buf[0..header_len). */
static ks_frame_state_t parse_header(ks_http_frame_t *frame, const char *buf, size_t header_len,
                                     const ks_http_limits_t *limits)
{
    const char *p = buf, *end = buf + header_len, *next, *sp1, *sp2;
    size_t n = line_length(p, end, &next);

    /* Request line: METHOD SP target SP HTTP/1.x */
    sp1 = memchr(p, ' ', n);
    sp2 = sp1 ? memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - p)) : NULL;
    if (!sp1 || !sp2 || sp1 == p || (size_t)(sp1 - p) >= sizeof frame->method ||
        sp2 == sp1 + 1 || (size_t)(p + n - (sp2 + 1)) != 8 || strncmp(sp2 + 1, "HTTP/1.", 7) ||
        (sp2[8] != '0' && sp2[8] != '1'))
        return bad(frame, 400, 0, "not an HTTP/1.0 or HTTP/1.1 request line");
    for (const char *m = p; m < sp1; m++)
        if (*m < 'A' || *m > 'Z')
            return bad(frame, 400, 0, "bad method in the request line");
    memcpy(frame->method, p, (size_t)(sp1 - p));
    frame->method[sp1 - p] = '\0';
    for (const char *t = sp1 + 1; t < sp2; t++)
        if ((unsigned char)*t <= 32 || *t == 127)
            return bad(frame, 400, 0, "bad character in the request target");

    for (p = next; p < end; p = next) {
        const char *colon, *value, *value_end;
        n = line_length(p, end, &next);
        if (n == 0)
            break;                                   /* the blank line */
        if (*p == ' ' || *p == '\t')
            return bad(frame, 400, 0, "folded header lines are not accepted");
        colon = memchr(p, ':', n);
        if (!colon || colon == p)
            return bad(frame, 400, 0, "a header line without a name");
        for (const char *c = p; c < colon; c++)
            if (!is_token_char((unsigned char)*c))
                return bad(frame, 400, 0, "bad character in a header name");
        value = colon + 1;
        value_end = p + n;
        while (value < value_end && (*value == ' ' || *value == '\t'))
            value++;
        while (value_end > value && (value_end[-1] == ' ' || value_end[-1] == '\t'))
            value_end--;
        for (const char *c = value; c < value_end; c++)
            if ((*c < 32 && *c != '\t') || *c == 127)
                return bad(frame, 400, 0, "control character in a header value");

        if (equals_ci(p, (size_t)(colon - p), "Content-Length")) {
            unsigned long long length = 0;
            if (value == value_end)
                return bad(frame, 400, 0, "empty Content-Length");
            for (const char *c = value; c < value_end; c++) {
                if (*c < '0' || *c > '9' || length > (~0ULL - 9) / 10)
                    return bad(frame, 400, 0, "bad Content-Length");
                length = length * 10 + (unsigned)(*c - '0');
            }
            if (frame->has_length && frame->content_length != length)
                return bad(frame, 400, 0, "two different Content-Length fields");
            frame->has_length = 1;
            frame->content_length = length;
        } else if (equals_ci(p, (size_t)(colon - p), "Transfer-Encoding")) {
            if (!equals_ci(value, (size_t)(value_end - value), "chunked") || frame->chunked)
                return bad(frame, 501, 0, "Transfer-Encoding other than one \"chunked\" is "
                           "not supported");
            frame->chunked = 1;
        } else if (equals_ci(p, (size_t)(colon - p), "Expect")) {
            if (equals_ci(value, (size_t)(value_end - value), "100-continue"))
                frame->expect_continue = 1;
        }
    }
    /* Both would let two parsers disagree on where the request ends. */
    if (frame->chunked && frame->has_length)
        return bad(frame, 400, 0, "both Content-Length and Transfer-Encoding");
    if (frame->has_length && frame->content_length > limits->max_body_bytes)
        return bad(frame, 500, 1, "request body of %llu bytes is over the %zu-byte limit",
                   frame->content_length, limits->max_body_bytes);
    return KS_FRAME_MORE;
}

/* Finds the end of the header (a blank line) from frame->scanned on. */
static size_t find_header_end(ks_http_frame_t *frame, const char *buf, size_t len)
{
    size_t i = frame->scanned > 2 ? frame->scanned - 2 : 0;

    for (; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i + 1 < len && buf[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
            return i + 3;
    }
    frame->scanned = len;
    return 0;
}

int ks_http_hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes the chunks of buf[frame->raw..len) into the body, in place. */
static ks_frame_state_t decode_chunks(ks_http_frame_t *frame, char *buf, size_t len,
                                      const ks_http_limits_t *limits)
{
    char *body = buf + frame->start + frame->header_len;

    while (frame->raw < len) {
        char *p = buf + frame->raw;
        size_t avail = len - frame->raw;
        const char *lf, *next;
        size_t n;

        switch (frame->chunk_state) {
        case CHUNK_SIZE: {
            unsigned long long size = 0;
            int digits = 0, v;
            lf = memchr(p, '\n', avail);
            if (!lf) {
                if (avail > CHUNK_LINE_MAX)
                    return bad(frame, 400, 0, "chunk size line too long");
                return KS_FRAME_MORE;
            }
            n = line_length(p, p + avail, &next);
            for (size_t i = 0; i < n && (v = ks_http_hex_value(p[i])) >= 0; i++, digits++) {
                if (size > (~0ULL >> 4))
                    return bad(frame, 400, 0, "chunk size too large");
                size = size * 16 + (unsigned)v;
            }
            if (digits == 0 || (digits < (int)n && p[digits] != ';' && p[digits] != ' ' &&
                                p[digits] != '\t'))
                return bad(frame, 400, 0, "bad chunk size line");
            if (size > limits->max_body_bytes - frame->body_len)
                return bad(frame, 500, 1, "chunked request body over the %zu-byte limit",
                           limits->max_body_bytes);
            frame->raw += (size_t)(next - p);
            frame->chunk_left = size;
            frame->chunk_state = size ? CHUNK_DATA : CHUNK_TRAILER;
            break;
        }
        case CHUNK_DATA:
            n = avail < frame->chunk_left ? avail : (size_t)frame->chunk_left;
            memmove(body + frame->body_len, p, n);
            frame->body_len += n;
            frame->raw += n;
            frame->chunk_left -= n;
            if (!frame->chunk_left)
                frame->chunk_state = CHUNK_DATA_END;
            break;
        case CHUNK_DATA_END:
            if (p[0] == '\n') {
                frame->raw += 1;
            } else if (p[0] == '\r') {
                if (avail < 2)
                    return KS_FRAME_MORE;
                if (p[1] != '\n')
                    return bad(frame, 400, 0, "chunk data not followed by CRLF");
                frame->raw += 2;
            } else {
                return bad(frame, 400, 0, "chunk data longer than its size");
            }
            frame->chunk_state = CHUNK_SIZE;
            break;
        case CHUNK_TRAILER:
            lf = memchr(p, '\n', avail);
            if (!lf) {
                if (frame->trailer_bytes + avail > TRAILER_MAX)
                    return bad(frame, 400, 0, "chunked trailer too long");
                return KS_FRAME_MORE;
            }
            n = line_length(p, p + avail, &next);
            frame->trailer_bytes += (size_t)(next - p);
            if (frame->trailer_bytes > TRAILER_MAX)
                return bad(frame, 400, 0, "chunked trailer too long");
            frame->raw += (size_t)(next - p);
            if (n == 0) {
                frame->request_len = frame->raw;
                return KS_FRAME_DONE;
            }
            break;
        }
    }
    return KS_FRAME_MORE;
}

ks_frame_state_t ks_http_frame_feed(ks_http_frame_t *frame, char *buf, size_t len,
                                    const ks_http_limits_t *limits)
{
    ks_frame_state_t state;

    if (frame->status)
        return KS_FRAME_BAD;
    if (frame->request_len)
        return KS_FRAME_DONE;
    if (!frame->header_len) {
        size_t end;
        /* RFC 9112 2.2: empty lines before a request line are ignored. */
        while (frame->start < len && (buf[frame->start] == '\r' || buf[frame->start] == '\n'))
            frame->start++;
        if (frame->start > 64)
            return bad(frame, 400, 0, "too many empty lines before the request");
        end = find_header_end(frame, buf + frame->start, len - frame->start);
        if (!end || end > limits->max_header_bytes) {
            if ((end ? end : len - frame->start) > limits->max_header_bytes)
                return bad(frame, 431, 1, "HTTP header over the %zu-byte limit",
                           limits->max_header_bytes);
            return KS_FRAME_MORE;
        }
        frame->header_len = end;
        state = parse_header(frame, buf + frame->start, end, limits);
        if (state != KS_FRAME_MORE)
            return state;
        frame->raw = frame->start + end;
    }
    if (frame->chunked)
        return decode_chunks(frame, buf, len, limits);
    if (!frame->has_length) {
        frame->body_len = 0;                 /* no body (RFC 9112 6.3) */
    } else {
        if (len - frame->start - frame->header_len < frame->content_length)
            return KS_FRAME_MORE;
        frame->body_len = (size_t)frame->content_length;
    }
    frame->request_len = frame->start + frame->header_len + frame->body_len;
    return KS_FRAME_DONE;
}

size_t ks_http_frame_compact(ks_http_frame_t *frame, char *buf, size_t len)
{
    size_t body_end = frame->start + frame->header_len + frame->body_len;

    if (!frame->chunked || !frame->header_len || frame->request_len || frame->status ||
        frame->raw <= body_end)
        return len;
    memmove(buf + body_end, buf + frame->raw, len - frame->raw);
    len -= frame->raw - body_end;
    frame->raw = body_end;
    return len;
}

int ks_http_frame_rewrites(const ks_http_frame_t *frame)
{
    return frame->chunked || frame->expect_continue;
}

int ks_http_frame_header(const ks_http_frame_t *frame, const char *buf, char *out, size_t size)
{
    const char *p = buf + frame->start, *end = p + frame->header_len, *next;
    size_t at = 0;
    int n;

    while (p < end) {
        size_t len = line_length(p, end, &next);
        const char *colon = memchr(p, ':', len);
        size_t name = colon ? (size_t)(colon - p) : 0;
        if (len == 0)
            break;
        if (!(colon && (equals_ci(p, name, "Expect") || equals_ci(p, name, "Transfer-Encoding") ||
                        equals_ci(p, name, "Content-Length")))) {
            if (at + len + 2 > size)
                return -1;
            memcpy(out + at, p, len);
            memcpy(out + at + len, "\r\n", 2);
            at += len + 2;
        }
        p = next;
    }
    n = snprintf(out + at, size - at, "Content-Length: %zu\r\n\r\n", frame->body_len);
    if (n < 0 || (size_t)n >= size - at)
        return -1;
    return (int)(at + (size_t)n);
}

const char *ks_http_reason(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {200, "OK"}, {302, "Found"}, {303, "See Other"}, {400, "Bad Request"},
        {403, "Forbidden"},
        {404, "Not Found"}, {405, "Method Not Allowed"}, {408, "Request Timeout"},
        {409, "Conflict"}, {411, "Length Required"}, {413, "Payload Too Large"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},        /* a Transfer-Encoding we do not take */
        {503, "Service Unavailable"},
        {507, "Insufficient Storage"},   /* the image server's store is full */
    };

    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Internal Server Error";
}
