/*
 * files.c - file operations outside one document: the ZIP download of several
 * documents' originals, the RAG-pipeline file upload, and the RAG-pipeline
 * operations ragd answers with a documented error (it runs no Dify plugins).
 *
 * The ZIP is built with libzip into a spool file of the store (same file
 * system as the uploads), opened, unlinked, and streamed through resp->fd: the
 * server closes the descriptor and the bytes vanish with it.
 */
#include "api/api.h"

#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "ingest/extract.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#define ZIP_MAX_IDS 100 /* Dify's limit on document_ids */

/* ---- download-zip ------------------------------------------------------------ */

/* Reads {"document_ids": [1..100 uuids]} into an arena array (lower case). */
static rg_rc read_zip_ids(rg_req *req, rg_resp *resp, const char ***ids, size_t *n)
{
    json_t *a = json_object_get(req->json, "document_ids"), *v;
    size_t i;
    *n = 0;
    *ids = NULL;
    if (!a || !json_is_array(a) || json_array_size(a) == 0 || json_array_size(a) > ZIP_MAX_IDS)
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "document_ids: required, a list of 1 to %d document ids", ZIP_MAX_IDS);
    *ids = rg_arena_calloc(req->arena, json_array_size(a), sizeof **ids);
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

/* The entry name of an upload: its name without '/' or '\\' (never a
 * directory), the document id when nothing usable is left (arena-owned). */
static const char *entry_base(rg_req *req, const rg_document *d)
{
    const char *name = d->upload.name ? d->upload.name : d->name;
    size_t n = name ? strlen(name) : 0, k = 0;
    char *out = rg_arena_alloc(req->arena, n + 1);
    for (size_t i = 0; i < n; i++)
        if (name[i] != '/' && name[i] != '\\')
            out[k++] = name[i];
    out[k] = '\0';
    if (k == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        return rg_arena_strdup(req->arena, d->id);
    return out;
}

/* base, or "stem (2).ext", "stem (3).ext", ... when za holds that name already. */
static const char *entry_unique(rg_req *req, zip_t *za, const char *base)
{
    if (zip_name_locate(za, base, 0) < 0)
        return base;
    const char *dot = strrchr(base, '.');
    if (dot == base)
        dot = NULL;
    int stem = dot ? (int)(dot - base) : (int)strlen(base);
    for (int i = 2;; i++) {
        const char *z = rg_arena_printf(req->arena, "%.*s (%d)%s", stem, base, i, dot ? dot : "");
        if (zip_name_locate(za, z, 0) < 0)
            return z;
    }
}

/* Writes the archive of docs[0..n) to path; RG_EIO on any failure (the
 * partial file is removed). */
static rg_rc build_zip(rg_req *req, const char *path, const rg_document *docs, size_t n)
{
    rg_api *api = rg_api_ctx(req);
    int err = 0;
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_EXCL, &err); /* owned until close/discard */
    if (!za) {
        rg_error("files: zip_open %s failed (libzip error %d)", path, err);
        return RG_EIO;
    }
    for (size_t i = 0; i < n; i++) {
        char src_path[1024];
        if (rg_store_upload_path(api->store, docs[i].upload.id, src_path, sizeof src_path) != RG_OK)
            goto fail;
        zip_source_t *src = zip_source_file(za, src_path, 0, -1); /* za owns it once added */
        if (!src)
            goto fail;
        const char *name = entry_unique(req, za, entry_base(req, &docs[i]));
        if (zip_file_add(za, name, src, ZIP_FL_ENC_UTF_8) < 0) {
            zip_source_free(src);
            goto fail;
        }
    }
    if (zip_close(za) != 0) {
        rg_error("files: zip_close %s: %s", path, zip_strerror(za));
        zip_discard(za);
        unlink(path);
        return RG_EIO;
    }
    return RG_OK;
fail:
    rg_error("files: building %s: %s", path, zip_strerror(za));
    zip_discard(za);
    unlink(path);
    return RG_EIO;
}

rg_rc rg_api_documents_download_zip(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_api *api = rg_api_ctx(req);
    const char **ids;
    size_t n;
    RG_TRY(read_zip_ids(req, resp, &ids, &n));
    rg_document *docs = rg_arena_calloc(req->arena, n, sizeof *docs);
    for (size_t i = 0; i < n; i++) {
        rg_rc rc = rg_store_document_get(api->store, req->arena, p->key.tenant.id, p->dataset->id,
                                         ids[i], &docs[i]);
        if (rc == RG_ENOTFOUND)
            return rg_resp_fail(resp, req, rc, "Document not found.");
        RG_TRY(rc);
    }
    char id[RG_UUID_LEN + 1], hex[RG_UUID_LEN + 1];
    rg_uuid4(id);
    size_t k = 0;
    for (const char *c = id; *c; c++)
        if (*c != '-')
            hex[k++] = *c;
    hex[k] = '\0';
    const char *path =
        rg_arena_printf(req->arena, "%s/zip-%s.zip", rg_store_spool_dir(api->store), hex);
    if (build_zip(req, path, docs, n) != RG_OK)
        return rg_resp_fail(resp, req, RG_EIO, "The server could not build the archive.");
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    unlink(path); /* the open descriptor keeps the bytes until the server closes it */
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return rg_resp_fail(resp, req, RG_EIO, "The server could not build the archive.");
    }
    resp->fd = fd;
    resp->fd_size = (uint64_t)st.st_size;
    resp->content_type = "application/zip";
    resp->extra_header = "Content-Disposition";
    resp->extra_value = rg_arena_printf(req->arena, "attachment; filename=\"%s.zip\"", hex);
    return RG_OK;
}

/* ---- pipeline file upload ------------------------------------------------------ */

rg_rc rg_api_pipeline_file_upload(rg_req *req, rg_resp *resp)
{
    rg_principal *p = rg_api_principal(req);
    rg_api *api = rg_api_ctx(req);
    char ext[16];
    rg_doctype t;
    RG_TRY(rg_api_check_file_part(req, resp, ext, &t));
    const char *fn = req->file.filename;
    char id[RG_UUID_LEN + 1];
    rg_uuid4(id);
    if (rg_store_upload_adopt(api->store, id, req->file.path) != RG_OK)
        return rg_resp_fail(resp, req, RG_EIO, "The server could not store the upload.");
    time_t now = (time_t)rg_now_s();
    struct tm tm;
    char when[32];
    gmtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
    resp->status = 201;
    rg_jsonw w;
    rg_resp_json(resp, &w);
    rg_jsonw_obj(&w);
    rg_jsonw_kstr(&w, "id", id);
    rg_jsonw_kstr(&w, "name", fn);
    rg_jsonw_kint(&w, "size", req->file.size);
    rg_jsonw_kstr(&w, "extension", ext);
    rg_jsonw_kstr(&w, "mime_type", rg_doctype_mime(t));
    rg_jsonw_kstr(&w, "created_by", p->key.tenant.owner_id);
    rg_jsonw_kstr(&w, "created_at", when);
    rg_jsonw_obj_end(&w);
    return RG_OK;
}

/* ---- pipeline operations ragd does not run ------------------------------------------ */

rg_rc rg_api_pipeline_unsupported(rg_req *req, rg_resp *resp)
{
    return rg_resp_fail(resp, req, RG_EINVAL,
                        "RAG pipelines run Dify plugins; ragd does not run them. Use "
                        "create-by-text/create-by-file.");
}
