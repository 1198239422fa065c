/*
 * store_fixture.c - the shared set-up of the document and job tests (see
 * store_fixture.h).
 */
#include "store_fixture.h"

#include "harness.h"

#include "core/clock.h"
#include "core/ids.h"

#include <fcntl.h>
#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static bool open_store(store_fx *f)
{
    rg_rc rc = rg_store_open(f->data, &f->s);
    CHECK_EQ_INT(rc, RG_OK);
    return rc == RG_OK;
}

void fx_dataset(store_fx *f, const char *tenant_id, const char *name, rg_dataset *out)
{
    memset(out, 0, sizeof *out);
    rg_uuid4(out->id);
    snprintf(out->tenant_id, sizeof out->tenant_id, "%s", tenant_id);
    out->name = name;
    out->provider = "vendor";
    out->permission = "only_me";
    out->created_by = "owner-1";
    out->created_at = out->updated_at = rg_now_s();
    out->enable_api = true;
    CHECK_EQ_INT(rg_store_dataset_insert(f->s, out), RG_OK);
}

bool fx_open(store_fx *f)
{
    memset(f, 0, sizeof *f);
    CHECK(rg_ids_init() == RG_OK);
    snprintf(f->root, sizeof f->root, "/tmp/ragd-docs-XXXXXX");
    if (!mkdtemp(f->root)) {
        perror("mkdtemp");
        abort();
    }
    snprintf(f->data, sizeof f->data, "%s/data", f->root);
    snprintf(f->db, sizeof f->db, "%s/ragd.db", f->data);
    f->a = rg_arena_new(FX_ARENA_MAX);
    if (!open_store(f)) {
        fx_close(f);
        return false;
    }
    CHECK_EQ_INT(rg_store_tenant_ensure(f->s, "acme", &f->ten), RG_OK);
    fx_dataset(f, f->ten.id, "kb", &f->ds);
    return true;
}

void fx_close(store_fx *f)
{
    rg_store_close(f->s);
    f->s = NULL;
    rg_arena_free(f->a);
    f->a = NULL;
    CHECK(nftw(f->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

bool fx_reopen(store_fx *f)
{
    rg_store_close(f->s);
    f->s = NULL;
    return open_store(f);
}

void fx_upload(store_fx *f, rg_upload *u, const char *name, const char *text)
{
    memset(u, 0, sizeof *u);
    rg_uuid4(u->id);
    char spool[512];
    snprintf(spool, sizeof spool, "%s/%s.part", rg_store_spool_dir(f->s), u->id);
    FILE *fp = fopen(spool, "w");
    CHECK(fp != NULL);
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
    CHECK_EQ_INT(rg_store_upload_adopt(f->s, u->id, spool), RG_OK);
    CHECK(access(spool, F_OK) != 0);
    u->name = name;
    u->size = (int64_t)strlen(text);
    u->extension = "txt";
    u->mime_type = "text/plain";
    u->created_by = "owner-1";
    u->created_at_us = rg_now_us();
    for (size_t i = 0; i < sizeof u->sha256; i++)
        u->sha256[i] = (unsigned char)(i * 7 + 1);
}

void fx_doc_fill(store_fx *f, rg_document *d, const char *tenant_id, const char *dataset_id,
                 const char *name, const char *batch)
{
    memset(d, 0, sizeof *d);
    rg_uuid4(d->id);
    snprintf(d->tenant_id, sizeof d->tenant_id, "%s", tenant_id);
    snprintf(d->dataset_id, sizeof d->dataset_id, "%s", dataset_id);
    snprintf(d->batch, sizeof d->batch, "%s", batch);
    d->name = name;
    d->data_source_type = "upload_file";
    d->created_from = "api";
    d->created_by = "owner-1";
    d->created_at = d->updated_at = rg_now_s();
    d->doc_form = "text_model";
    d->doc_language = "English";
    d->indexing_technique = "high_quality";
    d->embedding_model = "hash-embed";
    d->embedding_model_provider = "ragd";
    d->process_rule = "{\"mode\":\"custom\",\"rules\":{\"segmentation\":{\"separator\":\"\\n\","
                      "\"max_tokens\":500}}}";
    d->status = RG_DOC_WAITING;
    d->enabled = true;
    fx_upload(f, &d->upload, name, "some text to index\n");
}

void fx_doc_add(store_fx *f, rg_document *d, const char *name, const char *batch)
{
    fx_doc_fill(f, d, f->ten.id, f->ds.id, name, batch);
    CHECK_EQ_INT(rg_store_document_insert(f->s, d), RG_OK);
}

void fx_job_split(store_fx *f, const rg_job *job, int n, char (*ids)[RG_UUID_LEN + 1])
{
    CHECK_EQ_INT(rg_store_job_stage(f->s, job, RG_DOC_PARSING), RG_OK);
    CHECK_EQ_INT(rg_store_job_stage(f->s, job, RG_DOC_CLEANING), RG_OK);
    CHECK_EQ_INT(rg_store_job_stage(f->s, job, RG_DOC_SPLITTING), RG_OK);
    rg_segment *segs = rg_arena_calloc(f->a, (size_t)n, sizeof *segs);
    rg_child_chunk *kids = rg_arena_calloc(f->a, (size_t)n, sizeof *kids);
    for (int i = 0; i < n; i++) {
        rg_segment *g = &segs[i];
        rg_uuid4(g->id);
        rg_uuid4(g->index_node_id);
        memset(g->index_node_hash, 'a', 64);
        g->content = rg_arena_printf(f->a, "segment %02d of %s", i + 1, job->document_id);
        g->word_count = 10;
        g->status = "waiting";
        g->created_by = "owner-1";
        g->created_at = g->updated_at = rg_now_s();
        g->keywords = i % 2 ? "[\"odd\"]" : NULL;
        rg_child_chunk *k = &kids[i];
        rg_uuid4(k->id);
        memcpy(k->segment_id, g->id, sizeof k->segment_id);
        k->position = 1;
        k->content = rg_arena_printf(f->a, "child of %d", i + 1);
        k->word_count = 3;
        k->type = "automatic";
        if (ids)
            memcpy(ids[i], g->id, sizeof ids[i]);
    }
    CHECK_EQ_INT(rg_store_job_segments(f->s, job, segs, (size_t)n, kids, (size_t)n, 10 * n), RG_OK);
}

rg_segment_index fx_index_item(const char *segment_id)
{
    static const float vec[4] = {0.5f, 0.5f, 0.5f, 0.5f};
    static const char terms[] = "opaque terms";
    return (rg_segment_index){.segment_id = segment_id,
                              .vector = vec,
                              .dims = 4,
                              .terms = terms,
                              .terms_len = sizeof terms,
                              .tokens = 5};
}

void fx_job_index_all(store_fx *f, const rg_job *job)
{
    for (int guard = 0; guard < 1000; guard++) {
        rg_segment *segs = NULL;
        size_t n = 0;
        CHECK_EQ_INT(rg_store_job_pending(f->s, f->a, job, 3, &segs, &n), RG_OK);
        if (n == 0)
            return;
        rg_segment_index *items = rg_arena_calloc(f->a, n, sizeof *items);
        for (size_t i = 0; i < n; i++)
            items[i] = fx_index_item(segs[i].id);
        CHECK_EQ_INT(rg_store_job_indexed(f->s, job, items, n), RG_OK);
    }
    CHECK(!"fx_job_index_all: pending segments never ran out");
}

void fx_complete_next(store_fx *f, int n, rg_job *out)
{
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f->s, &job), RG_OK);
    fx_job_split(f, &job, n, NULL);
    fx_job_index_all(f, &job);
    CHECK_EQ_INT(rg_store_job_finish(f->s, &job, false), RG_OK);
    if (out)
        *out = job;
}

rg_segment fx_segment(const char *content, int64_t word_count)
{
    rg_segment g;
    memset(&g, 0, sizeof g);
    rg_uuid4(g.id);
    rg_uuid4(g.index_node_id);
    memset(g.index_node_hash, 'b', 64);
    g.content = content;
    g.word_count = word_count;
    g.tokens = 3;
    g.created_by = "editor-1";
    return g;
}

char (*fx_segment_ids(store_fx *f, const char *document_id, size_t *n))[RG_UUID_LEN + 1]
{
    rg_segment *segs = NULL;
    int64_t total = 0;
    *n = 0;
    CHECK_EQ_INT(rg_store_segment_list(f->s, f->a, f->ten.id, document_id, NULL, NULL, 0, 100000,
                                       &segs, n, &total),
                 RG_OK);
    char(*ids)[RG_UUID_LEN + 1] = rg_arena_calloc(f->a, *n ? *n : 1, sizeof *ids);
    for (size_t i = 0; i < *n; i++)
        memcpy(ids[i], segs[i].id, sizeof ids[i]);
    return ids;
}

int64_t fx_version(store_fx *f, const char *dataset_id)
{
    int64_t v = -1;
    CHECK_EQ_INT(rg_store_index_version(f->s, f->ten.id, dataset_id, &v), RG_OK);
    return v;
}

int fx_sql(store_fx *f, const char *sql)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READWRITE, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_busy_timeout(db, 5000);
        rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    }
    if (rc != SQLITE_OK)
        fprintf(stderr, "  fx_sql: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_close(db);
    return rc;
}

long long fx_sql_int(store_fx *f, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    long long v = -1;
    if (sqlite3_open_v2(f->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else
        fprintf(stderr, "  fx_sql_int: %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

void fx_check_ok(store_fx *f, const char *file, int line)
{
    const char *why = NULL;
    rg_rc rc = rg_store_check(f->s, f->a, &why);
    if (rc != RG_OK) {
        char m[512];
        snprintf(m, sizeof m, "rg_store_check: %s (%s)", rg_rc_name(rc), why ? why : "-");
        rg_test_fail(file, line, m);
    }
}

rg_rc fx_get(store_fx *f, const char *id, rg_document *out)
{
    return rg_store_document_get(f->s, f->a, f->ten.id, f->ds.id, id, out);
}

rg_dataset fx_dataset_now(store_fx *f)
{
    rg_dataset d;
    memset(&d, 0, sizeof d);
    CHECK_EQ_INT(rg_store_dataset_get(f->s, f->a, f->ten.id, f->ds.id, &d), RG_OK);
    return d;
}
