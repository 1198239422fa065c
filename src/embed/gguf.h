/*
 * gguf.h - a reader of GGUF files (llama.cpp's model format, version 2 and 3)
 * that validates everything before anything is used.
 *
 * A file is mapped read-only; open() walks the header, every metadata entry
 * and every tensor descriptor with bounds checks (counts, string lengths,
 * array lengths, nesting, dimension products, type sizes, offsets and the
 * data section's alignment, all against the file's size), so that a
 * truncated or hostile file is refused with one line saying what is wrong,
 * and nothing after open() can read outside the mapping.  Lookups return
 * views into the mapping, valid until rg_gguf_close.
 */
#ifndef RG_EMBED_GGUF_H
#define RG_EMBED_GGUF_H

#include "core/common.h"
#include "core/str.h"

/* ggml tensor types ragd reads (GGUF stores the ggml type number). */
enum { RG_GGUF_F32 = 0, RG_GGUF_F16 = 1, RG_GGUF_Q8_0 = 8 };

typedef struct rg_gguf rg_gguf;

typedef struct rg_gguf_tensor {
    rg_str name;
    uint32_t type;    /* a ggml type number */
    int n_dims;       /* 1..4 */
    uint64_t ne[4];   /* elements per dimension, ne[0] the contiguous one; unused ones 1 */
    uint64_t n;       /* ne[0] * ne[1] * ne[2] * ne[3] */
    const void *data; /* inside the mapping; aligned to general.alignment relative to the
                         file's start (use rg_gguf_to_f32, or check before a direct load) */
    uint64_t nbytes;
} rg_gguf_tensor;

/* Maps and validates the file at path.  On failure *out is NULL, err holds
 * one line (the path and what is wrong) and the result is RG_EIO (cannot
 * open or map), RG_EINVAL (not a valid GGUF file) or RG_ENOMEM. */
RG_WUR rg_rc rg_gguf_open(const char *path, rg_gguf **out, char *err, size_t errlen);
/* The same over n bytes at p (borrowed: must outlive the result; for tests
 * and the fuzzer). */
RG_WUR rg_rc rg_gguf_open_mem(const void *p, size_t n, rg_gguf **out, char *err, size_t errlen);
/* Unmaps (when open() mapped) and frees g; NULL is fine. */
void rg_gguf_close(rg_gguf *g);

/* Metadata by key.  Each returns false when the key is absent or of a type
 * that cannot represent the value without loss (an integer of any width
 * that fits; a float32 or float64 for rg_gguf_f32). */
bool rg_gguf_u32(const rg_gguf *g, const char *key, uint32_t *out);
bool rg_gguf_f32(const rg_gguf *g, const char *key, float *out);
bool rg_gguf_str(const rg_gguf *g, const char *key, rg_str *out);
bool rg_gguf_bool(const rg_gguf *g, const char *key, bool *out);
/* An array of strings: *n its length and, when out is not NULL, its first
 * min(n, max) strings (views) into out.  False when absent or not strings. */
bool rg_gguf_strs(const rg_gguf *g, const char *key, rg_str *out, size_t max, size_t *n);

/* The tensor of that name, or NULL. */
const rg_gguf_tensor *rg_gguf_tensor_find(const rg_gguf *g, const char *name);
/* Number of tensors, and the i-th (0 <= i < n) in file order. */
size_t rg_gguf_tensor_count(const rg_gguf *g);
const rg_gguf_tensor *rg_gguf_tensor_at(const rg_gguf *g, size_t i);
/* One IEEE binary16 value (bits h) as float32, exactly: subnormals, signed
 * zeros, infinities and NaNs (payload kept) included. */
float rg_gguf_f16_to_f32(uint16_t h);
/* Converts t's t->n values to float32 into out (caller array of t->n);
 * RG_EINVAL for a type other than F32, F16 and Q8_0. */
RG_WUR rg_rc rg_gguf_to_f32(const rg_gguf_tensor *t, float *out);

#endif
