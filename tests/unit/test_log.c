/* test_log.c: unit tests of common/log.c.
 *
 * What a client sends (an API client's name, a member id in a path) reaches
 * log lines; control characters in it must not forge lines of their own or
 * drive a terminal: they are written as \xNN.
 */
#define _GNU_SOURCE   /* nftw's FTW_DEPTH, FTW_PHYS (tmpdir.h) */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "log.h"
#include "tmpdir.h"

/* Logs one message (message's %s) to a new file; its whole text into out. */
static void log_one(const char *message, char *out, size_t size)
{
    char *dir = ks_test_mkdtemp("log");
    char path[128];
    FILE *f;
    size_t n;

    assert_non_null(dir);
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/test.log", dir);
    assert_int_equal(ks_log_open("test", path, KS_LOG_INFO), 0);
    ks_log_info("authentication of API client \"%s\" failed", message);
    ks_log_open("test", "-", KS_LOG_INFO);
    f = fopen(path, "r");
    assert_non_null(f);
    n = fread(out, 1, size - 1, f);
    out[n] = '\0';
    fclose(f);
    ks_test_rmtree(dir);
    free(dir);
}

static void test_control_characters_are_escaped(void **state)
{
    char text[4096];

    (void)state;
    log_one("evil\n2026-01-01T00:00:00.000Z kisekae-api[1/1] info: forged\r\x1b[31m\x7f", text,
            sizeof text);
    assert_non_null(strchr(text, '\n'));
    assert_ptr_equal(strchr(text, '\n'), text + strlen(text) - 1);    /* one line */
    assert_null(strchr(text, '\r'));
    assert_null(strchr(text, '\x1b'));
    assert_null(strchr(text, '\x7f'));
    assert_non_null(strstr(text, "\"evil\\x0a2026-01-01T00:00:00.000Z kisekae-api[1/1] info:"
                                 " forged\\x0d\\x1b[31m\\x7f\" failed\n"));
}

static void test_plain_text_and_utf8_are_kept(void **state)
{
    char text[4096];

    (void)state;
    log_one("alice caf\xc3\xa9 \"quoted\" tab", text, sizeof text);
    assert_non_null(strstr(text, "\"alice caf\xc3\xa9 \"quoted\" tab\" failed\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_control_characters_are_escaped),
        cmocka_unit_test(test_plain_text_and_utf8_are_kept),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
