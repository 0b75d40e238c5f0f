/* page_categories.c: the categories of the catalog.
 *
 *   GET  /categories        the list: z-order, exclusive, required, default item
 *   GET  /categories/new    the form; POST: RegisterCategory
 *   GET  /categories/{id}   the change form; POST: UpdateCategory
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "page.h"
#include "pages.h"

#define Z_LIMIT 100000

void ks_page_categories(ks_admin_req_t *req)
{
    struct ks__ListCategoriesResponse *list = NULL;
    ks_buf_t rows;
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    ks_buf_init(&rows, 1 << 20);
    if (ks_catalog_categories(req, &list) == KS_OK) {
        for (int i = 0; i < list->__sizecategory; i++) {
            const struct ks__Category *c = &list->category[i];
            ks_tpl_t row;
            ks_tpl_init(&row);
            ks_tpl_set_int(&row, "id", c->id);
            ks_tpl_set(&row, "name", c->name);
            ks_tpl_set_int(&row, "z", c->zOrder);
            ks_tpl_set(&row, "exclusive", c->exclusive == true_ ? "1" : "");
            ks_tpl_set(&row, "required", c->required == true_ ? "1" : "");
            if (c->defaultItemId)
                ks_tpl_set_int(&row, "default_item", *c->defaultItemId);
            ks_page_render_part(req, &rows, "category_row.html", &row);
            ks_tpl_free(&row);
        }
        ks_tpl_set(&vars, "listed", "1");
        ks_tpl_set(&vars, "none", list->__sizecategory ? "" : "1");
    }
    ks_tpl_set_html(&vars, "rows", rows.data ? rows.data : "");
    ks_page_render(req, "Categories", "categories", "categories.html", &vars);
    ks_buf_free(&rows);
    ks_tpl_free(&vars);
}

/* Reads and checks the form's name, z-order and flags; messages go next to
 * the fields (err_*). 0 when all are good. */
static int read_form(ks_admin_req_t *req, ks_tpl_t *vars, const char **name, int *z,
                     int *exclusive, int *required)
{
    const char *z_text = ks_page_field(req, "z");
    long long number;
    int bad = 0;

    *name = ks_page_field(req, "name");
    *exclusive = ks_page_field(req, "exclusive") != NULL;
    *required = ks_page_field(req, "required") != NULL;
    if (!*name || !**name || strlen(*name) > 64) {
        ks_tpl_set(vars, "err_name", "A name of 1 to 64 bytes.");
        bad = 1;
    }
    if (ks_page_parse_int(z_text, -Z_LIMIT, Z_LIMIT, &number) != 0) {
        ks_tpl_setf(vars, "err_z", "A whole number from %d to %d.", -Z_LIMIT, Z_LIMIT);
        bad = 1;
    } else {
        *z = (int)number;
    }
    ks_tpl_set(vars, "name", *name);
    ks_tpl_set(vars, "z", z_text);
    ks_tpl_set(vars, "exclusive", *exclusive ? "1" : "");
    ks_tpl_set(vars, "required", *required ? "1" : "");
    return bad;
}

void ks_page_category_new(ks_admin_req_t *req)
{
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "z", "100");
    ks_tpl_set(&vars, "exclusive", "1");
    ks_tpl_set(&vars, "is_new", "1");
    ks_page_render(req, "Add a category", "categories", "category_form.html", &vars);
    ks_tpl_free(&vars);
}

typedef struct {
    const char *name;
    int z, exclusive, required;
    struct ks__RegisterCategoryResponse response;
} register_call_t;

static int attempt_register(struct soap *soap, const char *url, void *p)
{
    register_call_t *call = p;
    return soap_call_ks__RegisterCategory(soap, url, NULL, (char *)call->name, call->z,
                                          call->exclusive ? true_ : false_,
                                          call->required ? true_ : false_, &call->response);
}

static void describe(const struct ks__Category *c, char *out, size_t size)
{
    snprintf(out, size, "name \"%.64s\", z-order %d, %s, %s, default item %d", c->name,
             c->zOrder, c->exclusive == true_ ? "exclusive" : "not exclusive",
             c->required == true_ ? "required" : "not required",
             c->defaultItemId ? *c->defaultItemId : 0);
}

void ks_page_category_create(ks_admin_req_t *req)
{
    register_call_t call = {0};
    char after[256], target[64], flash[200];
    ks_tpl_t vars;

    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "is_new", "1");
    if (read_form(req, &vars, &call.name, &call.z, &call.exclusive, &call.required) == 0 &&
        ks_page_api(req, "RegisterCategory", 0, attempt_register, &call) == KS_OK &&
        call.response.category) {
        describe(call.response.category, after, sizeof after);
        snprintf(target, sizeof target, "category %d", call.response.category->id);
        ks_page_audit(req, "category.register", target, NULL, after);
        snprintf(flash, sizeof flash, "Category \"%.64s\" added.", call.name);
        ks_page_redirect(req, "/categories", flash);
    } else {
        req->status = 400;
        ks_page_render(req, "Add a category", "categories", "category_form.html", &vars);
    }
    ks_tpl_free(&vars);
}

typedef struct {
    int category_id;
    struct ks__SearchItemsResponse response;
} items_call_t;

static int attempt_items(struct soap *soap, const char *url, void *p)
{
    items_call_t *call = p;
    int limit = 100;
    return soap_call_ks__SearchItems(soap, url, NULL, &call->category_id, "published", NULL,
                                     NULL, &limit, &call->response);
}

/* The category of the route, or NULL with the error page drawn. */
static const struct ks__Category *route_category(ks_admin_req_t *req)
{
    struct ks__ListCategoriesResponse *list = NULL;
    const struct ks__Category *c;
    long long id;

    if (ks_page_parse_int(req->route_param, 1, 2147483647, &id) != 0) {
        ks_page_error(req, 404, "Page not found", "There is no category \"%s\".",
                      req->route_param);
        return NULL;
    }
    if (ks_catalog_categories(req, &list) != KS_OK) {
        ks_page_error(req, 503, "The categories could not be read", "See the message above.");
        return NULL;
    }
    if (!(c = ks_catalog_category(list, (int)id)))
        ks_page_error(req, 404, "Category not found", "There is no category %lld.", id);
    return c;
}

static void render_edit(ks_admin_req_t *req, const struct ks__Category *c, ks_tpl_t *vars,
                        int selected_default)
{
    items_call_t call = {.category_id = c->id};
    ks_buf_t options;
    char title[100];

    ks_buf_init(&options, 1 << 16);
    ks_tpl_set_int(vars, "id", c->id);
    if (ks_page_api(req, "SearchItems", 1, attempt_items, &call) == KS_OK) {
        ks_tpl_t option;
        ks_tpl_init(&option);
        ks_tpl_set(&option, "value", "0");
        ks_tpl_set(&option, "label", "(none)");
        ks_tpl_set(&option, "selected", selected_default ? "" : "1");
        ks_page_render_part(req, &options, "option.html", &option);
        for (int i = 0; i < call.response.__sizeitem; i++) {
            const struct ks__Item *item = &call.response.item[i];
            ks_tpl_set_int(&option, "value", item->id);
            ks_tpl_setf(&option, "label", "#%d %s", item->id, item->name);
            ks_tpl_set(&option, "selected", item->id == selected_default ? "1" : "");
            ks_page_render_part(req, &options, "option.html", &option);
        }
        ks_tpl_free(&option);
    }
    ks_tpl_set_html(vars, "default_options", options.data ? options.data : "");
    snprintf(title, sizeof title, "Category: %.64s", c->name);
    ks_page_render(req, title, "categories", "category_form.html", vars);
    ks_buf_free(&options);
}

void ks_page_category_edit(ks_admin_req_t *req)
{
    const struct ks__Category *c = route_category(req);
    ks_tpl_t vars;

    if (!c)
        return;
    ks_tpl_init(&vars);
    ks_tpl_set(&vars, "name", c->name);
    ks_tpl_set_int(&vars, "z", c->zOrder);
    ks_tpl_set(&vars, "exclusive", c->exclusive == true_ ? "1" : "");
    ks_tpl_set(&vars, "required", c->required == true_ ? "1" : "");
    render_edit(req, c, &vars, c->defaultItemId ? *c->defaultItemId : 0);
    ks_tpl_free(&vars);
}

typedef struct {
    int id;
    const char *name;
    int z, default_item;
    enum xsd__boolean exclusive, required;
    struct ks__UpdateCategoryResponse response;
} update_call_t;

static int attempt_update(struct soap *soap, const char *url, void *p)
{
    update_call_t *call = p;
    return soap_call_ks__UpdateCategory(soap, url, NULL, call->id, (char *)call->name, &call->z,
                                        &call->exclusive, &call->required, &call->default_item,
                                        &call->response);
}

void ks_page_category_update(ks_admin_req_t *req)
{
    const struct ks__Category *c = route_category(req);
    update_call_t call = {0};
    char before[256], after[256], target[64], flash[200];
    long long number = 0;
    int exclusive = 0, required = 0;
    ks_tpl_t vars;

    if (!c)
        return;
    ks_tpl_init(&vars);
    ks_page_parse_int(ks_page_field(req, "default_item"), 0, 2147483647, &number);
    call.id = c->id;
    call.default_item = (int)number;
    if (read_form(req, &vars, &call.name, &call.z, &exclusive, &required) == 0) {
        call.exclusive = exclusive ? true_ : false_;
        call.required = required ? true_ : false_;
        describe(c, before, sizeof before);
        if (ks_page_api(req, "UpdateCategory", 1, attempt_update, &call) == KS_OK &&
            call.response.category) {
            describe(call.response.category, after, sizeof after);
            snprintf(target, sizeof target, "category %d", c->id);
            ks_page_audit(req, "category.update", target, before, after);
            snprintf(flash, sizeof flash, "Category \"%.64s\" saved.", call.name);
            ks_page_redirect(req, "/categories", flash);
            ks_tpl_free(&vars);
            return;
        }
    }
    req->status = 400;
    render_edit(req, c, &vars, call.default_item);
    ks_tpl_free(&vars);
}
