/*
 * documents.c - documents of a dataset: create (by text, by file), update,
 * list, get, delete, download, status actions, pause/resume/retry, and the
 * indexing-status poll.
 *
 * A create or update validates everything it can before writing (Dify's
 * messages), stores the original bytes through the store's upload area, and
 * commits document, upload and job in one store call; then it wakes the
 * workers and answers {document, batch} at once.  The poll is one indexed
 * query for the whole batch with maintained counters (no COUNT per document).
 */
#include "api/api.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "embed/embed.h"
#include "ingest/extract.h"
#include "ingest/process_rule.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DOC_NAME_MAX 200 /* characters kept of a document name (Dify truncates) */

typedef enum { DOC_FORM_LIST, DOC_FORM_DETAIL } doc_form;

/* ---- rendering ------------------------------------------------------------ */

static void render_upload(rg_jsonw *w, const rg_upload *u)
{
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "id", u->id);
    rg_jsonw_kstr(w, "name", u->name);
    rg_jsonw_kint(w, "size", u->size);
    rg_jsonw_kstr(w, "extension", u->extension);
    rg_jsonw_kstr(w, "mime_type", u->mime_type);
    rg_jsonw_kstr(w, "created_by", u->created_by);
    rg_jsonw_kint(w, "created_at", u->created_at_us / 1000000);
    rg_jsonw_obj_end(w);
}

static void render_rule(rg_jsonw *w, const rg_document *d, bool with_ids)
{
    json_t *r = json_loads(d->process_rule, 0, NULL);
    char *rules = json_dumps(json_object_get(r, "rules"),
                             JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    rg_jsonw_obj(w);
    if (with_ids) {
        rg_jsonw_kstr(w, "id", d->process_rule_id);
        rg_jsonw_kstr(w, "dataset_id", d->dataset_id);
    }
    rg_jsonw_kstr(w, "mode", json_string_value(json_object_get(r, "mode")));
    rg_jsonw_kraw(w, "rules", rules);
    rg_jsonw_obj_end(w);
    rg_free(rules);
    json_decref(r);
}

/* ds is the document's dataset (its metadata fields and built-in switch). */
static void render_document(rg_jsonw *w, const rg_dataset *ds, const rg_document *d, doc_form form,
                            const char *meta)
{
    bool only = meta && strcmp(meta, "only") == 0, without = meta && strcmp(meta, "without") == 0;
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "id", d->id);
    if (only) {
        rg_jsonw_kstr(w, "doc_type", d->doc_type);
        rg_jsonw_key(w, "doc_metadata");
        rg_api_render_doc_metadata(w, ds, d, true);
        rg_jsonw_obj_end(w);
        return;
    }
    rg_jsonw_kint(w, "position", d->position);
    rg_jsonw_kstr(w, "data_source_type", d->data_source_type);
    rg_jsonw_key(w, "data_source_info");
    rg_jsonw_obj(w);
    if (form == DOC_FORM_LIST)
        rg_jsonw_kstr(w, "upload_file_id", d->upload.id);
    else {
        rg_jsonw_key(w, "upload_file");
        render_upload(w, &d->upload);
    }
    rg_jsonw_obj_end(w);
    if (form == DOC_FORM_LIST) {
        rg_jsonw_key(w, "data_source_detail_dict");
        rg_jsonw_obj(w);
        rg_jsonw_key(w, "upload_file");
        render_upload(w, &d->upload);
        rg_jsonw_obj_end(w);
    }
    rg_jsonw_kstr(w, "dataset_process_rule_id", d->process_rule_id);
    if (form == DOC_FORM_DETAIL) {
        rg_jsonw_key(w, "dataset_process_rule");
        render_rule(w, d, false);
        rg_jsonw_key(w, "document_process_rule");
        render_rule(w, d, true);
    }
    rg_jsonw_kstr(w, "name", d->name);
    rg_jsonw_kstr(w, "created_from", d->created_from);
    rg_jsonw_kstr(w, "created_by", d->created_by);
    rg_jsonw_kint(w, "created_at", d->created_at);
    rg_jsonw_kint_or_null(w, "tokens", d->tokens);
    rg_jsonw_kstr(w, "indexing_status", rg_doc_status_name(d->status));
    if (form == DOC_FORM_DETAIL) {
        rg_jsonw_kint_or_null(w, "completed_at", d->completed_at);
        rg_jsonw_kint_or_null(w, "updated_at", d->updated_at);
        rg_jsonw_key(w, "indexing_latency");
        if (d->indexing_latency < 0)
            rg_jsonw_null(w);
        else
            rg_jsonw_double(w, d->indexing_latency);
    }
    rg_jsonw_kstr(w, "error", d->error);
    rg_jsonw_kbool(w, "enabled", d->enabled);
    rg_jsonw_kint_or_null(w, "disabled_at", d->disabled_at);
    rg_jsonw_kstr(w, "disabled_by", d->disabled_by);
    rg_jsonw_kbool(w, "archived", d->archived);
    if (form == DOC_FORM_DETAIL && !without) {
        rg_jsonw_kstr(w, "doc_type", d->doc_type);
        rg_jsonw_key(w, "doc_metadata");
        rg_api_render_doc_metadata(w, ds, d, true);
    }
    if (form == DOC_FORM_DETAIL) {
        rg_jsonw_kint(w, "segment_count", d->total_segments);
        rg_jsonw_kint(w, "average_segment_length",
                      d->total_segments > 0 && d->word_count > 0 ? d->word_count / d->total_segments
                                                                 : 0);
    } else
        rg_jsonw_kint_or_null(w, "word_count", d->word_count);
    rg_jsonw_kint(w, "hit_count", 0);
    rg_jsonw_kstr(w, "display_status", rg_doc_display_status(d));
    rg_jsonw_kstr(w, "doc_form", d->doc_form);
    if (form == DOC_FORM_DETAIL)
        rg_jsonw_kstr(w, "doc_language", d->doc_language);
    else {
        rg_jsonw_key(w, "doc_metadata");
        rg_api_render_doc_metadata(w, ds, d, false);
    }
    rg_jsonw_knull(w, "summary_index_status");
    rg_jsonw_kbool(w, "need_summary", false);
    rg_jsonw_obj_end(w);
}

static rg_rc reply_created(rg_req *req, rg_resp *resp, const rg_document *d)
{
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "document");
    render_document(&w, rg_api_principal(req)->dataset, d, DOC_FORM_LIST, NULL);
    rg_jsonw_kstr(&w, "batch", d->batch);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

/* ---- input ----------------------------------------------------------------- */

/* Settings common to every create and update: technique, doc_form, rule, model. */
static rg_rc read_settings(rg_req *req, rg_resp *resp, json_t *body, const rg_dataset *ds,
                           rg_document *d)
{
    bool present;
    const char *v = NULL;
    char why[256];
    RG_TRY(rg_api_opt_string(req, resp, body, "indexing_technique", &v, &present));
    if (v && !rg_dataset_technique_valid(rg_str_c(v)))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "indexing_technique: '%.40s' is not one of "
                            "high_quality, economy",
                            v);
    d->indexing_technique = ds->indexing_technique ? ds->indexing_technique : v;
    if (!d->indexing_technique)
        return rg_resp_fail(resp, req, RG_EINVAL, "indexing_technique is required.");
    v = NULL;
    RG_TRY(rg_api_opt_string(req, resp, body, "doc_form", &v, &present));
    if (v && !rg_dataset_doc_form_valid(rg_str_c(v)))
        return rg_resp_fail(resp, req, RG_EINVAL, "Invalid doc_form.");
    d->doc_form = v ? v : ds->doc_form ? ds->doc_form : "text_model";
    if (ds->doc_form && strcmp(ds->doc_form, d->doc_form) != 0 && ds->document_count > 0)
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "doc_form is different from the dataset doc_form.");
    if (strcmp(d->doc_form, "qa_model") == 0)
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "doc_form qa_model needs an LLM to write questions, and ragd has "
                            "none; use text_model or hierarchical_model.");
    v = NULL;
    RG_TRY(rg_api_opt_string(req, resp, body, "doc_language", &v, &present));
    d->doc_language = v ? v : "English";
    json_t *rule = json_object_get(body, "process_rule");
    if (rg_process_rule_check(req->arena, rule, &d->process_rule, why, sizeof why) != RG_OK)
        return rg_resp_fail(resp, req, RG_EINVAL, "%s", why);
    bool hier_rule = strstr(d->process_rule, "\"mode\":\"hierarchical\"") != NULL;
    if (hier_rule != (strcmp(d->doc_form, "hierarchical_model") == 0))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            hier_rule ? "process_rule mode hierarchical needs doc_form "
                                        "hierarchical_model."
                                      : "doc_form hierarchical_model needs a process_rule with "
                                        "mode hierarchical.");
    /* the embedding model: the dataset's, or the request's when the dataset has none yet */
    const char *model = ds->embedding_model, *provider = ds->embedding_model_provider;
    if (strcmp(d->indexing_technique, "high_quality") == 0 && !model) {
        const char *m = NULL, *p = NULL;
        RG_TRY(rg_api_opt_string(req, resp, body, "embedding_model", &m, &present));
        RG_TRY(rg_api_opt_string(req, resp, body, "embedding_model_provider", &p, &present));
        if ((m || p) && !(m && p && rg_embed_find(p, m)))
            return rg_resp_fail(resp, req, RG_EINVAL,
                                "No Embedding Model available. Please configure a valid provider "
                                "in the Settings -> Model Provider.");
        model = m;
        provider = p;
        if (!model) {
            const rg_embed_model *dm = rg_embed_default();
            provider = dm->provider;
            model = dm->name;
        }
    }
    if (strcmp(d->indexing_technique, "high_quality") == 0) {
        if (!rg_embed_find(provider, model)) /* configured once, gone from this server */
            return rg_resp_fail(resp, req, RG_EPROVIDER,
                                "Embedding model %s of provider %s is not available on this "
                                "server.",
                                model, provider);
        d->embedding_model = model;
        d->embedding_model_provider = provider;
    }
    return RG_OK;
}

static void init_document(rg_req *req, const rg_dataset *ds, rg_document *d)
{
    rg_principal *p = rg_api_principal(req);
    memset(d, 0, sizeof *d);
    rg_uuid4(d->id);
    memcpy(d->tenant_id, ds->tenant_id, sizeof d->tenant_id);
    memcpy(d->dataset_id, ds->id, sizeof d->dataset_id);
    rg_batch_id(d->batch);
    d->data_source_type = "upload_file";
    d->created_from = "api";
    d->created_by = p->key.tenant.owner_id;
    d->created_at = d->updated_at = rg_now_s();
    d->status = RG_DOC_WAITING;
    d->enabled = true;
    d->processing_started_at = d->parsing_completed_at = d->cleaning_completed_at = -1;
    d->splitting_completed_at = d->completed_at = d->paused_at = d->stopped_at = -1;
    d->disabled_at = d->archived_at = -1;
    d->word_count = d->tokens = -1;
    d->indexing_latency = -1;
}

/* Truncates a name to DOC_NAME_MAX characters (at a code point boundary). */
static const char *clip_name(rg_req *req, const char *name)
{
    size_t chars = 0, i = 0, n = strlen(name);
    while (i < n && chars < DOC_NAME_MAX) {
        i++;
        while (i < n && ((unsigned char)name[i] & 0xC0) == 0x80)
            i++;
        chars++;
    }
    return rg_arena_strndup(req->arena, name, i);
}

/* Writes text to a spool file and adopts it as the upload of d. */
static rg_rc store_text(rg_req *req, rg_resp *resp, rg_str text, rg_document *d)
{
    rg_api *api = rg_api_ctx(req);
    rg_upload *u = &d->upload;
    rg_uuid4(u->id);
    const char *path =
        rg_arena_printf(req->arena, "%s/%s.text", rg_store_spool_dir(api->store), u->id);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    bool ok = fd >= 0;
    for (size_t off = 0; ok && off < text.n;) {
        ssize_t w = write(fd, text.p + off, text.n - off);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        off += ok ? (size_t)w : 0;
    }
    if (fd >= 0 && (fsync(fd) != 0 || close(fd) != 0))
        ok = false;
    rg_rc rc = ok ? rg_store_upload_adopt(api->store, u->id, path) : RG_EIO;
    if (rc != RG_OK) {
        unlink(path);
        rg_error("documents: could not store the text of %s: %s", d->id, strerror(errno));
        return rg_resp_fail(resp, req, RG_EIO, "The server could not store the text.");
    }
    u->name = rg_arena_printf(req->arena, "%s", d->name);
    u->size = (int64_t)text.n;
    u->extension = "txt";
    u->mime_type = "text/plain";
    u->created_by = d->created_by;
    u->created_at_us = rg_now_us();
    return RG_OK;
}

rg_rc rg_api_check_file_part(rg_req *req, rg_resp *resp, char ext[16], rg_doctype *t)
{
    if (req->n_files == 0)
        return rg_resp_fail(resp, req, RG_ENOFILE, "Please upload your file.");
    if (req->n_files > 1)
        return rg_resp_fail(resp, req, RG_ETOOMANYFILES, "Only one file is allowed.");
    const char *fn = req->file.filename;
    if (!fn || !*fn)
        return rg_resp_fail(resp, req, RG_ENOFILENAME, "The specified filename does not exist.");
    if (strpbrk(fn, "/\\") || !rg_utf8_valid(fn, strlen(fn)))
        return rg_resp_fail(resp, req, RG_EINVAL, "Filename contains invalid characters");
    const char *dot = strrchr(fn, '.');
    memset(ext, 0, 16);
    for (size_t i = 0; dot && dot[1 + i] && i + 1 < 16; i++)
        ext[i] = (char)(dot[1 + i] >= 'A' && dot[1 + i] <= 'Z' ? dot[1 + i] + 32 : dot[1 + i]);
    if (!dot || rg_doctype_from_ext(ext, t) != RG_OK)
        return rg_resp_fail(resp, req, RG_EFILETYPE,
                            "File type not allowed: '%.40s' (supported: %s).", dot ? dot : fn,
                            rg_doctype_supported());
    return RG_OK;
}

/* Checks the multipart file part and adopts it as the upload of d. */
static rg_rc store_file(rg_req *req, rg_resp *resp, rg_document *d)
{
    rg_api *api = rg_api_ctx(req);
    char ext[16];
    rg_doctype t;
    RG_TRY(rg_api_check_file_part(req, resp, ext, &t));
    const char *fn = req->file.filename;
    rg_upload *u = &d->upload;
    rg_uuid4(u->id);
    if (rg_store_upload_adopt(api->store, u->id, req->file.path) != RG_OK)
        return rg_resp_fail(resp, req, RG_EIO, "The server could not store the upload.");
    d->name = clip_name(req, fn);
    u->name = d->name;
    u->size = req->file.size;
    u->extension = rg_arena_strdup(req->arena, ext);
    u->mime_type = rg_doctype_mime(t);
    u->created_by = d->created_by;
    u->created_at_us = rg_now_us();
    return RG_OK;
}

/* The "data" part of a multipart request as a JSON object (absent: empty). */
static rg_rc read_data_part(rg_req *req, rg_resp *resp, json_t **out)
{
    rg_str data = rg_req_field(req, "data");
    if (!req->multipart)
        return rg_resp_fail(resp, req, RG_ENOFILE,
                            "Please upload your file (multipart/form-data with a 'file' part).");
    if (!data.p || rg_str_trim(data).n == 0) {
        *out = json_object();
        return RG_OK;
    }
    json_error_t err;
    *out = json_loadb(data.p, data.n, JSON_REJECT_DUPLICATES, &err);
    if (!*out)
        return rg_resp_fail(resp, req, RG_EINVAL, "data: %s (line %d, column %d)", err.text,
                            err.line, err.column);
    if (!json_is_object(*out)) {
        json_decref(*out);
        return rg_resp_fail(resp, req, RG_EINVAL, "data: must be a JSON object");
    }
    return RG_OK;
}

static void json_release(void *p)
{
    json_decref(p);
}

static rg_rc insert_and_reply(rg_req *req, rg_resp *resp, rg_document *d)
{
    rg_api *api = rg_api_ctx(req);
    rg_rc rc = rg_store_document_insert(api->store, d);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Dataset not found.");
    RG_TRY(rc);
    if (api->wake)
        api->wake(api->wake_arg);
    return reply_created(req, resp, d);
}

/* ---- create ---------------------------------------------------------------- */

rg_rc rg_api_document_create_text(rg_req *req, rg_resp *resp)
{
    rg_dataset *ds = rg_api_principal(req)->dataset;
    json_t *body = req->json;
    rg_document d;
    init_document(req, ds, &d);
    bool present;
    const char *name = NULL, *text = NULL;
    RG_TRY(rg_api_opt_string(req, resp, body, "name", &name, &present));
    if (!name || !*name)
        return rg_resp_fail(resp, req, RG_EINVAL, "name: required, the document name");
    json_t *jt = json_object_get(body, "text");
    if (!json_is_string(jt))
        return rg_resp_fail(resp, req, RG_EINVAL, "text: required, a string");
    text = json_string_value(jt);
    RG_TRY(read_settings(req, resp, body, ds, &d));
    d.name = clip_name(req, name);
    RG_TRY(store_text(req, resp, (rg_str){text, json_string_length(jt)}, &d));
    return insert_and_reply(req, resp, &d);
}

rg_rc rg_api_document_create_file(rg_req *req, rg_resp *resp)
{
    rg_dataset *ds = rg_api_principal(req)->dataset;
    json_t *data;
    RG_TRY(read_data_part(req, resp, &data));
    rg_arena_on_free(req->arena, json_release, data);
    rg_document d;
    init_document(req, ds, &d);
    if (req->n_files == 0)
        return rg_resp_fail(resp, req, RG_ENOFILE, "Please upload your file.");
    RG_TRY(read_settings(req, resp, data, ds, &d));
    RG_TRY(store_file(req, resp, &d));
    return insert_and_reply(req, resp, &d);
}

/* ---- update ---------------------------------------------------------------- */

static rg_rc load_document(rg_req *req, rg_resp *resp, size_t param, rg_document *d,
                           const char *not_found)
{
    rg_principal *p = rg_api_principal(req);
    rg_rc rc = rg_store_document_get(rg_api_ctx(req)->store, req->arena, p->key.tenant.id,
                                     p->dataset->id, rg_req_param(req, param), d);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "%s", not_found);
    return rc;
}

/* Shared by update-by-text and update-by-file: body holds the settings. */
static rg_rc replace_document(rg_req *req, rg_resp *resp, rg_document *d, json_t *body,
                              bool new_content)
{
    rg_dataset *ds = rg_api_principal(req)->dataset;
    rg_api *api = rg_api_ctx(req);
    if (!new_content && !json_object_get(body, "process_rule"))
        return rg_resp_fail(resp, req, RG_EINVAL, "Data source or Process rule is required");
    const char *keep_rule = d->process_rule;
    RG_TRY(read_settings(req, resp, body, ds, d));
    if (!json_object_get(body, "process_rule"))
        d->process_rule = keep_rule;
    d->updated_at = rg_now_s();
    rg_rc rc = rg_store_document_replace(api->store, d);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Document not found");
    RG_TRY(rc);
    if (api->wake)
        api->wake(api->wake_arg);
    return reply_created(req, resp, d);
}

static rg_rc check_updatable(rg_req *req, rg_resp *resp, const rg_document *d)
{
    const char *ds = rg_doc_display_status(d);
    if (d->archived)
        return rg_resp_fail(resp, req, RG_EARCHIVED, "The archived document is not editable.");
    if (strcmp(ds, "queuing") == 0 || strcmp(ds, "indexing") == 0)
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "Document is not available (it is %s); wait for indexing to end or "
                            "pause it first.",
                            ds);
    return RG_OK;
}

rg_rc rg_api_document_update_text(rg_req *req, rg_resp *resp)
{
    rg_document d;
    RG_TRY(load_document(req, resp, 1, &d, "Document not found"));
    RG_TRY(check_updatable(req, resp, &d));
    json_t *body = req->json;
    bool present;
    const char *name = NULL;
    RG_TRY(rg_api_opt_string(req, resp, body, "name", &name, &present));
    json_t *jt = json_object_get(body, "text");
    if (jt && !json_is_null(jt) && !json_is_string(jt))
        return rg_resp_fail(resp, req, RG_EINVAL, "text: expected a string");
    bool has_text = json_is_string(jt) && json_string_length(jt) > 0;
    if (has_text && (!name || !*name))
        return rg_resp_fail(resp, req, RG_EINVAL, "name is required when text is provided");
    if (name && *name)
        d.name = clip_name(req, name);
    if (has_text) {
        d.created_by = rg_api_principal(req)->key.tenant.owner_id;
        RG_TRY(store_text(req, resp, (rg_str){json_string_value(jt), json_string_length(jt)}, &d));
    }
    return replace_document(req, resp, &d, body, has_text);
}

rg_rc rg_api_document_update_file(rg_req *req, rg_resp *resp)
{
    rg_document d;
    RG_TRY(load_document(req, resp, 1, &d, "Document not found"));
    RG_TRY(check_updatable(req, resp, &d));
    json_t *data;
    RG_TRY(read_data_part(req, resp, &data));
    rg_arena_on_free(req->arena, json_release, data);
    if (req->n_files > 0)
        RG_TRY(store_file(req, resp, &d));
    return replace_document(req, resp, &d, data, req->n_files > 0);
}

/* ---- read ------------------------------------------------------------------ */

rg_rc rg_api_documents_list(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_api *api = rg_api_ctx(req);
    int64_t page, limit;
    RG_TRY(rg_api_query_int(req, resp, "page", 1, INT32_MIN, INT32_MAX, &page));
    RG_TRY(rg_api_query_int(req, resp, "limit", 20, 1, INT32_MAX, &limit));
    if (page < 1)
        page = 1;
    rg_document_query q = {.tenant_id = p->key.tenant.id, .dataset_id = p->dataset->id};
    q.keyword = rg_req_query(req, "keyword");
    q.status = rg_req_query(req, "status");
    q.limit = limit < api->page_limit_max ? limit : api->page_limit_max;
    q.offset = (page - 1) * q.limit;
    rg_document *items;
    size_t n;
    int64_t total;
    RG_TRY(rg_store_document_list(api->store, req->arena, &q, &items, &n, &total));
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++)
        render_document(&w, rg_api_principal(req)->dataset, &items[i], DOC_FORM_LIST, NULL);
    rg_jsonw_arr_end(&w);
    rg_jsonw_kbool(&w, "has_more", q.offset + (int64_t)n < total);
    rg_jsonw_kint(&w, "limit", limit);
    rg_jsonw_kint(&w, "total", total);
    rg_jsonw_kint(&w, "page", page);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

rg_rc rg_api_document_get(rg_req *req, rg_resp *resp)
{
    const char *meta = rg_req_query(req, "metadata");
    if (meta && strcmp(meta, "all") && strcmp(meta, "only") && strcmp(meta, "without"))
        return rg_resp_fail(resp, req, RG_EMETADATA, "Invalid metadata value: %.40s", meta);
    rg_document d;
    RG_TRY(load_document(req, resp, 1, &d, "Document not found."));
    rg_jsonw w;
    rg_resp_json(resp, &w);
    render_document(&w, rg_api_principal(req)->dataset, &d, DOC_FORM_DETAIL, meta);
    return RG_OK;
}

rg_rc rg_api_document_delete(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_document d;
    RG_TRY(load_document(req, resp, 1, &d, "Document Not Exists."));
    if (d.archived)
        return rg_resp_fail(resp, req, RG_EARCHIVED, "The archived document is not editable.");
    rg_rc rc =
        rg_store_document_delete(rg_api_ctx(req)->store, p->key.tenant.id, p->dataset->id, d.id);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Document Not Exists.");
    RG_TRY(rc);
    resp->status = 204;
    return RG_OK;
}

rg_rc rg_api_indexing_status(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_document *items;
    size_t n;
    RG_TRY(rg_store_document_batch_status(rg_api_ctx(req)->store, req->arena, p->key.tenant.id,
                                          p->dataset->id, rg_req_param(req, 1), &items, &n));
    if (n == 0)
        return rg_resp_fail(resp, req, RG_ENOTFOUND, "Documents not found.");
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++) {
        const rg_document *d = &items[i];
        bool paused = d->is_paused && d->status != RG_DOC_COMPLETED && d->status != RG_DOC_ERROR;
        rg_jsonw_obj(&w);
        rg_jsonw_kstr(&w, "id", d->id);
        rg_jsonw_kstr(&w, "indexing_status", paused ? "paused" : rg_doc_status_name(d->status));
        rg_jsonw_kint_or_null(&w, "processing_started_at", d->processing_started_at);
        rg_jsonw_kint_or_null(&w, "parsing_completed_at", d->parsing_completed_at);
        rg_jsonw_kint_or_null(&w, "cleaning_completed_at", d->cleaning_completed_at);
        rg_jsonw_kint_or_null(&w, "splitting_completed_at", d->splitting_completed_at);
        rg_jsonw_kint_or_null(&w, "completed_at", d->completed_at);
        rg_jsonw_kint_or_null(&w, "paused_at", d->paused_at);
        rg_jsonw_kstr(&w, "error", d->error);
        rg_jsonw_kint_or_null(&w, "stopped_at", d->stopped_at);
        rg_jsonw_kint(&w, "completed_segments", d->completed_segments);
        rg_jsonw_kint(&w, "total_segments", d->total_segments);
        rg_jsonw_obj_end(&w);
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

/* ---- actions --------------------------------------------------------------- */

/* Reads {"document_ids": [...]} (missing: empty) into an arena array. */
static rg_rc read_ids(rg_req *req, rg_resp *resp, const char ***ids, size_t *n)
{
    json_t *a = req->json ? json_object_get(req->json, "document_ids") : NULL, *v;
    size_t i;
    *n = 0;
    *ids = NULL;
    if (!a || json_is_null(a))
        return RG_OK;
    if (!json_is_array(a) || json_array_size(a) > 1000)
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "document_ids: expected a list of at most 1000 "
                            "document ids");
    *ids = rg_arena_calloc(req->arena, json_array_size(a) + 1, sizeof **ids);
    json_array_foreach(a, i, v)
    {
        if (!json_is_string(v) || !rg_str_is_uuid(rg_str_c(json_string_value(v))))
            return rg_resp_fail(resp, req, RG_EINVAL, "document_ids[%zu]: expected a document id",
                                i);
        char *z = rg_arena_strdup(req->arena, json_string_value(v));
        for (char *c = z; *c; c++)
            if (*c >= 'A' && *c <= 'F')
                *c = (char)(*c + 32);
        (*ids)[(*n)++] = z;
    }
    return RG_OK;
}

static rg_rc run_action(rg_req *req, rg_resp *resp, rg_doc_action act, const char **ids, size_t n)
{
    rg_principal *p = rg_api_principal(req);
    rg_api *api = rg_api_ctx(req);
    const char *why = NULL;
    rg_rc rc = rg_store_document_action(api->store, req->arena, p->key.tenant.id, p->dataset->id,
                                        act, ids, n, p->key.tenant.owner_id, &why);
    if (rc != RG_OK)
        return why ? rg_resp_fail(resp, req, rc, "%s", why) : rc;
    if ((act == RG_DOC_RESUME || act == RG_DOC_RETRY) && api->wake)
        api->wake(api->wake_arg);
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_kstr(&w, "result", "success");
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

/* Compacts ids to those of documents in the dataset; returns how many. */
static size_t keep_known(rg_req *req, const char **ids, size_t n)
{
    rg_principal *p = rg_api_principal(req);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        rg_document d;
        if (rg_store_document_get(rg_api_ctx(req)->store, req->arena, p->key.tenant.id,
                                  p->dataset->id, ids[i], &d) == RG_OK)
            ids[kept++] = ids[i];
    }
    return kept;
}

rg_rc rg_api_documents_status(rg_req *req, rg_resp *resp)
{
    static const struct {
        const char *name;
        rg_doc_action act;
    } actions[] = {{"enable", RG_DOC_ENABLE},
                   {"disable", RG_DOC_DISABLE},
                   {"archive", RG_DOC_ARCHIVE},
                   {"un_archive", RG_DOC_UN_ARCHIVE}};
    const char **ids;
    size_t n;
    RG_TRY(read_ids(req, resp, &ids, &n));
    const char *name = rg_req_param(req, 1);
    for (size_t i = 0; i < RG_ARRAY_LEN(actions); i++)
        if (strcmp(name, actions[i].name) == 0) {
            n = keep_known(req, ids, n); /* Dify skips ids that are not in the dataset */
            return run_action(req, resp, actions[i].act, ids, n);
        }
    if (n == 0) /* Dify: an empty list succeeds whatever the action */
        return run_action(req, resp, RG_DOC_ENABLE, ids, 0);
    return rg_resp_fail(resp, req, RG_EACTION,
                        "Invalid action: %.40s. Must be one of ['enable', 'disable', 'archive', "
                        "'un_archive']",
                        name);
}

rg_rc rg_api_document_processing(rg_req *req, rg_resp *resp)
{
    const char *id = rg_req_param(req, 1), *action = rg_req_param(req, 2);
    rg_doc_action act;
    if (strcmp(action, "pause") == 0)
        act = RG_DOC_PAUSE;
    else if (strcmp(action, "resume") == 0)
        act = RG_DOC_RESUME;
    else
        return rg_resp_fail(resp, req, RG_EACTION,
                            "Invalid action: %.40s. Must be one of ['pause', 'resume']", action);
    const char *ids[1] = {id};
    return run_action(req, resp, act, ids, 1);
}

rg_rc rg_api_documents_retry(rg_req *req, rg_resp *resp)
{
    const char **ids;
    size_t n;
    RG_TRY(read_ids(req, resp, &ids, &n));
    if (n == 0)
        return rg_resp_fail(resp, req, RG_EINVAL, "document_ids: required, at least one id");
    return run_action(req, resp, RG_DOC_RETRY, ids, n);
}

/* ---- files ----------------------------------------------------------------- */

rg_rc rg_api_document_download(rg_req *req, rg_resp *resp)
{
    rg_document d;
    RG_TRY(load_document(req, resp, 1, &d, "Document not found."));
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "url");
    rg_jsonw_strz(
        &w, rg_arena_printf(req->arena, "/v1/datasets/%s/documents/%s/file", d.dataset_id, d.id));
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

rg_rc rg_api_document_file(rg_req *req, rg_resp *resp)
{
    rg_document d;
    char path[1024];
    RG_TRY(load_document(req, resp, 1, &d, "Document not found."));
    if (rg_store_upload_path(rg_api_ctx(req)->store, d.upload.id, path, sizeof path) != RG_OK)
        return rg_resp_fail(resp, req, RG_ENOTFOUND, "Uploaded file not found.");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return rg_resp_fail(resp, req, RG_ENOTFOUND, "Uploaded file not found.");
    }
    resp->fd = fd;
    resp->fd_size = (uint64_t)st.st_size;
    resp->content_type = d.upload.mime_type ? d.upload.mime_type : "application/octet-stream";
    /* RFC 6266 with RFC 8187 encoding: the name may hold any character */
    rg_buf b;
    rg_buf_init(&b, 4096);
    (void)rg_buf_puts(&b, "attachment; filename*=UTF-8''");
    for (const unsigned char *c = (const unsigned char *)d.upload.name; c && *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            strchr(".-_~", *c))
            (void)rg_buf_putc(&b, (char)*c);
        else
            (void)rg_buf_printf(&b, "%%%02X", *c);
    }
    resp->extra_header = "Content-Disposition";
    resp->extra_value = rg_arena_strndup(req->arena, b.p ? b.p : "attachment", b.len);
    rg_buf_free(&b);
    return RG_OK;
}
