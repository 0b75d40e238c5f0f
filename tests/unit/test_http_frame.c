/* test_http_frame.c: unit tests of common/http_frame.c, the HTTP/1.x request
 * framer of the API server. Requests are fed whole
 * and one byte at a time: the answer must not depend on how reads split. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "http_frame.h"

static const ks_http_limits_t limits = {1024, 4096};

/* Feeds text whole, then byte by byte; both must agree. Returns the state;
 * *frame holds the byte-by-byte result and buf its (decoded) bytes. */
static ks_frame_state_t frame_text(const char *text, size_t len, ks_http_frame_t *frame,
                                   char *buf)
{
    ks_http_frame_t whole;
    ks_frame_state_t a, b = KS_FRAME_MORE;
    char *copy = malloc(len + 1);

    memcpy(copy, text, len);
    ks_http_frame_init(&whole);
    a = ks_http_frame_feed(&whole, copy, len, &limits);

    ks_http_frame_init(frame);
    for (size_t i = 1; i <= len; i++) {
        memcpy(buf + i - 1, text + i - 1, 1);
        b = ks_http_frame_feed(frame, buf, i, &limits);
        if (b != KS_FRAME_MORE)
            break;
    }
    assert_int_equal(a, b);
    if (a == KS_FRAME_DONE) {
        assert_int_equal(whole.request_len, frame->request_len);
        assert_int_equal(whole.body_len, frame->body_len);
        assert_memory_equal(copy + whole.start + whole.header_len,
                            buf + frame->start + frame->header_len, frame->body_len);
    }
    if (a == KS_FRAME_BAD)
        assert_int_equal(whole.status, frame->status);
    free(copy);
    return a;
}

#define FRAME(text, frame, buf) frame_text(text, sizeof(text) - 1, frame, buf)

static void test_content_length(void **state)
{
    static const char req[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET";
    ks_http_frame_t f;
    char buf[256];
    (void)state;
    assert_int_equal(FRAME(req, &f, buf), KS_FRAME_DONE);
    assert_string_equal(f.method, "POST");
    assert_int_equal(f.body_len, 5);
    assert_int_equal(f.request_len, sizeof req - 1 - 3);   /* the next request stays */
    assert_memory_equal(buf + f.start + f.header_len, "hello", 5);
    assert_false(ks_http_frame_rewrites(&f));
}

static void test_get_without_body(void **state)
{
    ks_http_frame_t f;
    char buf[256];
    (void)state;
    assert_int_equal(FRAME("\r\nGET /avatar/x.png HTTP/1.1\nHost: a\n\n", &f, buf), KS_FRAME_DONE);
    assert_string_equal(f.method, "GET");
    assert_int_equal(f.start, 2);
    assert_int_equal(f.body_len, 0);
}

static void test_incomplete(void **state)
{
    ks_http_frame_t f;
    char buf[256];
    (void)state;
    assert_int_equal(FRAME("POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nhello", &f, buf),
                     KS_FRAME_MORE);
    assert_int_equal(FRAME("POST / HTTP/1.1\r\nHost: a\r\n", &f, buf), KS_FRAME_MORE);
}

static void test_chunked(void **state)
{
    static const char req[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                              "Expect: 100-continue\r\n\r\n"
                              "5;name=x\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\nNEXT";
    ks_http_frame_t f;
    char buf[512], header[512];
    int n;
    (void)state;
    assert_int_equal(FRAME(req, &f, buf), KS_FRAME_DONE);
    assert_int_equal(f.body_len, 16);
    assert_memory_equal(buf + f.start + f.header_len, "hello 0123456789", 16);
    assert_int_equal(f.request_len, sizeof req - 1 - 4);
    assert_true(f.expect_continue);
    assert_true(ks_http_frame_rewrites(&f));
    n = ks_http_frame_header(&f, buf, header, sizeof header);
    assert_true(n > 0);
    header[n] = '\0';
    assert_string_equal(header, "POST / HTTP/1.1\r\nContent-Length: 16\r\n\r\n");
    assert_int_equal(ks_http_frame_header(&f, buf, header, 20), -1);
}

static void test_limits(void **state)
{
    ks_http_frame_t f;
    char buf[8192], big[3000];
    (void)state;
    assert_int_equal(FRAME("POST / HTTP/1.1\r\nContent-Length: 4097\r\n\r\n", &f, buf),
                     KS_FRAME_BAD);
    assert_true(f.too_large);
    assert_int_equal(f.status, 500);
    assert_int_equal(FRAME("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n1001\r\n", &f,
                           buf), KS_FRAME_BAD);
    assert_true(f.too_large);
    /* a header that never ends */
    memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
    memset(big + 19, 'a', sizeof big - 19);
    assert_int_equal(frame_text(big, sizeof big, &f, buf), KS_FRAME_BAD);
    assert_int_equal(f.status, 431);
    assert_true(f.too_large);
}

static void test_refused(void **state)
{
    static const char *const bad_requests[] = {
        "HELLO\r\n\r\n",
        "POST / HTTP/2.0\r\n\r\n",
        "post / HTTP/1.1\r\n\r\n",
        "POST  HTTP/1.1\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n",
        "POST / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        "POST / HTTP/1.1\r\nX: a\r\n folded\r\n\r\n",
        "POST / HTTP/1.1\r\nno colon\r\n\r\n",
        "POST / HTTP/1.1\r\nBad Name: 1\r\n\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n",
        NULL};
    ks_http_frame_t f;
    char buf[512];
    (void)state;
    for (int i = 0; bad_requests[i]; i++) {
        ks_frame_state_t got = frame_text(bad_requests[i], strlen(bad_requests[i]), &f, buf);
        if (got != KS_FRAME_BAD)
            fail_msg("request %d was not refused: %s", i, bad_requests[i]);
        assert_true(f.status >= 400);
        assert_true(f.reason[0] != '\0');
    }
}

/* Every status the servers send has its phrase; others fall back to 500's. */
static void test_reason(void **state)
{
    (void)state;
    assert_string_equal(ks_http_reason(200), "OK");
    assert_string_equal(ks_http_reason(413), "Payload Too Large");
    assert_string_equal(ks_http_reason(431), "Request Header Fields Too Large");
    assert_string_equal(ks_http_reason(501), "Not Implemented");
    assert_string_equal(ks_http_reason(599), "Internal Server Error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reason),
        cmocka_unit_test(test_content_length),
        cmocka_unit_test(test_get_without_body),
        cmocka_unit_test(test_incomplete),
        cmocka_unit_test(test_chunked),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
