/*
 * extract.c - the parsing stage's front door: file type table, dispatch to
 * one parser per format, and the guarantees every result gets.
 *
 * Design: the type comes from the declared extension, as in Dify; binary
 * formats check their own magic (pdf: "%PDF-", docx/xlsx: a zip archive).
 * Text-family formats (txt, md, html, csv, json) are read whole into memory
 * under a per-format input cap and parsed from memory; docx and xlsx are
 * opened by libzip straight from the file (it reads only what it needs); PDF
 * never enters this process: pdftotext runs in the sandbox.
 *
 * Each parser appends to a private buffer whose maximum is the smaller of the
 * caller's remaining room and RG_EXTRACT_MAX_TEXT.  rg_extract_finish() then
 * enforces what extract.h promises, whatever the parser did: well-formed
 * UTF-8 (bad bytes become U+FFFD), "\n" line ends, no NUL, and some text
 * that is not white space.  On success the private buffer is moved into the
 * caller's (no copy when the caller's is empty); on failure the caller's
 * buffer is untouched.
 *
 * Input caps (a file over its cap is refused with RG_ETOOBIG):
 *   txt, md, csv   4 x the text limit: UTF-16/32 shrink when converted, and
 *                  these are decoded in a streaming way;
 *   html           1 x the text limit: libxml2 builds a tree of the page;
 *   json           1/4 of the text limit: jansson builds the whole value,
 *                  about ten bytes of memory per byte of input at worst.
 */
#include "ingest/extract.h"

#include "core/alloc.h"
#include "core/str.h"
#include "ingest/clean.h"
#include "ingest/extract_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    const char *ext;
    rg_doctype type;
} ext_table[] = {
    {"txt", RG_DOCTYPE_TXT},     {"vtt", RG_DOCTYPE_TXT},           {"properties", RG_DOCTYPE_TXT},
    {"md", RG_DOCTYPE_MARKDOWN}, {"markdown", RG_DOCTYPE_MARKDOWN}, {"mdx", RG_DOCTYPE_MARKDOWN},
    {"html", RG_DOCTYPE_HTML},   {"htm", RG_DOCTYPE_HTML},          {"pdf", RG_DOCTYPE_PDF},
    {"docx", RG_DOCTYPE_DOCX},   {"csv", RG_DOCTYPE_CSV},           {"xlsx", RG_DOCTYPE_XLSX},
    {"json", RG_DOCTYPE_JSON},
};

static const char *const mime_table[RG_DOCTYPE_COUNT] = {
    [RG_DOCTYPE_TXT] = "text/plain",
    [RG_DOCTYPE_MARKDOWN] = "text/markdown",
    [RG_DOCTYPE_HTML] = "text/html",
    [RG_DOCTYPE_PDF] = "application/pdf",
    [RG_DOCTYPE_DOCX] = "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    [RG_DOCTYPE_CSV] = "text/csv",
    [RG_DOCTYPE_XLSX] = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    [RG_DOCTYPE_JSON] = "application/json",
};

rg_rc rg_doctype_from_ext(const char *ext, rg_doctype *out)
{
    if (!ext)
        return RG_EFILETYPE;
    if (ext[0] == '.')
        ext++;
    for (size_t i = 0; i < RG_ARRAY_LEN(ext_table); i++) {
        if (rg_str_ieq(rg_str_c(ext), rg_str_c(ext_table[i].ext))) {
            *out = ext_table[i].type;
            return RG_OK;
        }
    }
    return RG_EFILETYPE;
}

const char *rg_doctype_mime(rg_doctype t)
{
    if ((unsigned)t >= RG_DOCTYPE_COUNT)
        return "application/octet-stream";
    return mime_table[t];
}

const char *rg_doctype_supported(void)
{
    return "txt, markdown, md, mdx, pdf, html, htm, xlsx, docx, csv, json, vtt, properties";
}

/* --- shared helpers ------------------------------------------------------------------------- */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
    xmlInitParser();
}

void rg_extract_xml_init(void)
{
    pthread_once(&xml_once, xml_init);
}

void rg_extract_why(char *why, size_t whylen, const char *fmt, ...)
{
    if (!why || whylen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(why, whylen, fmt, ap);
    va_end(ap);
    if (n < 0)
        why[0] = '\0';
}

const char *rg_extract_size(size_t n, char dst[32])
{
    const size_t mb = (size_t)1 << 20;
    if (n >= mb && n % mb == 0)
        snprintf(dst, 32, "%zu MB", n / mb);
    else if (n >= mb)
        snprintf(dst, 32, "%.1f MB", (double)n / (double)mb);
    else
        snprintf(dst, 32, "%zu bytes", n);
    return dst;
}

rg_rc rg_extract_out_fail(rg_rc rc, const rg_buf *out, char *why, size_t whylen)
{
    char sz[32];
    if (rc == RG_ENOMEM)
        rg_extract_why(why, whylen, "out of memory while extracting the text");
    else {
        rc = RG_ETOOBIG;
        rg_extract_why(why, whylen, "the extracted text is larger than the limit of %s",
                       rg_extract_size(out->max, sz));
    }
    return rc;
}

/* Length of the UTF-8 sequence ending at p[n-1] (1 for a stray byte). */
static size_t last_cp_len(const char *p, size_t n)
{
    size_t k = 1;
    while (k < 4 && k < n && ((unsigned char)p[n - k] & 0xC0) == 0x80)
        k++;
    return ((unsigned char)p[n - k] & 0xC0) == 0x80 ? 1 : k;
}

void rg_extract_trim(const char **pp, size_t *pn)
{
    const char *p = *pp;
    size_t n = *pn, k;
    while (n && (k = rg_clean_space_len(p, n)) > 0) {
        p += k;
        n -= k;
    }
    while (n) {
        size_t l = last_cp_len(p, n);
        if (rg_clean_space_len(p + n - l, l) != l)
            break;
        n -= l;
    }
    *pp = p;
    *pn = n;
}

bool rg_extract_has_text(const char *p, size_t n)
{
    rg_extract_trim(&p, &n);
    return n > 0;
}

rg_rc rg_extract_finish(rg_buf *out, size_t from, char *why, size_t whylen)
{
    if (out->failed)
        return rg_extract_out_fail(RG_ETOOBIG, out, why, whylen);
    if (!out->p || from > out->len) {
        rg_extract_why(why, whylen, "the document contains no text");
        return RG_EINVAL;
    }
    if (!rg_utf8_valid(out->p + from, out->len - from)) {
        rg_buf fixed;
        rg_buf_init(&fixed, out->max);
        rg_rc rc = rg_buf_append(&fixed, out->p, from);
        if (rc == RG_OK)
            rc = rg_extract_utf8_repair_append(&fixed, out->p + from, out->len - from);
        if (rc != RG_OK) {
            rg_buf_free(&fixed);
            return rg_extract_out_fail(rc, out, why, whylen);
        }
        rg_buf_free(out);
        *out = fixed;
    }
    /* In place: the result is never longer than the input. */
    char *p = out->p;
    size_t w = from;
    bool last_cr = false;
    for (size_t r = from; r < out->len; r++) {
        char c = p[r];
        if (c == '\0')
            continue;
        if (c == '\n' && last_cr) {
            last_cr = false;
            continue;
        }
        last_cr = c == '\r';
        p[w++] = last_cr ? '\n' : c;
    }
    out->len = w;
    p[w] = '\0';
    if (!rg_extract_has_text(out->p + from, out->len - from)) {
        rg_extract_why(why, whylen, "the document contains no text");
        return RG_EINVAL;
    }
    return RG_OK;
}

/* --- files ---------------------------------------------------------------------------------- */

/* Reads the whole regular file at path into b (whose maximum must be >= cap);
 * RG_ETOOBIG when it is larger than cap. */
static rg_rc read_file(const char *path, size_t cap, rg_buf *b, char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rg_extract_why(why, whylen, "the file cannot be opened: %s", strerror(errno));
        return RG_EIO;
    }
    struct stat st;
    rg_rc rc = RG_OK;
    char sz[32];
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        rg_extract_why(why, whylen, "the file cannot be read: not a regular file");
        rc = RG_EIO;
    } else if ((uint64_t)st.st_size > cap) {
        rg_extract_why(why, whylen, "the file is larger than the limit of %s for this type",
                       rg_extract_size(cap, sz));
        rc = RG_ETOOBIG;
    } else {
        char chunk[65536];
        for (;;) {
            ssize_t got = read(fd, chunk, sizeof chunk);
            if (got < 0 && errno == EINTR)
                continue;
            if (got < 0) {
                rg_extract_why(why, whylen, "the file cannot be read: %s", strerror(errno));
                rc = RG_EIO;
                break;
            }
            if (got == 0)
                break;
            if (b->len + (size_t)got > cap) { /* grew while we read it */
                rg_extract_why(why, whylen, "the file is larger than the limit of %s for this type",
                               rg_extract_size(cap, sz));
                rc = RG_ETOOBIG;
                break;
            }
            rc = rg_buf_append(b, chunk, (size_t)got);
            if (rc != RG_OK) {
                rg_extract_why(why, whylen, "out of memory while reading the file");
                rc = RG_ENOMEM;
                break;
            }
        }
    }
    close(fd);
    return rc;
}

typedef rg_rc (*mem_parser)(const char *p, size_t n, rg_buf *out, char *why, size_t whylen);

static rg_rc extract_mem(const char *path, mem_parser parse, size_t cap, rg_buf *out, char *why,
                         size_t whylen)
{
    rg_buf in;
    rg_buf_init(&in, cap);
    rg_rc rc = read_file(path, cap, &in, why, whylen);
    if (rc == RG_OK)
        rc = parse(in.p ? in.p : "", in.len, out, why, whylen);
    rg_buf_free(&in);
    return rc;
}

static rg_rc file_size(const char *path, uint64_t *size, char *why, size_t whylen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        rg_extract_why(why, whylen, "the file cannot be opened: %s", strerror(errno));
        return RG_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        rg_extract_why(why, whylen, "the file cannot be read: not a regular file");
        return RG_EIO;
    }
    *size = (uint64_t)st.st_size;
    return RG_OK;
}

rg_rc rg_extract_file(const char *path, rg_doctype t, rg_buf *out, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    if (!path || !out || (unsigned)t >= RG_DOCTYPE_COUNT) {
        rg_extract_why(why, whylen, "internal error: bad arguments to the extractor");
        return RG_EINVAL;
    }
    size_t room = out->len < out->max ? out->max - out->len : 0;
    size_t lim = room < RG_EXTRACT_MAX_TEXT ? room : RG_EXTRACT_MAX_TEXT;

    uint64_t size;
    RG_TRY(file_size(path, &size, why, whylen));
    if (size == 0) {
        rg_extract_why(why, whylen, "the file is empty");
        return RG_EINVAL;
    }

    rg_buf text;
    rg_buf_init(&text, lim);
    rg_rc rc;
    size_t big = lim > SIZE_MAX / 4 ? SIZE_MAX : lim * 4;
    switch (t) {
    case RG_DOCTYPE_TXT:
        rc = extract_mem(path, rg_extract_text_mem, big, &text, why, whylen);
        break;
    case RG_DOCTYPE_MARKDOWN:
        rc = extract_mem(path, rg_extract_md_mem, big, &text, why, whylen);
        break;
    case RG_DOCTYPE_CSV: rc = extract_mem(path, rg_extract_csv_mem, big, &text, why, whylen); break;
    case RG_DOCTYPE_HTML:
        rc = extract_mem(path, rg_extract_html_mem, lim, &text, why, whylen);
        break;
    case RG_DOCTYPE_JSON:
        rc = extract_mem(path, rg_extract_json_mem, lim / 4, &text, why, whylen);
        break;
    case RG_DOCTYPE_PDF: rc = rg_extract_pdf_file(path, &text, why, whylen); break;
    case RG_DOCTYPE_DOCX: rc = rg_extract_docx_file(path, &text, why, whylen); break;
    case RG_DOCTYPE_XLSX: rc = rg_extract_xlsx_file(path, &text, why, whylen); break;
    default: rc = RG_EINVAL; break;
    }
    if (rc == RG_OK)
        rc = rg_extract_finish(&text, 0, why, whylen);
    if (rc != RG_OK) {
        if (why && whylen && !why[0])
            rg_extract_why(why, whylen, "the file could not be read (%s)", rg_rc_name(rc));
        rg_buf_free(&text);
        return rc;
    }
    if (out->len == 0) {
        size_t max = out->max;
        rg_buf_free(out);
        *out = text;
        out->max = max;
        return RG_OK;
    }
    rc = rg_buf_append(out, text.p, text.len);
    rg_buf_free(&text);
    if (rc != RG_OK)
        return rg_extract_out_fail(rc, out, why, whylen);
    return RG_OK;
}
