/*
 * datasets.c - /v1/datasets and /v1/datasets/{dataset_id}.
 *
 * Create, list, get, update and delete knowledge bases with Dify's fields,
 * defaults and validation (shared/reference/dify-knowledge-api.md 3.1, 4.1).
 * The Dataset object is written in the contract's key order with the
 * streaming writer; derived fields (embedding_available, retrieval_model_dict,
 * the all-null nested objects of Dify 1.14) are computed here, not stored.
 */
#include "api/api.h"

#include "api/metadata_filter.h"
#include "api/retrieval_model.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/ids.h"
#include "embed/embed.h"

#include <string.h>

typedef enum { RENDER_WRITE, RENDER_GET, RENDER_LIST, RENDER_PATCH } render_mode;

static bool embedding_available(const rg_dataset *d)
{
    if (!d->indexing_technique || strcmp(d->indexing_technique, "high_quality") != 0)
        return true;
    return d->embedding_model && d->embedding_model_provider &&
           rg_embed_find(d->embedding_model_provider, d->embedding_model) != NULL;
}

/* Writes a nested object of Dify's shape from stored JSON, or null when unset
 * (the contract's examples and newer Dify; 1.14.2 wrote all-null objects). */
static void render_nested(rg_jsonw *w, const char *stored, const char *const *keys, size_t n)
{
    json_t *s = stored ? json_loads(stored, 0, NULL) : NULL;
    if (!json_is_object(s)) {
        json_decref(s);
        rg_jsonw_null(w);
        return;
    }
    rg_jsonw_obj(w);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(s, keys[i]);
        rg_jsonw_key(w, keys[i]);
        if (json_is_string(v))
            rg_jsonw_strz(w, json_string_value(v));
        else if (json_is_boolean(v))
            rg_jsonw_bool(w, json_is_true(v));
        else if (json_is_integer(v))
            rg_jsonw_int(w, json_integer_value(v));
        else if (json_is_real(v))
            rg_jsonw_double(w, json_real_value(v));
        else
            rg_jsonw_null(w);
    }
    rg_jsonw_obj_end(w);
    json_decref(s);
}

static void render_external_retrieval(rg_jsonw *w, const char *stored)
{
    json_t *s = stored ? json_loads(stored, 0, NULL) : NULL;
    json_t *k = json_object_get(s, "top_k"), *t = json_object_get(s, "score_threshold");
    rg_jsonw_obj(w);
    rg_jsonw_kint(w, "top_k", json_is_integer(k) ? json_integer_value(k) : 2);
    rg_jsonw_kdouble(w, "score_threshold", json_is_number(t) ? json_number_value(t) : 0.0);
    rg_jsonw_kbool(w, "score_threshold_enabled",
                   json_is_true(json_object_get(s, "score_threshold_enabled")));
    rg_jsonw_obj_end(w);
    json_decref(s);
}

/* Writes the objects of a stored JSON array (none when unset) keeping only
 * the listed string keys, without the brackets: tags and metadata fields. */
static void render_items(rg_jsonw *w, const char *stored, const char *const *keys, size_t n)
{
    json_t *s = stored ? json_loads(stored, 0, NULL) : NULL, *v;
    size_t i;
    json_array_foreach(s, i, v)
    {
        rg_jsonw_obj(w);
        for (size_t k = 0; k < n; k++)
            rg_jsonw_kstr(w, keys[k], json_string_value(json_object_get(v, keys[k])));
        rg_jsonw_obj_end(w);
    }
    json_decref(s);
}

/* The dataset's doc_metadata: its custom fields, then the built-in ones when
 * enabled. */
static void render_metadata_fields(rg_jsonw *w, const char *custom, bool enabled)
{
    static const char *const field_keys[] = {"id", "name", "type"};
    rg_jsonw_arr(w);
    render_items(w, custom, field_keys, RG_ARRAY_LEN(field_keys));
    for (size_t i = 0; enabled && i < RG_ARRAY_LEN(rg_meta_builtin); i++) {
        rg_jsonw_obj(w);
        rg_jsonw_kstr(w, "id", "built-in");
        rg_jsonw_kstr(w, "name", rg_meta_builtin[i][0]);
        rg_jsonw_kstr(w, "type", rg_meta_builtin[i][1]);
        rg_jsonw_obj_end(w);
    }
    rg_jsonw_arr_end(w);
}

static void render_members(rg_jsonw *w, const char *stored)
{
    json_t *s = stored ? json_loads(stored, 0, NULL) : NULL;
    size_t i;
    json_t *v;
    rg_jsonw_arr(w);
    json_array_foreach(s, i, v)
    {
        if (json_is_string(v))
            rg_jsonw_strz(w, json_string_value(v));
    }
    rg_jsonw_arr_end(w);
    json_decref(s);
}

static void render_dataset(rg_jsonw *w, const rg_dataset *d, render_mode mode)
{
    static const char *const summary_keys[] = {"enable", "model_name", "model_provider_name",
                                               "summary_prompt"};
    static const char *const external_keys[] = {
        "external_knowledge_id", "external_knowledge_api_id", "external_knowledge_api_name",
        "external_knowledge_api_endpoint"};
    static const char *const icon_keys[] = {"icon_type", "icon", "icon_background", "icon_url"};
    static const char *const tag_keys[] = {"id", "name", "type"};
    bool hq = d->indexing_technique && strcmp(d->indexing_technique, "high_quality") == 0;

    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "id", d->id);
    rg_jsonw_kstr(w, "name", d->name);
    rg_jsonw_kstr(w, "description", d->description);
    rg_jsonw_kstr(w, "provider", d->provider);
    rg_jsonw_kstr(w, "permission", d->permission);
    rg_jsonw_kstr(w, "data_source_type", d->data_source_type);
    rg_jsonw_kstr(w, "indexing_technique", d->indexing_technique);
    rg_jsonw_kint(w, "app_count", 0);
    rg_jsonw_kint(w, "document_count", d->document_count);
    rg_jsonw_kint(w, "word_count", d->word_count);
    rg_jsonw_kstr(w, "created_by", d->created_by);
    rg_jsonw_kstr(w, "author_name", d->author_name);
    rg_jsonw_kint(w, "created_at", d->created_at);
    rg_jsonw_kstr(w, "updated_by", d->updated_by);
    rg_jsonw_kint(w, "updated_at", d->updated_at);
    rg_jsonw_kstr(w, "embedding_model", d->embedding_model);
    rg_jsonw_kstr(w, "embedding_model_provider", d->embedding_model_provider);
    rg_jsonw_key(w, "embedding_available");
    if (mode == RENDER_WRITE || mode == RENDER_PATCH)
        rg_jsonw_null(w);
    else
        rg_jsonw_bool(w, embedding_available(d));
    rg_jsonw_key(w, "retrieval_model_dict");
    rg_retrieval_model_render(w, d->retrieval_model, mode == RENDER_GET && !hq);
    rg_jsonw_key(w, "summary_index_setting");
    render_nested(w, d->summary_index_setting, summary_keys, RG_ARRAY_LEN(summary_keys));
    rg_jsonw_key(w, "tags");
    rg_jsonw_arr(w);
    render_items(w, d->tags, tag_keys, RG_ARRAY_LEN(tag_keys));
    rg_jsonw_arr_end(w);
    rg_jsonw_kstr(w, "doc_form", d->doc_form);
    rg_jsonw_key(w, "external_knowledge_info");
    render_nested(w, NULL, external_keys, RG_ARRAY_LEN(external_keys));
    rg_jsonw_key(w, "external_retrieval_model");
    render_external_retrieval(w, d->external_retrieval_model);
    rg_jsonw_key(w, "doc_metadata");
    render_metadata_fields(w, d->metadata, d->built_in_field_enabled);
    rg_jsonw_kbool(w, "built_in_field_enabled", d->built_in_field_enabled);
    rg_jsonw_knull(w, "pipeline_id");
    rg_jsonw_kstr(w, "runtime_mode", "general");
    rg_jsonw_knull(w, "chunk_structure");
    rg_jsonw_key(w, "icon_info");
    render_nested(w, d->icon_info, icon_keys, RG_ARRAY_LEN(icon_keys));
    rg_jsonw_kbool(w, "is_published", false);
    rg_jsonw_kint(w, "total_documents", d->document_count);
    rg_jsonw_kint(w, "total_available_documents", d->available_document_count);
    rg_jsonw_kbool(w, "enable_api", d->enable_api);
    rg_jsonw_kbool(w, "is_multimodal", d->is_multimodal);
    rg_jsonw_kstr(w, "maintainer", d->author_name);
    if (mode == RENDER_PATCH ||
        (mode == RENDER_GET && d->permission && strcmp(d->permission, "partial_members") == 0)) {
        rg_jsonw_key(w, "partial_member_list");
        render_members(w, d->partial_member_list);
    }
    rg_jsonw_obj_end(w);
}

static rg_rc reply_dataset(rg_req *req, rg_resp *resp, const rg_dataset *d, render_mode mode)
{
    rg_jsonw w;
    rg_resp_json(resp, &w);
    render_dataset(&w, d, mode);
    RG_UNUSED(req);
    return RG_OK;
}

/* ---- input --------------------------------------------------------------- */

static rg_rc read_name(rg_req *req, rg_resp *resp, json_t *body, bool required, const char **name)
{
    bool present;
    const char *v = NULL, *why;
    RG_TRY(rg_api_opt_string(req, resp, body, "name", &v, &present));
    if (!present || !v) {
        if (required)
            return rg_resp_fail(resp, req, RG_EINVAL, "name: required, 1 to 40 characters");
        return RG_OK;
    }
    if (rg_dataset_check_name(rg_str_c(v), &why) != RG_OK)
        return rg_resp_fail(resp, req, RG_EINVAL, "name: %s", why);
    *name = v;
    return RG_OK;
}

static rg_rc read_enum(rg_req *req, rg_resp *resp, json_t *body, const char *key,
                       bool (*valid)(rg_str), const char *choices, const char **out)
{
    bool present;
    const char *v = NULL;
    RG_TRY(rg_api_opt_string(req, resp, body, key, &v, &present));
    if (!present || !v)
        return RG_OK;
    if (!valid(rg_str_c(v)))
        return rg_resp_fail(resp, req, RG_EINVAL, "%s: '%.60s' is not one of %s", key, v, choices);
    *out = v;
    return RG_OK;
}

/* Validates embedding_model / embedding_model_provider against the registry
 * and applies Dify's default for high_quality datasets that name none. */
static rg_rc read_embedding(rg_req *req, rg_resp *resp, json_t *body, rg_dataset *d,
                            bool technique_changed)
{
    bool pm, pp;
    const char *model = NULL, *provider = NULL;
    RG_TRY(rg_api_opt_string(req, resp, body, "embedding_model", &model, &pm));
    RG_TRY(rg_api_opt_string(req, resp, body, "embedding_model_provider", &provider, &pp));
    bool hq = d->indexing_technique && strcmp(d->indexing_technique, "high_quality") == 0;
    if (!hq) {
        if (technique_changed) /* economy keeps no embedding model, as Dify */
            d->embedding_model = d->embedding_model_provider = NULL;
        return RG_OK;
    }
    if ((model && *model) || (provider && *provider)) {
        if (!model || !provider || !rg_embed_find(provider, model))
            return rg_resp_fail(resp, req, RG_EINVAL,
                                "No Embedding Model available. Please configure a valid provider "
                                "in the Settings -> Model Provider.");
        d->embedding_model = model;
        d->embedding_model_provider = provider;
    } else if (!d->embedding_model) {
        const rg_embed_model *m = rg_embed_default();
        d->embedding_model = m->name;
        d->embedding_model_provider = m->provider;
    }
    return RG_OK;
}

static rg_rc read_description(rg_req *req, rg_resp *resp, json_t *body, rg_dataset *d)
{
    bool present;
    const char *v = NULL, *why;
    RG_TRY(rg_api_opt_string(req, resp, body, "description", &v, &present));
    if (!present)
        return RG_OK;
    if (v && rg_dataset_check_description(rg_str_c(v), &why) != RG_OK)
        return rg_resp_fail(resp, req, RG_EINVAL, "description: %s", why);
    d->description = v;
    return RG_OK;
}

static rg_rc read_retrieval_model(rg_req *req, rg_resp *resp, json_t *body, rg_dataset *d)
{
    json_t *v = json_object_get(body, "retrieval_model");
    if (!v || json_is_null(v))
        return RG_OK;
    return rg_retrieval_model_check(req, resp, v, &d->retrieval_model);
}

static rg_rc read_json_object(rg_req *req, rg_resp *resp, json_t *body, const char *key,
                              const char **out)
{
    json_t *v = json_object_get(body, key);
    if (!v)
        return RG_OK;
    if (json_is_null(v)) {
        *out = NULL;
        return RG_OK;
    }
    if (!json_is_object(v))
        return rg_resp_fail(resp, req, RG_EINVAL, "%s: expected an object or null", key);
    char *text = json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (!text)
        return RG_ENOMEM;
    *out = rg_arena_strdup(req->arena, text);
    rg_free(text);
    return RG_OK;
}

static rg_rc read_members(rg_req *req, rg_resp *resp, json_t *body, rg_dataset *d)
{
    json_t *v = json_object_get(body, "partial_member_list"), *m;
    size_t i;
    if (!v || json_is_null(v))
        return RG_OK;
    if (!json_is_array(v))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "partial_member_list: expected a list of {\"user_id\": ...}");
    json_t *ids = json_array();
    json_array_foreach(v, i, m)
    {
        json_t *u = json_object_get(m, "user_id");
        if (!json_is_string(u)) {
            json_decref(ids);
            return rg_resp_fail(resp, req, RG_EINVAL,
                                "partial_member_list[%zu].user_id: expected a string", i);
        }
        json_array_append(ids, u);
    }
    char *text = json_dumps(ids, JSON_COMPACT);
    json_decref(ids);
    if (!text)
        return RG_ENOMEM;
    d->partial_member_list = rg_arena_strdup(req->arena, text);
    rg_free(text);
    return RG_OK;
}

/* ---- handlers ------------------------------------------------------------- */

rg_rc rg_api_datasets_create(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_api *api = rg_api_ctx(req);
    json_t *body = req->json;
    if (p->key.dataset_id[0])
        return rg_resp_fail(resp, req, RG_EFORBIDDEN,
                            "This API key is bound to one dataset and cannot create datasets.");
    rg_dataset d = {0};
    rg_uuid4(d.id);
    memcpy(d.tenant_id, p->key.tenant.id, sizeof d.tenant_id);
    d.provider = "vendor";
    d.permission = "only_me";
    d.description = "";
    d.enable_api = true;
    RG_TRY(read_name(req, resp, body, true, &d.name));
    RG_TRY(read_description(req, resp, body, &d));
    RG_TRY(read_enum(req, resp, body, "indexing_technique", rg_dataset_technique_valid,
                     "high_quality, economy", &d.indexing_technique));
    RG_TRY(read_enum(req, resp, body, "permission", rg_dataset_permission_valid,
                     "only_me, all_team_members, partial_members", &d.permission));
    RG_TRY(read_enum(req, resp, body, "provider", rg_dataset_provider_valid, "vendor, external",
                     &d.provider));
    if (strcmp(d.provider, "external") == 0)
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "api template not found (ragd has no external knowledge APIs "
                            "registered)");
    RG_TRY(read_embedding(req, resp, body, &d, false));
    RG_TRY(read_retrieval_model(req, resp, body, &d));
    RG_TRY(read_json_object(req, resp, body, "summary_index_setting", &d.summary_index_setting));
    RG_TRY(read_json_object(req, resp, body, "icon_info", &d.icon_info));
    RG_TRY(read_members(req, resp, body, &d));
    d.created_by = p->key.tenant.owner_id;
    d.updated_by = p->key.tenant.owner_id;
    d.author_name = p->key.tenant.name;
    d.created_at = d.updated_at = rg_now_s();
    rg_rc rc = rg_store_dataset_insert(api->store, &d);
    if (rc == RG_ENAMEDUP)
        return rg_resp_fail(resp, req, rc,
                            "The dataset name already exists. Please modify your dataset name.");
    RG_TRY(rc);
    return reply_dataset(req, resp, &d, RENDER_WRITE);
}

/* Whether the dataset carries the tag (its rendered tags hold the id). */
static bool has_tag(const rg_dataset *d, const char *tag_id)
{
    json_t *s = d->tags ? json_loads(d->tags, 0, NULL) : NULL, *v;
    size_t i;
    bool found = false;
    json_array_foreach(s, i, v)
    {
        const char *id = json_string_value(json_object_get(v, "id"));
        found = found || (id && strcmp(id, tag_id) == 0);
    }
    json_decref(s);
    return found;
}

rg_rc rg_api_datasets_list(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_api *api = rg_api_ctx(req);
    int64_t page, limit;
    bool include_all;
    RG_TRY(rg_api_query_int(req, resp, "page", 1, INT32_MIN, INT32_MAX, &page));
    RG_TRY(rg_api_query_int(req, resp, "limit", 20, 1, INT32_MAX, &limit));
    RG_TRY(rg_api_query_bool(req, resp, "include_all", false, &include_all));
    if (page < 1)
        page = 1;
    const char **tags = NULL;
    rg_dataset_query q = {0};
    q.tenant_id = p->key.tenant.id;
    q.keyword = rg_req_query(req, "keyword");
    if (q.keyword && !*q.keyword)
        q.keyword = NULL;
    q.n_tag_ids = rg_req_query_all(req, "tag_ids", &tags);
    q.tag_ids = tags;
    q.limit = limit < api->page_limit_max ? limit : api->page_limit_max;
    q.offset = (page - 1) * q.limit;
    rg_dataset *items = NULL;
    size_t n = 0;
    int64_t total = 0;
    if (p->key.dataset_id[0]) { /* a bound key sees its own dataset only */
        rg_dataset *one = rg_arena_calloc(req->arena, 1, sizeof *one);
        rg_rc rc =
            rg_store_dataset_get(api->store, req->arena, q.tenant_id, p->key.dataset_id, one);
        if (rc != RG_OK && rc != RG_ENOTFOUND)
            return rc;
        bool match = rc == RG_OK && (!q.keyword || strcasestr(one->name, q.keyword));
        for (size_t i = 0; match && i < q.n_tag_ids; i++)
            match = has_tag(one, q.tag_ids[i]);
        total = match;
        items = one;
        n = (total && q.offset == 0) ? 1 : 0;
    } else
        RG_TRY(rg_store_dataset_list(api->store, req->arena, &q, &items, &n, &total));
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++)
        render_dataset(&w, &items[i], RENDER_LIST);
    rg_jsonw_arr_end(&w);
    rg_jsonw_kbool(&w, "has_more", q.offset + (int64_t)n < total);
    rg_jsonw_kint(&w, "limit", limit);
    rg_jsonw_kint(&w, "total", total);
    rg_jsonw_kint(&w, "page", page);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

rg_rc rg_api_dataset_get(rg_req *req, rg_resp *resp)
{
    return reply_dataset(req, resp, rg_api_principal(req)->dataset, RENDER_GET);
}

static bool same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* A new indexing technique or, for high_quality, a new embedding model means
 * the vectors of every document must be made again (Dify's
 * deal_dataset_vector_index_task "add"/"remove"/"update"). */
static bool must_reindex(const rg_dataset *before, const rg_dataset *after)
{
    if (!same(before->indexing_technique, after->indexing_technique))
        return true;
    return after->indexing_technique && strcmp(after->indexing_technique, "high_quality") == 0 &&
           (!same(before->embedding_model, after->embedding_model) ||
            !same(before->embedding_model_provider, after->embedding_model_provider));
}

rg_rc rg_api_dataset_patch(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_api *api = rg_api_ctx(req);
    rg_dataset d = *p->dataset;
    json_t *body = req->json;
    const char *old_technique = d.indexing_technique;
    RG_TRY(read_name(req, resp, body, false, &d.name));
    RG_TRY(read_description(req, resp, body, &d));
    RG_TRY(read_enum(req, resp, body, "indexing_technique", rg_dataset_technique_valid,
                     "high_quality, economy", &d.indexing_technique));
    RG_TRY(read_enum(req, resp, body, "permission", rg_dataset_permission_valid,
                     "only_me, all_team_members, partial_members", &d.permission));
    bool changed = (old_technique == NULL) != (d.indexing_technique == NULL) ||
                   (old_technique && strcmp(old_technique, d.indexing_technique) != 0);
    RG_TRY(read_embedding(req, resp, body, &d, changed));
    RG_TRY(read_retrieval_model(req, resp, body, &d));
    RG_TRY(
        read_json_object(req, resp, body, "external_retrieval_model", &d.external_retrieval_model));
    /* Dify: partial_members with a non-empty list replaces the members; only_me
     * and all_team_members clear them; a null permission changes nothing. */
    json_t *perm = json_object_get(body, "permission");
    if (json_is_string(perm) && strcmp(d.permission, "partial_members") != 0)
        d.partial_member_list = NULL;
    else if (json_is_string(perm)) {
        const char *before = d.partial_member_list;
        RG_TRY(read_members(req, resp, body, &d)); /* validates the list's shape */
        if (!json_array_size(json_object_get(body, "partial_member_list")))
            d.partial_member_list = before; /* an empty or absent list changes nothing */
    }
    d.updated_by = p->key.tenant.owner_id;
    d.updated_at = rg_now_s();
    bool reindex = must_reindex(p->dataset, &d);
    rg_rc rc = reindex ? rg_store_dataset_update_reindex(api->store, &d)
                       : rg_store_dataset_update(api->store, &d);
    if (rc == RG_OK && reindex && api->wake)
        api->wake(api->wake_arg);
    if (rc == RG_ENAMEDUP)
        return rg_resp_fail(resp, req, RG_EINVAL, "Dataset name already exists");
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Dataset not found.");
    RG_TRY(rc);
    return reply_dataset(req, resp, &d, RENDER_PATCH);
}

rg_rc rg_api_dataset_delete(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    if (p->key.dataset_id[0])
        return rg_resp_fail(resp, req, RG_EFORBIDDEN,
                            "This API key is bound to one dataset and cannot delete it.");
    rg_rc rc = rg_store_dataset_delete(rg_api_ctx(req)->store, p->key.tenant.id, p->dataset->id);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Dataset not found.");
    RG_TRY(rc);
    resp->status = 204;
    return RG_OK;
}
