/*
 * str.h - length-carrying string slices and the checks wire data needs.
 *
 * Anything that comes from the network or a file is an rg_str: a pointer and
 * a length, never assumed NUL-terminated (ngx_str_t, h2o_iovec_t).  A slice
 * borrows its bytes; who owns them is said where the slice is made.
 */
#ifndef RG_CORE_STR_H
#define RG_CORE_STR_H

#include "core/common.h"

typedef struct rg_str {
    const char *p;
    size_t n;
} rg_str;

#define RG_STR(lit) ((rg_str){(lit), sizeof(lit) - 1})
#define RG_STR_NULL ((rg_str){NULL, 0})

/* Returns a slice over the NUL-terminated z (NULL gives the empty slice). */
rg_str rg_str_c(const char *z);
/* True when a and b hold the same bytes. */
bool rg_str_eq(rg_str a, rg_str b);
/* True when s holds the same bytes as the NUL-terminated z. */
bool rg_str_eqz(rg_str s, const char *z);
/* True when a and b are equal ignoring ASCII case. */
bool rg_str_ieq(rg_str a, rg_str b);
/* True when s starts with the NUL-terminated prefix. */
bool rg_str_starts(rg_str s, const char *prefix);
/* Returns s without leading and trailing ASCII white space. */
rg_str rg_str_trim(rg_str s);
/* True when the n bytes at p are well-formed UTF-8 (no overlongs, no surrogates). */
bool rg_utf8_valid(const char *p, size_t n);
/* Number of code points in well-formed UTF-8 text. */
size_t rg_utf8_len(const char *p, size_t n);
/* Parses a whole decimal integer in [min, max]; RG_EINVAL otherwise. */
RG_WUR rg_rc rg_str_to_i64(rg_str s, int64_t min, int64_t max, int64_t *out);
/* True when s is a UUID in 8-4-4-4-12 hex form (either case). */
bool rg_str_is_uuid(rg_str s);
/* Parses "true"/"false"/"1"/"0" (ASCII case-insensitive); RG_EINVAL otherwise. */
RG_WUR rg_rc rg_str_to_bool(rg_str s, bool *out);

#endif
