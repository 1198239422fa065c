/*
 * hash_embed.h - ragd's built-in, offline embedder (signed feature hashing).
 *
 * The model object is exported so that the registry can list it among the
 * built-ins; the embed function is exported so that a variant with other
 * dims or context_size (e.g. a "ragd-hash-768") can be registered as its own
 * rg_embed_model that points at the same code.  Everything else is private
 * to hash_embed.c.
 */
#ifndef RG_EMBED_HASH_EMBED_H
#define RG_EMBED_HASH_EMBED_H

#include "embed/embed.h"

/* Provider "ragd", name "ragd-hash-384": 384 dims, reads the first 8192 code
 * points of a text.  Static storage, valid forever, never written. */
extern const rg_embed_model rg_hash_embed_model;

/* The feature-hashing engine behind rg_hash_embed_model, generic over
 * m->dims (> 0) and m->context_size (> 0, in code points; the rest of a longer
 * text is ignored).  Writes n rows of m->dims floats to out (caller-owned);
 * texts are borrowed, valid UTF-8 expected (malformed bytes are skipped, never
 * read past).  RG_EINVAL on bad arguments, RG_ENOMEM when scratch memory cannot
 * be had.  Thread-safe: all state lives on the stack or in per-call scratch. */
RG_WUR rg_rc rg_hash_embed(const rg_embed_model *m, const rg_str *texts, size_t n, float *out,
                           char *err);

#endif
