/*
 * retrieval_model.c - RetrievalModel in and retrieval_model_dict out.
 *
 * Validation follows the contract's schema (required: search_method,
 * reranking_enable, top_k, score_threshold_enabled) plus the ranges Dify
 * enforces in use: top_k 1..RG_TOP_K_MAX, score_threshold 0..1, weights 0..1.
 * reranking_enable in reranking_model mode (or with a model named) needs a
 * registered rerank model (embed/rerank.h); otherwise, as an unknown model,
 * it is refused with Dify's "No Rerank Model available..." message.  Rendering merges the stored
 * object over Dify's read-side defaults (models/dataset.py Dataset.retrieval_model_dict) and writes
 * every key.
 */
#include "api/retrieval_model.h"

#include "core/alloc.h"
#include "embed/rerank.h"

#include <math.h>
#include <string.h>

static bool enum_ok(json_t *v, const char *const *set, size_t n)
{
    if (!json_is_string(v))
        return false;
    for (size_t i = 0; i < n; i++)
        if (strcmp(json_string_value(v), set[i]) == 0)
            return true;
    return false;
}

static rg_rc check_weight(rg_req *req, rg_resp *resp, json_t *setting, const char *path,
                          const char *key)
{
    if (!setting || json_is_null(setting))
        return RG_OK;
    if (!json_is_object(setting))
        return rg_resp_fail(resp, req, RG_EINVAL, "retrieval_model.weights.%s: expected an object",
                            path);
    json_t *w = json_object_get(setting, key);
    if (w && !json_is_null(w) &&
        (!json_is_number(w) || json_number_value(w) < 0 || json_number_value(w) > 1))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "retrieval_model.weights.%s.%s: expected a number from 0 to 1", path,
                            key);
    return RG_OK;
}

static rg_rc check_weights(rg_req *req, rg_resp *resp, json_t *w)
{
    static const char *const types[] = {"semantic_first", "keyword_first", "customized"};
    if (!w || json_is_null(w))
        return RG_OK;
    if (!json_is_object(w))
        return rg_resp_fail(resp, req, RG_EINVAL, "retrieval_model.weights: expected an object");
    json_t *t = json_object_get(w, "weight_type");
    if (t && !json_is_null(t) && !enum_ok(t, types, RG_ARRAY_LEN(types)))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "retrieval_model.weights.weight_type: expected semantic_first, "
                            "keyword_first or customized");
    RG_TRY(check_weight(req, resp, json_object_get(w, "vector_setting"), "vector_setting",
                        "vector_weight"));
    return check_weight(req, resp, json_object_get(w, "keyword_setting"), "keyword_setting",
                        "keyword_weight");
}

/* A reranking model is needed when reranking is enabled in reranking_model
 * mode (the default mode) or when one is named with reranking enabled; it must
 * then be a registered rerank model, else Dify's message. */
static rg_rc check_reranking(rg_req *req, rg_resp *resp, json_t *re, json_t *mode, json_t *rm)
{
    const char *names[2] = {NULL, NULL};
    static const char *const keys[2] = {"reranking_provider_name", "reranking_model_name"};
    for (size_t i = 0; i < 2 && json_is_object(rm); i++) {
        json_t *n = json_object_get(rm, keys[i]);
        if (n && !json_is_null(n) && !json_is_string(n))
            return rg_resp_fail(resp, req, RG_EINVAL,
                                "retrieval_model.reranking_model.%s: expected a string", keys[i]);
        names[i] = json_string_value(n);
    }
    bool named = names[1] && *names[1];
    bool wants_model =
        json_is_true(re) &&
        (!json_is_string(mode) || strcmp(json_string_value(mode), "reranking_model") == 0);
    if ((wants_model || named) && json_is_true(re) && !rg_rerank_find(names[0], names[1]))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "No Rerank Model available. Please configure a valid provider in the "
                            "Settings -> Model Provider.");
    return RG_OK;
}

rg_rc rg_retrieval_model_check(rg_req *req, rg_resp *resp, json_t *v, const char **json_out)
{
    static const char *const methods[] = {"keyword_search", "semantic_search", "full_text_search",
                                          "hybrid_search"};
    static const char *const modes[] = {"reranking_model", "weighted_score",
                                        "reciprocal_rank_fusion"};
    if (!json_is_object(v))
        return rg_resp_fail(resp, req, RG_EINVAL, "retrieval_model: expected an object");
    json_t *sm = json_object_get(v, "search_method");
    if (!enum_ok(sm, methods, RG_ARRAY_LEN(methods)))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "retrieval_model.search_method: required, one of keyword_search, "
                            "semantic_search, full_text_search, hybrid_search");
    json_t *re = json_object_get(v, "reranking_enable");
    if (!json_is_boolean(re))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "retrieval_model.reranking_enable: required, true or false");
    json_t *ste = json_object_get(v, "score_threshold_enabled");
    if (!json_is_boolean(ste))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "retrieval_model.score_threshold_enabled: required, true or false");
    json_t *k = json_object_get(v, "top_k");
    if (!json_is_integer(k) || json_integer_value(k) < 1 || json_integer_value(k) > RG_TOP_K_MAX)
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "retrieval_model.top_k: required, a whole number from 1 to %d",
                            RG_TOP_K_MAX);
    json_t *st = json_object_get(v, "score_threshold");
    if (st && !json_is_null(st) &&
        (!json_is_number(st) || !isfinite(json_number_value(st)) || json_number_value(st) < 0 ||
         json_number_value(st) > 1))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "retrieval_model.score_threshold: expected a number from 0 to 1");
    json_t *mode = json_object_get(v, "reranking_mode");
    if (mode && !json_is_null(mode) && !enum_ok(mode, modes, RG_ARRAY_LEN(modes)))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "retrieval_model.reranking_mode: expected reranking_model, "
                            "weighted_score or reciprocal_rank_fusion");
    json_t *rm = json_object_get(v, "reranking_model");
    if (rm && !json_is_null(rm) && !json_is_object(rm))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "retrieval_model.reranking_model: expected an object");
    RG_TRY(check_reranking(req, resp, re, mode, rm));
    RG_TRY(check_weights(req, resp, json_object_get(v, "weights")));
    json_t *mf = json_object_get(v, "metadata_filtering_conditions");
    if (mf && !json_is_null(mf) && !json_is_object(mf))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "retrieval_model.metadata_filtering_conditions: expected an object");
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return RG_ENOMEM;
    *json_out = rg_arena_strdup(req->arena, text);
    rg_free(text);
    return RG_OK;
}

/* Writes the value of key from obj, or null; strings and numbers only. */
static void write_value(rg_jsonw *w, json_t *v)
{
    if (json_is_string(v))
        rg_jsonw_str(w, (rg_str){json_string_value(v), json_string_length(v)});
    else if (json_is_integer(v))
        rg_jsonw_int(w, json_integer_value(v));
    else if (json_is_real(v))
        rg_jsonw_double(w, json_real_value(v));
    else if (json_is_boolean(v))
        rg_jsonw_bool(w, json_is_true(v));
    else
        rg_jsonw_null(w);
}

static void write_fields(rg_jsonw *w, json_t *obj, const char *const *keys, size_t n)
{
    rg_jsonw_obj(w);
    for (size_t i = 0; i < n; i++) {
        rg_jsonw_key(w, keys[i]);
        write_value(w, json_is_object(obj) ? json_object_get(obj, keys[i]) : NULL);
    }
    rg_jsonw_obj_end(w);
}

static void render_weights(rg_jsonw *w, json_t *weights)
{
    static const char *const vec[] = {"vector_weight", "embedding_provider_name",
                                      "embedding_model_name"};
    static const char *const kw[] = {"keyword_weight"};
    if (!json_is_object(weights)) {
        rg_jsonw_null(w);
        return;
    }
    rg_jsonw_obj(w);
    rg_jsonw_key(w, "weight_type");
    write_value(w, json_object_get(weights, "weight_type"));
    rg_jsonw_key(w, "vector_setting");
    write_fields(w, json_object_get(weights, "vector_setting"), vec, RG_ARRAY_LEN(vec));
    rg_jsonw_key(w, "keyword_setting");
    write_fields(w, json_object_get(weights, "keyword_setting"), kw, RG_ARRAY_LEN(kw));
    rg_jsonw_obj_end(w);
}

void rg_retrieval_model_render(rg_jsonw *w, const char *stored, bool force_keyword)
{
    json_t *s = stored ? json_loads(stored, 0, NULL) : NULL;
    json_t *v;
    rg_jsonw_obj(w);
    rg_jsonw_key(w, "search_method");
    if (force_keyword)
        rg_jsonw_strz(w, "keyword_search");
    else if (json_is_string(v = json_object_get(s, "search_method")))
        rg_jsonw_strz(w, json_string_value(v));
    else
        rg_jsonw_strz(w, "semantic_search");
    rg_jsonw_kbool(w, "reranking_enable", json_is_true(json_object_get(s, "reranking_enable")));
    rg_jsonw_key(w, "reranking_mode");
    write_value(w, json_object_get(s, "reranking_mode"));
    rg_jsonw_key(w, "reranking_model");
    v = json_object_get(s, "reranking_model");
    rg_jsonw_obj(w);
    json_t *pn = json_object_get(v, "reranking_provider_name");
    json_t *mn = json_object_get(v, "reranking_model_name");
    rg_jsonw_kstr(w, "reranking_provider_name", json_is_string(pn) ? json_string_value(pn) : "");
    rg_jsonw_kstr(w, "reranking_model_name", json_is_string(mn) ? json_string_value(mn) : "");
    rg_jsonw_obj_end(w);
    rg_jsonw_key(w, "weights");
    render_weights(w, json_object_get(s, "weights"));
    v = json_object_get(s, "top_k");
    rg_jsonw_kint(w, "top_k", json_is_integer(v) ? json_integer_value(v) : 2);
    rg_jsonw_kbool(w, "score_threshold_enabled",
                   json_is_true(json_object_get(s, "score_threshold_enabled")));
    rg_jsonw_key(w, "score_threshold");
    write_value(w, json_object_get(s, "score_threshold"));
    rg_jsonw_obj_end(w);
    json_decref(s);
}
