/*
 * extract_html.c - the visible text of an HTML page (html, htm).
 *
 * Parsing: libxml2's HTML parser (htmlReadMemory with RECOVER, NOERROR,
 * NOWARNING, NONET, COMPACT) builds a tree out of any tag soup; it never
 * fetches anything.  Charset: bytes that are well-formed UTF-8 are parsed
 * as UTF-8 whatever the page declares (a <meta> that lies is common, valid
 * UTF-8 that is not UTF-8 is not); other bytes with a byte order mark or a
 * "charset" declaration in the first 4 KB go to libxml2, which honours the
 * <meta>; anything else is decoded by the .txt decoder (ICU detection) and
 * parsed as UTF-8.
 *
 * Walking: iteratively, through the parent pointers (no recursion, so no
 * depth limit to worry about).  script, style, noscript, template, and the
 * whole of head except title are skipped; comments and processing
 * instructions too.  Text is collapsed as a browser renders it: runs of
 * HTML white space become one space, except inside pre/textarea/listing/xmp.
 * Paragraph-like blocks (p, h1-h6, ul, table, ...) are separated by a blank
 * line, line-like blocks (div, li, tr, dt, ...) and <br> by a line end, and
 * table cells on one row by a tab.  U+00A0 is kept as it is.
 *
 * Dify's HtmlExtractor is BeautifulSoup's get_text() stripped: all text
 * nodes concatenated with the page's own white space.  The block line ends
 * here are a deliberate difference: they give the splitter paragraphs to
 * cut at instead of one long line of markup indentation.
 */
#include "ingest/extract_int.h"

#include "core/str.h"

#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum { K_INLINE, K_SKIP, K_PARA, K_LINE, K_BR, K_CELL, K_PRE } kind;

/* Sorted by name for bsearch (libxml2's HTML parser gives lower-case names). */
static const struct tag {
    const char *name;
    kind k;
} tags[] = {
    {"address", K_PARA}, {"article", K_PARA},  {"aside", K_PARA},      {"blockquote", K_PARA},
    {"body", K_LINE},    {"br", K_BR},         {"caption", K_LINE},    {"center", K_LINE},
    {"dd", K_LINE},      {"details", K_PARA},  {"div", K_LINE},        {"dl", K_PARA},
    {"dt", K_LINE},      {"fieldset", K_PARA}, {"figcaption", K_LINE}, {"figure", K_PARA},
    {"footer", K_PARA},  {"form", K_PARA},     {"h1", K_PARA},         {"h2", K_PARA},
    {"h3", K_PARA},      {"h4", K_PARA},       {"h5", K_PARA},         {"h6", K_PARA},
    {"header", K_PARA},  {"hr", K_PARA},       {"html", K_LINE},       {"legend", K_LINE},
    {"li", K_LINE},      {"listing", K_PRE},   {"main", K_PARA},       {"menu", K_LINE},
    {"nav", K_PARA},     {"noscript", K_SKIP}, {"ol", K_PARA},         {"option", K_LINE},
    {"p", K_PARA},       {"plaintext", K_PRE}, {"pre", K_PRE},         {"script", K_SKIP},
    {"section", K_PARA}, {"select", K_LINE},   {"style", K_SKIP},      {"summary", K_LINE},
    {"table", K_PARA},   {"tbody", K_LINE},    {"td", K_CELL},         {"template", K_SKIP},
    {"textarea", K_PRE}, {"tfoot", K_LINE},    {"th", K_CELL},         {"thead", K_LINE},
    {"title", K_PARA},   {"tr", K_LINE},       {"ul", K_PARA},         {"xmp", K_PRE},
};

static int tag_cmp(const void *key, const void *elem)
{
    return strcasecmp(key, ((const struct tag *)elem)->name);
}

static kind tag_kind(const xmlChar *name)
{
    if (!name)
        return K_INLINE;
    const struct tag *t = bsearch(name, tags, RG_ARRAY_LEN(tags), sizeof tags[0], tag_cmp);
    return t ? t->k : K_INLINE;
}

typedef struct html_out {
    rg_buf *b;
    int nl_pending; /* line ends owed before the next text (0-2) */
    bool space_pending, line_start, any, tab_pending;
    rg_rc rc;
} html_out;

static void put(html_out *o, const char *p, size_t n)
{
    if (o->rc == RG_OK && n)
        o->rc = rg_buf_append(o->b, p, n);
}

/* Writes what is owed before the next visible character. */
static void flush_pending(html_out *o)
{
    if (o->any && o->nl_pending) {
        put(o, "\n\n", (size_t)(o->nl_pending > 2 ? 2 : o->nl_pending));
        o->line_start = true;
    } else if (o->any && o->tab_pending && !o->line_start) {
        put(o, "\t", 1);
    } else if (o->any && o->space_pending && !o->line_start) {
        put(o, " ", 1);
    }
    o->nl_pending = 0;
    o->space_pending = o->tab_pending = false;
}

static void block(html_out *o, int n)
{
    if (o->nl_pending < n)
        o->nl_pending = n;
    o->space_pending = o->tab_pending = false;
}

static bool html_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static void text(html_out *o, const char *s, size_t n, bool pre)
{
    size_t i = 0;
    while (i < n) {
        if (pre && s[i] == '\n') {
            flush_pending(o);
            put(o, "\n", 1);
            o->line_start = true;
            o->any = true;
            i++;
            continue;
        }
        if (!pre && html_space(s[i])) {
            o->space_pending = true;
            i++;
            continue;
        }
        size_t j = i;
        while (j < n && (pre ? s[j] != '\n' : !html_space(s[j])))
            j++;
        flush_pending(o);
        put(o, s + i, j - i);
        o->any = true;
        o->line_start = false;
        i = j;
    }
}

typedef struct walk_state {
    int head, title, pre;
} walk_state;

static void enter(html_out *o, walk_state *w, xmlNodePtr n, bool *descend)
{
    *descend = false;
    if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
        if (n->content && (w->head == 0 || w->title > 0))
            text(o, (const char *)n->content, strlen((const char *)n->content), w->pre > 0);
        return;
    }
    if (n->type != XML_ELEMENT_NODE)
        return;
    const char *name = (const char *)n->name;
    if (name && strcasecmp(name, "head") == 0) {
        w->head++;
        *descend = n->children != NULL;
        return;
    }
    kind k = tag_kind(n->name);
    switch (k) {
    case K_SKIP: return;
    case K_PARA: block(o, 2); break;
    case K_LINE: block(o, 1); break;
    case K_BR:
        if (o->any && o->nl_pending < 2)
            o->nl_pending++;
        o->space_pending = o->tab_pending = false;
        break;
    case K_CELL:
        if (!o->nl_pending)
            o->tab_pending = true;
        break;
    case K_PRE:
        block(o, 2);
        w->pre++;
        break;
    case K_INLINE: break;
    }
    if (name && strcasecmp(name, "title") == 0)
        w->title++;
    *descend = n->children != NULL;
}

static void leave(html_out *o, walk_state *w, xmlNodePtr n)
{
    if (n->type != XML_ELEMENT_NODE)
        return;
    const char *name = (const char *)n->name;
    if (name && strcasecmp(name, "head") == 0) {
        w->head--;
        return;
    }
    kind k = tag_kind(n->name);
    if (k == K_PARA || k == K_PRE)
        block(o, 2);
    else if (k == K_LINE)
        block(o, 1);
    if (k == K_PRE)
        w->pre--;
    if (name && strcasecmp(name, "title") == 0)
        w->title--;
}

static void walk(html_out *o, xmlDocPtr doc)
{
    walk_state w = {0, 0, 0};
    xmlNodePtr n = doc->children;
    while (n && o->rc == RG_OK) {
        bool descend;
        enter(o, &w, n, &descend);
        if (descend) {
            n = n->children;
            continue;
        }
        leave(o, &w, n); /* an element without children, or skipped (then a no-op) */
        while (n && !n->next) {
            n = n->parent;
            if (!n || n == (xmlNodePtr)doc)
                return;
            leave(o, &w, n);
        }
        if (n)
            n = n->next;
    }
}

static bool declares_charset(const char *p, size_t n)
{
    size_t lim = n < 4096 ? n : 4096;
    for (size_t i = 0; i + 7 <= lim; i++)
        if (strncasecmp(p + i, "charset", 7) == 0)
            return true;
    return false;
}

rg_rc rg_extract_html_mem(const char *p, size_t n, rg_buf *out, char *why, size_t whylen)
{
    if (n == 0) {
        rg_extract_why(why, whylen, "the file is empty");
        return RG_EINVAL;
    }
    if (n > INT32_MAX) {
        rg_extract_why(why, whylen, "the HTML file is too large");
        return RG_ETOOBIG;
    }
    rg_extract_xml_init();
    int opts = HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING | HTML_PARSE_NONET |
               HTML_PARSE_COMPACT;
    const char *enc = NULL;
    rg_buf dec;
    rg_buf_init(&dec, out->max);
    bool bom = n >= 2 && ((unsigned char)p[0] == 0xFF || (unsigned char)p[0] == 0xFE ||
                          (unsigned char)p[0] == 0x00);
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
        p += 3;
        n -= 3;
    }
    if (rg_utf8_valid(p, n)) {
        enc = "UTF-8";
        opts |= HTML_PARSE_IGNORE_ENC;
    } else if (!bom && !declares_charset(p, n)) {
        rg_rc rc = rg_extract_decode(p, n, &dec, why, whylen);
        if (rc != RG_OK) {
            rg_buf_free(&dec);
            return rc;
        }
        p = dec.p ? dec.p : "";
        n = dec.len;
        enc = "UTF-8";
        opts |= HTML_PARSE_IGNORE_ENC;
    }
    size_t from = out->len;
    htmlDocPtr doc = n ? htmlReadMemory(p, (int)n, NULL, enc, opts) : NULL;
    rg_rc rc = RG_OK;
    if (doc) {
        html_out o = {.b = out, .line_start = true};
        walk(&o, doc);
        rc = o.rc;
        xmlFreeDoc(doc);
    }
    rg_buf_free(&dec);
    if (rc != RG_OK)
        return rg_extract_out_fail(rc, out, why, whylen);
    if (!rg_extract_has_text(out->p ? out->p + from : "", out->len - from)) {
        rg_extract_why(why, whylen, "the document contains no text");
        return RG_EINVAL;
    }
    return RG_OK;
}
