/* fault.c: SOAP faults with a stable code in a typed detail.
 *
 * The faultcode is SOAP-ENV:Client for what the caller must change and
 * SOAP-ENV:Server for what failed on our side; clients branch on the detail's
 * code, which never changes meaning. gSOAP closes the connection after a fault.
 * A request refused before gSOAP parsed it gets the same envelope, written by
 * gSOAP's serializer into a buffer (ks_fault_xml); `kisekae-api --fault-xml`
 * prints it for the nginx in front of the API, so there is one writer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "api.h"
#include "log.h"
#include "paths.h"

/* The stable codes of wsdl/kisekae.h (struct ks__KisekaeFault), and whether
 * each is the caller's to fix (a Client fault) or ours (a Server fault). */
static const struct {
    const char *code;
    int client_side;
} codes[] = {
    {"NotFound", 1},       {"InvalidArgument", 1},         {"NotOwned", 1},
    {"Conflict", 1},       {"Unauthorized", 1},            {"Forbidden", 1},
    {"TooLarge", 1},       {"ImageServerUnavailable", 0},  {"DatabaseUnavailable", 0},
    {"Internal", 0},
};

int ks_fault_code_known(const char *code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i].code) == 0)
            return 1;
    return 0;
}

static int set_fault(struct soap *soap, int client_side, const char *code, const char *message)
{
    struct ks__KisekaeFault *detail = soap_new_ks__KisekaeFault(soap, -1);

    if (client_side)
        soap_sender_fault(soap, message, NULL);
    else
        soap_receiver_fault(soap, message, NULL);
    if (!detail)
        return soap->error;
    detail->code = soap_strdup(soap, code);
    detail->message = soap_strdup(soap, message);
    soap->fault->detail = soap_new_SOAP_ENV__Detail(soap, -1);
    if (soap->fault->detail)
        soap->fault->detail->ks__KisekaeFault = detail;
    return SOAP_FAULT;
}

/* 1 unless code is one of ours (an unknown code counts as the caller's). */
static int is_client_code(const char *code)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(code, codes[i].code) == 0)
            return codes[i].client_side;
    return 1;
}

int ks_fault(struct soap *soap, const char *code, const char *fmt, ...)
{
    char message[KS_ERR_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    return set_fault(soap, is_client_code(code), code, message);
}

size_t ks_fault_xml(char *out, size_t size, const char *code, const char *message)
{
    struct soap *soap = soap_new1(SOAP_C_UTFSTRING);
    const char *xml = NULL;
    char shortened[KS_FAULT_MESSAGE_MAX + 1];
    size_t length = strlen(message);

    if (size)
        out[0] = '\0';
    if (!soap)
        return 0;
    if (length > KS_FAULT_MESSAGE_MAX) {     /* cut on a UTF-8 character's start */
        length = KS_FAULT_MESSAGE_MAX;
        while (length > 0 && ((unsigned char)message[length] & 0xc0) == 0x80)
            length--;
        memcpy(shortened, message, length);
        shortened[length] = '\0';
        message = shortened;
    }
    length = 0;
    soap_set_version(soap, 1);
    soap->os = &xml;
    set_fault(soap, is_client_code(code), code, message);
    soap_serializeheader(soap);
    soap_serializefault(soap);
    if (soap_begin_send(soap) == SOAP_OK && soap_envelope_begin_out(soap) == SOAP_OK &&
        soap_putheader(soap) == SOAP_OK && soap_body_begin_out(soap) == SOAP_OK &&
        soap_putfault(soap) == SOAP_OK && soap_body_end_out(soap) == SOAP_OK &&
        soap_envelope_end_out(soap) == SOAP_OK && soap_end_send(soap) == SOAP_OK && xml) {
        length = strlen(xml);
        if (length < size)
            memcpy(out, xml, length + 1);
        else
            length = 0;
    }
    soap_destroy(soap);
    soap_end(soap);
    soap_free(soap);
    return length;
}

int ks_fault_rc(struct soap *soap, ks_rc rc, const ks_err_t *err)
{
    const char *code;

    switch (rc) {
    case KS_INVALID: code = "InvalidArgument"; break;
    case KS_NOTFOUND: code = "NotFound"; break;
    case KS_TOOLARGE: code = "TooLarge"; break;
    case KS_CONFLICT: code = "Conflict"; break;
    case KS_NOTOWNED: code = "NotOwned"; break;
    case KS_FORBIDDEN: code = "Forbidden"; break;
    case KS_UNAVAILABLE: code = "ImageServerUnavailable"; break;
    case KS_DBDOWN: code = "DatabaseUnavailable"; break;
    case KS_BUSY: code = "DatabaseUnavailable"; break;
    default:
        ks_log_error("internal error (%s): %s", ks_rc_name(rc), err->msg);
        return set_fault(soap, 0, "Internal", "internal error; the server log has the details");
    }
    if (rc == KS_DBDOWN) {       /* the details name servers and SQL: for the log only */
        ks_log_warn("%s: %s", code, err->msg);
        return set_fault(soap, 0, code, "the avatar database did not answer; try again later");
    }
    if (rc == KS_BUSY) {
        ks_log_warn("%s: %s", code, err->msg);
        return set_fault(soap, 0, code, "the avatar database is busy; try again");
    }
    if (rc == KS_UNAVAILABLE)
        ks_log_warn("%s: %s", code, err->msg);
    return set_fault(soap, is_client_code(code), code, err->msg);
}

/* 1 when s is well-formed UTF-8 (no overlong forms, surrogates or code
 * points above U+10FFFF). */
static int utf8_valid(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s, need, min, code;
        if (c < 0x80) {
            s++;
            continue;
        }
        if ((c & 0xe0) == 0xc0)
            need = 1, min = 0x80, code = c & 0x1f;
        else if ((c & 0xf0) == 0xe0)
            need = 2, min = 0x800, code = c & 0x0f;
        else if ((c & 0xf8) == 0xf0)
            need = 3, min = 0x10000, code = c & 0x07;
        else
            return 0;
        for (unsigned i = 1; i <= need; i++) {
            if ((s[i] & 0xc0) != 0x80)
                return 0;
            code = (code << 6) | (s[i] & 0x3f);
        }
        if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
            return 0;
        s += need + 1;
    }
    return 1;
}

int ks_check_text(struct soap *soap, const char *field, const char *value, size_t max_len)
{
    size_t len;

    if (!value || !*value)
        return ks_fault(soap, "InvalidArgument", "%s is required", field);
    len = strlen(value);
    if (len > max_len)
        return ks_fault(soap, "InvalidArgument", "%s is %zu bytes, longer than %zu", field, len,
                        max_len);
    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return ks_fault(soap, "InvalidArgument", "%s contains a control character", field);
    if (!utf8_valid((const unsigned char *)value))
        return ks_fault(soap, "InvalidArgument", "%s is not valid UTF-8", field);
    return SOAP_OK;
}

int ks_check_member_id(struct soap *soap, const char *field, const char *value)
{
    if (!value || !*value)
        return ks_fault(soap, "InvalidArgument", "%s is required", field);
    if (!ks_user_id_valid(value))
        return ks_fault(soap, "InvalidArgument",
                        "%s must be 1..64 characters of A-Z a-z 0-9 . _ - "
                        "and not start with '.'", field);
    return SOAP_OK;
}

int ks_check_user_id(struct soap *soap, const char *value)
{
    return ks_check_member_id(soap, "userId", value);
}

int ks_check_page(struct soap *soap, const int *offset, const int *limit, int *page_offset,
                  int *page_limit)
{
    *page_offset = offset ? *offset : 0;
    *page_limit = limit ? *limit : KS_PAGE_LIMIT_DEFAULT;
    if (*page_offset < 0 || *page_offset > KS_PAGE_OFFSET_MAX)
        return ks_fault(soap, "InvalidArgument", "offset must be 0..%d", KS_PAGE_OFFSET_MAX);
    if (*page_limit < 1 || *page_limit > KS_PAGE_LIMIT_MAX)
        return ks_fault(soap, "InvalidArgument", "limit must be 1..%d", KS_PAGE_LIMIT_MAX);
    return SOAP_OK;
}
