/*
 * buf.h - growable byte buffer with a hard maximum (curl's dynbuf).
 *
 * The maximum is fixed at init; an append that would pass it fails with
 * RG_ETOOBIG and leaves the buffer marked failed, so a writer can append
 * freely and check once at the end (rg_buf_failed).  The bytes are always
 * NUL-terminated for convenience, but the length is what counts.
 */
#ifndef RG_CORE_BUF_H
#define RG_CORE_BUF_H

#include "core/common.h"
#include "core/str.h"

typedef struct rg_buf {
    char *p;
    size_t len, cap, max;
    bool failed;
} rg_buf;

/* Prepares an empty buffer that will never hold more than max bytes. */
void rg_buf_init(rg_buf *b, size_t max);
/* Frees the bytes; the buffer may be initialised again. */
void rg_buf_free(rg_buf *b);
/* Empties the buffer, keeping its memory and clearing the failed mark. */
void rg_buf_reset(rg_buf *b);
/* Appends n bytes; RG_ETOOBIG past the maximum, RG_ENOMEM if the system refuses. */
rg_rc rg_buf_append(rg_buf *b, const void *p, size_t n);
/* Appends a NUL-terminated string. */
rg_rc rg_buf_puts(rg_buf *b, const char *z);
/* Appends one byte. */
rg_rc rg_buf_putc(rg_buf *b, char c);
/* Appends formatted text. */
rg_rc rg_buf_printf(rg_buf *b, const char *fmt, ...) RG_PRINTF(2, 3);
/* True once any append has failed since init or reset. */
bool rg_buf_failed(const rg_buf *b);
/* Returns a slice over the contents, borrowed until the next change. */
rg_str rg_buf_str(const rg_buf *b);
/* Hands the bytes to the caller (free with rg_free) and empties the buffer. */
char *rg_buf_take(rg_buf *b, size_t *len);

#endif
