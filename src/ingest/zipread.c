/*
 * zipread.c - libzip + libxml2 xmlTextReader for OOXML parts, with caps.
 *
 * Design: libzip opens the archive lazily (from the file, or a buffer for
 * the fuzzer); an entry is streamed into xmlReaderForIO through a read
 * callback that counts inflated bytes against three limits (total, ratio,
 * declared size, see zipread.h) and fails the read the moment one is
 * passed; the reason is then built from what the callback recorded rather
 * than from libxml2's generic I/O error.  Parser errors are collected by a
 * structured error handler on the reader (first error kept), so nothing is
 * printed to stderr and concurrent readers do not share state.
 * A DOCTYPE node stops the parse: OPC forbids DTDs, and stopping there means
 * no entity declared in one is ever referenced.
 */
#include "ingest/zipread.h"

#include "core/alloc.h"
#include "ingest/extract.h"
#include "ingest/extract_int.h"

#include <libxml/parser.h>
#include <stdio.h>
#include <string.h>
#include <zip.h>

struct rg_zip {
    zip_t *za;
    const char *kind;
    uint64_t total; /* bytes inflated so far, all entries */
};

static size_t knob_total;
static unsigned knob_ratio;

void rg_zip_set_limits(size_t max_total, unsigned max_ratio)
{
    knob_total = max_total;
    knob_ratio = max_ratio;
}

static uint64_t max_total(void)
{
    return knob_total ? knob_total : RG_EXTRACT_MAX_UNZIPPED;
}

static uint64_t max_ratio(void)
{
    return knob_ratio ? knob_ratio : RG_EXTRACT_MAX_ZIP_RATIO;
}

static rg_rc open_fail(const char *kind, int code, bool ole, char *why, size_t whylen)
{
    if (code == ZIP_ER_NOZIP && ole)
        rg_extract_why(why, whylen,
                       "file is not a valid %s: it is an encrypted or legacy binary Office file "
                       "(save it as .%s without a password)",
                       kind, kind[0] == 'D' ? "docx" : "xlsx");
    else if (code == ZIP_ER_NOZIP)
        rg_extract_why(why, whylen, "file is not a valid %s: not a zip archive", kind);
    else if (code == ZIP_ER_INCONS)
        rg_extract_why(why, whylen, "file is not a valid %s: the zip archive is damaged", kind);
    else {
        zip_error_t ze;
        zip_error_init_with_code(&ze, code);
        rg_extract_why(why, whylen, "file is not a valid %s: %s", kind, zip_error_strerror(&ze));
        zip_error_fini(&ze);
    }
    return RG_EINVAL;
}

static bool is_ole(const void *p, size_t n)
{
    return n >= 8 && memcmp(p, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8) == 0;
}

rg_rc rg_zip_open_file(const char *path, const char *kind, rg_zip **out, char *why, size_t whylen)
{
    int code = 0;
    zip_t *za = zip_open(path, ZIP_RDONLY, &code);
    if (!za) {
        bool ole = false;
        FILE *f = fopen(path, "rb");
        if (f) {
            unsigned char head[8];
            ole = fread(head, 1, sizeof head, f) == sizeof head && is_ole(head, sizeof head);
            fclose(f);
        }
        return open_fail(kind, code, ole, why, whylen);
    }
    rg_zip *z = rg_xcalloc(1, sizeof *z);
    z->za = za;
    z->kind = kind;
    *out = z;
    return RG_OK;
}

rg_rc rg_zip_open_mem(const void *p, size_t n, const char *kind, rg_zip **out, char *why,
                      size_t whylen)
{
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(n ? p : NULL, n, 0, &ze);
    zip_t *za = src ? zip_open_from_source(src, ZIP_RDONLY, &ze) : NULL;
    if (!za) {
        int code = zip_error_code_zip(&ze);
        zip_error_fini(&ze);
        if (src)
            zip_source_free(src);
        return open_fail(kind, code, is_ole(p, n), why, whylen);
    }
    zip_error_fini(&ze);
    rg_zip *z = rg_xcalloc(1, sizeof *z);
    z->za = za;
    z->kind = kind;
    *out = z;
    return RG_OK;
}

void rg_zip_close(rg_zip *z)
{
    if (!z)
        return;
    zip_discard(z->za);
    rg_free(z);
}

static zip_int64_t locate(rg_zip *z, const char *name)
{
    zip_int64_t i = zip_name_locate(z->za, name, 0);
    if (i < 0)
        i = zip_name_locate(z->za, name, ZIP_FL_NOCASE);
    return i;
}

bool rg_zip_has(rg_zip *z, const char *name)
{
    return locate(z, name) >= 0;
}

bool rg_zip_is(xmlTextReaderPtr r, const char *name)
{
    const xmlChar *l = xmlTextReaderConstLocalName(r);
    return l && strcmp((const char *)l, name) == 0;
}

xmlChar *rg_zip_attr(xmlTextReaderPtr r, const char *local_name)
{
    if (xmlTextReaderHasAttributes(r) != 1)
        return NULL;
    xmlChar *v = NULL;
    if (xmlTextReaderMoveToFirstAttribute(r) == 1) {
        do {
            const xmlChar *l = xmlTextReaderConstLocalName(r);
            if (l && strcmp((const char *)l, local_name) == 0) {
                v = xmlTextReaderValue(r);
                break;
            }
        } while (xmlTextReaderMoveToNextAttribute(r) == 1);
        xmlTextReaderMoveToElement(r);
    }
    return v;
}

typedef enum { OVER_NONE, OVER_TOTAL, OVER_RATIO, OVER_DECLARED, READ_ERROR } over_kind;

typedef struct entry_io {
    rg_zip *z;
    zip_file_t *f;
    uint64_t read, declared, comp;
    over_kind over;
    char zerr[128];
} entry_io;

static int io_read(void *vctx, char *buf, int len)
{
    entry_io *e = vctx;
    if (e->over != OVER_NONE || len <= 0)
        return e->over != OVER_NONE ? -1 : 0;
    zip_int64_t got = zip_fread(e->f, buf, (zip_uint64_t)len);
    if (got < 0) {
        e->over = READ_ERROR;
        snprintf(e->zerr, sizeof e->zerr, "%s", zip_file_strerror(e->f));
        return -1;
    }
    e->read += (uint64_t)got;
    e->z->total += (uint64_t)got;
    if (e->read > e->declared)
        e->over = OVER_DECLARED;
    else if (e->z->total > max_total())
        e->over = OVER_TOTAL;
    else if (e->read > RG_EXTRACT_RATIO_GRACE && e->read / max_ratio() > e->comp)
        e->over = OVER_RATIO;
    return e->over == OVER_NONE ? (int)got : -1;
}

typedef struct xml_err {
    int line;
    char msg[200];
    bool set;
} xml_err;

static void on_xml_error(void *arg, xmlErrorPtr err)
{
    xml_err *x = arg;
    if (x->set || !err)
        return;
    x->set = true;
    x->line = err->line;
    snprintf(x->msg, sizeof x->msg, "%s", err->message ? err->message : "malformed XML");
    size_t n = strlen(x->msg);
    while (n && (x->msg[n - 1] == '\n' || x->msg[n - 1] == ' '))
        x->msg[--n] = '\0';
}

static rg_rc over_reason(const char *name, over_kind k, uint64_t size, uint64_t comp, char *why,
                         size_t whylen)
{
    char a[32];
    if (k == OVER_TOTAL)
        rg_extract_why(why, whylen,
                       "archive expands beyond the limit: inflating %s takes the archive past %s "
                       "(possible zip bomb)",
                       name, rg_extract_size((size_t)max_total(), a));
    else if (k == OVER_RATIO)
        rg_extract_why(why, whylen,
                       "archive expands beyond the limit: %s is compressed more than %llu:1 "
                       "(%s compressed, possible zip bomb)",
                       name, (unsigned long long)max_ratio(), rg_extract_size((size_t)comp, a));
    else
        rg_extract_why(why, whylen,
                       "archive expands beyond the limit: %s inflates past the %s its header "
                       "declares (possible zip bomb)",
                       name, rg_extract_size((size_t)size, a));
    return RG_ETOOBIG;
}

rg_rc rg_zip_parse_xml(rg_zip *z, const char *name, rg_zip_xml_fn fn, void *ctx, char *why,
                       size_t whylen)
{
    rg_extract_xml_init();
    zip_int64_t idx = locate(z, name);
    if (idx < 0) {
        rg_extract_why(why, whylen, "file is not a valid %s: %s is missing", z->kind, name);
        return RG_EINVAL;
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z->za, (zip_uint64_t)idx, 0, &st) != 0 ||
        (st.valid & (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE)) != (ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE)) {
        rg_extract_why(why, whylen, "file is not a valid %s: %s cannot be read", z->kind, name);
        return RG_EINVAL;
    }
    /* The honest bomb: refused on its declared sizes, before inflating. */
    char a[32], b[32];
    if (st.size > max_total() - (z->total < max_total() ? z->total : max_total())) {
        rg_extract_why(why, whylen,
                       "archive expands beyond the limit: %s declares %s (limit %s in all, "
                       "possible zip bomb)",
                       name, rg_extract_size((size_t)st.size, a),
                       rg_extract_size((size_t)max_total(), b));
        return RG_ETOOBIG;
    }
    if (st.size > RG_EXTRACT_RATIO_GRACE && st.size / max_ratio() > st.comp_size)
        return over_reason(name, OVER_RATIO, st.size, st.comp_size, why, whylen);

    entry_io io = {.z = z, .declared = st.size, .comp = st.comp_size};
    io.f = zip_fopen_index(z->za, (zip_uint64_t)idx, 0);
    if (!io.f) {
        zip_error_t *ze = zip_get_error(z->za);
        int code = zip_error_code_zip(ze);
        if (code == ZIP_ER_NOPASSWD || code == ZIP_ER_ENCRNOTSUPP || code == ZIP_ER_WRONGPASSWD)
            rg_extract_why(why, whylen, "file is not a valid %s: %s is encrypted", z->kind, name);
        else
            rg_extract_why(why, whylen, "file is not a valid %s: %s cannot be read (%s)", z->kind,
                           name, zip_error_strerror(ze));
        return RG_EINVAL;
    }
    xml_err xe = {0, "", false};
    xmlTextReaderPtr r = xmlReaderForIO(io_read, NULL, &io, NULL, NULL,
                                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    rg_rc rc = RG_OK;
    if (!r) {
        rg_extract_why(why, whylen, "out of memory while reading %s", name);
        rc = RG_ENOMEM;
    } else {
        xmlTextReaderSetStructuredErrorHandler(r, on_xml_error, &xe);
        int ret;
        while ((ret = xmlTextReaderRead(r)) == 1) {
            if (xmlTextReaderNodeType(r) == XML_READER_TYPE_DOCUMENT_TYPE) {
                rg_extract_why(why, whylen,
                               "file is not a valid %s: %s contains a DTD, which OOXML forbids",
                               z->kind, name);
                rc = RG_EINVAL;
                break;
            }
            rc = fn(ctx, r);
            if (rc != RG_OK)
                break;
        }
        if (rc == RG_OK && (ret < 0 || io.over != OVER_NONE)) {
            if (io.over == READ_ERROR) {
                rg_extract_why(why, whylen, "file is not a valid %s: %s cannot be read (%s)",
                               z->kind, name, io.zerr);
                rc = RG_EINVAL;
            } else if (io.over != OVER_NONE) {
                rc = over_reason(name, io.over, io.declared, io.comp, why, whylen);
            } else {
                rg_extract_why(why, whylen, "file is not a valid %s: %s is not well-formed XML",
                               z->kind, name);
                if (xe.set)
                    rg_extract_why(why, whylen,
                                   "file is not a valid %s: %s is not well-formed XML (line %d: "
                                   "%s)",
                                   z->kind, name, xe.line, xe.msg);
                rc = RG_EINVAL;
            }
        }
        xmlFreeTextReader(r);
    }
    zip_fclose(io.f);
    return rc;
}
