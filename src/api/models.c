/*
 * models.c - GET /v1/workspaces/current/models/model-types/{model_type}.
 *
 * Lists the embedding models this server can use, grouped by provider in the
 * shape of Dify's ModelProviderService (provider entry with a models array).
 * rerank, llm, tts, speech2text and moderation have no providers in ragd yet
 * and answer an empty list; any other type is 400 invalid_param.
 */
#include "api/api.h"

#include "embed/embed.h"

#include <string.h>

static void render_label(rg_jsonw *w, const char *key, const char *text)
{
    rg_jsonw_key(w, key);
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "en_US", text);
    rg_jsonw_kstr(w, "zh_Hans", text);
    rg_jsonw_obj_end(w);
}

static void render_model(rg_jsonw *w, const rg_embed_model *m)
{
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "model", m->name);
    render_label(w, "label", m->name);
    rg_jsonw_kstr(w, "model_type", "text-embedding");
    rg_jsonw_knull(w, "features");
    rg_jsonw_kstr(w, "fetch_from", "predefined-model");
    rg_jsonw_key(w, "model_properties");
    rg_jsonw_obj(w);
    rg_jsonw_kint(w, "context_size", m->context_size);
    rg_jsonw_kint(w, "dimensions", m->dims);
    rg_jsonw_obj_end(w);
    rg_jsonw_kbool(w, "deprecated", false);
    rg_jsonw_kstr(w, "status", "active");
    rg_jsonw_kbool(w, "load_balancing_enabled", false);
    rg_jsonw_obj_end(w);
}

static void render_provider(rg_jsonw *w, const char *provider, const rg_embed_model *const *all,
                            size_t n)
{
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "provider", provider);
    render_label(w, "label", provider);
    rg_jsonw_key(w, "icon_small");
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "en_US", "");
    rg_jsonw_obj_end(w);
    rg_jsonw_key(w, "icon_large");
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "en_US", "");
    rg_jsonw_obj_end(w);
    rg_jsonw_kstr(w, "status", "active");
    rg_jsonw_key(w, "models");
    rg_jsonw_arr(w);
    for (size_t i = 0; i < n; i++)
        if (strcmp(all[i]->provider, provider) == 0)
            render_model(w, all[i]);
    rg_jsonw_arr_end(w);
    rg_jsonw_obj_end(w);
}

rg_rc rg_api_models_list(rg_req *req, rg_resp *resp)
{
    static const char *const known[] = {"text-embedding", "rerank",    "llm", "tts",
                                        "speech2text",    "moderation"};
    const char *type = rg_req_param(req, 0);
    bool ok = false;
    for (size_t i = 0; i < RG_ARRAY_LEN(known); i++)
        ok |= strcmp(type, known[i]) == 0;
    if (!ok)
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "model_type: '%.40s' is not one of text-embedding, rerank, llm, tts, "
                            "speech2text, moderation",
                            type);
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    rg_jsonw_arr(&w);
    if (strcmp(type, "text-embedding") == 0) {
        const rg_embed_model *const *all;
        size_t n = rg_embed_models(&all);
        for (size_t i = 0; i < n; i++) { /* one entry per provider, first-seen order */
            bool seen = false;
            for (size_t j = 0; j < i; j++)
                seen |= strcmp(all[j]->provider, all[i]->provider) == 0;
            if (!seen)
                render_provider(&w, all[i]->provider, all, n);
        }
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}
