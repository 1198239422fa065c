/*
 * tags.c - /v1/datasets/tags (workspace tags of type "knowledge"), their
 * binding to datasets, and /v1/datasets/{dataset_id}/tags
 * (shared/reference/dify-knowledge-api.md 3.8, 4.7).
 *
 * Tags belong to the key's tenant: another tenant's tag ids are not found
 * (rename, delete) or ignored (binding).  A key bound to one dataset may list
 * tags and bind them to its own dataset, but not create, rename or delete
 * them: those change what every other dataset of the tenant shows.
 */
#include "api/api.h"

#include "core/clock.h"
#include "core/ids.h"
#include "core/jsonw.h"

#include <stdio.h>
#include <string.h>

#define TAG_NAME_MAX 50 /* characters, Dify's limit */

/* Writes {id, name, type, binding_count} with the count as a string (Dify's
 * KnowledgeTagResponse keeps the legacy string). */
static void render_tag(rg_jsonw *w, const rg_tag *t)
{
    char count[24];
    snprintf(count, sizeof count, "%lld", (long long)t->binding_count);
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "id", t->id);
    rg_jsonw_kstr(w, "name", t->name);
    rg_jsonw_kstr(w, "type", t->type);
    rg_jsonw_kstr(w, "binding_count", count);
    rg_jsonw_obj_end(w);
}

static rg_rc reply_tag(rg_resp *resp, const rg_tag *t)
{
    rg_jsonw w;
    rg_resp_json(resp, &w);
    render_tag(&w, t);
    return RG_OK;
}

/* 403 for a key bound to one dataset: tags are the whole workspace's. */
static rg_rc refuse_bound(rg_req *req, rg_resp *resp)
{
    if (!rg_api_principal(req)->key.dataset_id[0])
        return RG_OK;
    return rg_resp_fail(resp, req, RG_EFORBIDDEN,
                        "This API key is bound to one dataset and cannot change workspace tags.");
}

/* Reads the required name: a string of 1..50 characters after trimming. */
static rg_rc read_tag_name(rg_req *req, rg_resp *resp, const char **out)
{
    const char *v = NULL;
    bool present;
    RG_TRY(rg_api_opt_string(req, resp, req->json, "name", &v, &present));
    rg_str t = rg_str_trim(rg_str_c(v ? v : ""));
    if (!v || t.n == 0 || !rg_utf8_valid(t.p, t.n) || rg_utf8_len(t.p, t.n) > TAG_NAME_MAX)
        return rg_resp_fail(resp, req, RG_EINVAL, "name: required, 1 to %d characters",
                            TAG_NAME_MAX);
    *out = rg_arena_strz(req->arena, t);
    return RG_OK;
}

/* Reads a required string field holding an id. */
static rg_rc read_id(rg_req *req, rg_resp *resp, const char *key, const char **out)
{
    bool present;
    *out = NULL;
    RG_TRY(rg_api_opt_string(req, resp, req->json, key, out, &present));
    if (!*out || !**out)
        return rg_resp_fail(resp, req, RG_EINVAL, "%s: required, a tag id", key);
    return RG_OK;
}

rg_rc rg_api_tags_list(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    const char *keyword = rg_req_query(req, "keyword");
    rg_tag *items = NULL;
    size_t n = 0;
    RG_TRY(rg_store_tag_list(rg_api_ctx(req)->store, req->arena, p->key.tenant.id,
                             keyword && *keyword ? keyword : NULL, &items, &n));
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++)
        render_tag(&w, &items[i]);
    rg_jsonw_arr_end(&w);
    return RG_OK;
}

rg_rc rg_api_tag_create(rg_req *req, rg_resp *resp)
{
    RG_TRY(refuse_bound(req, resp));
    rg_principal *p = rg_api_principal(req);
    rg_tag t = {.type = "knowledge", .created_at = rg_now_s()};
    RG_TRY(read_tag_name(req, resp, &t.name));
    rg_uuid4(t.id);
    rg_rc rc = rg_store_tag_insert(rg_api_ctx(req)->store, p->key.tenant.id, &t);
    if (rc == RG_ENAMEDUP)
        return rg_resp_fail(resp, req, RG_EINVAL, "Tag name already exists");
    RG_TRY(rc);
    return reply_tag(resp, &t);
}

rg_rc rg_api_tag_rename(rg_req *req, rg_resp *resp)
{
    RG_TRY(refuse_bound(req, resp));
    rg_principal *p = rg_api_principal(req);
    const char *id, *name;
    RG_TRY(read_id(req, resp, "tag_id", &id));
    RG_TRY(read_tag_name(req, resp, &name));
    rg_tag t;
    rg_rc rc =
        rg_store_tag_rename(rg_api_ctx(req)->store, req->arena, p->key.tenant.id, id, name, &t);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Tag not found");
    if (rc == RG_ENAMEDUP)
        return rg_resp_fail(resp, req, RG_EINVAL, "Tag name already exists");
    RG_TRY(rc);
    return reply_tag(resp, &t);
}

rg_rc rg_api_tag_delete(rg_req *req, rg_resp *resp)
{
    RG_TRY(refuse_bound(req, resp));
    rg_principal *p = rg_api_principal(req);
    const char *id;
    RG_TRY(read_id(req, resp, "tag_id", &id));
    rg_rc rc = rg_store_tag_delete(rg_api_ctx(req)->store, p->key.tenant.id, id);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Tag not found");
    RG_TRY(rc);
    resp->status = 204;
    return RG_OK;
}

/* Reads the target dataset id; a bound key may only target its own dataset. */
static rg_rc read_target(rg_req *req, rg_resp *resp, const char **out)
{
    rg_principal *p = rg_api_principal(req);
    bool present;
    *out = NULL;
    RG_TRY(rg_api_opt_string(req, resp, req->json, "target_id", out, &present));
    if (!*out || !**out)
        return rg_resp_fail(resp, req, RG_EINVAL, "target_id: required, a dataset id");
    if (p->key.dataset_id[0] && strcmp(p->key.dataset_id, *out) != 0)
        return rg_resp_fail(resp, req, RG_EFORBIDDEN, "This API key is bound to another dataset.");
    return RG_OK;
}

/* Reads tag_ids (an array of strings) or, when allow_single, the legacy
 * tag_id; at least one id. */
static rg_rc read_tag_ids(rg_req *req, rg_resp *resp, bool allow_single, const char ***ids,
                          size_t *n)
{
    json_t *arr = json_object_get(req->json, "tag_ids");
    json_t *one = allow_single ? json_object_get(req->json, "tag_id") : NULL;
    *n = 0;
    if (arr && !json_is_null(arr)) {
        if (!json_is_array(arr))
            return rg_resp_fail(resp, req, RG_EINVAL, "tag_ids: expected an array of tag ids");
        size_t cnt = json_array_size(arr), i;
        json_t *v;
        *ids = rg_arena_calloc(req->arena, cnt ? cnt : 1, sizeof **ids);
        json_array_foreach(arr, i, v)
        {
            if (!json_is_string(v))
                return rg_resp_fail(resp, req, RG_EINVAL, "tag_ids[%zu]: expected a string", i);
            (*ids)[(*n)++] = json_string_value(v);
        }
    } else if (json_is_string(one)) {
        *ids = rg_arena_calloc(req->arena, 1, sizeof **ids);
        (*ids)[(*n)++] = json_string_value(one);
    }
    if (*n == 0)
        return rg_resp_fail(resp, req, RG_EINVAL, "Tag IDs is required.");
    return RG_OK;
}

/* Binding and unbinding: the same checks, one store call. */
static rg_rc tag_binding(rg_req *req, rg_resp *resp, bool bind)
{
    rg_principal *p = rg_api_principal(req);
    const char **ids = NULL, *target;
    size_t n;
    RG_TRY(read_tag_ids(req, resp, !bind, &ids, &n));
    RG_TRY(read_target(req, resp, &target));
    rg_store *s = rg_api_ctx(req)->store;
    rg_rc rc = bind ? rg_store_tag_bind(s, p->key.tenant.id, ids, n, target)
                    : rg_store_tag_unbind(s, p->key.tenant.id, ids, n, target);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Dataset not found");
    RG_TRY(rc);
    resp->status = 204;
    return RG_OK;
}

rg_rc rg_api_tag_bind(rg_req *req, rg_resp *resp)
{
    return tag_binding(req, resp, true);
}

rg_rc rg_api_tag_unbind(rg_req *req, rg_resp *resp)
{
    return tag_binding(req, resp, false);
}

rg_rc rg_api_dataset_tags(rg_req *req, rg_resp *resp)
{
    const rg_dataset *d = rg_api_principal(req)->dataset;
    json_t *tags = json_loads(d->tags ? d->tags : "[]", 0, NULL);
    size_t i;
    json_t *t;
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    rg_jsonw_arr(&w);
    json_array_foreach(tags, i, t)
    {
        rg_jsonw_obj(&w);
        rg_jsonw_kstr(&w, "id", json_string_value(json_object_get(t, "id")));
        rg_jsonw_kstr(&w, "name", json_string_value(json_object_get(t, "name")));
        rg_jsonw_obj_end(&w);
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_kint(&w, "total", (int64_t)json_array_size(tags));
    rg_jsonw_obj_end(&w);
    json_decref(tags);
    return RG_OK;
}
