/*
 * metadata.c - a dataset's custom metadata fields, the built-in fields
 * switch, and the documents' values (shared/reference/dify-knowledge-api.md
 * 3.9, 4.6):
 *   POST/GET   /v1/datasets/{id}/metadata
 *   PATCH/DELETE /v1/datasets/{id}/metadata/{metadata_id}
 *   GET        /v1/datasets/{id}/metadata/built-in
 *   POST       /v1/datasets/{id}/metadata/built-in/{enable|disable}
 *   POST       /v1/datasets/{id}/documents/metadata
 * and the doc_metadata rendering of documents.  Values are stored by field
 * name in the document's doc_metadata object, typed: strings as strings,
 * numbers as numbers, times as Unix seconds.  Built-in values are not stored;
 * they are read from the document when the dataset enables them.
 */
#include "api/api.h"

#include "api/metadata_filter.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/ids.h"

#include <stdio.h>
#include <string.h>

#define METADATA_NAME_MAX 255 /* characters, Dify's limit */

/* Arena cleanup: drops a jansson reference. */
static void release_json(void *v)
{
    json_decref(v);
}

/* --- rendering ------------------------------------------------------------------ */

/* Writes one stored value as it was stored (string, number or null). */
static void render_value(rg_jsonw *w, json_t *v)
{
    if (json_is_string(v))
        rg_jsonw_strz(w, json_string_value(v));
    else if (json_is_integer(v))
        rg_jsonw_int(w, json_integer_value(v));
    else if (json_is_real(v))
        rg_jsonw_double(w, json_real_value(v));
    else
        rg_jsonw_null(w);
}

static void render_entry(rg_jsonw *w, bool *open, const char *id, const char *name,
                         const char *type)
{
    if (!*open) {
        rg_jsonw_arr(w);
        *open = true;
    }
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "id", id);
    rg_jsonw_kstr(w, "name", name);
    rg_jsonw_kstr(w, "type", type);
    rg_jsonw_key(w, "value");
}

void rg_api_render_doc_metadata(rg_jsonw *w, const rg_dataset *ds, const rg_document *d,
                                bool null_when_empty)
{
    json_t *fields = ds && ds->metadata ? json_loads(ds->metadata, 0, NULL) : NULL;
    json_t *meta = d->doc_metadata ? json_loads(d->doc_metadata, 0, NULL) : NULL;
    bool open = false;
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        json_t *v = name ? json_object_get(meta, name) : NULL;
        if (!v)
            continue;
        render_entry(w, &open, json_string_value(json_object_get(f, "id")), name,
                     json_string_value(json_object_get(f, "type")));
        render_value(w, v);
        rg_jsonw_obj_end(w);
    }
    if (ds && ds->built_in_field_enabled) {
        const char *source = d->data_source_type && strcmp(d->data_source_type, "upload_file") == 0
                                 ? "file_upload"
                                 : d->data_source_type;
        const char *texts[] = {d->name, ds->author_name, NULL, NULL, source};
        const int64_t times[] = {0, 0, d->created_at, d->updated_at, 0};
        for (size_t b = 0; b < RG_ARRAY_LEN(rg_meta_builtin); b++) {
            render_entry(w, &open, "built-in", rg_meta_builtin[b][0], rg_meta_builtin[b][1]);
            if (texts[b])
                rg_jsonw_strz(w, texts[b]);
            else if (b == 2 || b == 3)
                rg_jsonw_int(w, times[b]);
            else
                rg_jsonw_null(w);
            rg_jsonw_obj_end(w);
        }
    }
    json_decref(fields);
    json_decref(meta);
    if (open)
        rg_jsonw_arr_end(w);
    else if (null_when_empty)
        rg_jsonw_null(w);
    else {
        rg_jsonw_arr(w);
        rg_jsonw_arr_end(w);
    }
}

static void render_field(rg_jsonw *w, const rg_metadata_field *m)
{
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "id", m->id);
    rg_jsonw_kstr(w, "name", m->name);
    rg_jsonw_kstr(w, "type", m->type);
    rg_jsonw_obj_end(w);
}

static rg_rc reply_field(rg_resp *resp, const rg_metadata_field *m)
{
    rg_jsonw w;
    rg_resp_json(resp, &w);
    render_field(&w, m);
    return RG_OK;
}

/* --- fields ------------------------------------------------------------------------ */

/* Reads the required name: 1..255 characters, not a built-in name, no NUL. */
static rg_rc read_field_name(rg_req *req, rg_resp *resp, const char **out)
{
    const char *v = NULL;
    bool present;
    RG_TRY(rg_api_opt_string(req, resp, req->json, "name", &v, &present));
    rg_str t = rg_str_trim(rg_str_c(v ? v : ""));
    if (!v || t.n == 0)
        return rg_resp_fail(resp, req, RG_EINVAL, "name: required, 1 to %d characters",
                            METADATA_NAME_MAX);
    if (!rg_utf8_valid(t.p, t.n) || rg_utf8_len(t.p, t.n) > METADATA_NAME_MAX)
        return rg_resp_fail(resp, req, RG_EINVAL, "Metadata name cannot exceed 255 characters.");
    *out = rg_arena_strz(req->arena, t);
    if (rg_meta_is_builtin(*out))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "Metadata name already exists in Built-in fields.");
    return RG_OK;
}

rg_rc rg_api_metadata_create(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_metadata_field m = {.created_at = rg_now_s()};
    bool present;
    RG_TRY(rg_api_opt_string(req, resp, req->json, "type", &m.type, &present));
    if (!m.type || (strcmp(m.type, "string") && strcmp(m.type, "number") && strcmp(m.type, "time")))
        return rg_resp_fail(resp, req, RG_EINVAL, "type: required, one of string, number, time");
    RG_TRY(read_field_name(req, resp, &m.name));
    rg_uuid4(m.id);
    memcpy(m.dataset_id, p->dataset->id, sizeof m.dataset_id);
    rg_rc rc = rg_store_metadata_insert(rg_api_ctx(req)->store, p->key.tenant.id, &m);
    if (rc == RG_ENAMEDUP)
        return rg_resp_fail(resp, req, RG_EINVAL, "Metadata name already exists.");
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Dataset not found.");
    RG_TRY(rc);
    resp->status = 201;
    return reply_field(resp, &m);
}

rg_rc rg_api_metadata_list(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_metadata_field *items = NULL;
    size_t n = 0;
    RG_TRY(rg_store_metadata_list(rg_api_ctx(req)->store, req->arena, p->key.tenant.id,
                                  p->dataset->id, &items, &n));
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "doc_metadata");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++) {
        rg_jsonw_obj(&w);
        rg_jsonw_kstr(&w, "id", items[i].id);
        rg_jsonw_kstr(&w, "name", items[i].name);
        rg_jsonw_kstr(&w, "type", items[i].type);
        rg_jsonw_kint(&w, "count", items[i].count);
        rg_jsonw_obj_end(&w);
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_kbool(&w, "built_in_field_enabled", p->dataset->built_in_field_enabled);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

rg_rc rg_api_metadata_rename(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    const char *name;
    RG_TRY(read_field_name(req, resp, &name));
    rg_metadata_field m;
    rg_rc rc = rg_store_metadata_rename(rg_api_ctx(req)->store, req->arena, p->key.tenant.id,
                                        p->dataset->id, rg_req_param(req, 1), name, &m);
    if (rc == RG_ENAMEDUP)
        return rg_resp_fail(resp, req, RG_EINVAL, "Metadata name already exists.");
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Metadata not found.");
    RG_TRY(rc);
    return reply_field(resp, &m);
}

rg_rc rg_api_metadata_delete(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_rc rc = rg_store_metadata_delete(rg_api_ctx(req)->store, p->key.tenant.id, p->dataset->id,
                                        rg_req_param(req, 1));
    if (rc != RG_ENOTFOUND) /* Dify swallows a missing id: still 204 */
        RG_TRY(rc);
    resp->status = 204;
    return RG_OK;
}

rg_rc rg_api_metadata_builtin_list(rg_req *req, rg_resp *resp)
{
    RG_UNUSED(req);
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "fields");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < RG_ARRAY_LEN(rg_meta_builtin); i++) {
        rg_jsonw_obj(&w);
        rg_jsonw_kstr(&w, "name", rg_meta_builtin[i][0]);
        rg_jsonw_kstr(&w, "type", rg_meta_builtin[i][1]);
        rg_jsonw_obj_end(&w);
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

static rg_rc reply_success(rg_resp *resp)
{
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_kstr(&w, "result", "success");
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

rg_rc rg_api_metadata_builtin_switch(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    const char *action = rg_req_param(req, 1);
    bool enable = strcmp(action, "enable") == 0;
    if (enable || strcmp(action, "disable") == 0) /* any other action: a no-op, as Dify */
        RG_TRY(rg_store_metadata_builtin(rg_api_ctx(req)->store, p->key.tenant.id, p->dataset->id,
                                         enable));
    return reply_success(resp);
}

/* --- document values ----------------------------------------------------------------- */

/* Finds the field with this id among the dataset's fields (a JSON array). */
static json_t *field_by_id(json_t *fields, const char *id)
{
    size_t i;
    json_t *f;
    json_array_foreach(fields, i, f)
    {
        const char *fid = json_string_value(json_object_get(f, "id"));
        if (fid && strcmp(fid, id) == 0)
            return f;
    }
    return NULL;
}

/* Checks value against the field's type and returns it as stored (a new
 * reference): strings as strings, numbers as numbers, times as Unix seconds;
 * null stays null.  NULL when it does not fit. */
static json_t *typed_value(const char *type, json_t *v)
{
    double num;
    if (!v || json_is_null(v))
        return json_null();
    if (strcmp(type, "string") == 0) {
        if (json_is_string(v))
            return json_incref(v);
        if (json_is_integer(v) || json_is_real(v)) { /* Dify's value is str|int|float */
            char buf[64];
            if (json_is_integer(v))
                snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
            else
                snprintf(buf, sizeof buf, "%.17g", json_real_value(v));
            return json_string(buf);
        }
        return NULL;
    }
    if (strcmp(type, "number") == 0) {
        if (!rg_meta_parse_number(v, &num))
            return NULL;
        if (num == (double)(json_int_t)num && num > -9e15 && num < 9e15)
            return json_integer((json_int_t)num);
        return json_real(num);
    }
    if (!rg_meta_parse_time(v, &num))
        return NULL;
    return num == (double)(json_int_t)num && num > -9e15 && num < 9e15
               ? json_integer((json_int_t)num)
               : json_real(num);
}

/* Builds one document's new doc_metadata from its operation (merged into the
 * current values when partial_update).  On a bad entry: 400 written. */
static rg_rc build_values(rg_req *req, rg_resp *resp, json_t *fields, json_t *op, size_t i,
                          const char **doc_id, const char **out)
{
    rg_principal *p = rg_api_principal(req);
    json_t *jd = json_object_get(op, "document_id"), *list = json_object_get(op, "metadata_list");
    if (!json_is_object(op) || !json_is_string(jd))
        return rg_resp_fail(resp, req, RG_EINVAL, "operation_data[%zu].document_id: required", i);
    if (!json_is_array(list))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "operation_data[%zu].metadata_list: required, a list", i);
    *doc_id = json_string_value(jd);
    json_t *obj = NULL;
    if (json_is_true(json_object_get(op, "partial_update"))) {
        rg_document d;
        rg_rc rc = rg_store_document_get(rg_api_ctx(req)->store, req->arena, p->key.tenant.id,
                                         p->dataset->id, *doc_id, &d);
        if (rc == RG_ENOTFOUND)
            return rg_resp_fail(resp, req, RG_EINVAL, "Document not found.");
        RG_TRY(rc);
        obj = d.doc_metadata ? json_loads(d.doc_metadata, 0, NULL) : NULL;
    }
    if (!json_is_object(obj)) {
        json_decref(obj);
        obj = json_object();
    }
    rg_arena_on_free(req->arena, release_json, obj);
    size_t j;
    json_t *e;
    json_array_foreach(list, j, e)
    {
        const char *id = json_string_value(json_object_get(e, "id"));
        json_t *f = id ? field_by_id(fields, id) : NULL;
        if (!f)
            return rg_resp_fail(resp, req, RG_EINVAL,
                                "operation_data[%zu].metadata_list[%zu]: metadata field %.40s"
                                " not found in this dataset",
                                i, j, id ? id : "(no id)");
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *type = json_string_value(json_object_get(f, "type"));
        json_t *v = typed_value(type, json_object_get(e, "value"));
        if (!v)
            return rg_resp_fail(
                resp, req, RG_EINVAL,
                "operation_data[%zu].metadata_list[%zu]: %s is a %s field; the"
                " value does not fit%s",
                i, j, name, type,
                strcmp(type, "time") == 0 ? " (Unix seconds or YYYY-MM-DD[THH:MM:SS])" : "");
        json_object_set_new(obj, name, v);
    }
    char *text = json_dumps(obj, JSON_COMPACT);
    if (!text)
        return RG_ENOMEM;
    *out = rg_arena_strdup(req->arena, text);
    rg_free(text);
    return RG_OK;
}

rg_rc rg_api_documents_metadata(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    json_t *ops = json_object_get(req->json, "operation_data");
    if (!json_is_array(ops))
        return rg_resp_fail(resp, req, RG_EINVAL, "operation_data: required, a list");
    size_t n = json_array_size(ops);
    const char **ids = rg_arena_calloc(req->arena, n ? n : 1, sizeof *ids);
    const char **values = rg_arena_calloc(req->arena, n ? n : 1, sizeof *values);
    json_t *fields = json_loads(p->dataset->metadata ? p->dataset->metadata : "[]", 0, NULL);
    rg_arena_on_free(req->arena, release_json, fields);
    for (size_t i = 0; i < n; i++)
        RG_TRY(build_values(req, resp, fields, json_array_get(ops, i), i, &ids[i], &values[i]));
    size_t bad = 0;
    rg_rc rc = rg_store_document_metadata_set(rg_api_ctx(req)->store, p->key.tenant.id,
                                              p->dataset->id, ids, values, n, &bad);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, RG_EINVAL, "Document not found.");
    RG_TRY(rc);
    return reply_success(resp);
}
