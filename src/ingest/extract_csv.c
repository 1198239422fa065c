/*
 * extract_csv.c - CSV rows as Dify's CSVExtractor writes them.
 *
 * Dify (core/rag/extractor/csv_extractor.py): pandas.read_csv with the
 * defaults (comma, double quote, first row = column names, blank lines
 * skipped), then one document per row:
 *     ";".join(f"{col.strip()}: {str(row[col]).strip()}" for col in columns)
 * Here the rows are one text, joined with a blank line (each row stays a
 * paragraph of its own for the splitter).
 *
 * Parsing: a small RFC 4180 state machine over the decoded text (BOM and
 * charset handled by the .txt decoder): fields separated by ','; a field
 * that starts with '"' is quoted and may hold ',', '"' (written '""') and
 * line ends; "\r\n", "\r" and "\n" all end a record; an empty line is
 * skipped.  Lenient where pandas is: characters after a closing quote are
 * kept ('"ab"c' is 'abc'), a '"' inside an unquoted field is literal.
 * Strict where pandas is: a quoted field still open at the end of the file
 * is refused, with the line it started on.
 *
 * Deliberate differences from pandas (which Dify inherits): an empty cell
 * is written as "col: " (pandas writes "nan"); a row with more fields than
 * there are column names keeps them under "Unnamed: <index>" (pandas skips
 * the whole row, on_bad_lines="skip"); values are never re-typed (pandas
 * turns "007" into "7" and "1.50" into "1.5"); a row whose fields are all
 * empty is left out; duplicate column names are not renamed "a.1".  An
 * empty column name is "Unnamed: <index>", as pandas names it.
 * Limits: 65,536 fields per row.
 */
#include "ingest/extract_int.h"

#include "core/alloc.h"

#include <stdio.h>
#include <string.h>

#define MAX_FIELDS 65536u

typedef struct field {
    size_t off, len;
} field;

typedef struct csv {
    rg_buf *out;
    rg_buf row; /* the fields of the current record, back to back */
    field *f;
    size_t nf, capf;
    bool have_header;
    rg_buf hpool;
    field *head;
    size_t nhead;
    size_t rows;
} csv;

static rg_rc end_field(csv *c, size_t start)
{
    if (c->nf >= MAX_FIELDS)
        return RG_EINVAL;
    if (c->nf == c->capf) {
        size_t cap = c->capf ? c->capf * 2 : 32;
        field *v = rg_try_realloc(c->f, cap * sizeof *v);
        if (!v)
            return RG_ENOMEM;
        c->f = v;
        c->capf = cap;
    }
    c->f[c->nf++] = (field){start, c->row.len - start};
    return RG_OK;
}

static void get_field(const csv *c, size_t i, const char **p, size_t *n)
{
    *p = c->row.p ? c->row.p + c->f[i].off : "";
    *n = c->f[i].len;
    rg_extract_trim(p, n);
}

static rg_rc put_name(csv *c, size_t i)
{
    if (i < c->nhead && c->head[i].len)
        return rg_buf_append(c->out, c->hpool.p + c->head[i].off, c->head[i].len);
    return rg_buf_printf(c->out, "Unnamed: %zu", i);
}

static rg_rc end_record(csv *c)
{
    rg_rc rc = RG_OK;
    if (!c->have_header) {
        c->head = rg_try_malloc(c->nf * sizeof *c->head);
        if (!c->head)
            return RG_ENOMEM;
        c->nhead = c->nf;
        for (size_t i = 0; i < c->nf && rc == RG_OK; i++) {
            const char *p;
            size_t n;
            get_field(c, i, &p, &n);
            c->head[i] = (field){c->hpool.len, n};
            rc = rg_buf_append(&c->hpool, p, n);
        }
        c->have_header = true;
    } else {
        bool any = false;
        for (size_t i = 0; i < c->nf && !any; i++) {
            const char *p;
            size_t n;
            get_field(c, i, &p, &n);
            any = n > 0;
        }
        size_t cols = c->nf > c->nhead ? c->nf : c->nhead;
        if (any && c->rows++)
            rc = rg_buf_append(c->out, "\n\n", 2);
        for (size_t i = 0; any && i < cols && rc == RG_OK; i++) {
            if (i)
                rc = rg_buf_putc(c->out, ';');
            if (rc == RG_OK)
                rc = put_name(c, i);
            if (rc == RG_OK)
                rc = rg_buf_append(c->out, ": ", 2);
            if (rc == RG_OK && i < c->nf) {
                const char *p;
                size_t n;
                get_field(c, i, &p, &n);
                rc = rg_buf_append(c->out, p, n);
            }
        }
    }
    rg_buf_reset(&c->row);
    c->nf = 0;
    return rc;
}

typedef enum { FIELD_START, UNQUOTED, QUOTED, QUOTE_IN_QUOTED } csv_state;

rg_rc rg_extract_csv_mem(const char *p, size_t n, rg_buf *out, char *why, size_t whylen)
{
    if (n == 0) {
        rg_extract_why(why, whylen, "the file is empty");
        return RG_EINVAL;
    }
    rg_buf text;
    rg_buf_init(&text, out->max);
    rg_rc rc = rg_extract_decode(p, n, &text, why, whylen);
    if (rc != RG_OK) {
        rg_buf_free(&text);
        return rc;
    }
    csv c = {.out = out};
    rg_buf_init(&c.row, out->max);
    rg_buf_init(&c.hpool, out->max);
    const char *s = text.p ? text.p : "";
    size_t len = text.len, line = 1, quote_line = 0, start = 0;
    csv_state st = FIELD_START;
    bool record_has_data = false; /* a delimiter or a character was seen */
    size_t from = out->len;
    for (size_t i = 0; i <= len && rc == RG_OK; i++) {
        bool eof = i == len;
        char ch = eof ? '\n' : s[i];
        if (!eof && ch == '\n')
            line++;
        if (st == QUOTED) {
            if (eof) {
                rg_extract_why(why, whylen,
                               "the CSV file has a quoted field that is never closed (it starts "
                               "on line %zu)",
                               quote_line);
                rc = RG_EINVAL;
            } else if (ch == '"')
                st = QUOTE_IN_QUOTED;
            else
                rc = rg_buf_putc(&c.row, ch);
            continue;
        }
        if (st == QUOTE_IN_QUOTED && ch == '"') {
            rc = rg_buf_putc(&c.row, '"');
            st = QUOTED;
            continue;
        }
        bool eol = ch == '\n' || ch == '\r';
        if (ch == ',' || eol) {
            if (ch == ',' || record_has_data || st != FIELD_START || c.nf > 0) {
                rc = end_field(&c, start);
                record_has_data = true;
            }
            if (rc == RG_OK && eol && record_has_data) {
                rc = end_record(&c);
                record_has_data = false;
            }
            if (ch == '\r' && i + 1 < len && s[i + 1] == '\n')
                i++, line++;
            start = c.row.len;
            st = FIELD_START;
            continue;
        }
        if (st == FIELD_START && ch == '"') {
            st = QUOTED;
            quote_line = line;
            record_has_data = true;
            continue;
        }
        rc = rg_buf_putc(&c.row, ch);
        record_has_data = true;
        if (st == FIELD_START || st == QUOTE_IN_QUOTED)
            st = UNQUOTED;
    }
    if (rc == RG_EINVAL && c.nf >= MAX_FIELDS)
        rg_extract_why(why, whylen, "a CSV row has more than %u fields", MAX_FIELDS);
    else if (rc == RG_OK && c.have_header && c.rows == 0) {
        rg_extract_why(why, whylen, "the CSV file has a header row but no data rows");
        rc = RG_EINVAL;
    } else if (rc == RG_OK && !rg_extract_has_text(out->p ? out->p + from : "", out->len - from)) {
        rg_extract_why(why, whylen, "the document contains no text");
        rc = RG_EINVAL;
    } else if (rc != RG_OK && rc != RG_EINVAL)
        rc = rg_extract_out_fail(rc, out, why, whylen);
    rg_buf_free(&c.row);
    rg_buf_free(&c.hpool);
    rg_free(c.f);
    rg_free(c.head);
    rg_buf_free(&text);
    return rc;
}
