/* test_admin_form.c: query strings, form bodies (urlencoded and multipart
 * with files, under limits) and cookies of the admin server
 * (admin-server/form.c). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "form.h"

static void test_urlencoded(void **state)
{
    ks_form_t form;
    ks_err_t err = {{0}};
    const char *text = "name=Red+hat&price=10&q=%3Cb%3E%26&empty=&flag";
    (void)state;
    assert_int_equal(ks_form_parse_urlencoded(&form, text, strlen(text), &err), KS_OK);
    assert_string_equal(ks_form_get(&form, "name"), "Red hat");
    assert_string_equal(ks_form_get(&form, "price"), "10");
    assert_string_equal(ks_form_get(&form, "q"), "<b>&");
    assert_string_equal(ks_form_get(&form, "empty"), "");
    assert_string_equal(ks_form_get(&form, "flag"), "");
    assert_null(ks_form_get(&form, "missing"));
    ks_form_free(&form);
    assert_int_equal(ks_form_parse_urlencoded(&form, "a=%zz", 5, &err), KS_INVALID);
    ks_form_free(&form);
    assert_int_equal(ks_form_parse_urlencoded(&form, "a=%00", 5, &err), KS_INVALID);
    ks_form_free(&form);
}

static void test_too_many_fields(void **state)
{
    ks_form_t form;
    ks_err_t err = {{0}};
    char text[4096] = "";
    (void)state;
    for (int i = 0; i <= KS_FORM_FIELDS_MAX; i++)
        strcat(text, "a=1&");
    assert_int_equal(ks_form_parse_urlencoded(&form, text, strlen(text), &err), KS_TOOLARGE);
    ks_form_free(&form);
}

static char *body_of(const char *parts, size_t *size)
{
    char *copy = malloc(strlen(parts) + 1);
    strcpy(copy, parts);
    *size = strlen(parts);
    return copy;
}

#define CT "multipart/form-data; boundary=----XyZ"

/* A body with a NUL inside a file's bytes (so: sizeof, not strlen). */
static const char multipart_body[] =
    "------XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n"
    "------XyZ\r\nContent-Disposition: form-data; name=\"layer1\"; filename=\"a.png\"\r\n"
    "Content-Type: image/png\r\n\r\n\x89PNG\0\r\nbin\r\n"
    "------XyZ\r\nContent-Disposition: form-data; filename=\"\"; name=\"layer2\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n\r\n"
    "------XyZ--\r\n";

static void test_multipart(void **state)
{
    ks_form_t form;
    ks_err_t err = {{0}};
    ks_form_limits_t limits = {2, 16};
    size_t size = sizeof multipart_body - 1;
    const ks_form_field_t *file;
    char *body = malloc(size);
    (void)state;
    memcpy(body, multipart_body, size);
    assert_int_equal(ks_form_parse_multipart(&form, CT, body, size, &limits, &err), KS_OK);
    assert_string_equal(ks_form_get(&form, "csrf"), "tok");
    file = ks_form_field(&form, "layer1");
    assert_non_null(file);
    assert_string_equal(file->filename, "a.png");
    assert_string_equal(file->content_type, "image/png");
    assert_int_equal(file->size, 10);
    assert_memory_equal(file->value, "\x89PNG\0\r\nbin", 10);
    assert_null(ks_form_field(&form, "layer2"));   /* an empty file input is no file */
    assert_string_equal(form.refused, "");
    ks_form_free(&form);
}

static void test_multipart_limits(void **state)
{
    ks_form_t form;
    ks_err_t err = {{0}};
    ks_form_limits_t limits = {1, 8};
    size_t size;
    char *body = body_of(
        "------XyZ\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n"
        "------XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"big.png\"\r\n\r\n"
        "0123456789\r\n"
        "------XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"ok.png\"\r\n\r\n"
        "01234\r\n"
        "------XyZ\r\nContent-Disposition: form-data; name=\"c\"; filename=\"two.png\"\r\n\r\n"
        "01\r\n"
        "------XyZ--\r\n", &size);
    (void)state;
    assert_int_equal(ks_form_parse_multipart(&form, CT, body, size, &limits, &err), KS_OK);
    assert_string_equal(ks_form_get(&form, "csrf"), "tok");   /* text fields still arrive */
    assert_null(ks_form_field(&form, "a"));                    /* over max_file_bytes: left out */
    assert_non_null(strstr(form.refused, "big.png"));
    assert_non_null(strstr(form.refused, "over the limit of 8"));
    ks_form_free(&form);

    limits.max_file_bytes = 100;
    body = body_of(
        "------XyZ\r\nContent-Disposition: form-data; name=\"a\"; filename=\"1.png\"\r\n\r\nx\r\n"
        "------XyZ\r\nContent-Disposition: form-data; name=\"b\"; filename=\"2.png\"\r\n\r\ny\r\n"
        "------XyZ--\r\n", &size);
    assert_int_equal(ks_form_parse_multipart(&form, CT, body, size, &limits, &err), KS_OK);
    assert_non_null(ks_form_field(&form, "a"));
    assert_null(ks_form_field(&form, "b"));
    assert_string_equal(form.refused, "more than 1 files in one form");
    ks_form_free(&form);
}

static void test_multipart_malformed(void **state)
{
    static const char *bad[] = {
        "",
        "garbage",
        "------XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end",
        "------XyZ\r\nContent-Disposition: form-data\r\n\r\nx\r\n------XyZ--\r\n",
        "------XyZ\r\nno headers end\r\n------XyZ--",
    };
    ks_form_limits_t limits = {8, 1024};
    (void)state;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ks_form_t form;
        ks_err_t err = {{0}};
        size_t size;
        char *body = body_of(bad[i], &size);
        assert_int_equal(ks_form_parse_multipart(&form, CT, body, size, &limits, &err),
                         KS_INVALID);
        ks_form_free(&form);
    }
    {
        ks_form_t form;
        ks_err_t err = {{0}};
        size_t size;
        char *body = body_of("x", &size);
        assert_int_equal(ks_form_parse_multipart(&form, "multipart/form-data", body, size,
                                                 &limits, &err), KS_INVALID);
        ks_form_free(&form);
    }
}

static void test_cookies(void **state)
{
    char value[65];
    (void)state;
    assert_int_equal(ks_form_cookie("a=1; ks_session=abc; b=2", "ks_session", value,
                                    sizeof value), 0);
    assert_string_equal(value, "abc");
    assert_int_equal(ks_form_cookie("xks_session=evil; ks_session=good", "ks_session", value,
                                    sizeof value), 0);
    assert_string_equal(value, "good");
    assert_int_equal(ks_form_cookie("a=1", "ks_session", value, sizeof value), -1);
    assert_int_equal(ks_form_cookie("", "ks_session", value, sizeof value), -1);
    char longer[200] = "ks_session=";
    memset(longer + 11, 'a', 100);
    longer[111] = '\0';
    assert_int_equal(ks_form_cookie(longer, "ks_session", value, sizeof value), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_urlencoded),
        cmocka_unit_test(test_too_many_fields),
        cmocka_unit_test(test_multipart),
        cmocka_unit_test(test_multipart_limits),
        cmocka_unit_test(test_multipart_malformed),
        cmocka_unit_test(test_cookies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
