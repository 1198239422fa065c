/*
 * rerank.h - the rerank-model interface, its registry, and the rerank models
 * of an OpenAI-compatible service.
 *
 * A rerank model scores how relevant each of n documents is to a query, as
 * Dify's retrieval_model.reranking_model names one ({reranking_provider_name,
 * reranking_model_name} = (provider, name) here).  /retrieve reorders its
 * candidates by these scores (src/api/retrieve.c).
 *
 * The OpenAI-compatible client (provider "openai_api_compatible", the shape of
 * Jina, Cohere, vLLM, Xinference, LocalAI and llama.cpp's server) sends
 *     POST {--rerank-url}/rerank
 *     {"model":NAME,"query":Q,"documents":[...],"top_n":n}
 * with Authorization: Bearer KEY when a key is set, and reads
 *     {"results":[{"index":i,"relevance_score":s},...]}
 * or text-embeddings-inference's bare [{"index":i,"score":s},...].  The query
 * and every document are cut to RG_RERANK_DOC_CHARS code points.  A document
 * the answer leaves out scores 0.  Scores: when every score of an answer is
 * in [0,1] they are kept; when any is outside (services that return raw
 * logits: TEI without normalisation, some vLLM models) every score of that
 * answer is mapped by the logistic function 1/(1+e^-s), which keeps their
 * order.  The HTTP exchange (retries with backoff and Retry-After, timeouts,
 * requests in flight, key scrubbing) is remote.h's, with the --rerank-*
 * settings; failures are RG_EUPSTREAM with the service's message.
 */
#ifndef RG_EMBED_RERANK_H
#define RG_EMBED_RERANK_H

#include "core/common.h"
#include "core/config.h"
#include "core/str.h"

typedef struct rg_rerank_model rg_rerank_model;

struct rg_rerank_model {
    const char *provider; /* e.g. "openai_api_compatible" */
    const char *name;     /* the service's model name */
    const char *label;    /* human-readable */
    int context_size;     /* characters of one document the model is sent */
    /* Scores the n documents against query into scores (n doubles,
     * caller-owned), each in [0,1], higher = more relevant, in the order of
     * docs.  Thread-safe.  On failure err (RG_RERANK_ERR_MAX bytes, or NULL)
     * holds one line a person can act on (the service's own message where
     * there is one, never a credential); RG_EUPSTREAM means the model or its
     * service failed, RG_EINVAL that the input was refused (invalid UTF-8). */
    rg_rc (*rerank)(const rg_rerank_model *m, rg_str query, const rg_str *docs, size_t n,
                    double *scores, char *err);
};

/* Size of the buffer a rerank() call writes its error line into. */
#define RG_RERANK_ERR_MAX 320
/* Rerank models the registry can hold. */
#define RG_RERANK_MAX_MODELS 32
/* Code points of the query and of each document that are sent. */
#define RG_RERANK_DOC_CHARS 8192

/* All registered models (static storage); returns how many. */
size_t rg_rerank_models(const rg_rerank_model *const **out);
/* The model of that provider and name, or NULL (either NULL: NULL). */
const rg_rerank_model *rg_rerank_find(const char *provider, const char *name);
/* Appends m; the registry keeps the pointer, which must stay valid for the
 * life of the process.  RG_EINVAL for a NULL/empty provider or name, a NULL
 * label or rerank, or context_size <= 0; RG_ECONFLICT when (provider, name)
 * is registered; RG_ENOMEM when full.  Thread-safe against readers. */
RG_WUR rg_rc rg_rerank_register(const rg_rerank_model *m);

/* Start-up (once, before serving): registers each model of c->rerank_models
 * (provider openai_api_compatible) when c->rerank_url is set; nothing
 * configured: RG_OK.  RG_EINVAL (bad URL or list, or models without a URL)
 * or RG_EIO with a line in err (errlen bytes) naming the setting.  No request
 * is made at start-up.  c is borrowed; what is registered is never freed. */
RG_WUR rg_rc rg_rerank_start(const rg_config *c, char *err, size_t errlen);

#endif
