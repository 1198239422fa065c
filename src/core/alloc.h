/*
 * alloc.h - the only door to the C allocator.
 *
 * rg_x* functions are for small, fixed-size allocations whose failure means
 * the process cannot go on: they log and abort (redis zmalloc, h2o).  Sizes
 * that come from input use rg_try_malloc and turn failure into RG_ENOMEM.
 * Nothing outside core/ calls malloc, realloc or free directly.
 */
#ifndef RG_CORE_ALLOC_H
#define RG_CORE_ALLOC_H

#include "core/common.h"

/* Returns n bytes (n may be 0); aborts on failure.  Caller frees with rg_free. */
void *rg_xmalloc(size_t n);
/* Returns n zeroed elements of size sz; aborts on failure or overflow.  rg_free. */
void *rg_xcalloc(size_t n, size_t sz);
/* Resizes p to n bytes; aborts on failure.  The old pointer is invalid after. */
void *rg_xrealloc(void *p, size_t n);
/* Returns a NUL-terminated copy of z (z may not be NULL).  Caller frees with rg_free. */
char *rg_xstrdup(const char *z);
/* Returns a NUL-terminated copy of the n bytes at p.  Caller frees with rg_free. */
char *rg_xstrndup(const char *p, size_t n);
/* Returns n bytes or NULL when the system has none; for input-sized requests. */
RG_WUR void *rg_try_malloc(size_t n);
/* Resizes p to n bytes or returns NULL leaving p valid; for input-sized requests. */
RG_WUR void *rg_try_realloc(void *p, size_t n);
/* Frees memory from any rg_ allocator function above; NULL is fine. */
void rg_free(void *p);

#endif
