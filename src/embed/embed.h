/*
 * embed.h - the embedder interface and the registry of embedding models.
 *
 * Every engine (the built-in feature-hashing and GloVe embedders now; local
 * BERT and OpenAI-compatible services later) is an rg_embed_model in one registry,
 * looked up by (provider, model) exactly as Dify's datasets name them in
 * embedding_model_provider / embedding_model.  embed() turns n texts into n
 * L2-normalised vectors of dims floats.
 */
#ifndef RG_EMBED_EMBED_H
#define RG_EMBED_EMBED_H

#include "core/common.h"
#include "core/str.h"

typedef struct rg_embed_model rg_embed_model;

struct rg_embed_model {
    const char *provider; /* e.g. "ragd" */
    const char *name;     /* e.g. "ragd-hash-384" */
    const char *label;    /* human-readable */
    int dims;
    int context_size; /* characters the model reads of one text */
    /* What distinguishes this model's vectors from those of another model of
     * the same provider and name (a file's digest, a service's URL), or NULL.
     * Part of the embedding cache's key. */
    const char *revision;
    /* True when a call costs more than a cache lookup (a transformer, a remote
     * service): indexing then keeps its vectors in the store's embedding
     * cache.  The built-in hash and GloVe models embed a chunk in a few
     * microseconds, less than the lookup, and are not cached. */
    bool cache;
    /* Embeds n texts into out (n * dims floats, caller-owned), each row
     * L2-normalised (an empty text gives the zero vector).  Thread-safe.  On
     * failure, err (RG_EMBED_ERR_MAX bytes, or NULL) holds one line a person
     * can act on (a remote service's own message where there is one; never a
     * credential); RG_EUPSTREAM means the model or its service failed. */
    rg_rc (*embed)(const rg_embed_model *m, const rg_str *texts, size_t n, float *out, char *err);
};

/* Size of the buffer an embed() call writes its error line into. */
#define RG_EMBED_ERR_MAX 320

/* Writes the embedding cache's key of m ("provider/name@revision#dims") into
 * out (n bytes, truncated); returns out. */
const char *rg_embed_cache_key(const rg_embed_model *m, char *out, size_t n);

/* Writes a printf-style line into err (RG_EMBED_ERR_MAX bytes; NULL is fine)
 * and returns rc: engines' one way to explain a failure. */
rg_rc rg_embed_fail(char *err, rg_rc rc, const char *fmt, ...) RG_PRINTF(3, 4);

/* All registered models (static storage); returns how many. */
size_t rg_embed_models(const rg_embed_model *const **out);
/* The model of that provider and name, or NULL. */
const rg_embed_model *rg_embed_find(const char *provider, const char *name);
/* The model used by high_quality datasets that name none. */
const rg_embed_model *rg_embed_default(void);

#endif
