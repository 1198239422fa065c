/*
 * extract_json.c - a JSON file as readable "path: value" lines.
 *
 * Dify has no JSON extractor (a .json upload is refused there); ragd
 * accepts one and writes every leaf value on a line of its own, prefixed by
 * its path, so that each fact keeps its context in a chunk:
 *     {"name": "Ada", "tags": ["math", "poetry"],
 *      "jobs": [{"at": "X", "years": 2}]}
 * becomes
 *     name: Ada
 *     tags: math, poetry
 *     jobs[0].at: X
 *     jobs[0].years: 2
 * Object members keep file order (jansson keeps insertion order); nested
 * keys join with '.'; an array of scalars is flattened onto one line joined
 * with ", "; other arrays give "[i]" paths; a scalar root is its value
 * alone; empty objects and arrays write nothing.  Strings are written as
 * they are (no quotes, no escapes); numbers in their shortest form that
 * reads back the same (1e+100, 0.1, 42); true, false and null as words.
 *
 * Parsing: jansson, after the bytes have been decoded like .txt (BOM,
 * UTF-16, charset); any value at the root (JSON_DECODE_ANY); "\u0000" is
 * accepted and dropped later; an integer too large for 64 bits is read
 * again as a real rather than refused.  Invalid JSON is refused with
 * jansson's line, column and message.  jansson limits nesting to 2048, so
 * the recursion here is bounded.
 */
#include "ingest/extract_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct jw {
    rg_buf *out;
    rg_buf path;
    bool any;
} jw;

static bool is_scalar(const json_t *v)
{
    return !json_is_object(v) && !json_is_array(v);
}

static rg_rc put_scalar(rg_buf *b, const json_t *v)
{
    char num[40];
    switch (json_typeof(v)) {
    case JSON_STRING: return rg_buf_append(b, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: return rg_buf_printf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    case JSON_REAL: {
        double d = json_real_value(v);
        for (int prec = 15; prec <= 17; prec++) {
            snprintf(num, sizeof num, "%.*g", prec, d);
            if (strtod(num, NULL) == d)
                break;
        }
        return rg_buf_puts(b, num);
    }
    case JSON_TRUE: return rg_buf_puts(b, "true");
    case JSON_FALSE: return rg_buf_puts(b, "false");
    default: return rg_buf_puts(b, "null");
    }
}

static rg_rc line_start(jw *w)
{
    if (w->any)
        RG_TRY(rg_buf_putc(w->out, '\n'));
    w->any = true;
    if (w->path.len) {
        RG_TRY(rg_buf_append(w->out, w->path.p, w->path.len));
        RG_TRY(rg_buf_append(w->out, ": ", 2));
    }
    return RG_OK;
}

static rg_rc walk(jw *w, const json_t *v)
{
    size_t mark = w->path.len;
    rg_rc rc = RG_OK;
    if (json_is_object(v)) {
        const char *key;
        json_t *child;
        json_object_foreach((json_t *)v, key, child)
        {
            if (w->path.len)
                rc = rg_buf_putc(&w->path, '.');
            if (rc == RG_OK)
                rc = rg_buf_puts(&w->path, key);
            if (rc == RG_OK)
                rc = walk(w, child);
            w->path.len = mark;
            if (rc != RG_OK)
                break;
        }
    } else if (json_is_array(v)) {
        size_t n = json_array_size(v);
        bool flat = true;
        for (size_t i = 0; i < n && flat; i++)
            flat = is_scalar(json_array_get(v, i));
        if (flat && n) {
            rc = line_start(w);
            for (size_t i = 0; i < n && rc == RG_OK; i++) {
                if (i)
                    rc = rg_buf_append(w->out, ", ", 2);
                if (rc == RG_OK)
                    rc = put_scalar(w->out, json_array_get(v, i));
            }
        } else {
            for (size_t i = 0; i < n && rc == RG_OK; i++) {
                const json_t *e = json_array_get(v, i);
                rc = rg_buf_printf(&w->path, "[%zu]", i);
                if (rc == RG_OK)
                    rc = is_scalar(e) ? line_start(w) : RG_OK;
                if (rc == RG_OK)
                    rc = is_scalar(e) ? put_scalar(w->out, e) : walk(w, e);
                w->path.len = mark;
            }
        }
    } else {
        rc = line_start(w);
        if (rc == RG_OK)
            rc = put_scalar(w->out, v);
    }
    w->path.len = mark;
    if (w->path.p)
        w->path.p[mark] = '\0';
    return rc;
}

rg_rc rg_extract_json_mem(const char *p, size_t n, rg_buf *out, char *why, size_t whylen)
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
    json_error_t err;
    const size_t flags = JSON_DECODE_ANY | JSON_ALLOW_NUL;
    json_t *root = json_loadb(text.p ? text.p : "", text.len, flags, &err);
    if (!root && json_error_code(&err) == json_error_numeric_overflow)
        root = json_loadb(text.p, text.len, flags | JSON_DECODE_INT_AS_REAL, &err);
    rg_buf_free(&text);
    if (!root) {
        rg_extract_why(why, whylen, "invalid JSON at line %d, column %d: %s", err.line, err.column,
                       err.text);
        return RG_EINVAL;
    }
    jw w = {.out = out};
    rg_buf_init(&w.path, out->max);
    size_t from = out->len;
    rc = walk(&w, root);
    rg_buf_free(&w.path);
    json_decref(root);
    if (rc != RG_OK)
        return rg_extract_out_fail(rc, out, why, whylen);
    if (!rg_extract_has_text(out->p ? out->p + from : "", out->len - from)) {
        rg_extract_why(why, whylen, "the document contains no text");
        return RG_EINVAL;
    }
    return RG_OK;
}
