/* soa_xml.c - XML bodies in, SoaResponse XML out (libxml2). */
#include "soa_xml.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../base/text.h"

#define RENDER_MAX (4u << 20)

void soa_xml_init(void)
{
	xmlInitParser();
}

void soa_xml_cleanup(void)
{
	xmlCleanupParser();
}

/* ---- reading ---- */

static bool has_element_child(const xmlNode *n)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return true;
	return false;
}

/* Only elements, text and comments are expected; anything else is refused. */
static int text_of(const xmlNode *n, json_t **out)
{
	xmlChar *s;

	for (const xmlNode *c = n->children; c; c = c->next)
		if (c->type != XML_TEXT_NODE && c->type != XML_CDATA_SECTION_NODE &&
		    c->type != XML_COMMENT_NODE)
			return -1;
	s = xmlNodeGetContent(n);
	*out = json_string(s ? (const char *)s : "");
	xmlFree(s);
	return *out ? 0 : -1;
}

static int to_json(const xmlNode *n, int depth, unsigned *count, json_t **out);

static int object_of(const xmlNode *n, int depth, unsigned *count, json_t **out)
{
	json_t *o = json_object(), *v;

	for (const xmlNode *c = n->children; o && c; c = c->next) {
		if (c->type == XML_COMMENT_NODE)
			continue;
		if (c->type == XML_TEXT_NODE && xmlIsBlankNode((xmlNode *)c))
			continue;
		if (c->type != XML_ELEMENT_NODE || json_object_get(o, (const char *)c->name) ||
		    to_json(c, depth + 1, count, &v) != 0)
			goto fail;
		if (json_object_set_new(o, (const char *)c->name, v) != 0)
			goto fail;
	}
	*out = o;
	return o ? 0 : -1;
fail:
	json_decref(o);
	return -1;
}

static int to_json(const xmlNode *n, int depth, unsigned *count, json_t **out)
{
	if (depth > SOA_XML_MAX_DEPTH || ++*count > SOA_XML_MAX_ELEMENTS)
		return -1;
	if (n->ns != NULL && n->ns->prefix != NULL)
		return -1;
	return has_element_child(n) ? object_of(n, depth, count, out) : text_of(n, out);
}

json_t *soa_xml_parse(const char *body, size_t len, char *err, size_t errlen)
{
	const int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
			 XML_PARSE_NOCDATA;
	unsigned count = 0;
	json_t *j = NULL;
	xmlDoc *doc;
	xmlNode *root;

	if (len > SOA_XML_MAX_BYTES || len > (size_t)INT32_MAX) {
		snprintf(err, errlen, "the XML body is larger than %d bytes", SOA_XML_MAX_BYTES);
		return NULL;
	}
	/* No DTD is ever read: entities (billion laughs, external files) cannot appear. */
	if (memmem(body, len, "<!DOCTYPE", 9) || memmem(body, len, "<!ENTITY", 8)) {
		snprintf(err, errlen, "XML bodies may not have a DTD or entities");
		return NULL;
	}
	doc = xmlReadMemory(body, (int)len, NULL, "UTF-8", opts);
	root = doc ? xmlDocGetRootElement(doc) : NULL;
	if (root == NULL || doc->intSubset || doc->extSubset) {
		snprintf(err, errlen, "the body is not a well-formed XML document");
		goto out;
	}
	if (!has_element_child(root) || object_of(root, 1, &count, &j) != 0) {
		snprintf(err, errlen, "the XML body must be one element of field elements "
			 "(at most %d deep, %d elements, no repeats)", SOA_XML_MAX_DEPTH,
			 SOA_XML_MAX_ELEMENTS);
		j = NULL;
	}
out:
	xmlFreeDoc(doc);
	return j;
}

/* ---- writing ---- */

static bool name_ok(const char *s)
{
	if (s == NULL || !((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.'))
			return false;
	return true;
}

static int put_value(struct buf *b, const char *name, const json_t *v, int depth);

static int put_children(struct buf *b, const json_t *v, int depth)
{
	const char *k;
	json_t *e;
	size_t i;
	int bad = 0;

	if (depth > 32)
		return -1;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e)
			bad |= put_value(b, name_ok(k) ? k : "field", e, depth + 1);
		return bad;
	}
	json_array_foreach(v, i, e)
		bad |= put_value(b, "item", e, depth + 1);
	return bad;
}

static int put_value(struct buf *b, const char *name, const json_t *v, int depth)
{
	char num[64];
	int bad = buf_printf(b, "<%s>", name);

	if (json_is_object(v) || json_is_array(v)) {
		bad |= put_children(b, v, depth);
	} else if (json_is_string(v)) {
		bad |= buf_put_xml(b, json_string_value(v));
	} else if (json_is_integer(v)) {
		snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		bad |= buf_puts(b, num);
	} else if (json_is_real(v)) {
		snprintf(num, sizeof(num), "%.17g", json_real_value(v));
		bad |= buf_puts(b, num);
	} else if (json_is_boolean(v)) {
		bad |= buf_puts(b, json_is_true(v) ? "true" : "false");
	}
	return bad | buf_printf(b, "</%s>", name);
}

char *soa_xml_render(const char *root, const json_t *j)
{
	struct buf b;
	size_t len;

	buf_init(&b, RENDER_MAX);
	if (put_value(&b, root, j, 0) != 0 || buf_append(&b, "", 1) != 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_steal(&b, &len);
}
