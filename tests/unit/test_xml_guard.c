/* test_xml_guard.c: unit tests of common/xml_guard.c: DOCTYPEs and deep
 * nesting are refused before the XML parser sees a body. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include "xml_guard.h"

static ks_rc guard(const char *text, int depth)
{
    ks_err_t err = {{0}};
    ks_rc rc = ks_xml_guard(text, strlen(text), depth, &err);
    if (rc != KS_OK)
        assert_true(err.msg[0] != '\0');
    return rc;
}

static void test_doctype(void **state)
{
    static const char *const refused[] = {
        "<!DOCTYPE x [<!ENTITY a \"b\">]><x/>",
        "\xEF\xBB\xBF<?xml version=\"1.0\"?>\n<!-- hi -->\n<!DOCTYPE x SYSTEM \"file:///etc/passwd\"><x/>",
        "<x><!ENTITY a 'b'></x>", NULL};
    static const char *const accepted[] = {
        "<?xml version=\"1.0\"?><soap:Envelope/>",
        "<!-- <!DOCTYPE x> --><x><![CDATA[<!DOCTYPE y>]]></x>",
        "<x a=\"<!DOCTYPE\">&lt;!DOCTYPE</x>", "", "<!-- unterminated", NULL};
    (void)state;
    for (int i = 0; refused[i]; i++)
        assert_int_equal(guard(refused[i], 32), KS_INVALID);
    for (int i = 0; accepted[i]; i++)
        assert_int_equal(guard(accepted[i], 32), KS_OK);
}

static char *nested(int depth, const char *open, const char *close)
{
    size_t o = strlen(open), c = strlen(close);
    char *s = malloc((o + c) * (size_t)depth + 1), *p = s;
    for (int i = 0; i < depth; i++, p += o)
        memcpy(p, open, o);
    for (int i = 0; i < depth; i++, p += c)
        memcpy(p, close, c);
    *p = '\0';
    return s;
}

static void test_depth(void **state)
{
    char *ok = nested(32, "<a x='>'>", "</a>");
    char *deep = nested(33, "<a>", "</a>");
    char *huge = nested(100000, "<h:x xmlns:h=\"urn:x\">", "</h:x>");
    char *flat = nested(1000, "<a/>", "");
    (void)state;
    assert_int_equal(guard(ok, 32), KS_OK);
    assert_int_equal(guard(deep, 32), KS_TOOLARGE);
    assert_int_equal(guard(deep, 33), KS_OK);
    assert_int_equal(guard(huge, 32), KS_TOOLARGE);
    assert_int_equal(guard(flat, 2), KS_OK);           /* siblings are not depth */
    /* comments, PIs and CDATA do not count */
    assert_int_equal(guard("<a><!-- <b><c><d> --><?p <e><f>?><![CDATA[<g><h>]]></a>", 1), KS_OK);
    free(ok);
    free(deep);
    free(huge);
    free(flat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_doctype),
        cmocka_unit_test(test_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
