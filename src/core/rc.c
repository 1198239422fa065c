/*
 * rc.c - the one table from rg_rc to the wire.
 *
 * Every error ragd returns over HTTP is built from this table: the status,
 * the Dify error code and the default message (handlers may replace the
 * message with one that names the offending field).  Codes and messages are
 * Dify's where Dify has one (see shared/reference/dify-knowledge-api.md
 * section 1.3); the test tests/unit/core/test_rc.c checks the table is total.
 */
#include "core/common.h"

#include <stdio.h>
#include <stdlib.h>

static const struct {
    const char *name;
    rg_rc_info wire;
} rc_table[RG_RC_COUNT] = {
    [RG_OK] = {"RG_OK", {200, "success", "success"}},
    [RG_ENOMEM] = {"RG_ENOMEM",
                   {503, "service_unavailable",
                    "The server is out of memory for this request. Please retry later."}},
    [RG_EIO] = {"RG_EIO", {500, "internal_server_error", "Internal Server Error"}},
    [RG_EINVAL] = {"RG_EINVAL", {400, "invalid_param", "Invalid parameter."}},
    [RG_EBADREQ] = {"RG_EBADREQ",
                    {400, "bad_request",
                     "Invalid JSON payload received or JSON payload is empty."}},
    [RG_EUNAUTH] = {"RG_EUNAUTH", {401, "unauthorized", "Access token is invalid"}},
    [RG_EFORBIDDEN] = {"RG_EFORBIDDEN", {403, "forbidden", "Forbidden."}},
    [RG_ENOTFOUND] = {"RG_ENOTFOUND",
                      {404, "not_found", "The requested URL was not found on the server."}},
    [RG_EMETHOD] = {"RG_EMETHOD",
                    {405, "method_not_allowed",
                     "The method is not allowed for the requested URL."}},
    [RG_ENAMEDUP] = {"RG_ENAMEDUP",
                     {409, "dataset_name_duplicate",
                      "The dataset name already exists. Please modify your dataset name."}},
    [RG_ECONFLICT] = {"RG_ECONFLICT",
                      {409, "conflict",
                       "The request conflicts with the current state of the resource."}},
    [RG_ETOOBIG] = {"RG_ETOOBIG",
                    {413, "request_entity_too_large",
                     "The request body exceeds the configured limit."}},
    [RG_EMEDIA] = {"RG_EMEDIA",
                   {415, "unsupported_media_type",
                    "Did not attempt to load JSON data because the request Content-Type was not "
                    "'application/json'."}},
    [RG_EFILETOOBIG] = {"RG_EFILETOOBIG", {413, "file_too_large", "File size exceeded."}},
    [RG_EFILETYPE] = {"RG_EFILETYPE", {415, "unsupported_file_type", "File type not allowed."}},
    [RG_ENOFILE] = {"RG_ENOFILE", {400, "no_file_uploaded", "Please upload your file."}},
    [RG_ETOOMANYFILES] = {"RG_ETOOMANYFILES", {400, "too_many_files", "Only one file is allowed."}},
    [RG_ENOFILENAME] = {"RG_ENOFILENAME",
                        {400, "filename_not_exists_error",
                         "The specified filename does not exist."}},
    [RG_EARCHIVED] = {"RG_EARCHIVED",
                      {403, "archived_document_immutable",
                       "The archived document is not editable."}},
    [RG_EACTION] = {"RG_EACTION", {400, "invalid_action", "Invalid action."}},
    [RG_EMETADATA] = {"RG_EMETADATA",
                      {400, "invalid_metadata",
                       "The metadata content is incorrect. Please check and verify."}},
    [RG_EINDEXING] = {"RG_EINDEXING",
                      {400, "document_indexing",
                       "The document is being processed and cannot be edited."}},
    [RG_EPROVIDER] = {"RG_EPROVIDER",
                      {400, "provider_not_initialize",
                       "No valid model provider credentials found. Please go to Settings -> Model "
                       "Provider to complete your provider credentials."}},
    [RG_EBUSY] = {"RG_EBUSY",
                  {503, "service_unavailable", "The server is busy. Please retry later."}},
    [RG_ECANCELED] = {"RG_ECANCELED", {409, "conflict", "The operation was canceled."}},
    [RG_ETIMEOUT] = {"RG_ETIMEOUT", {504, "timeout", "The operation timed out."}},
    [RG_EUPSTREAM] = {"RG_EUPSTREAM",
                      {400, "completion_request_error", "Completion request failed."}},
};

const rg_rc_info *rg_rc_wire(rg_rc rc)
{
    if ((unsigned)rc >= RG_RC_COUNT || rc_table[rc].name == NULL)
        return &rc_table[RG_EIO].wire;
    return &rc_table[rc].wire;
}

const char *rg_rc_name(rg_rc rc)
{
    if ((unsigned)rc >= RG_RC_COUNT || rc_table[rc].name == NULL)
        return "RG_E?";
    return rc_table[rc].name;
}

void rg_panic(const char *file, int line, const char *what)
{
    fprintf(stderr, "ragd: PANIC at %s:%d: %s\n", file, line, what);
    fflush(stderr);
    abort();
}
