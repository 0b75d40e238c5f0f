/* xml_guard.h: checks of an XML request body before a parser sees it.
 *
 * gSOAP expands no entities and fetches nothing external (it skips a DOCTYPE
 * as an unknown declaration), and it limits the depth of the elements it
 * deserializes, but not of those it skips (an unknown SOAP header can nest
 * 200000 levels deep and is read to the end). So a request is refused
 * beforehand when it declares a DOCTYPE, which SOAP 1.1 (section 3) forbids
 * anyway, or when any of its elements nests deeper than the limit. The scan
 * is one linear pass over the bytes and allocates nothing.
 */
#ifndef KS_XML_GUARD_H
#define KS_XML_GUARD_H

#include <stddef.h>
#include "ks.h"

/* KS_OK; KS_INVALID when body has a DOCTYPE (or any <!...> declaration
 * outside comments and CDATA); KS_TOOLARGE when an element nests deeper than
 * max_depth. err says which. Malformed XML is left to the parser (KS_OK). */
ks_rc ks_xml_guard(const char *body, size_t len, int max_depth, ks_err_t *err);

#endif
