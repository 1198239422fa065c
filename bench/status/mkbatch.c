/*
 * mkbatch.c - puts N documents that share ONE batch into a ragd data directory,
 * through the store API, before the server starts (the server then indexes
 * them).  The HTTP API cannot do this: create-by-text and create-by-file give
 * every document its own batch, and Dify's multi-document batch comes from its
 * console, not from the Knowledge API.
 *
 *   mkbatch --data DIR --text FILE [--docs 100] [--kb 200] [--technique economy]
 *
 * DIR must hold a key made by `ragd key create --data DIR` (tenant "default").
 * Creates a dataset, then --docs documents of about --kb KB each, cut at line
 * ends from consecutive parts of FILE (UTF-8 text; wraps around when it runs
 * out), each exactly as create-by-text stores it: the text adopted as a .txt
 * upload, Dify's automatic process rule, one queued job.  Prints
 * "DATASET_ID BATCH" on stdout.
 */
#include "core/alloc.h"
#include "core/arena.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/ids.h"
#include "core/log.h"
#include "core/str.h"
#include "ingest/process_rule.h"
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void check(const char *what, rg_rc rc)
{
    if (rc != RG_OK) {
        fprintf(stderr, "mkbatch: %s: %s\n", what, rg_rc_name(rc));
        exit(1);
    }
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "mkbatch: cannot open %s: %s\n", path, strerror(errno));
        exit(1);
    }
    rg_buf b;
    rg_buf_init(&b, (size_t)1 << 32);
    char chunk[1 << 16];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if (rg_buf_append(&b, chunk, n) != RG_OK)
            break;
    bool bad = ferror(f) || rg_buf_failed(&b);
    fclose(f);
    if (bad) {
        fprintf(stderr, "mkbatch: cannot read %s\n", path);
        exit(1);
    }
    return rg_buf_take(&b, len);
}

static void usage(void)
{
    fprintf(stderr, "usage: mkbatch --data DIR --text FILE [--docs N] [--kb N] "
                    "[--technique economy|high_quality]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    const char *data = NULL, *text_path = NULL, *technique = "economy";
    long ndocs = 100, kb = 200;
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc)
            usage();
        if (strcmp(argv[i], "--data") == 0)
            data = argv[++i];
        else if (strcmp(argv[i], "--text") == 0)
            text_path = argv[++i];
        else if (strcmp(argv[i], "--docs") == 0)
            ndocs = atol(argv[++i]);
        else if (strcmp(argv[i], "--kb") == 0)
            kb = atol(argv[++i]);
        else if (strcmp(argv[i], "--technique") == 0)
            technique = argv[++i];
        else
            usage();
    }
    if (!data || !text_path || ndocs < 1 || ndocs > 100000 || kb < 1 ||
        (strcmp(technique, "economy") != 0 && strcmp(technique, "high_quality") != 0))
        usage();
    rg_log_set_level(RG_LOG_WARN);
    check("ids_init", rg_ids_init());
    size_t len;
    char *text = slurp(text_path, &len);
    if (len < 1024 || !rg_utf8_valid(text, len)) {
        fprintf(stderr, "mkbatch: %s is too short or not UTF-8\n", text_path);
        return 1;
    }

    rg_store *s;
    check("store_open", rg_store_open(data, &s));
    rg_tenant t;
    check("tenant_ensure", rg_store_tenant_ensure(s, "default", &t));
    rg_arena *a = rg_arena_new((size_t)1 << 30);
    json_t *jr = json_pack("{s:s}", "mode", "automatic");
    const char *rule;
    char why[256];
    if (rg_process_rule_check(a, jr, &rule, why, sizeof why) != RG_OK) {
        fprintf(stderr, "mkbatch: process rule: %s\n", why);
        return 1;
    }
    json_decref(jr);

    rg_dataset ds = {0};
    rg_uuid4(ds.id);
    memcpy(ds.tenant_id, t.id, sizeof ds.tenant_id);
    ds.name = rg_arena_printf(a, "status-%s", ds.id + 28);
    ds.description = "";
    ds.provider = "vendor";
    ds.permission = "only_me";
    ds.indexing_technique = technique;
    ds.created_by = ds.updated_by = t.owner_id;
    ds.created_at = ds.updated_at = rg_now_s();
    ds.enable_api = true;
    check("dataset_insert", rg_store_dataset_insert(s, &ds));

    char batch[RG_BATCH_LEN + 1];
    rg_batch_id(batch);
    size_t off = 0, want = (size_t)kb * 1000;
    for (long i = 0; i < ndocs; i++) {
        if (off + want > len)
            off = 0;
        size_t end = off + want < len ? off + want : len;
        while (end > off + 1 && text[end - 1] != '\n') /* whole lines: valid UTF-8 */
            end--;
        if (end <= off + 1)
            end = off + want < len ? off + want : len;
        rg_document d;
        memset(&d, 0, sizeof d);
        rg_uuid4(d.id);
        memcpy(d.tenant_id, t.id, sizeof d.tenant_id);
        memcpy(d.dataset_id, ds.id, sizeof d.dataset_id);
        memcpy(d.batch, batch, sizeof d.batch);
        d.name = rg_arena_printf(a, "doc-%03ld.txt", i);
        d.data_source_type = "upload_file";
        d.created_from = "api";
        d.created_by = t.owner_id;
        d.created_at = d.updated_at = rg_now_s();
        d.doc_form = "text_model";
        d.doc_language = "English";
        d.indexing_technique = technique;
        d.process_rule = rule;
        d.status = RG_DOC_WAITING;
        d.enabled = true;
        rg_uuid4(d.upload.id);
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.text", rg_store_spool_dir(s), d.upload.id);
        int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        size_t n = end - off;
        if (fd < 0 || write(fd, text + off, n) != (ssize_t)n || fsync(fd) != 0 || close(fd) != 0) {
            fprintf(stderr, "mkbatch: spool %s: %s\n", path, strerror(errno));
            return 1;
        }
        check("upload_adopt", rg_store_upload_adopt(s, d.upload.id, path));
        d.upload.name = d.name;
        d.upload.size = (int64_t)n;
        d.upload.extension = "txt";
        d.upload.mime_type = "text/plain";
        d.upload.created_by = t.owner_id;
        d.upload.created_at_us = rg_now_us();
        check("document_insert", rg_store_document_insert(s, &d));
        off = end;
    }
    printf("%s %s\n", ds.id, batch);
    rg_arena_free(a);
    rg_store_close(s);
    rg_free(text);
    return 0;
}
