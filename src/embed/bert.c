/*
 * bert.c - placeholder until the GGUF BERT encoder lands: refuses any file.
 */
#include "embed/bert.h"

#include <stdio.h>

rg_rc rg_bert_start(const char *paths, int threads, char *err, size_t errlen)
{
    (void)threads;
    if (!paths || !*paths)
        return RG_OK;
    snprintf(err, errlen, "--embed-gguf: GGUF models are not supported by this build");
    return RG_EINVAL;
}
