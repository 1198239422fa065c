/*
 * openai.h - embedding models served by an OpenAI-compatible HTTP service.
 * (Being written: see the brief of the OpenAI-compatible client work.)
 */
#ifndef RG_EMBED_OPENAI_H
#define RG_EMBED_OPENAI_H

#include "core/config.h"
#include "embed/embed.h"

/* Start-up: registers each model of c->openai_models (provider
 * "openai_api_compatible") when c->openai_url is set.  On failure err names
 * the setting and the reason. */
RG_WUR rg_rc rg_openai_start(const rg_config *c, char *err, size_t errlen);

#endif
