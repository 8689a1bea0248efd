/* soa_xml.h - XML request bodies and answers for the Portability API.
 *
 * teliport.yaml allows application/xml for every request body and answer.
 * A request document is read into the same JSON object a JSON body would
 * give (element names are the field names, text is the value, nested
 * elements are nested objects), so one set of checks serves both. Parsing is
 * closed to the outside: no DTD at all (so no entities, internal or
 * external), no network, a size, depth and element bound.
 */
#ifndef RINGER_SOA_SOA_XML_H
#define RINGER_SOA_SOA_XML_H

#include <jansson.h>
#include <stddef.h>

#define SOA_XML_MAX_BYTES 65536
#define SOA_XML_MAX_DEPTH 8
#define SOA_XML_MAX_ELEMENTS 512

/* Set libxml2 up once, before any thread parses; and release it at exit. */
void soa_xml_init(void);
void soa_xml_cleanup(void);

/*
 * Read an XML request body into a JSON object. Returns a new reference, or
 * NULL with a reason in err (malformed, has a DTD, too big or too deep).
 */
json_t *soa_xml_parse(const char *body, size_t len, char *err, size_t errlen);

/*
 * Render j (an object) as an XML document under the element root: fields
 * become elements, arrays repeat an <item> element, true/false/null are text.
 * Returns a malloc'd NUL-terminated string, or NULL.
 */
char *soa_xml_render(const char *root, const json_t *j);

#endif
