/*
 * openai.c - placeholder until the OpenAI-compatible client lands.
 */
#include "embed/openai.h"

#include <stdio.h>

rg_rc rg_openai_start(const rg_config *c, char *err, size_t errlen)
{
    if (!*c->openai_url && !*c->openai_models)
        return RG_OK;
    snprintf(err, errlen,
             "--embed-openai-url: OpenAI-compatible services are not supported by "
             "this build");
    return RG_EINVAL;
}
