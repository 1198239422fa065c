/*
 * jsonw.c - the JSON writer.  Commas are decided by a per-depth "first" flag;
 * a key sets after_key so that the following value does not add a comma.
 */
#include "core/jsonw.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

void rg_jsonw_init(rg_jsonw *w, rg_buf *b)
{
    w->b = b;
    w->depth = 0;
    w->first[0] = true;
    w->after_key = false;
}

static void jsonw_sep(rg_jsonw *w)
{
    if (w->after_key) {
        w->after_key = false;
        return;
    }
    if (!w->first[w->depth])
        (void)rg_buf_putc(w->b, ',');
    w->first[w->depth] = false;
}

static void jsonw_open(rg_jsonw *w, char c)
{
    jsonw_sep(w);
    (void)rg_buf_putc(w->b, c);
    if (w->depth + 1 >= RG_JSONW_MAX_DEPTH) {
        w->b->failed = true;
        return;
    }
    w->first[++w->depth] = true;
}

static void jsonw_close(rg_jsonw *w, char c)
{
    (void)rg_buf_putc(w->b, c);
    if (w->depth > 0)
        w->depth--;
}

void rg_jsonw_obj(rg_jsonw *w)
{
    jsonw_open(w, '{');
}
void rg_jsonw_obj_end(rg_jsonw *w)
{
    jsonw_close(w, '}');
}
void rg_jsonw_arr(rg_jsonw *w)
{
    jsonw_open(w, '[');
}
void rg_jsonw_arr_end(rg_jsonw *w)
{
    jsonw_close(w, ']');
}

static void jsonw_escaped(rg_buf *b, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    (void)rg_buf_putc(b, '"');
    size_t run = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        (void)rg_buf_append(b, p + run, i - run);
        run = i + 1;
        switch (c) {
        case '"': (void)rg_buf_append(b, "\\\"", 2); break;
        case '\\': (void)rg_buf_append(b, "\\\\", 2); break;
        case '\n': (void)rg_buf_append(b, "\\n", 2); break;
        case '\r': (void)rg_buf_append(b, "\\r", 2); break;
        case '\t': (void)rg_buf_append(b, "\\t", 2); break;
        default: {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            (void)rg_buf_append(b, u, 6);
        }
        }
    }
    (void)rg_buf_append(b, p + run, n - run);
    (void)rg_buf_putc(b, '"');
}

void rg_jsonw_key(rg_jsonw *w, const char *key)
{
    /* keys are program constants (identifiers), so they are copied verbatim */
    size_t n = strlen(key);
    char tmp[128];
    jsonw_sep(w);
    if (n + 3 <= sizeof tmp) {
        tmp[0] = '"';
        memcpy(tmp + 1, key, n);
        tmp[n + 1] = '"';
        tmp[n + 2] = ':';
        (void)rg_buf_append(w->b, tmp, n + 3);
    } else {
        jsonw_escaped(w->b, key, n);
        (void)rg_buf_putc(w->b, ':');
    }
    w->after_key = true;
}

void rg_jsonw_str(rg_jsonw *w, rg_str s)
{
    jsonw_sep(w);
    jsonw_escaped(w->b, s.p ? s.p : "", s.n);
}

void rg_jsonw_strz(rg_jsonw *w, const char *z)
{
    if (!z)
        rg_jsonw_null(w);
    else
        rg_jsonw_str(w, rg_str_c(z));
}

void rg_jsonw_int(rg_jsonw *w, int64_t v)
{
    char tmp[24], *e = tmp + sizeof tmp, *p = e;
    uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    jsonw_sep(w);
    (void)rg_buf_append(w->b, p, (size_t)(e - p));
}

void rg_jsonw_double(rg_jsonw *w, double v)
{
    if (!isfinite(v)) {
        rg_jsonw_null(w);
        return;
    }
    jsonw_sep(w);
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%.17g", v);
    /* prefer the shortest form that reads back the same */
    for (int prec = 6; prec < 17; prec++) {
        char t2[32];
        int m = snprintf(t2, sizeof t2, "%.*g", prec, v);
        if (strtod(t2, NULL) == v) {
            memcpy(tmp, t2, (size_t)m + 1);
            n = m;
            break;
        }
    }
    (void)rg_buf_append(w->b, tmp, (size_t)n);
    if (!strpbrk(tmp, ".eEn"))
        (void)rg_buf_append(w->b, ".0", 2);
}

void rg_jsonw_bool(rg_jsonw *w, bool v)
{
    jsonw_sep(w);
    (void)rg_buf_puts(w->b, v ? "true" : "false");
}

void rg_jsonw_null(rg_jsonw *w)
{
    jsonw_sep(w);
    (void)rg_buf_append(w->b, "null", 4);
}

void rg_jsonw_raw(rg_jsonw *w, rg_str json)
{
    jsonw_sep(w);
    (void)rg_buf_append(w->b, json.p, json.n);
}

void rg_jsonw_kstr(rg_jsonw *w, const char *key, const char *z)
{
    rg_jsonw_key(w, key);
    rg_jsonw_strz(w, z);
}

void rg_jsonw_kint(rg_jsonw *w, const char *key, int64_t v)
{
    rg_jsonw_key(w, key);
    rg_jsonw_int(w, v);
}

void rg_jsonw_kint_or_null(rg_jsonw *w, const char *key, int64_t v)
{
    rg_jsonw_key(w, key);
    if (v < 0)
        rg_jsonw_null(w);
    else
        rg_jsonw_int(w, v);
}

void rg_jsonw_kbool(rg_jsonw *w, const char *key, bool v)
{
    rg_jsonw_key(w, key);
    rg_jsonw_bool(w, v);
}

void rg_jsonw_knull(rg_jsonw *w, const char *key)
{
    rg_jsonw_key(w, key);
    rg_jsonw_null(w);
}

void rg_jsonw_kdouble(rg_jsonw *w, const char *key, double v)
{
    rg_jsonw_key(w, key);
    rg_jsonw_double(w, v);
}

void rg_jsonw_kraw(rg_jsonw *w, const char *key, const char *z)
{
    rg_jsonw_key(w, key);
    if (z)
        rg_jsonw_raw(w, rg_str_c(z));
    else
        rg_jsonw_null(w);
}
