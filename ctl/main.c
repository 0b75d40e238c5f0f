/* kisekae-ctl: one SOAP call of the API from a shell, for operators
 * (`./kisekae admin OPERATION NAME=VALUE...` runs it with the stack's admin
 * credentials).
 *
 *   kisekae-ctl [--url URL]... [--timeout S] OPERATION [NAME=VALUE ...]
 *
 * The request is OPERATION's element with one child per NAME=VALUE, in the
 * order given (as the WSDL lists them), built and sent by gSOAP's DOM over
 * the client stubs' namespaces and fault types, through the failover core
 * (common/api_failover.h): a call moves on to the next URL when one does not
 * answer, and sends again only an operation marked `// @resendable` in
 * wsdl/kisekae.h. The answer's fields are printed one per line, "name:
 * value"; a record's name alone ("name:") with its fields indented by two
 * spaces. A fault is printed with its code on stderr.
 *
 * The credentials come from the environment (KISEKAE_ADMIN_USER,
 * KISEKAE_ADMIN_PASSWORD), never the command line, which every user sees;
 * the URLs from --url, else KISEKAE_API_URL.
 *
 * Exit status: 0 answered, 1 a fault or no answer, 2 bad usage.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_failover.h"
#include "ks_resendable.h"
#include "soapH.h"
#include "Kisekae.nsmap"

#define NS "urn:kisekae:v1"
#define PARAMS_MAX 256
#define TIMEOUT_DEFAULT_S 600

typedef struct {
    const char *operation;
    char action[96];                     /* its SOAPAction */
    const char *params[PARAMS_MAX];      /* "name=value", in the order given */
    int param_count;
    struct soap_dom_element response;    /* the answer's body element */
} call_t;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: kisekae-ctl [--url URL]... [--timeout S] OPERATION [NAME=VALUE ...]\n"
            "\n"
            "Calls one operation of the kisekae SOAP API and prints the answer's fields,\n"
            "one per line (\"name: value\"; a record's name alone, its fields indented).\n"
            "Give the parameters in the order the WSDL lists them; repeat a name for a\n"
            "list. A fault is printed with its code and the exit status is 1; bad usage\n"
            "exits 2. For example:\n"
            "\n"
            "  kisekae-ctl ListImageServers\n"
            "  kisekae-ctl SetImageServerMode name=img3 mode=draining\n"
            "  kisekae-ctl SetImageServerWeight name=img2 weight=3\n"
            "  kisekae-ctl MoveAvatars from=img3 to=img1 limit=1000\n"
            "  kisekae-ctl GetSystemStatus\n"
            "\n"
            "  --url URL      an API server (repeat for more, tried in order; default:\n"
            "                 $KISEKAE_API_URL)\n"
            "  --timeout S    seconds to connect, send and receive (default %d)\n"
            "  -h, --help     this help\n"
            "\n"
            "Environment: KISEKAE_ADMIN_USER and KISEKAE_ADMIN_PASSWORD (HTTP Basic),\n"
            "KISEKAE_API_URL. `./kisekae admin` sets them from the stack's stack.env.\n",
            TIMEOUT_DEFAULT_S);
}

/* Prints the message of a bad usage; returns the exit status 2. */
static int bad_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int bad_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("kisekae-ctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs(" (see kisekae-ctl --help)\n", stderr);
    return 2;
}

/* 1 when name is a parameter name: [A-Za-z][A-Za-z0-9]*, at most 63. */
static int is_param_name(const char *name, size_t length)
{
    if (length == 0 || length > 63 ||
        !((name[0] >= 'A' && name[0] <= 'Z') || (name[0] >= 'a' && name[0] <= 'z')))
        return 0;
    for (size_t i = 1; i < length; i++)
        if (!((name[i] >= 'A' && name[i] <= 'Z') || (name[i] >= 'a' && name[i] <= 'z') ||
              (name[i] >= '0' && name[i] <= '9')))
            return 0;
    return 1;
}

/* 1 when op looks like an operation: [A-Z][A-Za-z]{1,63}. */
static int is_operation(const char *op)
{
    size_t length = strlen(op);

    if (length < 2 || length > 64 || op[0] < 'A' || op[0] > 'Z')
        return 0;
    for (size_t i = 1; i < length; i++)
        if (!((op[i] >= 'A' && op[i] <= 'Z') || (op[i] >= 'a' && op[i] <= 'z')))
            return 0;
    return 1;
}

/* The DOM's (de)serializers, in libgsoap; dom.h declares them to code
 * generated from a header that imports it, which wsdl/kisekae.h does not
 * (that would change the WSDL). */
int soap_out_xsd__anyType(struct soap *soap, const char *tag, int id,
                          const struct soap_dom_element *node, const char *type);
struct soap_dom_element *soap_in_xsd__anyType(struct soap *soap, const char *tag,
                                              struct soap_dom_element *node, const char *type);

/* The request element: OPERATION with one child per NAME=VALUE, in soap's
 * arena (which every attempt starts by clearing). NULL when out of memory. */
static struct soap_dom_element *build_request(struct soap *soap, const call_t *call)
{
    struct soap_dom_element *request = soap_elt_new(soap, NS, call->operation);

    for (int i = 0; request && i < call->param_count; i++) {
        const char *eq = strchr(call->params[i], '=');
        char *name = soap_strdup(soap, call->params[i]);
        struct soap_dom_element *field;

        if (!name)
            return NULL;
        name[eq - call->params[i]] = '\0';
        field = soap_elt_new(soap, NS, name);
        if (!field || !soap_elt_text(field, eq + 1) || !soap_add_elt(request, field))
            return NULL;
    }
    return request;
}

/* Writes the envelope around request (twice when gSOAP counts the length
 * first), as the generated soap_send_ks__X does. */
static int send_request(struct soap *soap, const char *url, const call_t *call,
                        const struct soap_dom_element *request)
{
    soap_begin(soap);
    soap_set_version(soap, 1);
    soap->encodingStyle = NULL;
    soap_serializeheader(soap);
    if (soap_begin_count(soap))
        return soap->error;
    if ((soap->mode & SOAP_IO_LENGTH) &&
        (soap_envelope_begin_out(soap) || soap_putheader(soap) || soap_body_begin_out(soap) ||
         soap_out_xsd__anyType(soap, NULL, 0, request, NULL) || soap_body_end_out(soap) ||
         soap_envelope_end_out(soap)))
        return soap->error;
    if (soap_end_count(soap))
        return soap->error;
    if (soap_connect(soap, url, call->action) || soap_envelope_begin_out(soap) ||
        soap_putheader(soap) || soap_body_begin_out(soap) ||
        soap_out_xsd__anyType(soap, NULL, 0, request, NULL) || soap_body_end_out(soap) ||
        soap_envelope_end_out(soap) || soap_end_send(soap))
        return soap_closesock(soap);
    return SOAP_OK;
}

/* Reads the answer's body element into call->response, or the fault (with
 * its typed KisekaeFault, from the generated stubs), as the generated
 * soap_recv_ks__X does. */
static int receive_answer(struct soap *soap, call_t *call)
{
    memset(&call->response, 0, sizeof call->response);
    call->response.soap = soap;
    if (soap_begin_recv(soap) || soap_envelope_begin_in(soap) || soap_recv_header(soap) ||
        soap_body_begin_in(soap))
        return soap_closesock(soap);
    /* A fault: as the generated getter would, fail on the tag, which
     * soap_recv_fault takes for the fault's place. */
    if (soap_peek_element(soap) == SOAP_OK && !soap_match_tag(soap, soap->tag, "SOAP-ENV:Fault")) {
        soap->error = SOAP_TAG_MISMATCH;
        return soap_recv_fault(soap, 0);
    }
    if (!soap_in_xsd__anyType(soap, NULL, &call->response, NULL))
        return soap_recv_fault(soap, 0);
    if (soap_body_end_in(soap) || soap_envelope_end_in(soap) || soap_end_recv(soap))
        return soap_closesock(soap);
    return soap_closesock(soap);
}

static int attempt(struct soap *soap, const char *url, void *args)
{
    call_t *call = args;
    struct soap_dom_element *request = build_request(soap, call);

    if (!request)
        return soap->error = SOAP_EOM;
    if (send_request(soap, url, call, request))
        return soap->error;
    return receive_answer(soap, call);
}

/* Prints elt's child elements at depth (two spaces each): a leaf as
 * "name: text" (one without any text, <x/>, is left out), a record as
 * "name:" and its fields one level deeper. */
static void print_fields(const struct soap_dom_element *elt, int depth)
{
    for (const struct soap_dom_element *child = elt->elts; child; child = child->next) {
        const char *tag = soap_elt_get_tag(child), *colon = tag ? strchr(tag, ':') : NULL;
        const char *name = colon ? colon + 1 : tag;

        if (!name)
            continue;
        if (child->elts) {
            printf("%*s%s:\n", depth * 2, "", name);
            print_fields(child, depth + 1);
        } else if (child->text) {
            printf("%*s%s: %s\n", depth * 2, "", name, child->text);
        }
    }
}

/* The command line. */
typedef struct {
    const char *urls[KS_FAILOVER_URLS_MAX];
    int url_count;
    int timeout_s;
} options_t;

/* Reads argv into opts and call; returns -1 to go on, else the exit status
 * (0 after --help, 2 for bad usage, with its message). */
static int parse_args(int argc, char **argv, options_t *opts, call_t *call)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *eq = strchr(arg, '=');

        if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
            usage(stdout);
            return 0;
        } else if ((!strcmp(arg, "--url") || !strcmp(arg, "--timeout")) && i + 1 == argc) {
            return bad_usage("%s needs a value", arg);
        } else if (!strcmp(arg, "--url")) {
            if (opts->url_count == KS_FAILOVER_URLS_MAX)
                return bad_usage("more than %d --url", KS_FAILOVER_URLS_MAX);
            opts->urls[opts->url_count++] = argv[++i];
        } else if (!strcmp(arg, "--timeout")) {
            char *end;
            long value = strtol(argv[++i], &end, 10);
            if (*end || value < 1 || value > 3600)
                return bad_usage("--timeout \"%s\": seconds, 1 to 3600", argv[i]);
            opts->timeout_s = (int)value;
        } else if (arg[0] == '-') {
            return bad_usage("unknown option \"%s\"", arg);
        } else if (eq) {
            if (!is_param_name(arg, (size_t)(eq - arg)))
                return bad_usage("\"%s\": the name before '=' is not a parameter name", arg);
            if (call->param_count == PARAMS_MAX)
                return bad_usage("more than %d parameters", PARAMS_MAX);
            call->params[call->param_count++] = arg;
        } else if (!call->operation && is_operation(arg)) {
            call->operation = arg;
        } else {
            return bad_usage("unknown argument \"%s\"", arg);
        }
    }
    if (!call->operation) {
        usage(stderr);
        return 2;
    }
    if (opts->url_count == 0 && getenv("KISEKAE_API_URL") && *getenv("KISEKAE_API_URL"))
        opts->urls[opts->url_count++] = getenv("KISEKAE_API_URL");
    if (opts->url_count == 0)
        return bad_usage("no API URL: give --url or set KISEKAE_API_URL");
    return -1;
}

int main(int argc, char **argv)
{
    const char *user = getenv("KISEKAE_ADMIN_USER"), *password = getenv("KISEKAE_ADMIN_PASSWORD");
    options_t opts = {.timeout_s = TIMEOUT_DEFAULT_S};
    call_t call = {0};
    int status = parse_args(argc, argv, &opts, &call);
    ks_failover_t fo;
    struct soap *soap;
    ks_err_t err;

    if (status >= 0)
        return status;
    if (!user || !password) {
        fprintf(stderr, "kisekae-ctl: set KISEKAE_ADMIN_USER and KISEKAE_ADMIN_PASSWORD\n");
        return 2;
    }
    ks_failover_init(&fo, user, password, opts.timeout_s);
    for (int i = 0; i < opts.url_count; i++)
        if (ks_failover_add_url(&fo, opts.urls[i], &err) != KS_OK)
            return bad_usage("%s", err.msg);
    soap = ks_failover_soap_new(&fo, &err);
    if (!soap) {
        fprintf(stderr, "kisekae-ctl: %s\n", err.msg);
        return 1;
    }
    soap_set_mode(soap, SOAP_C_UTFSTRING);
    snprintf(call.action, sizeof call.action, NS "#%s", call.operation);
    status = 1;
    if (ks_failover_call(&fo, soap, call.operation, ks_op_resendable(call.operation), attempt,
                         &call, NULL, &err) == KS_OK) {
        print_fields(&call.response, 0);
        status = 0;
    } else if (soap->error == 401) {
        /* gSOAP leaves the body of an HTTP 401 unparsed: its fault is this */
        fprintf(stderr, "kisekae-ctl: %s: Unauthorized: the API refused the credentials of"
                " \"%s\" (HTTP 401)\n", call.operation, user);
    } else {
        fprintf(stderr, "kisekae-ctl: %s\n", err.msg);
    }
    ks_failover_soap_free(soap);
    return status;
}
