/*
 * routes.c - the route table of the whole server, in one place.
 *
 * Order matters only where two patterns could match the same path: the first
 * row whose pattern and method match wins.  Typed segments ({uuid}) keep
 * Dify's static paths (/datasets/tags, /documents/metadata, ...) apart from
 * the id routes, as Werkzeug's converters do.
 */
#include "api/api.h"

#include "core/jsonw.h"

rg_rc rg_api_health(rg_req *req, rg_resp *resp)
{
    rg_api *api = rg_api_ctx(req);
    RG_TRY(rg_store_ping(api->store));
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_kstr(&w, "status", "ok");
    rg_jsonw_kstr(&w, "store", rg_store_engine(api->store));
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

const rg_route rg_api_routes[] = {
    {RG_GET, "/healthz", rg_api_health, RG_ROUTE_PUBLIC},
    {RG_POST, "/retrieval", rg_api_external_retrieval, RG_ROUTE_PUBLIC | RG_ROUTE_JSON_OPT},
    {RG_POST, "/v1/retrieval", rg_api_external_retrieval, RG_ROUTE_PUBLIC | RG_ROUTE_JSON_OPT},
    {RG_GET, "/v1/datasets", rg_api_datasets_list, 0},
    {RG_POST, "/v1/datasets", rg_api_datasets_create, RG_ROUTE_JSON},
    {RG_GET, "/v1/datasets/tags", rg_api_tags_list, 0},
    {RG_POST, "/v1/datasets/tags", rg_api_tag_create, RG_ROUTE_JSON},
    {RG_PATCH, "/v1/datasets/tags", rg_api_tag_rename, RG_ROUTE_JSON},
    {RG_DELETE, "/v1/datasets/tags", rg_api_tag_delete, RG_ROUTE_JSON},
    {RG_POST, "/v1/datasets/tags/binding", rg_api_tag_bind, RG_ROUTE_JSON},
    {RG_POST, "/v1/datasets/tags/unbinding", rg_api_tag_unbind, RG_ROUTE_JSON},
    {RG_POST, "/v1/datasets/pipeline/file-upload", rg_api_pipeline_file_upload, RG_ROUTE_UPLOAD},
    {RG_GET, "/v1/datasets/{uuid}", rg_api_dataset_get, 0},
    {RG_PATCH, "/v1/datasets/{uuid}", rg_api_dataset_patch, RG_ROUTE_JSON},
    {RG_DELETE, "/v1/datasets/{uuid}", rg_api_dataset_delete, 0},
    {RG_GET, "/v1/datasets/{uuid}/tags", rg_api_dataset_tags, 0},
    {RG_POST, "/v1/datasets/{uuid}/metadata", rg_api_metadata_create, RG_ROUTE_JSON},
    {RG_GET, "/v1/datasets/{uuid}/metadata", rg_api_metadata_list, 0},
    {RG_GET, "/v1/datasets/{uuid}/metadata/built-in", rg_api_metadata_builtin_list, 0},
    {RG_POST, "/v1/datasets/{uuid}/metadata/built-in/{str}", rg_api_metadata_builtin_switch,
     RG_ROUTE_JSON_OPT},
    {RG_PATCH, "/v1/datasets/{uuid}/metadata/{uuid}", rg_api_metadata_rename, RG_ROUTE_JSON},
    {RG_DELETE, "/v1/datasets/{uuid}/metadata/{uuid}", rg_api_metadata_delete, 0},
    {RG_POST, "/v1/datasets/{uuid}/documents/metadata", rg_api_documents_metadata, RG_ROUTE_JSON},
    {RG_POST, "/v1/datasets/{uuid}/document/create-by-text", rg_api_document_create_text,
     RG_ROUTE_JSON},
    {RG_POST, "/v1/datasets/{uuid}/document/create_by_text", rg_api_document_create_text,
     RG_ROUTE_JSON},
    {RG_POST, "/v1/datasets/{uuid}/document/create-by-file", rg_api_document_create_file,
     RG_ROUTE_UPLOAD},
    {RG_POST, "/v1/datasets/{uuid}/document/create_by_file", rg_api_document_create_file,
     RG_ROUTE_UPLOAD},
    {RG_GET, "/v1/datasets/{uuid}/documents", rg_api_documents_list, 0},
    {RG_POST, "/v1/datasets/{uuid}/documents/download-zip", rg_api_documents_download_zip,
     RG_ROUTE_JSON},
    {RG_PATCH, "/v1/datasets/{uuid}/documents/status/{str}", rg_api_documents_status,
     RG_ROUTE_JSON_OPT},
    {RG_POST, "/v1/datasets/{uuid}/retry", rg_api_documents_retry, RG_ROUTE_JSON},
    {RG_GET, "/v1/datasets/{uuid}/documents/{uuid}", rg_api_document_get, 0},
    {RG_PATCH, "/v1/datasets/{uuid}/documents/{uuid}", rg_api_document_update_file,
     RG_ROUTE_UPLOAD},
    {RG_DELETE, "/v1/datasets/{uuid}/documents/{uuid}", rg_api_document_delete, 0},
    {RG_POST, "/v1/datasets/{uuid}/documents/{uuid}/update-by-text", rg_api_document_update_text,
     RG_ROUTE_JSON},
    {RG_POST, "/v1/datasets/{uuid}/documents/{uuid}/update_by_text", rg_api_document_update_text,
     RG_ROUTE_JSON},
    {RG_POST, "/v1/datasets/{uuid}/documents/{uuid}/update-by-file", rg_api_document_update_file,
     RG_ROUTE_UPLOAD},
    {RG_POST, "/v1/datasets/{uuid}/documents/{uuid}/update_by_file", rg_api_document_update_file,
     RG_ROUTE_UPLOAD},
    {RG_PATCH, "/v1/datasets/{uuid}/documents/{uuid}/processing/{str}", rg_api_document_processing,
     RG_ROUTE_JSON_OPT},
    {RG_GET, "/v1/datasets/{uuid}/documents/{uuid}/download", rg_api_document_download, 0},
    {RG_GET, "/v1/datasets/{uuid}/documents/{uuid}/file", rg_api_document_file, 0},
    {RG_GET, "/v1/datasets/{uuid}/documents/{uuid}/segments", rg_api_segments_list, 0},
    {RG_POST, "/v1/datasets/{uuid}/documents/{uuid}/segments", rg_api_segments_add, RG_ROUTE_JSON},
    {RG_GET, "/v1/datasets/{uuid}/documents/{uuid}/segments/{uuid}", rg_api_segment_get, 0},
    {RG_POST, "/v1/datasets/{uuid}/documents/{uuid}/segments/{uuid}", rg_api_segment_update,
     RG_ROUTE_JSON},
    {RG_DELETE, "/v1/datasets/{uuid}/documents/{uuid}/segments/{uuid}", rg_api_segment_delete, 0},
    {RG_GET, "/v1/datasets/{uuid}/documents/{uuid}/segments/{uuid}/child_chunks",
     rg_api_child_chunks_list, 0},
    {RG_POST, "/v1/datasets/{uuid}/documents/{uuid}/segments/{uuid}/child_chunks",
     rg_api_child_chunk_create, RG_ROUTE_JSON},
    {RG_PATCH, "/v1/datasets/{uuid}/documents/{uuid}/segments/{uuid}/child_chunks/{uuid}",
     rg_api_child_chunk_update, RG_ROUTE_JSON},
    {RG_DELETE, "/v1/datasets/{uuid}/documents/{uuid}/segments/{uuid}/child_chunks/{uuid}",
     rg_api_child_chunk_delete, 0},
    {RG_GET, "/v1/datasets/{uuid}/documents/{str}/indexing-status", rg_api_indexing_status, 0},
    {RG_POST, "/v1/datasets/{uuid}/retrieve", rg_api_retrieve, RG_ROUTE_JSON},
    {RG_POST, "/v1/datasets/{uuid}/hit-testing", rg_api_retrieve, RG_ROUTE_JSON},
    {RG_GET, "/v1/datasets/{uuid}/pipeline/datasource-plugins", rg_api_pipeline_unsupported, 0},
    {RG_POST, "/v1/datasets/{uuid}/pipeline/datasource/nodes/{str}/run",
     rg_api_pipeline_unsupported, RG_ROUTE_JSON_OPT},
    {RG_POST, "/v1/datasets/{uuid}/pipeline/run", rg_api_pipeline_unsupported, RG_ROUTE_JSON_OPT},
    {RG_GET, "/v1/workspaces/current/models/model-types/{str}", rg_api_models_list, 0},
};

const size_t rg_api_n_routes = RG_ARRAY_LEN(rg_api_routes);
