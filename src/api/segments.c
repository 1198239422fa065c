/*
 * segments.c - the chunks of a document and their child chunks: list, get,
 * add, update, delete.
 *
 * Segments are rendered with every field of the contract's Segment object;
 * for parent-child documents each parent carries its child chunks.  An edit
 * computes the chunk's index data (full-text terms; the embedding for
 * high_quality datasets; keywords for economy ones) and the store writes it
 * with the row in one transaction that also moves the dataset's index version,
 * so the next search sees the edit.
 */
#include "api/api.h"

#include "core/clock.h"
#include "core/hash.h"
#include "core/ids.h"
#include "embed/embed.h"
#include "ingest/keywords.h"
#include "ingest/pipeline.h"
#include "text/tokenize.h"

#include <stdio.h>
#include <string.h>

#define SEGMENTS_PER_CALL 1000   /* chunks one add-chunks call may carry */
#define CHUNK_MAX_CHARS   100000 /* characters of one chunk given through the API */

static void render_children(rg_jsonw *w, rg_req *req, const rg_segment *g, bool hierarchical)
{
    rg_jsonw_arr(w);
    rg_child_chunk *kids = NULL;
    size_t n = 0;
    if (hierarchical &&
        rg_store_child_chunk_list(rg_api_ctx(req)->store, req->arena, g->id, &kids, &n) == RG_OK)
        for (size_t i = 0; i < n; i++) {
            rg_jsonw_obj(w);
            rg_jsonw_kstr(w, "id", kids[i].id);
            rg_jsonw_kstr(w, "segment_id", kids[i].segment_id);
            rg_jsonw_kstr(w, "content", kids[i].content);
            rg_jsonw_kint(w, "position", kids[i].position);
            rg_jsonw_kint(w, "word_count", kids[i].word_count);
            rg_jsonw_kstr(w, "type", kids[i].type);
            rg_jsonw_kint(w, "created_at", kids[i].created_at);
            rg_jsonw_kint(w, "updated_at", kids[i].updated_at);
            rg_jsonw_obj_end(w);
        }
    rg_jsonw_arr_end(w);
}

void rg_api_segment_fields(rg_jsonw *w, const rg_segment *g, bool with_updates)
{
    rg_jsonw_kstr(w, "id", g->id);
    rg_jsonw_kint(w, "position", g->position);
    rg_jsonw_kstr(w, "document_id", g->document_id);
    rg_jsonw_kstr(w, "content", g->content);
    rg_jsonw_kstr(w, "sign_content", g->content);
    rg_jsonw_kstr(w, "answer", g->answer);
    rg_jsonw_kint(w, "word_count", g->word_count);
    rg_jsonw_kint(w, "tokens", g->tokens);
    rg_jsonw_kraw(w, "keywords", g->keywords ? g->keywords : "[]");
    rg_jsonw_kstr(w, "index_node_id", g->index_node_id);
    rg_jsonw_kstr(w, "index_node_hash", g->index_node_hash);
    rg_jsonw_kint(w, "hit_count", g->hit_count);
    rg_jsonw_kbool(w, "enabled", g->enabled);
    rg_jsonw_kint_or_null(w, "disabled_at", g->disabled_at);
    rg_jsonw_kstr(w, "disabled_by", g->disabled_by);
    rg_jsonw_kstr(w, "status", g->status);
    rg_jsonw_kstr(w, "created_by", g->created_by);
    rg_jsonw_kint(w, "created_at", g->created_at);
    if (with_updates) {
        rg_jsonw_kint(w, "updated_at", g->updated_at);
        rg_jsonw_kstr(w, "updated_by", g->updated_by);
    }
    rg_jsonw_kint_or_null(w, "indexing_at", g->indexing_at);
    rg_jsonw_kint_or_null(w, "completed_at", g->completed_at);
    rg_jsonw_kstr(w, "error", g->error);
    rg_jsonw_kint_or_null(w, "stopped_at", g->stopped_at);
}

static void render_segment(rg_jsonw *w, rg_req *req, const rg_segment *g, bool hierarchical)
{
    rg_jsonw_obj(w);
    rg_api_segment_fields(w, g, true);
    rg_jsonw_key(w, "child_chunks");
    render_children(w, req, g, hierarchical);
    rg_jsonw_key(w, "attachments");
    rg_jsonw_arr(w);
    rg_jsonw_arr_end(w);
    rg_jsonw_knull(w, "summary");
    rg_jsonw_obj_end(w);
}

rg_rc rg_api_segments_list(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_api *api = rg_api_ctx(req);
    rg_document d;
    rg_rc rc = rg_store_document_get(api->store, req->arena, p->key.tenant.id, p->dataset->id,
                                     rg_req_param(req, 1), &d);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Document not found.");
    RG_TRY(rc);
    int64_t page, limit;
    RG_TRY(rg_api_query_int(req, resp, "page", 1, INT32_MIN, INT32_MAX, &page));
    RG_TRY(rg_api_query_int(req, resp, "limit", 20, 1, INT32_MAX, &limit));
    if (page < 1)
        page = 1;
    int64_t eff = limit < api->page_limit_max ? limit : api->page_limit_max;
    const char *keyword = rg_req_query(req, "keyword"), *status = NULL;
    const char **statuses;
    size_t n_status = rg_req_query_all(req, "status", &statuses);
    for (size_t i = 0; i < n_status; i++) /* repeatable, as Dify's status list */
        status = status ? rg_arena_printf(req->arena, "%s,%s", status, statuses[i]) : statuses[i];
    rg_segment *items;
    size_t n;
    int64_t total;
    RG_TRY(rg_store_segment_list(
        api->store, req->arena, p->key.tenant.id, d.id, keyword && *keyword ? keyword : NULL,
        status && *status ? status : NULL, (page - 1) * eff, eff, &items, &n, &total));
    bool hier = d.doc_form && strcmp(d.doc_form, "hierarchical_model") == 0;
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++)
        render_segment(&w, req, &items[i], hier);
    rg_jsonw_arr_end(&w);
    rg_jsonw_kstr(&w, "doc_form", d.doc_form);
    rg_jsonw_kint(&w, "total", total);
    rg_jsonw_kbool(&w, "has_more", (page - 1) * eff + (int64_t)n < total);
    rg_jsonw_kint(&w, "limit", limit);
    rg_jsonw_kint(&w, "page", page);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

/* ---- editing ----------------------------------------------------------------- */

/* Loads the document of route parameter 1; chunks may be edited only once it
 * has finished indexing (as Dify). */
static rg_rc load_doc(rg_req *req, rg_resp *resp, rg_document *d)
{
    rg_principal *p = rg_api_principal(req);
    rg_rc rc = rg_store_document_get(rg_api_ctx(req)->store, req->arena, p->key.tenant.id,
                                     p->dataset->id, rg_req_param(req, 1), d);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Document not found.");
    return rc;
}

/* Dify answers these with 404 (4.3.1). */
static rg_rc require_completed(rg_req *req, rg_resp *resp, const rg_document *d)
{
    if (d->status != RG_DOC_COMPLETED)
        return rg_resp_fail(resp, req, RG_ENOTFOUND,
                            "Document is not completed (it is %s); chunks can be edited once "
                            "indexing has finished.",
                            rg_doc_status_name(d->status));
    if (!d->enabled)
        return rg_resp_fail(resp, req, RG_ENOTFOUND, "Document is disabled.");
    return RG_OK;
}

static rg_rc load_segment(rg_req *req, rg_resp *resp, const rg_document *d, rg_segment *g)
{
    rg_rc rc = rg_store_segment_get(rg_api_ctx(req)->store, req->arena, d->tenant_id, d->id,
                                    rg_req_param(req, 2), g);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Segment not found.");
    return rc;
}

static bool is_economy(const rg_dataset *ds)
{
    return !ds->indexing_technique || strcmp(ds->indexing_technique, "high_quality") != 0;
}

static void count_token(rg_str tok, void *arg)
{
    RG_UNUSED(tok);
    (*(int64_t *)arg)++;
}

/* Computes the index data of one text into idx (arena memory).  keywords
 * (JSON array text, may be NULL) are searchable too, as Dify's keyword table
 * holds the keywords a client gives. */
static rg_rc index_text(rg_req *req, rg_resp *resp, rg_str text, const char *keywords,
                        rg_segment_index *idx)
{
    const rg_dataset *ds = rg_api_principal(req)->dataset;
    memset(idx, 0, sizeof *idx);
    rg_str searchable = text;
    json_t *kw = keywords ? json_loads(keywords, 0, NULL) : NULL;
    if (json_array_size(kw)) {
        rg_buf b;
        rg_buf_init(&b, text.n + 4096 + json_array_size(kw) * 256);
        (void)rg_buf_append(&b, text.p, text.n);
        size_t i;
        json_t *k;
        json_array_foreach(kw, i, k)
        {
            (void)rg_buf_putc(&b, '\n');
            (void)rg_buf_puts(&b, json_string_value(k) ? json_string_value(k) : "");
        }
        searchable = (rg_str){rg_arena_strndup(req->arena, b.p, b.len), b.len};
        rg_buf_free(&b);
    }
    json_decref(kw);
    int64_t tokens = 0;
    idx->terms = rg_keywords_terms(req->arena, searchable, &idx->terms_len, &tokens);
    if (is_economy(ds))
        return RG_OK;
    if (searchable.p == text.p)
        idx->tokens = tokens; /* counted in the same pass */
    else
        rg_tokenize(text, count_token, &idx->tokens); /* keywords are not tokens of the chunk */
    const rg_embed_model *m;
    RG_TRY(rg_api_embed_model(req, resp, ds, &m));
    float *v = rg_arena_alloc(req->arena, (size_t)m->dims * sizeof *v);
    RG_TRY(rg_api_embed(req, resp, m, text, v));
    idx->vector = v;
    idx->dims = m->dims;
    return RG_OK;
}

/* Reads a chunk text field: a string of 1..CHUNK_MAX_CHARS characters. */
static rg_rc read_text(rg_req *req, rg_resp *resp, json_t *v, const char *what, rg_str *out)
{
    if (!json_is_string(v))
        return rg_resp_fail(resp, req, RG_EINVAL, "%s: required, a string", what);
    rg_str s = {json_string_value(v), json_string_length(v)};
    if (rg_str_trim(s).n == 0)
        return rg_resp_fail(resp, req, RG_EINVAL, "%s: must not be empty", what);
    if (rg_utf8_len(s.p, s.n) > CHUNK_MAX_CHARS)
        return rg_resp_fail(resp, req, RG_EINVAL, "%s: longer than %d characters", what,
                            CHUNK_MAX_CHARS);
    *out = s;
    return RG_OK;
}

/* keywords: a list of strings, rendered back as JSON text (arena). */
static rg_rc read_keywords(rg_req *req, rg_resp *resp, json_t *v, const char **out)
{
    size_t i;
    json_t *k;
    if (!v || json_is_null(v))
        return RG_OK;
    if (!json_is_array(v) || json_array_size(v) > 100)
        return rg_resp_fail(resp, req, RG_EINVAL, "keywords: expected a list of strings");
    json_array_foreach(v, i, k) if (!json_is_string(k)) return rg_resp_fail(
        resp, req, RG_EINVAL, "keywords[%zu]: expected a string", i);
    rg_buf b;
    rg_buf_init(&b, 1 << 20);
    rg_jsonw w;
    rg_jsonw_init(&w, &b);
    rg_jsonw_arr(&w);
    json_array_foreach(v, i, k)
        rg_jsonw_str(&w, (rg_str){json_string_value(k), json_string_length(k)});
    rg_jsonw_arr_end(&w);
    *out = rg_arena_strndup(req->arena, b.p ? b.p : "[]", b.p ? b.len : 2);
    rg_buf_free(&b);
    return RG_OK;
}

static void reply_segment(rg_req *req, rg_resp *resp, const rg_segment *g, const rg_document *d)
{
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    render_segment(&w, req, g, d->doc_form && strcmp(d->doc_form, "hierarchical_model") == 0);
    rg_jsonw_kstr(&w, "doc_form", d->doc_form);
    rg_jsonw_obj_end(&w);
}

rg_rc rg_api_segments_add(rg_req *req, rg_resp *resp)
{
    rg_document d;
    RG_TRY(load_doc(req, resp, &d));
    RG_TRY(require_completed(req, resp, &d));
    json_t *arr = json_object_get(req->json, "segments"), *it;
    size_t n = json_array_size(arr), i;
    if (!json_is_array(arr) || n == 0 || n > SEGMENTS_PER_CALL)
        return rg_resp_fail(resp, req, RG_EINVAL, "segments: required, a list of 1 to %d chunks",
                            SEGMENTS_PER_CALL);
    rg_segment *segs = rg_arena_calloc(req->arena, n, sizeof *segs);
    rg_segment_index *idx = rg_arena_calloc(req->arena, n, sizeof *idx);
    const char *owner = rg_api_principal(req)->key.tenant.owner_id;
    json_array_foreach(arr, i, it)
    {
        rg_segment *g = &segs[i];
        rg_str content;
        char what[48];
        snprintf(what, sizeof what, "segments[%zu].content", i);
        RG_TRY(read_text(req, resp, json_object_get(it, "content"), what, &content));
        json_t *ans = json_object_get(it, "answer");
        if (ans && !json_is_null(ans) && !json_is_string(ans))
            return rg_resp_fail(resp, req, RG_EINVAL, "segments[%zu].answer: expected a string", i);
        RG_TRY(read_keywords(req, resp, json_object_get(it, "keywords"), &g->keywords));
        rg_uuid4(g->id);
        rg_uuid4(g->index_node_id);
        rg_sha256_hex2(content, RG_STR("None"), g->index_node_hash);
        memcpy(g->document_id, d.id, sizeof g->document_id);
        memcpy(g->dataset_id, d.dataset_id, sizeof g->dataset_id);
        g->content = rg_arena_strz(req->arena, content);
        g->answer = json_is_string(ans) ? json_string_value(ans) : NULL;
        g->word_count = (int64_t)rg_utf8_len(content.p, content.n);
        if (g->answer && d.doc_form && strcmp(d.doc_form, "qa_model") == 0)
            g->word_count += (int64_t)rg_utf8_len(g->answer, strlen(g->answer));
        g->created_by = owner;
        g->status = "completed";
        g->enabled = true;
        g->created_at = g->updated_at = rg_now_s();
        RG_TRY(index_text(req, resp, content, g->keywords, &idx[i]));
        idx[i].keywords = g->keywords;
        g->tokens = idx[i].tokens;
    }
    RG_TRY(rg_store_segments_add(rg_api_ctx(req)->store, d.tenant_id, d.id, segs, idx, n));
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    rg_jsonw_arr(&w);
    for (i = 0; i < n; i++) {
        rg_segment g;
        if (rg_store_segment_get(rg_api_ctx(req)->store, req->arena, d.tenant_id, d.id, segs[i].id,
                                 &g) == RG_OK)
            render_segment(&w, req, &g, false);
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_kstr(&w, "doc_form", d.doc_form);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

rg_rc rg_api_segment_get(rg_req *req, rg_resp *resp)
{
    rg_document d;
    rg_segment g;
    RG_TRY(load_doc(req, resp, &d));
    RG_TRY(load_segment(req, resp, &d, &g));
    reply_segment(req, resp, &g, &d);
    return RG_OK;
}

static bool is_hierarchical(const rg_document *d)
{
    return d->doc_form && strcmp(d->doc_form, "hierarchical_model") == 0;
}

/* regenerate_child_chunks (Dify 4.3.4, high quality only): the parent's
 * children are split again from its content by the document's rule, indexed,
 * and replace the old ones in the same transaction as the parent's update. */
static rg_rc update_with_children(rg_req *req, rg_resp *resp, const rg_document *d,
                                  const rg_segment *g, const rg_segment_index *pidx)
{
    if (is_economy(rg_api_principal(req)->dataset))
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "The knowledge base index technique is not high quality!");
    rg_process_rule rule;
    char why[256];
    if (rg_process_rule_load(req->arena, d->process_rule, &rule, why, sizeof why) != RG_OK)
        return rg_resp_fail(resp, req, RG_EINVAL, "the document's process rule: %s", why);
    rg_child_chunk *kids;
    size_t n;
    rg_rc rc = rg_pipeline_children(req->arena, &rule, g->id, rg_str_c(g->content), &kids, &n);
    if (rc == RG_ETOOBIG)
        return rg_resp_fail(resp, req, RG_EINVAL, "the content splits into too many child chunks");
    RG_TRY(rc);
    rg_segment_index *idx = rg_arena_calloc(req->arena, n ? n : 1, sizeof *idx);
    for (size_t i = 0; i < n; i++)
        RG_TRY(index_text(req, resp, rg_str_c(kids[i].content), NULL, &idx[i]));
    return rg_store_segment_update_children(rg_api_ctx(req)->store, d->tenant_id, g, pidx, kids,
                                            idx, n);
}

rg_rc rg_api_segment_update(rg_req *req, rg_resp *resp)
{
    rg_document d;
    rg_segment g;
    RG_TRY(load_doc(req, resp, &d));
    RG_TRY(require_completed(req, resp, &d));
    RG_TRY(load_segment(req, resp, &d, &g));
    json_t *seg = json_object_get(req->json, "segment");
    if (!json_is_object(seg))
        return rg_resp_fail(resp, req, RG_EINVAL, "segment: required, an object");
    rg_segment_index idx, *pidx = NULL;
    bool enabled = g.enabled;
    RG_TRY(rg_api_opt_bool(req, resp, seg, "enabled", &enabled));
    if (!g.enabled && !enabled)
        return rg_resp_fail(resp, req, RG_EINVAL, "Can't update disabled segment");
    json_t *c = json_object_get(seg, "content");
    bool new_content = c && !json_is_null(c);
    if (new_content) {
        rg_str content;
        RG_TRY(read_text(req, resp, c, "segment.content", &content));
        g.content = rg_arena_strz(req->arena, content);
        g.word_count = (int64_t)rg_utf8_len(content.p, content.n);
        rg_sha256_hex2(content, RG_STR("None"), g.index_node_hash);
    }
    json_t *ans = json_object_get(seg, "answer");
    if (json_is_string(ans))
        g.answer = json_string_value(ans);
    else if (ans && !json_is_null(ans))
        return rg_resp_fail(resp, req, RG_EINVAL, "segment.answer: expected a string");
    bool new_keywords = json_object_get(seg, "keywords") != NULL;
    if (new_keywords)
        RG_TRY(read_keywords(req, resp, json_object_get(seg, "keywords"), &g.keywords));
    if (new_content || new_keywords) {
        RG_TRY(index_text(req, resp, rg_str_c(g.content), g.keywords, &idx));
        g.tokens = idx.tokens;
        pidx = &idx;
    }
    if (enabled != g.enabled) {
        g.enabled = enabled;
        g.disabled_at = enabled ? -1 : rg_now_s();
        g.disabled_by = enabled ? NULL : rg_api_principal(req)->key.tenant.owner_id;
    }
    if (pidx)
        pidx->keywords = g.keywords;
    g.updated_at = rg_now_s();
    g.updated_by = rg_api_principal(req)->key.tenant.owner_id;
    bool regenerate = false;
    RG_TRY(rg_api_opt_bool(req, resp, seg, "regenerate_child_chunks", &regenerate));
    rg_rc rc = regenerate && is_hierarchical(&d)
                   ? update_with_children(req, resp, &d, &g, pidx)
                   : rg_store_segment_update(rg_api_ctx(req)->store, d.tenant_id, &g, pidx);
    if (rc == RG_ENOTFOUND)
        return rg_resp_fail(resp, req, rc, "Segment not found.");
    RG_TRY(rc);
    RG_TRY(load_segment(req, resp, &d, &g));
    reply_segment(req, resp, &g, &d);
    return RG_OK;
}

/* DELETE is idempotent: a chunk of this document that is already gone (deleted
 * before, or removed when the document was updated and re-split) answers 204,
 * so a client that retries, or cleans up after an update, sees success. */
rg_rc rg_api_segment_delete(rg_req *req, rg_resp *resp)
{
    rg_document d;
    RG_TRY(load_doc(req, resp, &d));
    rg_rc rc =
        rg_store_segment_delete(rg_api_ctx(req)->store, d.tenant_id, d.id, rg_req_param(req, 2));
    if (rc != RG_OK && rc != RG_ENOTFOUND)
        return rc;
    resp->status = 204;
    return RG_OK;
}

/* ---- child chunks ----------------------------------------------------------------- */

static void render_child(rg_jsonw *w, const rg_child_chunk *k)
{
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "id", k->id);
    rg_jsonw_kstr(w, "segment_id", k->segment_id);
    rg_jsonw_kstr(w, "content", k->content);
    rg_jsonw_kint(w, "position", k->position);
    rg_jsonw_kint(w, "word_count", k->word_count);
    rg_jsonw_kstr(w, "type", k->type);
    rg_jsonw_kint(w, "created_at", k->created_at);
    rg_jsonw_kint(w, "updated_at", k->updated_at);
    rg_jsonw_obj_end(w);
}

static rg_rc find_child(rg_req *req, rg_resp *resp, const rg_segment *g, rg_child_chunk *out)
{
    rg_child_chunk *kids;
    size_t n;
    RG_TRY(rg_store_child_chunk_list(rg_api_ctx(req)->store, req->arena, g->id, &kids, &n));
    const char *id = rg_req_param(req, 3);
    for (size_t i = 0; i < n; i++)
        if (strcmp(kids[i].id, id) == 0) {
            *out = kids[i];
            return RG_OK;
        }
    return rg_resp_fail(resp, req, RG_ENOTFOUND, "Child chunk not found.");
}

static void reply_child(rg_resp *resp, const rg_child_chunk *k)
{
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    render_child(&w, k);
    rg_jsonw_obj_end(&w);
}

rg_rc rg_api_child_chunks_list(rg_req *req, rg_resp *resp)
{
    rg_document d;
    rg_segment g;
    RG_TRY(load_doc(req, resp, &d));
    RG_TRY(load_segment(req, resp, &d, &g));
    int64_t page, limit;
    RG_TRY(rg_api_query_int(req, resp, "page", 1, 1, INT32_MAX, &page));
    RG_TRY(rg_api_query_int(req, resp, "limit", 20, 1, INT32_MAX, &limit));
    if (limit > 100)
        limit = 100; /* Dify caps and echoes the cap */
    const char *kw = rg_req_query(req, "keyword");
    rg_child_chunk *kids;
    size_t n;
    RG_TRY(rg_store_child_chunk_list(rg_api_ctx(req)->store, req->arena, g.id, &kids, &n));
    size_t total = 0;
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_key(&w, "data");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++) {
        if (kw && *kw && !strcasestr(kids[i].content, kw))
            continue;
        if (total >= (size_t)((page - 1) * limit) && total < (size_t)(page * limit))
            render_child(&w, &kids[i]);
        total++;
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_kint(&w, "total", (int64_t)total);
    rg_jsonw_kint(&w, "total_pages", ((int64_t)total + limit - 1) / limit);
    rg_jsonw_kint(&w, "page", page);
    rg_jsonw_kint(&w, "limit", limit);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

rg_rc rg_api_child_chunk_create(rg_req *req, rg_resp *resp)
{
    rg_document d;
    rg_segment g;
    RG_TRY(load_doc(req, resp, &d));
    RG_TRY(require_completed(req, resp, &d));
    RG_TRY(load_segment(req, resp, &d, &g));
    if (!d.doc_form || strcmp(d.doc_form, "hierarchical_model") != 0)
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "Child chunks belong to parent-child (hierarchical_model) documents.");
    rg_str content;
    RG_TRY(read_text(req, resp, json_object_get(req->json, "content"), "content", &content));
    rg_child_chunk k = {0};
    rg_uuid4(k.id);
    memcpy(k.segment_id, g.id, sizeof k.segment_id);
    k.content = rg_arena_strz(req->arena, content);
    k.word_count = (int64_t)rg_utf8_len(content.p, content.n);
    k.type = "customized";
    k.created_at = k.updated_at = rg_now_s();
    rg_segment_index idx;
    RG_TRY(index_text(req, resp, content, NULL, &idx));
    RG_TRY(rg_store_child_chunk_add(rg_api_ctx(req)->store, d.tenant_id, &k, &idx));
    reply_child(resp, &k);
    return RG_OK;
}

rg_rc rg_api_child_chunk_update(rg_req *req, rg_resp *resp)
{
    rg_document d;
    rg_segment g;
    rg_child_chunk k;
    RG_TRY(load_doc(req, resp, &d));
    RG_TRY(require_completed(req, resp, &d));
    RG_TRY(load_segment(req, resp, &d, &g));
    RG_TRY(find_child(req, resp, &g, &k));
    rg_str content;
    RG_TRY(read_text(req, resp, json_object_get(req->json, "content"), "content", &content));
    k.content = rg_arena_strz(req->arena, content);
    k.word_count = (int64_t)rg_utf8_len(content.p, content.n);
    k.type = "customized";
    k.updated_at = rg_now_s();
    rg_segment_index idx;
    RG_TRY(index_text(req, resp, content, NULL, &idx));
    RG_TRY(rg_store_child_chunk_update(rg_api_ctx(req)->store, d.tenant_id, &k, &idx));
    reply_child(resp, &k);
    return RG_OK;
}

rg_rc rg_api_child_chunk_delete(rg_req *req, rg_resp *resp)
{
    rg_document d;
    rg_segment g;
    rg_child_chunk k;
    RG_TRY(load_doc(req, resp, &d));
    RG_TRY(load_segment(req, resp, &d, &g));
    RG_TRY(find_child(req, resp, &g, &k));
    RG_TRY(rg_store_child_chunk_delete(rg_api_ctx(req)->store, d.tenant_id, g.id, k.id));
    resp->status = 204;
    return RG_OK;
}
