/*
 * buf.c - the growable buffer.  Growth doubles, capped at the maximum.
 */
#include "core/buf.h"

#include "core/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void rg_buf_init(rg_buf *b, size_t max)
{
    b->p = NULL;
    b->len = b->cap = 0;
    b->max = max;
    b->failed = false;
}

void rg_buf_free(rg_buf *b)
{
    rg_free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

void rg_buf_reset(rg_buf *b)
{
    b->len = 0;
    b->failed = false;
    if (b->p)
        b->p[0] = '\0';
}

static rg_rc buf_reserve(rg_buf *b, size_t extra)
{
    if (b->failed)
        return RG_ETOOBIG;
    if (extra > b->max || b->len > b->max - extra) {
        b->failed = true;
        return RG_ETOOBIG;
    }
    size_t need = b->len + extra + 1; /* room for the terminating NUL */
    if (need <= b->cap)
        return RG_OK;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    char *p = rg_try_realloc(b->p, cap);
    if (!p) {
        b->failed = true;
        return RG_ENOMEM;
    }
    b->p = p;
    b->cap = cap;
    return RG_OK;
}

rg_rc rg_buf_append(rg_buf *b, const void *p, size_t n)
{
    RG_TRY(buf_reserve(b, n));
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return RG_OK;
}

rg_rc rg_buf_puts(rg_buf *b, const char *z)
{
    return rg_buf_append(b, z, strlen(z));
}

rg_rc rg_buf_putc(rg_buf *b, char c)
{
    return rg_buf_append(b, &c, 1);
}

rg_rc rg_buf_printf(rg_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return RG_EINVAL;
    RG_TRY(buf_reserve(b, (size_t)n));
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return RG_OK;
}

bool rg_buf_failed(const rg_buf *b)
{
    return b->failed;
}

rg_str rg_buf_str(const rg_buf *b)
{
    return (rg_str){b->p ? b->p : "", b->len};
}

char *rg_buf_take(rg_buf *b, size_t *len)
{
    if (len)
        *len = b->len;
    char *p = b->p ? b->p : rg_xstrdup("");
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}
