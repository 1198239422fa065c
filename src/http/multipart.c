/*
 * multipart.c - multipart/form-data uploads, streamed: file parts go to a
 * spool file as they arrive, text fields into bounded buffers.
 *
 * libmicrohttpd's post processor parses the parts (Debian's 0.9.75 carries
 * the fix for CVE-2023-27371).  The first file part is written to
 * <spool>/<uuid>.part (O_EXCL, 0600); later file parts are only counted, so
 * that the handler can answer Dify's too_many_files without storing them.  A
 * text field over RG_UPLOAD_MAX_FIELD fails the upload.  The spool file is
 * removed when the request ends, unless the handler moved it away.
 */
#include "http/multipart.h"

#include "core/alloc.h"
#include "core/ids.h"
#include "core/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

struct rg_multipart {
    struct MHD_PostProcessor *pp;
    rg_req *req;
    const char *spool_dir;
    int fd;
    bool in_first_file, failed;
    rg_rc rc;
    const char *why;
    rg_buf fields[RG_UPLOAD_MAX_FIELDS];
    char last_key[64], last_filename[256];
    uint64_t part_bytes; /* bytes of the current part so far */
};

static int field_index(rg_multipart *m, const char *key)
{
    rg_req *r = m->req;
    for (size_t i = 0; i < r->n_fields; i++)
        if (strcmp(r->field_names[i], key) == 0)
            return (int)i;
    if (r->n_fields == RG_UPLOAD_MAX_FIELDS)
        return -1;
    r->field_names[r->n_fields] = rg_arena_strdup(r->arena, key);
    rg_buf_init(&m->fields[r->n_fields], RG_UPLOAD_MAX_FIELD);
    return (int)r->n_fields++;
}

static enum MHD_Result fail(rg_multipart *m, rg_rc rc, const char *why)
{
    m->failed = true;
    m->rc = rc;
    m->why = why;
    return MHD_NO;
}

static bool new_part(rg_multipart *m, const char *key, const char *filename)
{
    bool fresh = strncmp(m->last_key, key, sizeof m->last_key - 1) != 0 ||
                 strncmp(m->last_filename, filename ? filename : "", sizeof m->last_filename - 1);
    snprintf(m->last_key, sizeof m->last_key, "%s", key);
    snprintf(m->last_filename, sizeof m->last_filename, "%s", filename ? filename : "");
    return fresh;
}

static enum MHD_Result open_spool(rg_multipart *m, const char *key, const char *filename,
                                  const char *ctype)
{
    rg_req *r = m->req;
    char id[RG_UUID_LEN + 1];
    rg_uuid4(id);
    const char *path = rg_arena_printf(r->arena, "%s/%s.part", m->spool_dir, id);
    m->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (m->fd < 0) {
        rg_error("upload: cannot create spool file %s: %s", path, strerror(errno));
        return fail(m, RG_EIO, "The server could not store the upload.");
    }
    r->file.field = rg_arena_strdup(r->arena, key);
    r->file.filename = rg_arena_strdup(r->arena, filename);
    r->file.content_type = rg_arena_strdup(r->arena, ctype);
    r->file.path = path;
    r->file.size = 0;
    m->in_first_file = true;
    return MHD_YES;
}

static enum MHD_Result write_spool(rg_multipart *m, const char *data, size_t size)
{
    while (size) {
        ssize_t w = write(m->fd, data, size);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rg_error("upload: write to spool failed: %s", strerror(errno));
            return fail(m, RG_EIO, "The server could not store the upload (disk full?).");
        }
        data += w;
        size -= (size_t)w;
        m->req->file.size += w;
    }
    return MHD_YES;
}

static enum MHD_Result on_part(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *filename, const char *content_type,
                               const char *transfer_encoding, const char *data, uint64_t off,
                               size_t size)
{
    RG_UNUSED(kind);
    RG_UNUSED(transfer_encoding);
    rg_multipart *m = cls;
    if (!key)
        return MHD_YES;
    /* A new part: another name, or the same names starting again at offset 0
     * after the current part delivered bytes (MHD may announce a part with an
     * empty first call, so offset 0 alone does not mean a new part). */
    bool fresh = new_part(m, key, filename) || (off == 0 && m->part_bytes > 0);
    if (fresh)
        m->part_bytes = 0;
    m->part_bytes += size;
    if (filename) { /* a file part */
        if (fresh) {
            m->req->n_files++;
            if (m->in_first_file) {
                m->in_first_file = false;
                if (m->fd >= 0) {
                    close(m->fd);
                    m->fd = -1;
                }
            }
            if (m->req->n_files == 1 && open_spool(m, key, filename, content_type) != MHD_YES)
                return MHD_NO;
        }
        if (m->in_first_file && size)
            return write_spool(m, data, size);
        return MHD_YES;
    }
    if (m->in_first_file) {
        m->in_first_file = false;
        close(m->fd);
        m->fd = -1;
    }
    int i = field_index(m, key);
    if (i < 0)
        return fail(m, RG_EINVAL, "Too many form fields in the upload.");
    if (rg_buf_append(&m->fields[i], data, size) != RG_OK)
        return fail(m, RG_ETOOBIG, "A form field of the upload is larger than 1 MiB.");
    return MHD_YES;
}

rg_multipart *rg_multipart_new(struct MHD_Connection *c, rg_req *req, const char *spool_dir)
{
    rg_multipart *m = rg_xcalloc(1, sizeof *m);
    m->req = req;
    m->spool_dir = spool_dir;
    m->fd = -1;
    m->pp = MHD_create_post_processor(c, 64 * 1024, on_part, m);
    if (!m->pp) {
        rg_free(m);
        return NULL;
    }
    req->multipart = true;
    return m;
}

rg_rc rg_multipart_feed(rg_multipart *m, const char *data, size_t size, const char **why)
{
    if (!m->failed && MHD_post_process(m->pp, data, size) != MHD_YES && !m->failed)
        fail(m, RG_EBADREQ, "The multipart body could not be parsed.");
    *why = m->why;
    return m->failed ? m->rc : RG_OK;
}

rg_rc rg_multipart_finish(rg_multipart *m, const char **why)
{
    if (m->fd >= 0) {
        if (!m->failed && fsync(m->fd) != 0)
            fail(m, RG_EIO, "The server could not store the upload.");
        close(m->fd);
        m->fd = -1;
    }
    for (size_t i = 0; i < m->req->n_fields; i++)
        m->req->field_values[i] = rg_buf_str(&m->fields[i]);
    *why = m->why;
    return m->failed ? m->rc : RG_OK;
}

void rg_multipart_free(rg_multipart *m)
{
    if (!m)
        return;
    if (m->pp)
        MHD_destroy_post_processor(m->pp);
    if (m->fd >= 0)
        close(m->fd);
    if (m->req->file.path)
        unlink(m->req->file.path); /* gone already when the handler kept it */
    for (size_t i = 0; i < m->req->n_fields; i++)
        rg_buf_free(&m->fields[i]);
    rg_free(m);
}
