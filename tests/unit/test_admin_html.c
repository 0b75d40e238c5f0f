/* test_admin_html.c: HTML escaping and the templates of the admin server
 * (admin-server/html.c): every value is escaped unless set as markup. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include "html.h"

static char *render(const char *text, const ks_tpl_t *vars, ks_buf_t *out)
{
    ks_err_t err = {{0}};
    ks_buf_init(out, 1 << 20);
    assert_int_equal(ks_tpl_render_text(out, text, vars, &err), KS_OK);
    return out->data ? out->data : (char *)"";
}

static void test_escape(void **state)
{
    ks_buf_t out;
    (void)state;
    ks_buf_init(&out, 1024);
    ks_html_escape(&out, "<script>alert('x') & \"y\"</script>");
    assert_string_equal(out.data,
                        "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;");
    ks_buf_reset(&out);
    ks_html_escape(&out, "plain text, ünïcode ✓");
    assert_string_equal(out.data, "plain text, ünïcode ✓");
    ks_buf_reset(&out);
    ks_html_escape(&out, NULL);
    ks_html_escape(&out, "");
    assert_int_equal(out.len, 0);
    ks_buf_free(&out);
}

static void test_variables_are_escaped(void **state)
{
    ks_tpl_t vars;
    ks_buf_t out;
    (void)state;
    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "name", "<img src=x onerror=alert(1)>");
    ks_tpl_set(&vars, "attr", "\" onmouseover=\"x");
    assert_string_equal(render("<p>{{name}}</p><a title=\"{{attr}}\">", &vars, &out),
                        "<p>&lt;img src=x onerror=alert(1)&gt;</p>"
                        "<a title=\"&quot; onmouseover=&quot;x\">");
    ks_buf_free(&out);
    /* {{{x}}} writes markup only for values set as markup */
    assert_string_equal(render("{{{name}}}", &vars, &out), "&lt;img src=x onerror=alert(1)&gt;");
    ks_buf_free(&out);
    ks_tpl_set_html(&vars, "rows", "<tr><td>1</td></tr>");
    assert_string_equal(render("<table>{{{rows}}}</table>|{{rows}}", &vars, &out),
                        "<table><tr><td>1</td></tr></table>|"
                        "&lt;tr&gt;&lt;td&gt;1&lt;/td&gt;&lt;/tr&gt;");
    ks_buf_free(&out);
    ks_tpl_free(&vars);
}

static void test_sections(void **state)
{
    ks_tpl_t vars;
    ks_buf_t out;
    (void)state;
    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "yes", "1");
    ks_tpl_set(&vars, "no", "0");
    ks_tpl_set(&vars, "empty", "");
    ks_tpl_set_int(&vars, "count", 3);
    assert_string_equal(render("{{#yes}}Y{{/yes}}{{#no}}N{{/no}}{{#empty}}E{{/empty}}"
                               "{{#missing}}M{{/missing}}", &vars, &out), "Y");
    ks_buf_free(&out);
    assert_string_equal(render("{{^yes}}Y{{/yes}}{{^no}}N{{/no}}{{^empty}}E{{/empty}}"
                               "{{^missing}}M{{/missing}}", &vars, &out), "NEM");
    ks_buf_free(&out);
    assert_string_equal(render("{{#yes}}a{{#count}}[{{count}}]{{/count}}b{{/yes}}", &vars, &out),
                        "a[3]b");
    ks_buf_free(&out);
    /* a later set replaces the value */
    ks_tpl_set(&vars, "count", "<4>");
    assert_string_equal(render("{{count}}{{unknown}}", &vars, &out), "&lt;4&gt;");
    ks_buf_free(&out);
    ks_tpl_free(&vars);
}

static void test_bad_templates(void **state)
{
    ks_tpl_t vars;
    ks_buf_t out;
    ks_err_t err = {{0}};
    (void)state;
    ks_tpl_init(&vars);
    ks_buf_init(&out, 1024);
    assert_int_equal(ks_tpl_render_text(&out, "{{#open}}never closed", &vars, &err), KS_INVALID);
    assert_int_equal(ks_tpl_render_text(&out, "{{name", &vars, &err), KS_INVALID);
    assert_int_equal(ks_tpl_render(&out, "no-such.html", &vars, &err), KS_NOTFOUND);
    ks_buf_free(&out);
    ks_tpl_free(&vars);
}

static void test_shipped_templates_render(void **state)
{
    static const char *names[] = {"layout.html", "login.html", "error.html", "dashboard.html"};
    ks_tpl_t vars;
    ks_err_t err = {{0}};
    (void)state;
    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "title", "<T>");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        ks_buf_t out;
        ks_buf_init(&out, 1 << 20);
        if (ks_tpl_render(&out, names[i], &vars, &err) != KS_OK)
            fail_msg("%s: %s", names[i], err.msg);
        assert_null(strstr(out.data, "{{"));
        assert_null(strstr(out.data, "<T>"));
        /* the CSP forbids inline script and style: the templates have none */
        assert_null(strstr(ks_tpl_source(names[i]), "style="));
        assert_null(strstr(ks_tpl_source(names[i]), "<script>"));
        assert_null(strstr(ks_tpl_source(names[i]), "onclick"));
        ks_buf_free(&out);
    }
    ks_tpl_free(&vars);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_variables_are_escaped),
        cmocka_unit_test(test_sections),
        cmocka_unit_test(test_bad_templates),
        cmocka_unit_test(test_shipped_templates_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
