/*
 * embedding.c - the embedding model of a dataset, as the handlers that embed
 * at request time (/retrieve's query, a chunk added or edited) need it.
 *
 * One lookup (the dataset's model, or the server default when it names none)
 * and one call, so that a model that is configured but unavailable answers
 * Dify's provider_not_initialize everywhere, and a model that fails answers
 * completion_request_error with the model's own explanation.
 */
#include "api/api.h"

#include "embed/embed.h"

rg_rc rg_api_embed_model(rg_req *req, rg_resp *resp, const rg_dataset *ds,
                         const rg_embed_model **out)
{
    const rg_embed_model *m = ds->embedding_model && ds->embedding_model_provider
                                  ? rg_embed_find(ds->embedding_model_provider, ds->embedding_model)
                                  : rg_embed_default();
    if (!m)
        return rg_resp_fail(resp, req, RG_EPROVIDER,
                            "Embedding model %s of provider %s is not available on this server.",
                            ds->embedding_model, ds->embedding_model_provider);
    *out = m;
    return RG_OK;
}

rg_rc rg_api_embed(rg_req *req, rg_resp *resp, const rg_embed_model *m, rg_str text, float *out)
{
    char err[RG_EMBED_ERR_MAX] = "";
    rg_rc rc = m->embed(m, &text, 1, out, err);
    if (rc == RG_OK)
        return RG_OK;
    if (rc == RG_ENOMEM || rc == RG_EIO || !*err)
        return rc;
    return rg_resp_fail(resp, req, rc == RG_EINVAL ? RG_EINVAL : RG_EUPSTREAM,
                        "Embedding model %s/%s failed: %s", m->provider, m->name, err);
}
