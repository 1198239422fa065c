/*
 * extract_xlsx.c - Excel (.xlsx) rows as Dify's ExcelExtractor writes them.
 *
 * Dify (core/rag/extractor/excel_extractor.py, openpyxl + pandas): for each
 * sheet in workbook order, the first row gives the column names; every
 * later row that is not entirely empty becomes one document
 *     "name":"value";"name":"value"
 * listing only its non-empty cells, in column order, as f'"{k}":"{v}"' with
 * no escaping.  A cell under no column name gets the name "None".  Here the
 * documents are one text, rows joined with a blank line (as every multi-
 * document format here is), so custom separators still cut between rows.
 *
 * Reading: xl/workbook.xml lists the sheets, xl/_rels/workbook.xml.rels maps
 * them to parts (worksheets only; chart sheets have no cells), and
 * xl/sharedStrings.xml (or the part its relationship names) holds the
 * strings cells refer to.  All parts stream through zipread (zip-bomb caps
 * shared with docx); shared strings are kept in one pool with 8-byte index
 * entries.  Cell values: t="s" a shared string, t="inlineStr" the <is> text,
 * t="b" True/False (Python's str(bool)), anything else the <v> text as
 * stored (formula cells give their cached value, as data_only=True does);
 * phonetic runs (<rPh>) are skipped, as openpyxl does.
 *
 * Deliberate differences: numbers are written as Excel stored them ("3",
 * "0.1", "45000" for a date) instead of pandas' dtype-dependent repr ("3.0"
 * in a column with gaps, "2023-03-15 00:00:00" for dates); the header is the
 * first row that has a value (openpyxl starts at row 1 even when it is
 * empty); cell hyperlinks are not turned into "[v](url)" (they follow the
 * cells in the XML, after the rows have been written).
 * Limits: 4,194,304 shared strings; 16,384 columns (Excel's own maximum).
 */
#include "ingest/extract_int.h"

#include "core/alloc.h"
#include "ingest/zipread.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SHARED 4194304u
#define MAX_COLS   16384u
#define MAX_SHEETS 4096u

typedef struct sref {
    uint32_t off, len;
} sref;

typedef struct strs {
    rg_buf pool;
    sref *v;
    size_t n, cap;
} strs;

static rg_rc strs_push(strs *s, size_t off, size_t len)
{
    if (s->n >= MAX_SHARED || off > UINT32_MAX || len > UINT32_MAX)
        return RG_ETOOBIG;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        sref *v = rg_try_realloc(s->v, cap * sizeof *v);
        if (!v)
            return RG_ENOMEM;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = (sref){(uint32_t)off, (uint32_t)len};
    return RG_OK;
}

/* --- workbook: sheet order and relationships ------------------------------------------------ */

typedef struct book {
    strs sheet_ids;                    /* r:id of each sheet, in order */
    strs rel_id, rel_target, rel_type; /* parallel: one entry per relationship */
} book;

static rg_rc add_str(strs *s, const xmlChar *z)
{
    size_t off = s->pool.len, n = z ? strlen((const char *)z) : 0;
    RG_TRY(rg_buf_append(&s->pool, z ? (const char *)z : "", n));
    return strs_push(s, off, n);
}

static rg_rc workbook_fn(void *vctx, xmlTextReaderPtr r)
{
    book *b = vctx;
    if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT || !rg_zip_is(r, "sheet") ||
        b->sheet_ids.n >= MAX_SHEETS)
        return RG_OK;
    xmlChar *id = rg_zip_attr(r, "id");
    rg_rc rc = add_str(&b->sheet_ids, id);
    xmlFree(id);
    return rc;
}

static rg_rc wbrels_fn(void *vctx, xmlTextReaderPtr r)
{
    book *b = vctx;
    if (xmlTextReaderNodeType(r) != XML_READER_TYPE_ELEMENT || !rg_zip_is(r, "Relationship") ||
        b->rel_id.n >= MAX_SHEETS * 4)
        return RG_OK;
    xmlChar *id = rg_zip_attr(r, "Id"), *target = rg_zip_attr(r, "Target"),
            *type = rg_zip_attr(r, "Type");
    rg_rc rc = add_str(&b->rel_id, id);
    if (rc == RG_OK)
        rc = add_str(&b->rel_target, target);
    if (rc == RG_OK)
        rc = add_str(&b->rel_type, type);
    xmlFree(id);
    xmlFree(target);
    xmlFree(type);
    return rc;
}

static bool str_ends(const strs *s, size_t i, const char *z)
{
    size_t n = strlen(z);
    return s->v[i].len >= n && memcmp(s->pool.p + s->v[i].off + s->v[i].len - n, z, n) == 0;
}

/* Resolves a relationship target against "xl/" into dst; false if it does
 * not fit or climbs out of the package. */
static bool resolve(const char *target, size_t tn, char *dst, size_t dstlen)
{
    char tmp[1024];
    int n = tn && target[0] == '/' ? snprintf(tmp, sizeof tmp, "%.*s", (int)tn - 1, target + 1)
                                   : snprintf(tmp, sizeof tmp, "xl/%.*s", (int)tn, target);
    if (n < 0 || (size_t)n >= sizeof tmp)
        return false;
    size_t w = 0;
    for (const char *seg = tmp; *seg;) {
        const char *sl = strchr(seg, '/');
        size_t sn = sl ? (size_t)(sl - seg) : strlen(seg);
        if (sn == 2 && seg[0] == '.' && seg[1] == '.') {
            if (w == 0)
                return false;
            while (w > 0 && dst[w - 1] != '/')
                w--;
            if (w > 0)
                w--; /* drop the '/' too */
        } else if (!(sn == 0 || (sn == 1 && seg[0] == '.'))) {
            if (w + (w ? 1 : 0) + sn + 1 > dstlen)
                return false;
            if (w)
                dst[w++] = '/';
            memcpy(dst + w, seg, sn);
            w += sn;
        }
        if (!sl)
            break;
        seg = sl + 1;
    }
    dst[w] = '\0';
    return w > 0;
}

/* --- shared strings ------------------------------------------------------------------------- */

typedef struct sst {
    strs s;
    size_t si_off;
    bool in_si, in_t;
    int rph;
} sst;

static rg_rc sst_fn(void *vctx, xmlTextReaderPtr r)
{
    sst *c = vctx;
    int type = xmlTextReaderNodeType(r);
    bool empty = type == XML_READER_TYPE_ELEMENT && xmlTextReaderIsEmptyElement(r) == 1;
    if (type == XML_READER_TYPE_ELEMENT) {
        if (rg_zip_is(r, "si")) {
            c->si_off = c->s.pool.len;
            c->in_si = !empty;
            c->rph = 0;
            if (empty)
                return strs_push(&c->s, c->si_off, 0);
        } else if (rg_zip_is(r, "rPh") && !empty)
            c->rph++;
        else if (rg_zip_is(r, "t"))
            c->in_t = !empty && c->in_si && c->rph == 0;
    } else if (type == XML_READER_TYPE_END_ELEMENT) {
        if (rg_zip_is(r, "si") && c->in_si) {
            c->in_si = c->in_t = false;
            return strs_push(&c->s, c->si_off, c->s.pool.len - c->si_off);
        }
        if (rg_zip_is(r, "rPh") && c->rph > 0)
            c->rph--;
        else if (rg_zip_is(r, "t"))
            c->in_t = false;
    } else if (c->in_t) {
        const xmlChar *v = xmlTextReaderConstValue(r);
        if (v)
            return rg_buf_puts(&c->s.pool, (const char *)v);
    }
    return RG_OK;
}

/* --- worksheets ----------------------------------------------------------------------------- */

typedef struct rcell {
    uint32_t col;
    size_t off, len;
} rcell;

typedef struct sheet {
    rg_buf *out;
    const strs *sst;
    /* current row */
    rg_buf row;
    rcell *cells;
    size_t ncells, capcells;
    /* current cell */
    uint32_t col, next_col;
    size_t val_off;
    char t[12];
    bool in_c, in_v, in_is, in_t;
    int rph;
    /* header */
    bool have_header;
    rg_buf hpool;
    sref *head;
    size_t nhead;
    size_t data_rows, *items;
} sheet;

/* "AB12" -> 27 (0-based column); false when there are no letters. */
static bool col_of(const char *ref, uint32_t *col)
{
    uint32_t c = 0;
    size_t i = 0;
    for (; ref[i] >= 'A' && ref[i] <= 'Z' && i < 3; i++)
        c = c * 26 + (uint32_t)(ref[i] - 'A' + 1);
    if (i == 0 || c == 0 || c > MAX_COLS)
        return false;
    *col = c - 1;
    return true;
}

static rg_rc cell_start(sheet *s, xmlTextReaderPtr r)
{
    xmlChar *ref = rg_zip_attr(r, "r"), *t = rg_zip_attr(r, "t");
    uint32_t col;
    s->col = ref && col_of((const char *)ref, &col) ? col : s->next_col;
    s->next_col = s->col + 1;
    snprintf(s->t, sizeof s->t, "%s", t ? (const char *)t : "n");
    xmlFree(ref);
    xmlFree(t);
    s->val_off = s->row.len;
    s->in_c = true;
    s->rph = 0;
    return RG_OK;
}

static rg_rc cell_end(sheet *s)
{
    s->in_c = s->in_v = s->in_is = s->in_t = false;
    size_t len = s->row.len - s->val_off;
    if (strcmp(s->t, "s") == 0) {
        char num[24];
        size_t k = len < sizeof num - 1 ? len : sizeof num - 1;
        memcpy(num, s->row.p ? s->row.p + s->val_off : "", k);
        num[k] = '\0';
        char *end;
        unsigned long idx = strtoul(num, &end, 10);
        s->row.len = s->val_off;
        if (s->row.p)
            s->row.p[s->row.len] = '\0';
        if (end != num && idx < s->sst->n) {
            const sref *e = &s->sst->v[idx];
            RG_TRY(rg_buf_append(&s->row, s->sst->pool.p + e->off, e->len));
        }
    } else if (strcmp(s->t, "b") == 0) {
        bool on = len == 1 && s->row.p[s->val_off] == '1';
        s->row.len = s->val_off;
        if (s->row.p)
            s->row.p[s->row.len] = '\0';
        if (len)
            RG_TRY(rg_buf_puts(&s->row, on ? "True" : "False"));
    }
    len = s->row.len - s->val_off;
    if (len == 0 || s->col >= MAX_COLS)
        return RG_OK;
    if (s->ncells == s->capcells) {
        size_t cap = s->capcells ? s->capcells * 2 : 32;
        rcell *v = rg_try_realloc(s->cells, cap * sizeof *v);
        if (!v)
            return RG_ENOMEM;
        s->cells = v;
        s->capcells = cap;
    }
    s->cells[s->ncells++] = (rcell){s->col, s->val_off, len};
    return RG_OK;
}

static rg_rc row_end(sheet *s)
{
    rg_rc rc = RG_OK;
    if (s->ncells == 0) {
        /* an empty row: nothing (dropna(how="all")) */
    } else if (!s->have_header) {
        uint32_t ncols = 0;
        for (size_t i = 0; i < s->ncells; i++)
            if (s->cells[i].col + 1 > ncols)
                ncols = s->cells[i].col + 1;
        s->head = rg_xcalloc(ncols, sizeof *s->head);
        s->nhead = ncols;
        for (size_t i = 0; i < s->ncells && rc == RG_OK; i++) {
            size_t off = s->hpool.len;
            rc = rg_buf_append(&s->hpool, s->row.p + s->cells[i].off, s->cells[i].len);
            if (off > UINT32_MAX || s->cells[i].len > UINT32_MAX)
                rc = RG_ETOOBIG;
            if (rc == RG_OK)
                s->head[s->cells[i].col] = (sref){(uint32_t)off, (uint32_t)s->cells[i].len};
        }
        s->have_header = true;
    } else {
        if ((*s->items)++)
            rc = rg_buf_append(s->out, "\n\n", 2);
        for (size_t i = 0; i < s->ncells && rc == RG_OK; i++) {
            const rcell *c = &s->cells[i];
            rc = rg_buf_append(s->out, i ? ";\"" : "\"", i ? 2 : 1);
            if (rc == RG_OK && c->col < s->nhead && s->head[c->col].len)
                rc = rg_buf_append(s->out, s->hpool.p + s->head[c->col].off, s->head[c->col].len);
            else if (rc == RG_OK)
                rc = rg_buf_append(s->out, "None", 4);
            if (rc == RG_OK)
                rc = rg_buf_append(s->out, "\":\"", 3);
            if (rc == RG_OK)
                rc = rg_buf_append(s->out, s->row.p + c->off, c->len);
            if (rc == RG_OK)
                rc = rg_buf_putc(s->out, '"');
        }
        s->data_rows++;
    }
    rg_buf_reset(&s->row);
    s->ncells = 0;
    s->next_col = 0;
    return rc;
}

static rg_rc sheet_fn(void *vctx, xmlTextReaderPtr r)
{
    sheet *s = vctx;
    int type = xmlTextReaderNodeType(r);
    if (type == XML_READER_TYPE_ELEMENT) {
        bool empty = xmlTextReaderIsEmptyElement(r) == 1;
        if (rg_zip_is(r, "row")) {
            rg_buf_reset(&s->row);
            s->ncells = 0;
            s->next_col = 0;
            return empty ? row_end(s) : RG_OK;
        }
        if (rg_zip_is(r, "c")) {
            RG_TRY(cell_start(s, r));
            return empty ? cell_end(s) : RG_OK;
        }
        if (!s->in_c)
            return RG_OK;
        if (rg_zip_is(r, "v"))
            s->in_v = !empty;
        else if (rg_zip_is(r, "is"))
            s->in_is = !empty;
        else if (rg_zip_is(r, "rPh") && !empty)
            s->rph++;
        else if (rg_zip_is(r, "t"))
            s->in_t = !empty && s->in_is && s->rph == 0;
    } else if (type == XML_READER_TYPE_END_ELEMENT) {
        if (rg_zip_is(r, "row"))
            return row_end(s);
        if (!s->in_c)
            return RG_OK;
        if (rg_zip_is(r, "c"))
            return cell_end(s);
        if (rg_zip_is(r, "v"))
            s->in_v = false;
        else if (rg_zip_is(r, "is"))
            s->in_is = false;
        else if (rg_zip_is(r, "rPh") && s->rph > 0)
            s->rph--;
        else if (rg_zip_is(r, "t"))
            s->in_t = false;
    } else if (s->in_c && (s->in_v || s->in_t)) {
        const xmlChar *v = xmlTextReaderConstValue(r);
        if (v)
            return rg_buf_puts(&s->row, (const char *)v);
    }
    return RG_OK;
}

/* --- the workbook --------------------------------------------------------------------------- */

static void strs_init(strs *s, size_t max)
{
    memset(s, 0, sizeof *s);
    rg_buf_init(&s->pool, max);
}

static void strs_free(strs *s)
{
    rg_buf_free(&s->pool);
    rg_free(s->v);
}

static rg_rc fail_rc(rg_rc rc, const char *why0, rg_buf *out, char *why, size_t whylen)
{
    if (rc == RG_OK || (why && whylen && why[0]))
        return rc;
    if (why0)
        rg_extract_why(why, whylen, "%s", why0);
    else
        rc = rg_extract_out_fail(rc, out, why, whylen);
    return rc;
}

static rg_rc parse_sheet(rg_zip *z, const char *path, const strs *sst_strs, size_t *items,
                         size_t *data_rows, bool *header_seen, rg_buf *out, char *why,
                         size_t whylen)
{
    sheet s = {.out = out, .sst = sst_strs, .items = items};
    rg_buf_init(&s.row, out->max);
    rg_buf_init(&s.hpool, out->max);
    rg_rc rc = rg_zip_parse_xml(z, path, sheet_fn, &s, why, whylen);
    *data_rows += s.data_rows;
    *header_seen = *header_seen || s.have_header;
    rg_buf_free(&s.row);
    rg_buf_free(&s.hpool);
    rg_free(s.cells);
    rg_free(s.head);
    return fail_rc(rc, NULL, out, why, whylen);
}

static rg_rc extract_xlsx(rg_zip *z, rg_buf *out, char *why, size_t whylen)
{
    book b;
    strs_init(&b.sheet_ids, out->max);
    strs_init(&b.rel_id, out->max);
    strs_init(&b.rel_target, out->max);
    strs_init(&b.rel_type, out->max);
    sst c;
    memset(&c, 0, sizeof c);
    strs_init(&c.s, out->max < UINT32_MAX ? out->max : UINT32_MAX);
    rg_rc rc = RG_OK;
    size_t from = out->len, items = 0, data_rows = 0;
    bool header_seen = false;
    char path[1024];

    if (!rg_zip_has(z, "xl/workbook.xml")) {
        rg_extract_why(why, whylen, "file is not a valid XLSX: xl/workbook.xml is missing");
        rc = RG_EINVAL;
    }
    if (rc == RG_OK)
        rc = fail_rc(rg_zip_parse_xml(z, "xl/workbook.xml", workbook_fn, &b, why, whylen), NULL,
                     out, why, whylen);
    if (rc == RG_OK && rg_zip_has(z, "xl/_rels/workbook.xml.rels"))
        rc = fail_rc(rg_zip_parse_xml(z, "xl/_rels/workbook.xml.rels", wbrels_fn, &b, why, whylen),
                     NULL, out, why, whylen);
    /* shared strings: the related part, or the usual name */
    if (rc == RG_OK) {
        bool found = false;
        for (size_t i = 0; i < b.rel_type.n && !found; i++)
            if (str_ends(&b.rel_type, i, "/sharedStrings") &&
                resolve(b.rel_target.pool.p + b.rel_target.v[i].off, b.rel_target.v[i].len, path,
                        sizeof path) &&
                rg_zip_has(z, path))
                found = true;
        if (!found && rg_zip_has(z, "xl/sharedStrings.xml")) {
            snprintf(path, sizeof path, "xl/sharedStrings.xml");
            found = true;
        }
        if (found) {
            rc = rg_zip_parse_xml(z, path, sst_fn, &c, why, whylen);
            if (rc == RG_ETOOBIG && c.s.n >= MAX_SHARED && !(why && whylen && why[0]))
                rg_extract_why(why, whylen, "the workbook has more than %u shared strings",
                               MAX_SHARED);
            rc = fail_rc(rc, NULL, out, why, whylen);
        }
    }
    /* worksheets, in workbook order */
    size_t sheets = 0;
    for (size_t i = 0; rc == RG_OK && i < b.sheet_ids.n; i++) {
        for (size_t k = 0; k < b.rel_id.n; k++) {
            if (b.rel_id.v[k].len != b.sheet_ids.v[i].len ||
                memcmp(b.rel_id.pool.p + b.rel_id.v[k].off,
                       b.sheet_ids.pool.p + b.sheet_ids.v[i].off, b.rel_id.v[k].len) != 0)
                continue;
            if (!str_ends(&b.rel_type, k, "/worksheet") ||
                !resolve(b.rel_target.pool.p + b.rel_target.v[k].off, b.rel_target.v[k].len, path,
                         sizeof path) ||
                !rg_zip_has(z, path))
                break;
            rc = parse_sheet(z, path, &c.s, &items, &data_rows, &header_seen, out, why, whylen);
            sheets++;
            break;
        }
    }
    /* no usable relationships: the conventional part names */
    for (unsigned i = 1; rc == RG_OK && sheets == 0 && i <= MAX_SHEETS; i++) {
        snprintf(path, sizeof path, "xl/worksheets/sheet%u.xml", i);
        if (!rg_zip_has(z, path))
            break;
        rc = parse_sheet(z, path, &c.s, &items, &data_rows, &header_seen, out, why, whylen);
    }
    if (rc == RG_OK && data_rows == 0) {
        rg_extract_why(why, whylen,
                       header_seen ? "the spreadsheet has a header row but no data rows"
                                   : "the document contains no text");
        rc = RG_EINVAL;
    } else if (rc == RG_OK && !rg_extract_has_text(out->p ? out->p + from : "", out->len - from)) {
        rg_extract_why(why, whylen, "the document contains no text");
        rc = RG_EINVAL;
    }
    strs_free(&b.sheet_ids);
    strs_free(&b.rel_id);
    strs_free(&b.rel_target);
    strs_free(&b.rel_type);
    strs_free(&c.s);
    return rc;
}

rg_rc rg_extract_xlsx_mem(const void *p, size_t n, rg_buf *out, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    rg_zip *z;
    RG_TRY(rg_zip_open_mem(p, n, "XLSX", &z, why, whylen));
    rg_rc rc = extract_xlsx(z, out, why, whylen);
    rg_zip_close(z);
    return rc;
}

rg_rc rg_extract_xlsx_file(const char *path, rg_buf *out, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    rg_zip *z;
    RG_TRY(rg_zip_open_file(path, "XLSX", &z, why, whylen));
    rg_rc rc = extract_xlsx(z, out, why, whylen);
    rg_zip_close(z);
    return rc;
}
