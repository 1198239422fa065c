/*
 * jsonw.h - streaming JSON writer on an rg_buf.
 *
 * Hot responses are written field by field in the contract's order instead of
 * being built as a jansson tree.  The writer tracks commas for up to
 * RG_JSONW_MAX_DEPTH levels; errors (depth, buffer limit) are sticky and are
 * read once at the end through rg_buf_failed on the buffer.
 * Strings must be valid UTF-8 (everything that enters ragd is validated);
 * control characters, quotes and backslashes are escaped.
 */
#ifndef RG_CORE_JSONW_H
#define RG_CORE_JSONW_H

#include "core/buf.h"

#define RG_JSONW_MAX_DEPTH 32

typedef struct rg_jsonw {
    rg_buf *b;
    int depth;
    bool first[RG_JSONW_MAX_DEPTH];
    bool after_key;
} rg_jsonw;

/* Starts writing into b (borrowed; must outlive the writer). */
void rg_jsonw_init(rg_jsonw *w, rg_buf *b);
void rg_jsonw_obj(rg_jsonw *w);
void rg_jsonw_obj_end(rg_jsonw *w);
void rg_jsonw_arr(rg_jsonw *w);
void rg_jsonw_arr_end(rg_jsonw *w);
/* Writes an object key; the next value call writes its value.  Keys are
 * program constants and are written without escaping. */
void rg_jsonw_key(rg_jsonw *w, const char *key);
void rg_jsonw_str(rg_jsonw *w, rg_str s);
/* Writes z as a string, or null when z is NULL. */
void rg_jsonw_strz(rg_jsonw *w, const char *z);
void rg_jsonw_int(rg_jsonw *w, int64_t v);
/* Writes v with up to 17 significant digits; non-finite values become null. */
void rg_jsonw_double(rg_jsonw *w, double v);
void rg_jsonw_bool(rg_jsonw *w, bool v);
void rg_jsonw_null(rg_jsonw *w);
/* Writes already-serialised JSON text verbatim (caller guarantees validity). */
void rg_jsonw_raw(rg_jsonw *w, rg_str json);

/* Key-and-value shorthands. */
void rg_jsonw_kstr(rg_jsonw *w, const char *key, const char *z);
void rg_jsonw_kint(rg_jsonw *w, const char *key, int64_t v);
/* Writes v, or null when v is negative (the convention for unset timestamps). */
void rg_jsonw_kint_or_null(rg_jsonw *w, const char *key, int64_t v);
void rg_jsonw_kbool(rg_jsonw *w, const char *key, bool v);
void rg_jsonw_knull(rg_jsonw *w, const char *key);
void rg_jsonw_kdouble(rg_jsonw *w, const char *key, double v);
/* Writes raw JSON text z, or null when z is NULL. */
void rg_jsonw_kraw(rg_jsonw *w, const char *key, const char *z);

#endif
