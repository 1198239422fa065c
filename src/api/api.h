/*
 * api.h - the Knowledge API: Dify's resources translated to and from HTTP.
 *
 * Handlers live one file per resource (datasets.c, models.c, ...); this
 * header gives them the application context, the authenticated principal and
 * the shared helpers for reading JSON fields and query parameters with Dify's
 * validation errors.  Nothing here writes SQL: handlers call the store.
 */
#ifndef RG_API_API_H
#define RG_API_API_H

#include "core/common.h"
#include "core/jsonw.h"
#include "domain/dataset.h"
#include "domain/tenant.h"
#include "embed/embed.h"
#include "http/http.h"
#include "ingest/extract.h"
#include "store/store.h"

typedef struct rg_api {
    rg_store *store;
    int64_t page_limit_max;
    struct rg_index_registry *index; /* in-memory search snapshots */
    void (*wake)(void *arg);         /* called after a job is queued (wakes the workers) */
    void *wake_arg;
} rg_api;

/* What the authenticate hook leaves in req->auth (arena-owned). */
typedef struct rg_principal {
    rg_key key;
    rg_dataset *dataset; /* for routes under /v1/datasets/{dataset_id}: loaded, in the tenant */
} rg_principal;

/* The route table of the whole API (static storage). */
extern const rg_route rg_api_routes[];
extern const size_t rg_api_n_routes;

/* Dify's key checks (api/auth.c): 401 with Dify's messages, then for routes
 * under a dataset: 404 if it is not in the key's tenant, 403 if the key is
 * bound to another dataset. */
rg_rc rg_api_authenticate(rg_req *req, rg_resp *resp);
/* Hashes a presented key into out (BLAKE2b-256). */
void rg_api_key_hash(rg_str key, unsigned char out[RG_KEY_HASH_LEN]);

/* Handlers. */
rg_rc rg_api_health(rg_req *req, rg_resp *resp);
rg_rc rg_api_datasets_list(rg_req *req, rg_resp *resp);
rg_rc rg_api_datasets_create(rg_req *req, rg_resp *resp);
rg_rc rg_api_dataset_get(rg_req *req, rg_resp *resp);
rg_rc rg_api_dataset_patch(rg_req *req, rg_resp *resp);
rg_rc rg_api_dataset_delete(rg_req *req, rg_resp *resp);
rg_rc rg_api_models_list(rg_req *req, rg_resp *resp);
rg_rc rg_api_document_create_text(rg_req *req, rg_resp *resp);
rg_rc rg_api_document_create_file(rg_req *req, rg_resp *resp);
rg_rc rg_api_document_update_text(rg_req *req, rg_resp *resp);
rg_rc rg_api_document_update_file(rg_req *req, rg_resp *resp);
rg_rc rg_api_documents_list(rg_req *req, rg_resp *resp);
rg_rc rg_api_document_get(rg_req *req, rg_resp *resp);
rg_rc rg_api_document_delete(rg_req *req, rg_resp *resp);
rg_rc rg_api_indexing_status(rg_req *req, rg_resp *resp);
rg_rc rg_api_documents_status(rg_req *req, rg_resp *resp);
rg_rc rg_api_document_processing(rg_req *req, rg_resp *resp);
rg_rc rg_api_documents_retry(rg_req *req, rg_resp *resp);
rg_rc rg_api_document_download(rg_req *req, rg_resp *resp);
rg_rc rg_api_document_file(rg_req *req, rg_resp *resp);
rg_rc rg_api_documents_download_zip(rg_req *req, rg_resp *resp); /* api/files.c */
rg_rc rg_api_pipeline_file_upload(rg_req *req, rg_resp *resp);
rg_rc rg_api_pipeline_unsupported(rg_req *req, rg_resp *resp);
rg_rc rg_api_segments_list(rg_req *req, rg_resp *resp);
rg_rc rg_api_retrieve(rg_req *req, rg_resp *resp);
rg_rc rg_api_external_retrieval(rg_req *req, rg_resp *resp);
rg_rc rg_api_segments_add(rg_req *req, rg_resp *resp);
rg_rc rg_api_segment_get(rg_req *req, rg_resp *resp);
rg_rc rg_api_segment_update(rg_req *req, rg_resp *resp);
rg_rc rg_api_segment_delete(rg_req *req, rg_resp *resp);
rg_rc rg_api_child_chunks_list(rg_req *req, rg_resp *resp);
rg_rc rg_api_child_chunk_create(rg_req *req, rg_resp *resp);
rg_rc rg_api_child_chunk_update(rg_req *req, rg_resp *resp);
rg_rc rg_api_child_chunk_delete(rg_req *req, rg_resp *resp);
rg_rc rg_api_tags_list(rg_req *req, rg_resp *resp);
rg_rc rg_api_tag_create(rg_req *req, rg_resp *resp);
rg_rc rg_api_tag_rename(rg_req *req, rg_resp *resp);
rg_rc rg_api_tag_delete(rg_req *req, rg_resp *resp);
rg_rc rg_api_tag_bind(rg_req *req, rg_resp *resp);
rg_rc rg_api_tag_unbind(rg_req *req, rg_resp *resp);
rg_rc rg_api_dataset_tags(rg_req *req, rg_resp *resp);

rg_rc rg_api_metadata_create(rg_req *req, rg_resp *resp);
rg_rc rg_api_metadata_list(rg_req *req, rg_resp *resp);
rg_rc rg_api_metadata_rename(rg_req *req, rg_resp *resp);
rg_rc rg_api_metadata_delete(rg_req *req, rg_resp *resp);
rg_rc rg_api_metadata_builtin_list(rg_req *req, rg_resp *resp);
rg_rc rg_api_metadata_builtin_switch(rg_req *req, rg_resp *resp);
rg_rc rg_api_documents_metadata(rg_req *req, rg_resp *resp);

/* Writes a document's doc_metadata as Dify's [{id, name, type, value}]: the
 * dataset's custom fields the document has a value for, then the built-in
 * fields when the dataset enables them; null (or [] unless null_when_empty)
 * when there is none (api/metadata.c). */
void rg_api_render_doc_metadata(rg_jsonw *w, const rg_dataset *ds, const rg_document *d,
                                bool null_when_empty);

/* Writes the Segment fields of the contract (id ... stopped_at) into the open
 * object of w; with_updates adds updated_at/updated_by (not in retrieval
 * records).  api/segments.c; shared by the chunk API and /retrieve. */
void rg_api_segment_fields(rg_jsonw *w, const rg_segment *g, bool with_updates);

/* Checks a multipart upload's file part as Dify does (one file, a name, no
 * path characters, a supported extension); writes the lower-case extension
 * into ext and its type into *t.  The error codes of create-by-file.
 * api/documents.c; shared with the pipeline upload. */
rg_rc rg_api_check_file_part(rg_req *req, rg_resp *resp, char ext[16], rg_doctype *t);

/* The embedding model of a high_quality dataset (the server default when it
 * names none) into *out, or Dify's provider_not_initialize when that model is
 * not available here (api/embedding.c). */
RG_WUR rg_rc rg_api_embed_model(rg_req *req, rg_resp *resp, const rg_dataset *ds,
                                const rg_embed_model **out);
/* Embeds one text with m into out (m->dims floats); a failing model answers
 * completion_request_error with the model's message. */
RG_WUR rg_rc rg_api_embed(rg_req *req, rg_resp *resp, const rg_embed_model *m, rg_str text,
                          float *out);

/* --- helpers (api/input.c) ------------------------------------------------ */

/* Reads optional string field key of obj.  Absent: *present=false.  JSON null:
 * *out=NULL, *present=true.  Wrong type or invalid: RG_EINVAL with a message. */
RG_WUR rg_rc rg_api_opt_string(rg_req *req, rg_resp *resp, json_t *obj, const char *key,
                               const char **out, bool *present);
/* Reads an optional boolean field; absent or null leaves *out unchanged. */
RG_WUR rg_rc rg_api_opt_bool(rg_req *req, rg_resp *resp, json_t *obj, const char *key, bool *out);
/* Reads an integer query parameter in [min, max], default def when absent. */
RG_WUR rg_rc rg_api_query_int(rg_req *req, rg_resp *resp, const char *name, int64_t def,
                              int64_t min, int64_t max, int64_t *out);
/* Reads a boolean query parameter ("true"/"false"/"1"/"0"), default def. */
RG_WUR rg_rc rg_api_query_bool(rg_req *req, rg_resp *resp, const char *name, bool def, bool *out);
/* The authenticated principal (never NULL inside an authenticated handler). */
rg_principal *rg_api_principal(rg_req *req);
/* The application context. */
rg_api *rg_api_ctx(rg_req *req);

#endif
