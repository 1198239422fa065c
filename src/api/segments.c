/*
 * segments.c - the chunks of a document: GET .../documents/{document_id}/segments.
 *
 * Segments are rendered with every field of the contract's Segment object;
 * for parent-child documents each parent carries its child chunks.  (Adding,
 * editing and deleting chunks, and child-chunk routes, come with retrieval.)
 */
#include "api/api.h"

#include <string.h>

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

static void render_segment(rg_jsonw *w, rg_req *req, const rg_segment *g, bool hierarchical)
{
    rg_jsonw_obj(w);
    rg_jsonw_kstr(w, "id", g->id);
    rg_jsonw_kint(w, "position", g->position);
    rg_jsonw_kstr(w, "document_id", g->document_id);
    rg_jsonw_kstr(w, "content", g->content);
    rg_jsonw_kstr(w, "sign_content", g->content);
    rg_jsonw_kstr(w, "answer", g->answer);
    rg_jsonw_kint(w, "word_count", g->word_count);
    rg_jsonw_kint(w, "tokens", g->tokens);
    rg_jsonw_key(w, "keywords");
    if (g->keywords)
        rg_jsonw_raw(w, rg_str_c(g->keywords));
    else {
        rg_jsonw_arr(w);
        rg_jsonw_arr_end(w);
    }
    rg_jsonw_kstr(w, "index_node_id", g->index_node_id);
    rg_jsonw_kstr(w, "index_node_hash", g->index_node_hash);
    rg_jsonw_kint(w, "hit_count", g->hit_count);
    rg_jsonw_kbool(w, "enabled", g->enabled);
    rg_jsonw_kint_or_null(w, "disabled_at", g->disabled_at);
    rg_jsonw_kstr(w, "disabled_by", g->disabled_by);
    rg_jsonw_kstr(w, "status", g->status);
    rg_jsonw_kstr(w, "created_by", g->created_by);
    rg_jsonw_kint(w, "created_at", g->created_at);
    rg_jsonw_kint(w, "updated_at", g->updated_at);
    rg_jsonw_kstr(w, "updated_by", g->updated_by);
    rg_jsonw_kint_or_null(w, "indexing_at", g->indexing_at);
    rg_jsonw_kint_or_null(w, "completed_at", g->completed_at);
    rg_jsonw_kstr(w, "error", g->error);
    rg_jsonw_kint_or_null(w, "stopped_at", g->stopped_at);
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
    const char *keyword = rg_req_query(req, "keyword"), *status = rg_req_query(req, "status");
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
