/*
 * models.c - GET /v1/workspaces/current/models/model-types/{model_type}.
 *
 * Lists the embedding models (text-embedding) or the rerank models (rerank)
 * this server can use, grouped by provider in the shape of Dify's
 * ModelProviderService (provider entry with a models array; an embedding
 * model's model_properties carry context_size and dimensions, a rerank
 * model's context_size).  llm, tts, speech2text and moderation have no
 * providers in ragd and answer an empty list; any other type is 400
 * invalid_param.
 */
#include "api/api.h"

#include "embed/embed.h"
#include "embed/rerank.h"

#include <string.h>

static void render_label(rg_jsonw *w, const char *key, const char *text)
{
    rg_jsonw_key(w, key);
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "en_US", text);
    rg_jsonw_kstr(w, "zh_Hans", text);
    rg_jsonw_obj_end(w);
}

/* One model of either registry, as the listing needs it. */
typedef struct entry {
    const char *provider, *name;
    int context_size;
    int dims; /* 0: not an embedding model (no "dimensions") */
} entry;

static void render_model(rg_jsonw *w, const entry *m, const char *type)
{
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "model", m->name);
    render_label(w, "label", m->name);
    rg_jsonw_kstr(w, "model_type", type);
    rg_jsonw_knull(w, "features");
    rg_jsonw_kstr(w, "fetch_from", "predefined-model");
    rg_jsonw_key(w, "model_properties");
    rg_jsonw_obj(w);
    rg_jsonw_kint(w, "context_size", m->context_size);
    if (m->dims)
        rg_jsonw_kint(w, "dimensions", m->dims);
    rg_jsonw_obj_end(w);
    rg_jsonw_kbool(w, "deprecated", false);
    rg_jsonw_kstr(w, "status", "active");
    rg_jsonw_kbool(w, "load_balancing_enabled", false);
    rg_jsonw_obj_end(w);
}

static void render_provider(rg_jsonw *w, const char *provider, const entry *all, size_t n,
                            const char *type)
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
        if (strcmp(all[i].provider, provider) == 0)
            render_model(w, &all[i], type);
    rg_jsonw_arr_end(w);
    rg_jsonw_obj_end(w);
}

/* The models of type (text-embedding or rerank) into an arena array. */
static size_t collect(rg_req *req, const char *type, entry **out)
{
    const rg_embed_model *const *emb;
    const rg_rerank_model *const *rr;
    bool embedding = strcmp(type, "text-embedding") == 0;
    size_t n = embedding                     ? rg_embed_models(&emb)
               : strcmp(type, "rerank") == 0 ? rg_rerank_models(&rr)
                                             : 0;
    entry *e = *out = rg_arena_calloc(req->arena, n ? n : 1, sizeof *e);
    for (size_t i = 0; i < n; i++)
        e[i] = embedding
                   ? (entry){emb[i]->provider, emb[i]->name, emb[i]->context_size, emb[i]->dims}
                   : (entry){rr[i]->provider, rr[i]->name, rr[i]->context_size, 0};
    return n;
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
    entry *all;
    size_t n = collect(req, type, &all);
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++) { /* one entry per provider, first-seen order */
        bool seen = false;
        for (size_t j = 0; j < i; j++)
            seen |= strcmp(all[j].provider, all[i].provider) == 0;
        if (!seen)
            render_provider(&w, all[i].provider, all, n, type);
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}
