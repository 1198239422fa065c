/*
 * test_extract.c - every extractor on fixtures written at run time into a
 * mkdtemp directory: hand-made PDFs with and without a text layer, a .docx
 * and an .xlsx built with libzip, zip bombs (a real 300 MB entry, a 2 MB
 * entry compressed ~1000:1, one whose header lies about its size, and a
 * lowered total cap through the test-only rg_zip_set_limits knob), random
 * bytes under binary names, and text in UTF-16LE, GB18030 and Latin-1.
 * Text is compared exactly where the output is deterministic; failures are
 * compared by rc and by their reason.
 */
#include "harness.h"

#include "core/buf.h"
#include "core/str.h"
#include "ingest/extract.h"
#include "ingest/extract_int.h"
#include "ingest/zipread.h"

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

/* CHECK_EQ_STR with the expected text behind a short name, so that the
 * failure message (which quotes both expressions) stays within its buffer. */
#define CHECK_TEXT(got, want)                                                                      \
    do {                                                                                           \
        const char *want_ = (want);                                                                \
        CHECK_EQ_STR(got, want_);                                                                  \
    } while (0)

/* --- fixtures ------------------------------------------------------------------------------- */

static char fx_dir[64];

static const char *dir(void)
{
    if (!fx_dir[0]) {
        snprintf(fx_dir, sizeof fx_dir, "/tmp/ragd-test-extract-XXXXXX");
        if (!mkdtemp(fx_dir)) {
            perror("mkdtemp");
            abort();
        }
    }
    return fx_dir;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(p);
}

/* Removes the fixture directory at exit. */
__attribute__((destructor)) static void fx_cleanup(void)
{
    if (fx_dir[0])
        nftw(fx_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *fx_path(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir(), name);
    return path;
}

static const char *write_fx(const char *name, const void *p, size_t n)
{
    const char *path = fx_path(name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n)) {
        perror(path);
        abort();
    }
    fclose(f);
    return path;
}

static const char *write_fxz(const char *name, const char *z)
{
    return write_fx(name, z, strlen(z));
}

typedef struct result {
    rg_rc rc;
    char why[512];
    rg_buf text;
} result;

static result *run(const char *path, rg_doctype t)
{
    static result r;
    rg_buf_free(&r.text);
    rg_buf_init(&r.text, RG_EXTRACT_MAX_TEXT);
    memset(r.why, 'x', sizeof r.why);
    r.rc = rg_extract_file(path, t, &r.text, r.why, sizeof r.why);
    return &r;
}

static const char *text_of(const result *r)
{
    return r->text.p ? r->text.p : "";
}

/* Deterministic noise (xorshift64*). */
static void noise(unsigned char *p, size_t n, uint64_t seed)
{
    uint64_t x = seed | 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        p[i] = (unsigned char)((x * 2685821657736338717ull) >> 56);
    }
}

/* --- doctype table -------------------------------------------------------------------------- */

TEST(extract_doctype_table)
{
    rg_doctype t;
    CHECK(rg_doctype_from_ext("MD", &t) == RG_OK && t == RG_DOCTYPE_MARKDOWN);
    CHECK(rg_doctype_from_ext("mdx", &t) == RG_OK && t == RG_DOCTYPE_MARKDOWN);
    CHECK(rg_doctype_from_ext("markdown", &t) == RG_OK && t == RG_DOCTYPE_MARKDOWN);
    CHECK(rg_doctype_from_ext("htm", &t) == RG_OK && t == RG_DOCTYPE_HTML);
    CHECK(rg_doctype_from_ext(".Pdf", &t) == RG_OK && t == RG_DOCTYPE_PDF);
    CHECK(rg_doctype_from_ext("docx", &t) == RG_OK && t == RG_DOCTYPE_DOCX);
    CHECK(rg_doctype_from_ext("XLSX", &t) == RG_OK && t == RG_DOCTYPE_XLSX);
    CHECK(rg_doctype_from_ext("csv", &t) == RG_OK && t == RG_DOCTYPE_CSV);
    CHECK(rg_doctype_from_ext("json", &t) == RG_OK && t == RG_DOCTYPE_JSON);
    CHECK(rg_doctype_from_ext("txt", &t) == RG_OK && t == RG_DOCTYPE_TXT);
    CHECK(rg_doctype_from_ext("doc", &t) == RG_EFILETYPE);
    CHECK(rg_doctype_from_ext("xls", &t) == RG_EFILETYPE);
    CHECK(rg_doctype_from_ext("", &t) == RG_EFILETYPE);
    CHECK(rg_doctype_from_ext(NULL, &t) == RG_EFILETYPE);
    CHECK_TEXT(rg_doctype_mime(RG_DOCTYPE_PDF), "application/pdf");
    CHECK_TEXT(rg_doctype_mime(RG_DOCTYPE_MARKDOWN), "text/markdown");
    for (int i = 0; i < RG_DOCTYPE_COUNT; i++)
        CHECK(rg_doctype_mime((rg_doctype)i) != NULL);
    CHECK(strstr(rg_doctype_supported(), "docx") != NULL);
}

/* --- txt ------------------------------------------------------------------------------------ */

TEST(extract_txt_utf16le_bom)
{
    static const char b[] = "\xff\xfe\x48\x00\xe9\x00\x6c\x00\x6c\x00\x6f\x00\x0d\x00\x0a\x00\x57"
                            "\x00\xf6\x00\x72\x00\x6c\x00\x64\x00\x20\x00\x2d\x4e\x87\x65\x0d\x00"
                            "\x0a\x00";
    result *r = run(write_fx("u16.txt", b, sizeof b - 1), RG_DOCTYPE_TXT);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "H\xc3\xa9llo\nW\xc3\xb6rld \xe4\xb8\xad\xe6\x96\x87\n");
}

TEST(extract_txt_utf16be_bom)
{
    static const char b[] = "\xfe\xff\x00h\x00i\x00\r\x00\n\x4e\x2d";
    result *r = run(write_fx("u16be.txt", b, sizeof b - 1), RG_DOCTYPE_TXT);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "hi\n\xe4\xb8\xad");
}

TEST(extract_txt_gb18030)
{
    static const char b[] =
        "\xd6\xd0\xce\xc4\xb2\xe2\xca\xd4\xa3\xba\xd5\xe2\xca\xc7\xd2\xbb\xb8\xf6\xbc\xf2\xb5\xa5"
        "\xb5\xc4\xce\xc4\xb1\xbe\xce\xc4\xbc\xfe\xa3\xac\xd3\xc3\xd3\xda\xbc\xec\xb2\xe2\xd7\xd6"
        "\xb7\xfb\xbc\xaf\xa1\xa3\x0a";
    result *r = run(write_fx("gb.txt", b, sizeof b - 1), RG_DOCTYPE_TXT);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "中文测试：这是一个简单的文本文件，用于检测字符集。\n");
}

TEST(extract_txt_latin1)
{
    static const char b[] = "Caf\xe9 cr\xe8me br\xfbl\xe9"
                            "e, na\xefve fa\xe7"
                            "ade. Voil\xe0!\n";
    result *r = run(write_fx("l1.txt", b, sizeof b - 1), RG_DOCTYPE_TXT);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "Café crème brûlée, naïve façade. Voilà!\n");
    /* Too short for statistics: the fallback chain ends at windows-1252. */
    r = run(write_fxz("short.txt", "r\xe9sum\xe9\n"), RG_DOCTYPE_TXT);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "résumé\n");
}

TEST(extract_txt_newlines_nul_bom)
{
    static const char b[] = "a\r\nb\rc\0d\n\r\r\n";
    result *r = run(write_fx("crlf.txt", b, sizeof b - 1), RG_DOCTYPE_TXT);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "a\nb\ncd\n\n\n");
    CHECK_EQ_INT(r->text.len, 9);
    r = run(write_fxz("bom8.txt", "\xEF\xBB\xBFhi\r\n"), RG_DOCTYPE_TXT);
    CHECK_TEXT(text_of(r), "hi\n");
    /* a UTF-8 BOM with broken bytes after it: repaired, not re-detected */
    r = run(write_fxz("bom8bad.txt", "\xEF\xBB\xBFok \xff!"), RG_DOCTYPE_TXT);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "ok \xEF\xBF\xBD!");
}

TEST(extract_txt_empty)
{
    result *r = run(write_fx("empty.txt", "", 0), RG_DOCTYPE_TXT);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "the file is empty");
    r = run(write_fxz("blank.txt", " \r\n\t\n\xe3\x80\x80"), RG_DOCTYPE_TXT);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "the document contains no text");
    r = run(fx_path("does-not-exist.txt"), RG_DOCTYPE_TXT);
    CHECK_EQ_INT(r->rc, RG_EIO);
    CHECK(strncmp(r->why, "the file cannot be opened", 25) == 0);
}

TEST(extract_limit_and_append)
{
    /* a text file may be 4x the text limit (UTF-16/32 shrink) */
    char big[100];
    memset(big, 'a', sizeof big);
    const char *path = write_fx("limit.txt", big, sizeof big);
    rg_buf b;
    rg_buf_init(&b, 16);
    char why[200];
    CHECK_EQ_INT(rg_extract_file(path, RG_DOCTYPE_TXT, &b, why, sizeof why), RG_ETOOBIG);
    CHECK_TEXT(why, "the file is larger than the limit of 64 bytes for this type");
    CHECK_EQ_INT(b.len, 0);
    rg_buf_free(&b);
    path = write_fxz("limit.md", "# 0123456789abcdef0123456789");
    rg_buf_init(&b, 16);
    CHECK_EQ_INT(rg_extract_file(path, RG_DOCTYPE_MARKDOWN, &b, why, sizeof why), RG_ETOOBIG);
    CHECK_TEXT(why, "the extracted text is larger than the limit of 16 bytes");
    rg_buf_free(&b);
    /* a non-empty buffer is appended to, and left alone on failure */
    rg_buf_init(&b, 100);
    CHECK(rg_buf_puts(&b, "pre:") == RG_OK);
    CHECK_EQ_INT(rg_extract_file(write_fxz("app.txt", "tail"), RG_DOCTYPE_TXT, &b, why, sizeof why),
                 RG_OK);
    CHECK_TEXT(b.p, "pre:tail");
    CHECK_EQ_INT(rg_extract_file(fx_path("empty.txt"), RG_DOCTYPE_TXT, &b, why, sizeof why),
                 RG_EINVAL);
    CHECK_TEXT(b.p, "pre:tail");
    rg_buf_free(&b);
}

TEST(extract_finish_repairs)
{
    rg_buf b;
    rg_buf_init(&b, 100);
    CHECK(rg_buf_append(&b, "a\xC0\xAF\r\nb\0c\xED\xA0\x80", 12) == RG_OK);
    char why[100];
    CHECK_EQ_INT(rg_extract_finish(&b, 0, why, sizeof why), RG_OK);
    CHECK(rg_utf8_valid(b.p, b.len));
    CHECK_TEXT(b.p, "a\xEF\xBF\xBD\xEF\xBF\xBD\nbc\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");
    rg_buf_free(&b);
}

/* --- markdown ------------------------------------------------------------------------------- */

TEST(extract_md_sections)
{
    const char *md = "Intro <b>bold</b> text\n"
                     "\n"
                     "# Title One\n"
                     "Body one\n"
                     "```python\n"
                     "# not a heading\n"
                     "```\n"
                     "## Sub <i>x</i> C#\n"
                     "<p>para</p> a < b\n"
                     "#nospace is body\n"
                     "### Empty\n"
                     "#\tTabbed\n"
                     "last\n";
    result *r = run(write_fxz("doc.md", md), RG_DOCTYPE_MARKDOWN);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "Intro bold text\n\n"
                           "Title One\nBody one\n```python\n# not a heading\n```\n\n"
                           "Sub <i>x</i> C\npara a < b\n#nospace is body\n\n"
                           "Empty\n\n"
                           "Tabbed\nlast");
    r = run(write_fxz("unclosed.mdx", "```\n# inside\n"), RG_DOCTYPE_MARKDOWN);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "```\n# inside");
    r = run(write_fxz("tags.md", "<div></div>\n\n"), RG_DOCTYPE_MARKDOWN);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "the document contains no text");
}

/* --- html ----------------------------------------------------------------------------------- */

TEST(extract_html_visible_text)
{
    const char *html =
        "<!DOCTYPE html><html><head><title>The  Title</title><meta charset=\"utf-8\">"
        "<style>p { color: red }</style><script>var x = '<p>no</p>';</script></head>"
        "<body><h1>Head</h1><p>Para  one\n   two &amp; caf\xc3\xa9</p>"
        "<div>Line<br>Next</div><noscript>ns</noscript><template><p>tt</p></template>"
        "<ul><li>a</li><li>b <b>bold</b></li></ul>"
        "<table><tr><td>c1</td><td>c2</td></tr><tr><td>d1</td><td>d2</td></tr></table>"
        "<pre>x  y\n  z</pre>tail<!-- comment --></body></html>";
    result *r = run(write_fxz("page.html", html), RG_DOCTYPE_HTML);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "The Title\n\nHead\n\nPara one two & café\n\nLine\nNext\n\na\nb "
                           "bold\n\nc1\tc2\nd1\td2\n\nx  y\n  z\n\ntail");
}

TEST(extract_html_charsets)
{
    /* declared in a meta: libxml2 honours it */
    result *r = run(write_fxz("l1.htm", "<html><head><meta charset=\"iso-8859-1\"></head>"
                                        "<body><p>Caf\xe9</p></body></html>"),
                    RG_DOCTYPE_HTML);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "Café");
    /* valid UTF-8 wins over a wrong declaration */
    r = run(write_fxz("lie.htm", "<meta charset=\"iso-8859-1\"><p>Caf\xc3\xa9</p>"),
            RG_DOCTYPE_HTML);
    CHECK_TEXT(text_of(r), "Café");
    /* undeclared legacy bytes: detected */
    r = run(write_fxz("gb.htm",
                      "<p>\xd6\xd0\xce\xc4\xb2\xe2\xca\xd4\xa3\xba\xd5\xe2\xca\xc7\xd2\xbb"
                      "\xb8\xf6\xbc\xf2\xb5\xa5\xb5\xc4\xce\xc4\xb1\xbe\xce\xc4\xbc\xfe</p>"),
            RG_DOCTYPE_HTML);
    CHECK_TEXT(text_of(r), "中文测试：这是一个简单的文本文件");
    r = run(write_fxz("empty.html", "<html><head><script>x</script></head><body> </body></html>"),
            RG_DOCTYPE_HTML);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "the document contains no text");
}

/* --- csv ------------------------------------------------------------------------------------ */

TEST(extract_csv_rfc4180)
{
    const char *csv = "\xEF\xBB\xBFname,\"note\" ,,extra\r\n"
                      "Ada,\"said \"\"hi\"\"\r\nthen, left\",x\r\n"
                      "\r\n"
                      "Bob , plain ,,y,z\r\n"
                      ",,,\r\n"
                      "\"q\"tail,\"\"\n"
                      "Eve";
    result *r = run(write_fxz("data.csv", csv), RG_DOCTYPE_CSV);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "name: Ada;note: said \"hi\"\nthen, left;Unnamed: 2: x;extra: \n\n"
                           "name: Bob;note: plain;Unnamed: 2: ;extra: y;Unnamed: 4: z\n\n"
                           "name: qtail;note: ;Unnamed: 2: ;extra: \n\n"
                           "name: Eve;note: ;Unnamed: 2: ;extra: ");
    r = run(write_fxz("open.csv", "a,b\n1,\"2\n3,4\n"), RG_DOCTYPE_CSV);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why,
               "the CSV file has a quoted field that is never closed (it starts on line 2)");
    r = run(write_fxz("head.csv", "a,b\n\n"), RG_DOCTYPE_CSV);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "the CSV file has a header row but no data rows");
}

/* --- json ----------------------------------------------------------------------------------- */

TEST(extract_json_paths)
{
    const char *js = "{\"name\": \"Ada\", \"tags\": [\"math\", \"poetry\"], "
                     "\"jobs\": [{\"at\": \"X\", \"years\": 2}, {\"at\": \"Y\", \"rate\": 0.1}],"
                     "\"mixed\": [1, {\"k\": null}], \"ok\": true, \"empty\": {}, \"big\": "
                     "123456789012345678901234567890, \"nested\": {\"a\": {\"b\": [[1, 2], []]}}}";
    result *r = run(write_fxz("d.json", js), RG_DOCTYPE_JSON);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "name: Ada\ntags: math, poetry\njobs[0].at: X\njobs[0].years: 2\n"
                           "jobs[1].at: Y\njobs[1].rate: 0.1\nmixed[0]: 1\nmixed[1].k: null\n"
                           "ok: true\nbig: 1.2345678901234568e+29\nnested.a.b[0]: 1, 2");
    r = run(write_fxz("s.json", "\"just text\""), RG_DOCTYPE_JSON);
    CHECK_TEXT(text_of(r), "just text");
    r = run(write_fxz("bad.json", "{\"a\": 1,\n \"b\": }"), RG_DOCTYPE_JSON);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK(strncmp(r->why, "invalid JSON at line 2, column 7: ", 34) == 0);
    r = run(write_fxz("e.json", "{\"a\": [], \"b\": {}}"), RG_DOCTYPE_JSON);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "the document contains no text");
}

/* --- pdf ------------------------------------------------------------------------------------ */

/* Writes a PDF with one page per content stream, Helvetica as F1, and a
 * correct cross-reference table. */
static const char *make_pdf(const char *name, const char *const *pages, int npages)
{
    static char pdf[8192];
    size_t off[32];
    int nobj = 4 + 2 * npages, n = 0;
    n += snprintf(pdf + n, sizeof pdf - (size_t)n, "%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n");
    off[1] = (size_t)n;
    n += snprintf(pdf + n, sizeof pdf - (size_t)n,
                  "1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    off[2] = (size_t)n;
    n += snprintf(pdf + n, sizeof pdf - (size_t)n, "2 0 obj\n<< /Type /Pages /Kids [");
    for (int i = 0; i < npages; i++)
        n += snprintf(pdf + n, sizeof pdf - (size_t)n, "%d 0 R ", 4 + 2 * i);
    n += snprintf(pdf + n, sizeof pdf - (size_t)n, "] /Count %d >>\nendobj\n", npages);
    off[3] = (size_t)n;
    n += snprintf(pdf + n, sizeof pdf - (size_t)n,
                  "3 0 obj\n<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>\nendobj\n");
    for (int i = 0; i < npages; i++) {
        int page = 4 + 2 * i, content = page + 1;
        off[page] = (size_t)n;
        n += snprintf(pdf + n, sizeof pdf - (size_t)n,
                      "%d 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
                      "/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>\nendobj\n",
                      page, content);
        off[content] = (size_t)n;
        n += snprintf(pdf + n, sizeof pdf - (size_t)n,
                      "%d 0 obj\n<< /Length %zu >>\nstream\n%s\nendstream\nendobj\n", content,
                      strlen(pages[i]), pages[i]);
    }
    size_t xref = (size_t)n;
    n += snprintf(pdf + n, sizeof pdf - (size_t)n, "xref\n0 %d\n0000000000 65535 f \n", nobj);
    for (int i = 1; i < nobj; i++)
        n += snprintf(pdf + n, sizeof pdf - (size_t)n, "%010zu 00000 n \n", off[i]);
    n += snprintf(pdf + n, sizeof pdf - (size_t)n,
                  "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%zu\n%%%%EOF\n", nobj, xref);
    return write_fx(name, pdf, (size_t)n);
}

/* A PDF whose standard security handler rejects the empty user password. */
static const char *make_encrypted_pdf(const char *name)
{
    static const char *const objs[] = {
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        "<< /Length 10 >>\nstream\n0123456789\nendstream",
        "<< /Filter /Standard /V 1 /R 2 /P -4 "
        "/O <1111111111111111111111111111111111111111111111111111111111111111> "
        "/U <2222222222222222222222222222222222222222222222222222222222222222> >>",
    };
    static char pdf[4096];
    size_t off[6];
    int n = snprintf(pdf, sizeof pdf, "%%PDF-1.4\n");
    for (int i = 0; i < 5; i++) {
        off[i] = (size_t)n;
        n += snprintf(pdf + n, sizeof pdf - (size_t)n, "%d 0 obj\n%s\nendobj\n", i + 1, objs[i]);
    }
    size_t xref = (size_t)n;
    n += snprintf(pdf + n, sizeof pdf - (size_t)n, "xref\n0 6\n0000000000 65535 f \n");
    for (int i = 0; i < 5; i++)
        n += snprintf(pdf + n, sizeof pdf - (size_t)n, "%010zu 00000 n \n", off[i]);
    n += snprintf(pdf + n, sizeof pdf - (size_t)n,
                  "trailer\n<< /Size 6 /Root 1 0 R /Encrypt 5 0 R /ID "
                  "[<00112233445566778899aabbccddeeff> <00112233445566778899aabbccddeeff>] >>\n"
                  "startxref\n%zu\n%%%%EOF\n",
                  xref);
    return write_fx(name, pdf, (size_t)n);
}

TEST(extract_pdf_text_layer)
{
    const char *pages[] = {"BT /F1 24 Tf 72 700 Td (Hello PDF) Tj ET",
                           "0 0 m 100 100 l S", /* a page with no text: dropped */
                           "BT /F1 12 Tf 72 700 Td (Second page) Tj 0 -20 Td (line two) Tj ET"};
    result *r = run(make_pdf("two.pdf", pages, 3), RG_DOCTYPE_PDF);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "Hello PDF\n\nSecond page\nline two");
}

TEST(extract_pdf_failures)
{
    const char *blank[] = {"0 0 m 100 100 l S"};
    result *r = run(make_pdf("scan.pdf", blank, 1), RG_DOCTYPE_PDF);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "PDF has no text layer (scanned image?)");

    unsigned char junk[4096];
    noise(junk, sizeof junk, 42);
    r = run(write_fx("junk.pdf", junk, sizeof junk), RG_DOCTYPE_PDF);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "file is not a valid PDF: it has no %PDF- header");

    r = run(write_fxz("broken.pdf", "%PDF-1.7\nthis is not really a pdf\n"), RG_DOCTYPE_PDF);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK(strncmp(r->why, "file is not a valid PDF: ", 25) == 0);
    CHECK(strlen(r->why) < 260);

    r = run(make_encrypted_pdf("locked.pdf"), RG_DOCTYPE_PDF);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "the PDF is encrypted (password protected)");

    rg_extract_pdf_set_program("/nonexistent/bin/pdftotext");
    r = run(fx_path("two.pdf"), RG_DOCTYPE_PDF);
    rg_extract_pdf_set_program(NULL);
    CHECK_EQ_INT(r->rc, RG_EIO);
    CHECK_TEXT(r->why, "pdftotext is not installed (apt-get install poppler-utils)");
}

/* --- zip fixtures --------------------------------------------------------------------------- */

typedef struct zentry {
    const char *name;
    const void *data;
    size_t len;
    bool store;
} zentry;

static const char *make_zip(const char *name, const zentry *e, size_t n)
{
    const char *path = fx_path(name);
    int err;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!za)
        abort();
    for (size_t i = 0; i < n; i++) {
        zip_source_t *src = zip_source_buffer(za, e[i].data, e[i].len, 0);
        zip_int64_t idx = src ? zip_file_add(za, e[i].name, src, ZIP_FL_ENC_UTF_8) : -1;
        if (idx < 0)
            abort();
        zip_set_file_compression(za, (zip_uint64_t)idx, e[i].store ? ZIP_CM_STORE : ZIP_CM_DEFLATE,
                                 0);
    }
    if (zip_close(za) != 0)
        abort();
    return path;
}

#define W                                                                                          \
    "xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\" "                    \
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\" "             \
    "xmlns:mc=\"http://schemas.openxmlformats.org/markup-compatibility/2006\""

static const char docx_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n"
    "<w:document " W "><w:body>"
    "<w:p><w:pPr><w:tabs><w:tab w:val=\"left\" w:pos=\"720\"/></w:tabs></w:pPr>"
    "<w:r><w:t>Hello</w:t><w:tab/><w:t xml:space=\"preserve\">World </w:t></w:r>"
    "<w:r><w:br/><w:t>Line2</w:t></w:r><w:r><w:delText>gone</w:delText></w:r></w:p>"
    "<w:p/>"
    "<w:p><w:r><w:t>See </w:t></w:r><w:hyperlink r:id=\"rId9\"><w:r><w:t>the site</w:t></w:r>"
    "</w:hyperlink><w:r><mc:AlternateContent><mc:Choice><w:t>choice</w:t></mc:Choice>"
    "<mc:Fallback><w:t>fallback</w:t></mc:Fallback></mc:AlternateContent></w:r></w:p>"
    "<w:tbl><w:tblGrid><w:gridCol/><w:gridCol/></w:tblGrid>"
    "<w:tr><w:tc><w:p><w:r><w:t>A</w:t></w:r></w:p></w:tc>"
    "<w:tc><w:p><w:r><w:t>B</w:t></w:r></w:p></w:tc></w:tr>"
    "<w:tr><w:tc><w:p><w:r><w:t>1</w:t></w:r></w:p><w:p><w:r><w:t>1</w:t></w:r></w:p>"
    "<w:p><w:r><w:t>x</w:t><w:br/><w:t>y</w:t></w:r></w:p></w:tc>"
    "<w:tc><w:p><w:r><w:t>2</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    "<w:tbl><w:tr><w:tc><w:tcPr><w:gridSpan w:val=\"2\"/></w:tcPr><w:p><w:r><w:t>wide</w:t>"
    "</w:r></w:p></w:tc></w:tr><w:tr><w:tc><w:tcPr><w:vMerge w:val=\"restart\"/></w:tcPr><w:p>"
    "<w:r><w:t>m</w:t></w:r></w:p></w:tc><w:tc><w:p/></w:tc></w:tr><w:tr><w:tc><w:tcPr>"
    "<w:vMerge/></w:tcPr><w:p/></w:tc><w:tc><w:p><w:r><w:t>z</w:t></w:r></w:p></w:tc></w:tr>"
    "</w:tbl>"
    "<w:p><w:r><w:t>End</w:t></w:r></w:p><w:sectPr/></w:body></w:document>";

static const char docx_rels[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Relationships "
    "xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId1\" Type=\"x/styles\" Target=\"styles.xml\"/>"
    "<Relationship Id=\"rId9\" Type=\"x/hyperlink\" Target=\"https://example.com/a\" "
    "TargetMode=\"External\"/></Relationships>";

static const char content_types[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Types "
    "xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\"/>";

TEST(extract_docx_paragraphs_and_tables)
{
    zentry e[] = {{"[Content_Types].xml", content_types, sizeof content_types - 1, false},
                  {"word/document.xml", docx_xml, sizeof docx_xml - 1, false},
                  {"word/_rels/document.xml.rels", docx_rels, sizeof docx_rels - 1, false}};
    result *r = run(make_zip("doc.docx", e, 3), RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "Hello\tWorld \nLine2\n"
                           "\n\n"
                           "See [the site](https://example.com/a)choice\n"
                           "| A | B |\n| --- | --- |\n| 1 x y | 2 |\n"
                           "| wide |  |\n| --- | --- |\n| m |  |\n| m | z |\n"
                           "End");
    /* the same from memory, as the fuzzer reads it */
    rg_buf b;
    rg_buf_init(&b, 1 << 20);
    char why[256];
    FILE *f = fopen(fx_path("doc.docx"), "rb");
    static char zipbytes[65536];
    size_t n = fread(zipbytes, 1, sizeof zipbytes, f);
    fclose(f);
    CHECK_EQ_INT(rg_extract_docx_mem(zipbytes, n, &b, why, sizeof why), RG_OK);
    CHECK_TEXT(b.p, text_of(r));
    rg_buf_free(&b);
}

TEST(extract_docx_invalid)
{
    unsigned char junk[4096];
    noise(junk, sizeof junk, 7);
    result *r = run(write_fx("junk.docx", junk, sizeof junk), RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "file is not a valid DOCX: not a zip archive");

    r = run(write_fx("ole.docx", "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0\0\0\0\0", 16),
            RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK(strncmp(r->why, "file is not a valid DOCX: it is an encrypted or legacy", 54) == 0);

    zentry other[] = {{"word/other.xml", "<a/>", 4, false}};
    r = run(make_zip("nodoc.docx", other, 1), RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "file is not a valid DOCX: word/document.xml is missing");

    static const char bad[] = "<w:document " W "><w:body><w:p></w:body></w:document>";
    zentry e[] = {{"word/document.xml", bad, sizeof bad - 1, false}};
    r = run(make_zip("bad.docx", e, 1), RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK(strncmp(r->why,
                  "file is not a valid DOCX: word/document.xml is not well-formed XML (line 1: ",
                  75) == 0);

    static const char dtd[] = "<!DOCTYPE d [<!ENTITY a \"aaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>"
                              "<w:document " W "><w:body><w:p><w:r><w:t>&b;</w:t></w:r></w:p>"
                              "</w:body></w:document>";
    zentry d[] = {{"word/document.xml", dtd, sizeof dtd - 1, false}};
    r = run(make_zip("dtd.docx", d, 1), RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "file is not a valid DOCX: word/document.xml contains a DTD, which OOXML "
                       "forbids");

    static const char notext[] = "<w:document " W "><w:body><w:p/><w:p><w:r><w:t> </w:t></w:r>"
                                 "</w:p></w:body></w:document>";
    zentry nt[] = {{"word/document.xml", notext, sizeof notext - 1, false}};
    r = run(make_zip("notext.docx", nt, 1), RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "the document contains no text");
}

/* libzip source that produces `total` zero bytes without holding them. */
typedef struct zeros {
    zip_uint64_t total, pos;
} zeros;

static zip_int64_t zeros_cb(void *ud, void *data, zip_uint64_t len, zip_source_cmd_t cmd)
{
    zeros *z = ud;
    switch (cmd) {
    case ZIP_SOURCE_OPEN: z->pos = 0; return 0;
    case ZIP_SOURCE_READ: {
        zip_uint64_t n = z->total - z->pos < len ? z->total - z->pos : len;
        memset(data, 0, n);
        z->pos += n;
        return (zip_int64_t)n;
    }
    case ZIP_SOURCE_CLOSE: return 0;
    case ZIP_SOURCE_STAT: {
        zip_stat_t *st = data;
        zip_stat_init(st);
        st->size = z->total;
        st->valid |= ZIP_STAT_SIZE;
        return sizeof *st;
    }
    case ZIP_SOURCE_ERROR: return 2 * sizeof(int);
    case ZIP_SOURCE_FREE: return 0;
    case ZIP_SOURCE_SUPPORTS:
        return zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ, ZIP_SOURCE_CLOSE,
                                              ZIP_SOURCE_STAT, ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE,
                                              -1);
    default: return -1;
    }
}

static const char *make_zero_zip(const char *name, const char *entry, zip_uint64_t size)
{
    const char *path = fx_path(name);
    int err;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    static zeros z;
    z.total = size;
    zip_source_t *src = za ? zip_source_function(za, zeros_cb, &z) : NULL;
    zip_int64_t idx = src ? zip_file_add(za, entry, src, 0) : -1;
    if (idx < 0)
        abort();
    zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_DEFLATE, 1);
    if (zip_close(za) != 0)
        abort();
    return path;
}

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

TEST(extract_docx_zip_bombs)
{
    /* 300 MB of zeros: refused on the declared size, nothing inflated */
    result *r = run(make_zero_zip("bomb.docx", "word/document.xml", (zip_uint64_t)300 << 20),
                    RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_ETOOBIG);
    CHECK_TEXT(r->why, "archive expands beyond the limit: word/document.xml declares 300 MB "
                       "(limit 256 MB in all, possible zip bomb)");
    unlink(fx_path("bomb.docx"));

    /* 2 MB of zeros, honest header: the ratio */
    r = run(make_zero_zip("ratio.docx", "word/document.xml", (zip_uint64_t)2 << 20),
            RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_ETOOBIG);
    CHECK(strncmp(r->why,
                  "archive expands beyond the limit: word/document.xml is compressed more "
                  "than 200:1",
                  80) == 0);

    /* the same entry with sizes patched to 1000 bytes in both headers: caught while reading */
    FILE *f = fopen(fx_path("ratio.docx"), "rb");
    static unsigned char zb[1 << 16];
    size_t n = fread(zb, 1, sizeof zb, f);
    fclose(f);
    CHECK(n > 100 && n < sizeof zb);
    bool patched_local = false, patched_central = false;
    for (size_t i = 0; i + 46 < n; i++) {
        if (!patched_local && memcmp(zb + i, "PK\3\4", 4) == 0) {
            put_le32(zb + i + 22, 1000);
            patched_local = true;
        } else if (memcmp(zb + i, "PK\1\2", 4) == 0) {
            put_le32(zb + i + 24, 1000);
            patched_central = true;
        }
    }
    CHECK(patched_local && patched_central);
    r = run(write_fx("liar.docx", zb, n), RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_ETOOBIG);
    CHECK_TEXT(r->why, "archive expands beyond the limit: word/document.xml inflates past the "
                       "1000 bytes its header declares (possible zip bomb)");

    /* the total cap, lowered through the test knob: an honest, stored entry */
    static char big[100000];
    size_t k = (size_t)snprintf(big, sizeof big, "<w:document " W "><w:body><w:p><w:r><w:t>");
    noise((unsigned char *)big + k, 90000, 3);
    for (size_t i = k; i < k + 90000; i++)
        big[i] = (char)('a' + (unsigned char)big[i] % 26);
    k += 90000;
    k += (size_t)snprintf(big + k, sizeof big - k, "</w:t></w:r></w:p></w:body></w:document>");
    zentry e[] = {{"word/document.xml", big, k, true}};
    const char *path = make_zip("total.docx", e, 1);
    rg_zip_set_limits(65536, 0);
    r = run(path, RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_ETOOBIG);
    CHECK(strncmp(r->why, "archive expands beyond the limit: word/document.xml declares", 60) == 0);
    rg_zip_set_limits(0, 0);
    r = run(path, RG_DOCTYPE_DOCX);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_EQ_INT(r->text.len, 90000);
}

/* --- xlsx ----------------------------------------------------------------------------------- */

#define S                                                                                          \
    "xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" "                         \
    "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\""

static const char wb_xml[] =
    "<workbook " S "><sheets><sheet name=\"People\" sheetId=\"1\" r:id=\"rId2\"/>"
    "<sheet name=\"Empty\" sheetId=\"2\" r:id=\"rId3\"/></sheets></workbook>";
static const char wb_rels[] =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Id=\"rId2\" "
    "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" "
    "Target=\"worksheets/sheet1.xml\"/>"
    "<Relationship Id=\"rId3\" "
    "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" "
    "Target=\"/xl/worksheets/../worksheets/sheet2.xml\"/>"
    "<Relationship Id=\"rId4\" "
    "Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" "
    "Target=\"sharedStrings.xml\"/></Relationships>";
static const char sst_xml[] =
    "<sst " S " count=\"5\" uniqueCount=\"5\"><si><t>Name</t></si><si><t>Age</t></si>"
    "<si><r><t>Ada </t></r><r><t>Lovelace</t></r><rPh><t>ignored</t></rPh></si>"
    "<si><t>Bob</t></si><si/></sst>";
static const char sheet1_xml[] =
    "<worksheet " S "><sheetData>"
    "<row r=\"1\"><c r=\"A1\" t=\"s\"><v>0</v></c><c r=\"B1\" t=\"s\"><v>1</v></c>"
    "<c r=\"C1\" t=\"inlineStr\"><is><t>Member</t></is></c></row>"
    "<row r=\"2\"><c r=\"A2\" t=\"s\"><v>2</v></c><c r=\"B2\"><v>36</v></c>"
    "<c r=\"C2\" t=\"b\"><v>1</v></c><c r=\"E2\"><f>1+1</f><v>2</v></c></row>"
    "<row r=\"3\"/>"
    "<row r=\"4\"><c r=\"A4\" t=\"s\"><v>3</v></c><c r=\"B4\" t=\"s\"><v>4</v></c>"
    "<c r=\"C4\" t=\"b\"><v>0</v></c></row>"
    "</sheetData></worksheet>";
static const char sheet2_xml[] = "<worksheet " S "><sheetData/></worksheet>";

TEST(extract_xlsx_rows)
{
    zentry e[] = {{"xl/workbook.xml", wb_xml, sizeof wb_xml - 1, false},
                  {"xl/_rels/workbook.xml.rels", wb_rels, sizeof wb_rels - 1, false},
                  {"xl/sharedStrings.xml", sst_xml, sizeof sst_xml - 1, false},
                  {"xl/worksheets/sheet1.xml", sheet1_xml, sizeof sheet1_xml - 1, false},
                  {"xl/worksheets/sheet2.xml", sheet2_xml, sizeof sheet2_xml - 1, false}};
    result *r = run(make_zip("book.xlsx", e, 5), RG_DOCTYPE_XLSX);
    CHECK_EQ_INT(r->rc, RG_OK);
    CHECK_TEXT(text_of(r), "\"Name\":\"Ada Lovelace\";\"Age\":\"36\";\"Member\":\"True\";"
                           "\"None\":\"2\"\n\n"
                           "\"Name\":\"Bob\";\"Member\":\"False\"");

    zentry h[] = {{"xl/workbook.xml", wb_xml, sizeof wb_xml - 1, false},
                  {"xl/_rels/workbook.xml.rels", wb_rels, sizeof wb_rels - 1, false},
                  {"xl/sharedStrings.xml", sst_xml, sizeof sst_xml - 1, false},
                  {"xl/worksheets/sheet1.xml", sheet2_xml, sizeof sheet2_xml - 1, false}};
    r = run(make_zip("nodata.xlsx", h, 4), RG_DOCTYPE_XLSX);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "the document contains no text");

    zentry nw[] = {{"xl/worksheets/sheet1.xml", sheet1_xml, sizeof sheet1_xml - 1, false}};
    r = run(make_zip("nowb.xlsx", nw, 1), RG_DOCTYPE_XLSX);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "file is not a valid XLSX: xl/workbook.xml is missing");

    unsigned char junk[512];
    noise(junk, sizeof junk, 9);
    r = run(write_fx("junk.xlsx", junk, sizeof junk), RG_DOCTYPE_XLSX);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "file is not a valid XLSX: not a zip archive");
}

TEST(extract_xlsx_header_only_and_bomb)
{
    static const char only[] = "<worksheet " S "><sheetData><row><c t=\"inlineStr\"><is><t>H</t>"
                               "</is></c></row></sheetData></worksheet>";
    zentry h[] = {{"xl/workbook.xml", wb_xml, sizeof wb_xml - 1, false},
                  {"xl/worksheets/sheet1.xml", only, sizeof only - 1, false}};
    result *r = run(make_zip("header.xlsx", h, 2), RG_DOCTYPE_XLSX);
    CHECK_EQ_INT(r->rc, RG_EINVAL);
    CHECK_TEXT(r->why, "the spreadsheet has a header row but no data rows");

    r = run(make_zero_zip("bomb.xlsx", "xl/workbook.xml", (zip_uint64_t)4 << 20), RG_DOCTYPE_XLSX);
    CHECK_EQ_INT(r->rc, RG_ETOOBIG);
    CHECK_TEXT(r->why, "archive expands beyond the limit: xl/workbook.xml is compressed more "
                       "than 200:1 (18305 bytes compressed, possible zip bomb)");
}
