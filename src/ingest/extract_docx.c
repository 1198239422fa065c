/*
 * extract_docx.c - Word (.docx) text as Dify's WordExtractor lays it out:
 * paragraphs and Markdown tables in body order.
 *
 * Reading: word/document.xml is streamed through zipread (libzip + libxml2
 * xmlTextReader, with the zip-bomb caps); word/_rels/document.xml.rels, if
 * present, maps hyperlink ids to their external targets first.  Elements are
 * matched by local name in the WordprocessingML namespaces (transitional and
 * strict), so DrawingML's a:p/a:r/a:t are not mistaken for text.
 *
 * Paragraph text, as python-docx's run.text: w:t text, w:tab and w:ptab
 * "\t", w:br and w:cr "\n", w:noBreakHyphen "-"; w:delText (deleted text),
 * field codes and mc:Fallback (a duplicate of mc:Choice) are skipped.  A
 * w:hyperlink whose relationship is external becomes "[text](url)" as in
 * Dify.  Paragraphs nested in a paragraph (text boxes) end with a "\n"
 * inside it.
 *
 * Layout, as Dify's parse_docx: each body paragraph is an item (a paragraph
 * with only white space is the item "\n"), each table an item rendered by
 * _table_to_markdown, and items are joined with "\n".  Tables:
 *   | h1 | h2 |
 *   | --- | --- |
 *   | a | b |
 * the first row is the header; the width is the widest row (gridSpan
 * counted); a cell spanning columns puts its text in the first and "" in
 * the others; a vertically merged continuation repeats the text of the cell
 * above (python-docx returns the merge's top cell); a cell's text is its
 * non-empty paragraphs, duplicates dropped, joined with " ", stripped.
 * Deliberate differences: line ends inside a cell become spaces (a "\n"
 * would break the Markdown row); paragraphs of a table nested in a cell
 * join that cell's text (Dify drops them); body-level content controls
 * (w:sdt) and tracked insertions are read (Dify skips w:sdt); images are
 * not extracted (Dify uploads them and inserts links).
 * Limits: 1,000,000 cells per table and 4096 columns (wider rows are cut);
 * 100,000 hyperlink relationships (more are read as plain text).
 */
#include "ingest/extract_int.h"

#include "core/alloc.h"
#include "ingest/zipread.h"

#include <stdlib.h>
#include <string.h>

#define W_NS        "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
#define W_NS_STRICT "http://purl.oclc.org/ooxml/wordprocessingml/main"
#define MC_NS       "http://schemas.openxmlformats.org/markup-compatibility/2006"
#define MAX_CELLS   1000000u
#define MAX_COLS    4096u
#define MAX_RELS    100000u

/* --- hyperlink relationships ---------------------------------------------------------------- */

typedef struct rel {
    size_t id, target; /* offsets of NUL-terminated strings in the pool */
} rel;

typedef struct rel_map {
    rg_buf pool;
    rel *v;
    size_t n, cap;
    bool full; /* out of room: later relationships are ignored */
} rel_map;

/* Collects external relationships; running out of room only means later
 * hyperlinks stay plain text, so it never fails the document. */
static rg_rc rels_fn(void *vctx, xmlTextReaderPtr r)
{
    rel_map *rs = vctx;
    if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT || !rg_zip_is(r, "Relationship") ||
        rs->n >= MAX_RELS || rs->full)
        return RG_OK;
    xmlChar *id = rg_zip_attr(r, "Id"), *target = rg_zip_attr(r, "Target");
    xmlChar *mode = rg_zip_attr(r, "TargetMode");
    rg_rc rc = RG_OK;
    if (id && target && mode && strcmp((const char *)mode, "External") == 0) {
        if (rs->n == rs->cap) {
            size_t cap = rs->cap ? rs->cap * 2 : 16;
            rel *v = rg_try_realloc(rs->v, cap * sizeof *v);
            if (!v)
                rc = RG_ENOMEM;
            else {
                rs->v = v;
                rs->cap = cap;
            }
        }
        if (rc == RG_OK) {
            rel e = {rs->pool.len, 0};
            rc = rg_buf_append(&rs->pool, id, strlen((const char *)id) + 1);
            e.target = rs->pool.len;
            if (rc == RG_OK)
                rc = rg_buf_append(&rs->pool, target, strlen((const char *)target) + 1);
            if (rc == RG_OK)
                rs->v[rs->n++] = e;
        }
    }
    xmlFree(id);
    xmlFree(target);
    xmlFree(mode);
    if (rc != RG_OK)
        rs->full = true;
    return RG_OK;
}

static int rel_cmp(const void *a, const void *b, void *pool)
{
    return strcmp((const char *)pool + ((const rel *)a)->id,
                  (const char *)pool + ((const rel *)b)->id);
}

static const char *rels_find(const rel_map *rs, const char *id)
{
    size_t lo = 0, hi = rs->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(id, rs->pool.p + rs->v[mid].id);
        if (c == 0)
            return rs->pool.p + rs->v[mid].target;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* --- the paragraphs of one cell, without duplicates ------------------------------------------ */

typedef struct slot {
    uint64_t h;
    size_t off, len;
    bool used;
} slot;

typedef struct cell {
    rg_buf text; /* distinct paragraphs joined with ' ' */
    slot *set;
    size_t set_cap, set_n;
    uint32_t span;
    bool vcont;
} cell;

static uint64_t fnv(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static void cell_reset(cell *c)
{
    rg_buf_reset(&c->text);
    if (c->set_cap > 64) {
        rg_free(c->set);
        c->set = NULL;
        c->set_cap = 0;
    } else if (c->set)
        memset(c->set, 0, c->set_cap * sizeof *c->set);
    c->set_n = 0;
    c->span = 1;
    c->vcont = false;
}

static bool set_insert(slot *set, size_t cap, uint64_t h, size_t off, size_t len)
{
    for (size_t i = h & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (!set[i].used) {
            set[i] = (slot){h, off, len, true};
            return true;
        }
    }
}

static rg_rc cell_add_para(cell *c, const char *p, size_t n)
{
    uint64_t h = fnv(p, n);
    if (c->set_cap) {
        for (size_t i = h & (c->set_cap - 1); c->set[i].used; i = (i + 1) & (c->set_cap - 1))
            if (c->set[i].h == h && c->set[i].len == n &&
                memcmp(c->text.p + c->set[i].off, p, n) == 0)
                return RG_OK; /* a duplicate */
    }
    if ((c->set_n + 1) * 2 > c->set_cap) {
        size_t cap = c->set_cap ? c->set_cap * 2 : 8;
        slot *set = rg_try_malloc(cap * sizeof *set);
        if (!set)
            return RG_ENOMEM;
        memset(set, 0, cap * sizeof *set);
        for (size_t i = 0; i < c->set_cap; i++)
            if (c->set[i].used)
                set_insert(set, cap, c->set[i].h, c->set[i].off, c->set[i].len);
        rg_free(c->set);
        c->set = set;
        c->set_cap = cap;
    }
    if (c->text.len)
        RG_TRY(rg_buf_putc(&c->text, ' '));
    size_t off = c->text.len;
    RG_TRY(rg_buf_append(&c->text, p, n));
    set_insert(c->set, c->set_cap, h, off, n);
    c->set_n++;
    return RG_OK;
}

/* --- tables --------------------------------------------------------------------------------- */

typedef struct tcell {
    size_t off, len;
    uint32_t span;
    bool vcont;
} tcell;

typedef struct trow {
    size_t first, n;
} trow;

typedef struct table {
    rg_buf pool;
    tcell *cells;
    size_t ncells, capcells;
    trow *rows;
    size_t nrows, caprows;
    bool row_open;
} table;

static rg_rc grow(void **v, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return RG_OK;
    size_t c = *cap ? *cap * 2 : 16;
    while (c < need)
        c *= 2;
    void *p = rg_try_realloc(*v, c * elem);
    if (!p)
        return RG_ENOMEM;
    *v = p;
    *cap = c;
    return RG_OK;
}

static void table_reset(table *t)
{
    rg_buf_reset(&t->pool);
    t->ncells = t->nrows = 0;
    t->row_open = false;
}

static rg_rc table_row(table *t)
{
    RG_TRY(grow((void **)&t->rows, &t->caprows, t->nrows + 1, sizeof *t->rows));
    t->rows[t->nrows++] = (trow){t->ncells, 0};
    t->row_open = true;
    return RG_OK;
}

/* Adds the finished cell c to the open row (opening one if a w:tc came
 * without a w:tr). */
static rg_rc table_cell(table *t, cell *c)
{
    if (!t->row_open)
        RG_TRY(table_row(t));
    if (t->ncells >= MAX_CELLS)
        return RG_ETOOBIG;
    RG_TRY(grow((void **)&t->cells, &t->capcells, t->ncells + 1, sizeof *t->cells));
    const char *p = c->text.p ? c->text.p : "";
    size_t n = c->text.len;
    rg_extract_trim(&p, &n);
    size_t off = t->pool.len;
    for (size_t i = 0; i < n; i++)
        RG_TRY(rg_buf_putc(&t->pool, p[i] == '\n' ? ' ' : p[i]));
    t->cells[t->ncells++] = (tcell){off, n, c->span, c->vcont};
    t->rows[t->nrows - 1].n++;
    return RG_OK;
}

typedef struct cspan {
    size_t off, len;
} cspan;

static rg_rc table_render(const table *t, rg_buf *out)
{
    size_t cols = 0;
    for (size_t r = 0; r < t->nrows; r++) {
        size_t w = 0;
        for (size_t i = 0; i < t->rows[r].n; i++)
            w += t->cells[t->rows[r].first + i].span;
        if (w > MAX_COLS)
            w = MAX_COLS;
        if (w > cols)
            cols = w;
    }
    if (cols == 0)
        return RG_OK;
    cspan *prev = rg_xcalloc(cols, sizeof *prev), *cur = rg_xcalloc(cols, sizeof *cur);
    rg_rc rc = RG_OK;
    for (size_t r = 0; r < t->nrows && rc == RG_OK; r++) {
        memset(cur, 0, cols * sizeof *cur);
        size_t col = 0;
        for (size_t i = 0; i < t->rows[r].n && col < cols; i++) {
            const tcell *c = &t->cells[t->rows[r].first + i];
            cspan s = c->vcont ? prev[col] : (cspan){c->off, c->len};
            cur[col] = s;
            col += c->span;
        }
        if (r > 0)
            rc = rg_buf_putc(out, '\n');
        for (size_t k = 0; k < cols && rc == RG_OK; k++) {
            rc = rg_buf_append(out, k ? " | " : "| ", k ? 3 : 2);
            if (rc == RG_OK && cur[k].len)
                rc = rg_buf_append(out, t->pool.p + cur[k].off, cur[k].len);
        }
        if (rc == RG_OK)
            rc = rg_buf_append(out, " |", 2);
        if (rc == RG_OK && r == 0) {
            rc = rg_buf_append(out, "\n|", 2);
            for (size_t k = 0; k < cols && rc == RG_OK; k++)
                rc = rg_buf_append(out, " --- |", 6);
        }
        cspan *tmp = prev;
        prev = cur;
        cur = tmp;
    }
    rg_free(prev);
    rg_free(cur);
    return rc;
}

/* --- the document --------------------------------------------------------------------------- */

typedef struct docx {
    rg_buf *out;
    bool first_item;
    rel_map rels;
    rg_buf para;
    int p_depth, run_depth, tbl_depth, link_depth;
    bool in_t;
    int skip_depth; /* >= 0: inside an mc:Fallback at this depth */
    size_t link_start;
    xmlChar *link_url;
    table tbl;
    cell cell;
    bool cell_open;
    int cell_depth;
    char *why;
    size_t whylen;
} docx;

static bool is_w(xmlTextReaderPtr r, const char *name)
{
    if (!rg_zip_is(r, name))
        return false;
    const char *ns = (const char *)xmlTextReaderConstNamespaceUri(r);
    return ns && (strcmp(ns, W_NS) == 0 || strcmp(ns, W_NS_STRICT) == 0);
}

static rg_rc item(docx *d, const char *p, size_t n)
{
    if (!d->first_item)
        RG_TRY(rg_buf_putc(d->out, '\n'));
    d->first_item = false;
    return rg_buf_append(d->out, p, n);
}

static rg_rc para_end(docx *d)
{
    if (--d->p_depth > 0) /* a paragraph inside a paragraph (text box) */
        return rg_buf_putc(&d->para, '\n');
    const char *p = d->para.p ? d->para.p : "";
    if (d->tbl_depth > 0) {
        if (d->cell_open && d->para.len)
            return cell_add_para(&d->cell, p, d->para.len);
        return RG_OK;
    }
    if (rg_extract_has_text(p, d->para.len))
        return item(d, p, d->para.len);
    return item(d, "\n", 1);
}

static rg_rc link_end(docx *d)
{
    if (--d->link_depth > 0 || !d->link_url)
        return RG_OK;
    const char *url = (const char *)d->link_url;
    rg_rc rc = RG_OK;
    if (d->para.p && d->link_start <= d->para.len) {
        const char *p = d->para.p + d->link_start;
        size_t n = d->para.len - d->link_start;
        rg_extract_trim(&p, &n);
        if (n) {
            char *text = rg_xstrndup(p, n);
            d->para.len = d->link_start;
            d->para.p[d->para.len] = '\0';
            rc = rg_buf_putc(&d->para, '[');
            if (rc == RG_OK)
                rc = rg_buf_append(&d->para, text, n);
            if (rc == RG_OK)
                rc = rg_buf_append(&d->para, "](", 2);
            if (rc == RG_OK)
                rc = rg_buf_puts(&d->para, url);
            if (rc == RG_OK)
                rc = rg_buf_putc(&d->para, ')');
            rg_free(text);
        }
    }
    xmlFree(d->link_url);
    d->link_url = NULL;
    return rc;
}

static rg_rc on_start(docx *d, xmlTextReaderPtr r, bool empty)
{
    const xmlChar *ns = xmlTextReaderConstNamespaceUri(r);
    if (ns && strcmp((const char *)ns, MC_NS) == 0 && rg_zip_is(r, "Fallback")) {
        if (!empty)
            d->skip_depth = xmlTextReaderDepth(r);
        return RG_OK;
    }
    if (is_w(r, "p")) {
        if (d->p_depth++ == 0)
            rg_buf_reset(&d->para);
        return empty ? para_end(d) : RG_OK;
    }
    if (is_w(r, "r")) {
        if (!empty)
            d->run_depth++;
        return RG_OK;
    }
    if (is_w(r, "t")) {
        d->in_t = !empty && d->run_depth > 0 && d->p_depth > 0;
        return RG_OK;
    }
    if (d->run_depth > 0 && d->p_depth > 0) {
        if (is_w(r, "tab") || is_w(r, "ptab"))
            return rg_buf_putc(&d->para, '\t');
        if (is_w(r, "br") || is_w(r, "cr"))
            return rg_buf_putc(&d->para, '\n');
        if (is_w(r, "noBreakHyphen"))
            return rg_buf_putc(&d->para, '-');
    }
    if (is_w(r, "hyperlink")) {
        if (empty || d->p_depth == 0)
            return RG_OK;
        if (d->link_depth++ == 0) {
            d->link_start = d->para.len;
            xmlChar *id = rg_zip_attr(r, "id");
            const char *url = id ? rels_find(&d->rels, (const char *)id) : NULL;
            d->link_url = url ? xmlStrdup((const xmlChar *)url) : NULL;
            xmlFree(id);
        }
        return RG_OK;
    }
    if (is_w(r, "tbl")) {
        if (!empty && d->tbl_depth++ == 0)
            table_reset(&d->tbl);
        return RG_OK;
    }
    if (d->tbl_depth != 1)
        return RG_OK;
    if (is_w(r, "tr")) {
        d->tbl.row_open = false;
        RG_TRY(table_row(&d->tbl));
        if (empty)
            d->tbl.row_open = false;
        return RG_OK;
    }
    if (is_w(r, "tc")) {
        cell_reset(&d->cell);
        d->cell_open = true;
        d->cell_depth = xmlTextReaderDepth(r);
        if (empty) {
            d->cell_open = false;
            return table_cell(&d->tbl, &d->cell);
        }
        return RG_OK;
    }
    if (d->cell_open && xmlTextReaderDepth(r) == d->cell_depth + 2) {
        if (is_w(r, "gridSpan")) {
            xmlChar *v = rg_zip_attr(r, "val");
            long span = v ? strtol((const char *)v, NULL, 10) : 1;
            d->cell.span = span < 1 ? 1 : span > (long)MAX_COLS ? MAX_COLS : (uint32_t)span;
            xmlFree(v);
        } else if (is_w(r, "vMerge")) {
            xmlChar *v = rg_zip_attr(r, "val");
            d->cell.vcont = !v || strcmp((const char *)v, "continue") == 0;
            xmlFree(v);
        }
    }
    return RG_OK;
}

static rg_rc on_end(docx *d, xmlTextReaderPtr r)
{
    if (is_w(r, "p"))
        return d->p_depth > 0 ? para_end(d) : RG_OK;
    if (is_w(r, "r")) {
        if (d->run_depth > 0)
            d->run_depth--;
        return RG_OK;
    }
    if (is_w(r, "t")) {
        d->in_t = false;
        return RG_OK;
    }
    if (is_w(r, "hyperlink"))
        return d->link_depth > 0 ? link_end(d) : RG_OK;
    if (is_w(r, "tbl")) {
        if (d->tbl_depth == 0)
            return RG_OK;
        if (--d->tbl_depth == 0) {
            rg_buf md;
            rg_buf_init(&md, d->out->max);
            rg_rc rc = table_render(&d->tbl, &md);
            if (rc == RG_OK && md.len)
                rc = item(d, md.p, md.len);
            rg_buf_free(&md);
            return rc;
        }
        return RG_OK;
    }
    if (d->tbl_depth != 1)
        return RG_OK;
    if (is_w(r, "tr")) {
        d->tbl.row_open = false;
        return RG_OK;
    }
    if (is_w(r, "tc") && d->cell_open) {
        d->cell_open = false;
        return table_cell(&d->tbl, &d->cell);
    }
    return RG_OK;
}

static rg_rc doc_fn(void *vctx, xmlTextReaderPtr r)
{
    docx *d = vctx;
    int type = xmlTextReaderNodeType(r);
    rg_rc rc = RG_OK;
    if (d->skip_depth >= 0) {
        if (type == XML_READER_TYPE_END_ELEMENT && xmlTextReaderDepth(r) == d->skip_depth)
            d->skip_depth = -1;
        return RG_OK;
    }
    switch (type) {
    case XML_READER_TYPE_ELEMENT: rc = on_start(d, r, xmlTextReaderIsEmptyElement(r) == 1); break;
    case XML_READER_TYPE_END_ELEMENT: rc = on_end(d, r); break;
    case XML_READER_TYPE_TEXT:
    case XML_READER_TYPE_CDATA:
    case XML_READER_TYPE_WHITESPACE:
    case XML_READER_TYPE_SIGNIFICANT_WHITESPACE:
        if (d->in_t) {
            const xmlChar *v = xmlTextReaderConstValue(r);
            if (v)
                rc = rg_buf_puts(&d->para, (const char *)v);
        }
        break;
    default: break;
    }
    if (rc == RG_ETOOBIG && d->tbl.ncells >= MAX_CELLS) {
        rg_extract_why(d->why, d->whylen, "the document has a table with more than %u cells",
                       MAX_CELLS);
        return RG_ETOOBIG;
    }
    if (rc != RG_OK)
        return rg_extract_out_fail(rc, d->out, d->why, d->whylen);
    return RG_OK;
}

static rg_rc extract_docx(rg_zip *z, rg_buf *out, char *why, size_t whylen)
{
    docx d = {.out = out, .first_item = true, .skip_depth = -1, .why = why, .whylen = whylen};
    rg_buf_init(&d.rels.pool, out->max);
    rg_buf_init(&d.para, out->max);
    rg_buf_init(&d.tbl.pool, out->max);
    rg_buf_init(&d.cell.text, out->max);
    rg_rc rc = RG_OK;
    if (!rg_zip_has(z, "word/document.xml")) {
        rg_extract_why(why, whylen, "file is not a valid DOCX: word/document.xml is missing");
        rc = RG_EINVAL;
    }
    if (rc == RG_OK && rg_zip_has(z, "word/_rels/document.xml.rels")) {
        /* Hyperlink targets are a nicety: a bad rels part is ignored. */
        char ignored[8];
        if (rg_zip_parse_xml(z, "word/_rels/document.xml.rels", rels_fn, &d.rels, ignored,
                             sizeof ignored) != RG_OK)
            d.rels.n = 0;
        if (d.rels.n)
            qsort_r(d.rels.v, d.rels.n, sizeof *d.rels.v, rel_cmp, d.rels.pool.p);
    }
    size_t from = out->len;
    if (rc == RG_OK)
        rc = rg_zip_parse_xml(z, "word/document.xml", doc_fn, &d, why, whylen);
    xmlFree(d.link_url);
    rg_free(d.rels.v);
    rg_buf_free(&d.rels.pool);
    rg_buf_free(&d.para);
    rg_buf_free(&d.tbl.pool);
    rg_free(d.tbl.cells);
    rg_free(d.tbl.rows);
    rg_buf_free(&d.cell.text);
    rg_free(d.cell.set);
    if (rc == RG_OK && !rg_extract_has_text(out->p ? out->p + from : "", out->len - from)) {
        rg_extract_why(why, whylen, "the document contains no text");
        rc = RG_EINVAL;
    }
    return rc;
}

rg_rc rg_extract_docx_mem(const void *p, size_t n, rg_buf *out, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    rg_zip *z;
    RG_TRY(rg_zip_open_mem(p, n, "DOCX", &z, why, whylen));
    rg_rc rc = extract_docx(z, out, why, whylen);
    rg_zip_close(z);
    return rc;
}

rg_rc rg_extract_docx_file(const char *path, rg_buf *out, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    rg_zip *z;
    RG_TRY(rg_zip_open_file(path, "DOCX", &z, why, whylen));
    rg_rc rc = extract_docx(z, out, why, whylen);
    rg_zip_close(z);
    return rc;
}
