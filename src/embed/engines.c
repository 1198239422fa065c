/*
 * engines.c - start-up of the embedding engines, in a fixed order: GloVe
 * (becomes the default when present), GGUF BERT files, the remote
 * OpenAI-compatible models, then the rerank models.  See engines.h.
 */
#include "embed/engines.h"

#include "embed/bert.h"
#include "embed/glove.h"
#include "embed/openai.h"
#include "embed/rerank.h"

rg_rc rg_embed_start(const rg_config *c, char *err, size_t errlen)
{
    rg_glove_start(); /* optional: logs and carries on without the table */
    RG_TRY(rg_bert_start(c->embed_gguf, (int)c->embed_threads, err, errlen));
    RG_TRY(rg_openai_start(c, err, errlen));
    return rg_rerank_start(c, err, errlen);
}
