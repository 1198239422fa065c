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
    /* Embeds n texts into out (n * dims floats, caller-owned), each row
     * L2-normalised (an empty text gives the zero vector).  Thread-safe. */
    rg_rc (*embed)(const rg_embed_model *m, const rg_str *texts, size_t n, float *out);
};

/* All registered models (static storage); returns how many. */
size_t rg_embed_models(const rg_embed_model *const **out);
/* The model of that provider and name, or NULL. */
const rg_embed_model *rg_embed_find(const char *provider, const char *name);
/* The model used by high_quality datasets that name none. */
const rg_embed_model *rg_embed_default(void);

#endif
