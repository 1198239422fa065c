/*
 * engines.h - starting every embedding engine from the configuration.
 *
 * The built-in hash model is always there; the GloVe table when it is found;
 * each GGUF BERT file of --embed-gguf; each model of an OpenAI-compatible
 * service (--embed-openai-*); each rerank model of an OpenAI-compatible
 * rerank service (--rerank-*, rerank.h).  A configured engine that cannot start (a file
 * that is missing or not a valid model, a URL that is not http(s)) stops the
 * server at start-up with the reason: a model silently missing would only
 * surface later as failed documents.
 */
#ifndef RG_EMBED_ENGINES_H
#define RG_EMBED_ENGINES_H

#include "core/config.h"

/* Starts and registers the configured engines (once, before serving); on
 * failure err holds one line naming the setting and the reason. */
RG_WUR rg_rc rg_embed_start(const rg_config *c, char *err, size_t errlen);

#endif
