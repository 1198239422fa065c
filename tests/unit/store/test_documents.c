/*
 * test_documents.c - documents, uploads, segments and the batch actions of the
 * store on its SQLite engine: insert, get, list (filters, paging, order),
 * batch status, replace, delete with its file, the action rules, and the
 * consistency check after each scenario.
 */
#include "harness.h"
#include "store_fixture.h"

#include "core/clock.h"
#include "core/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define CHECK_EQ_NSTR(a, b)                                                                        \
    do {                                                                                           \
        if ((b) == NULL)                                                                           \
            CHECK((a) == NULL);                                                                    \
        else                                                                                       \
            CHECK_EQ_STR(a, b);                                                                    \
    } while (0)

static bool file_exists(store_fx *f, const char *upload_id)
{
    char path[512];
    if (rg_store_upload_path(f->s, upload_id, path, sizeof path) != RG_OK)
        return false;
    return access(path, F_OK) == 0;
}

static void check_same_upload(const rg_upload *got, const rg_upload *want)
{
    CHECK_EQ_STR(got->id, want->id);
    CHECK_EQ_STR(got->name, want->name);
    CHECK_EQ_INT(got->size, want->size);
    CHECK_EQ_NSTR(got->extension, want->extension);
    CHECK_EQ_NSTR(got->mime_type, want->mime_type);
    CHECK_EQ_NSTR(got->created_by, want->created_by);
    CHECK_EQ_INT(got->created_at_us, want->created_at_us);
    CHECK(memcmp(got->sha256, want->sha256, sizeof got->sha256) == 0);
}

static void check_same_document(const rg_document *got, const rg_document *want)
{
    CHECK_EQ_STR(got->id, want->id);
    CHECK_EQ_STR(got->tenant_id, want->tenant_id);
    CHECK_EQ_STR(got->dataset_id, want->dataset_id);
    CHECK_EQ_INT(got->position, want->position);
    CHECK_EQ_STR(got->batch, want->batch);
    CHECK_EQ_STR(got->name, want->name);
    CHECK_EQ_NSTR(got->data_source_type, want->data_source_type);
    CHECK_EQ_NSTR(got->created_from, want->created_from);
    CHECK_EQ_NSTR(got->created_by, want->created_by);
    CHECK_EQ_INT(got->created_at, want->created_at);
    CHECK_EQ_INT(got->updated_at, want->updated_at);
    CHECK_EQ_NSTR(got->doc_form, want->doc_form);
    CHECK_EQ_NSTR(got->doc_language, want->doc_language);
    CHECK_EQ_NSTR(got->indexing_technique, want->indexing_technique);
    CHECK_EQ_NSTR(got->embedding_model, want->embedding_model);
    CHECK_EQ_NSTR(got->embedding_model_provider, want->embedding_model_provider);
    CHECK_EQ_STR(got->process_rule, want->process_rule);
    CHECK_EQ_STR(got->process_rule_id, want->process_rule_id);
    CHECK_EQ_INT(got->status, want->status);
    CHECK_EQ_INT(got->is_paused, want->is_paused);
    CHECK_EQ_INT(got->processing_started_at, want->processing_started_at);
    CHECK_EQ_INT(got->completed_at, want->completed_at);
    CHECK_EQ_INT(got->stopped_at, want->stopped_at);
    CHECK_EQ_NSTR(got->error, want->error);
    CHECK_EQ_INT(got->enabled, want->enabled);
    CHECK_EQ_INT(got->archived, want->archived);
    CHECK_EQ_INT(got->word_count, want->word_count);
    CHECK_EQ_INT(got->tokens, want->tokens);
    CHECK(got->indexing_latency < 0 && want->indexing_latency < 0);
    CHECK_EQ_INT(got->total_segments, want->total_segments);
    CHECK_EQ_INT(got->completed_segments, want->completed_segments);
    CHECK_EQ_NSTR(got->doc_type, want->doc_type);
    CHECK_EQ_NSTR(got->doc_metadata, want->doc_metadata);
    check_same_upload(&got->upload, &want->upload);
}

/* --- insert, get ---------------------------------------------------------------- */

TEST(store_doc_insert_get)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d1, d2, d3, got;
    fx_doc_fill(&f, &d1, f.ten.id, f.ds.id, "one.txt", "20250101000000100001");
    d1.doc_type = "book";
    d1.doc_metadata = "{\"author\":\"me\"}";
    d1.status = RG_DOC_COMPLETED; /* not the caller's to set */
    d1.total_segments = 7;
    CHECK_EQ_INT(rg_store_document_insert(f.s, &d1), RG_OK);
    CHECK_EQ_INT(d1.position, 1);
    CHECK_EQ_INT(d1.status, RG_DOC_WAITING);
    CHECK_EQ_INT(d1.total_segments, 0);
    CHECK_EQ_INT(strlen(d1.process_rule_id), RG_UUID_LEN);
    CHECK_EQ_INT(fx_get(&f, d1.id, &got), RG_OK);
    check_same_document(&got, &d1);
    CHECK_EQ_STR(rg_doc_display_status(&got), "queuing");

    /* the first document sets the dataset's form, source, technique and model */
    rg_dataset ds = fx_dataset_now(&f);
    CHECK_EQ_INT(ds.document_count, 1);
    CHECK_EQ_INT(ds.word_count, 0);
    CHECK_EQ_INT(ds.available_document_count, 0);
    CHECK_EQ_NSTR(ds.doc_form, "text_model");
    CHECK_EQ_NSTR(ds.data_source_type, "upload_file");
    CHECK_EQ_NSTR(ds.indexing_technique, "high_quality");
    CHECK_EQ_NSTR(ds.embedding_model, "hash-embed");
    CHECK_EQ_NSTR(ds.embedding_model_provider, "ragd");

    /* ...and later ones do not change them; positions keep increasing */
    fx_doc_fill(&f, &d2, f.ten.id, f.ds.id, "two.txt", "20250101000000100002");
    d2.doc_form = "qa_model";
    d2.indexing_technique = "economy";
    d2.embedding_model = d2.embedding_model_provider = NULL;
    d2.doc_language = NULL;
    CHECK_EQ_INT(rg_store_document_insert(f.s, &d2), RG_OK);
    CHECK_EQ_INT(d2.position, 2);
    fx_doc_add(&f, &d3, "three.txt", "20250101000000100002");
    CHECK_EQ_INT(d3.position, 3);
    ds = fx_dataset_now(&f);
    CHECK_EQ_INT(ds.document_count, 3);
    CHECK_EQ_NSTR(ds.doc_form, "text_model");
    CHECK_EQ_NSTR(ds.indexing_technique, "high_quality");
    CHECK_EQ_INT(fx_get(&f, d2.id, &got), RG_OK);
    check_same_document(&got, &d2);
    FX_CHECK_OK(&f);

    /* a process rule of the "automatic" kind has no rules */
    rg_document d4;
    fx_doc_fill(&f, &d4, f.ten.id, f.ds.id, "four.txt", "b4");
    d4.process_rule = "{\"mode\": \"automatic\"}";
    CHECK_EQ_INT(rg_store_document_insert(f.s, &d4), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d4.id, &got), RG_OK);
    CHECK_EQ_STR(got.process_rule, "{\"mode\":\"automatic\"}");

    /* refusals write nothing */
    rg_document bad;
    fx_doc_fill(&f, &bad, f.ten.id, f.ds.id, "bad.txt", "b5");
    bad.process_rule = "not json";
    CHECK_EQ_INT(rg_store_document_insert(f.s, &bad), RG_EINVAL);
    bad.process_rule = "[1,2]";
    CHECK_EQ_INT(rg_store_document_insert(f.s, &bad), RG_EINVAL);
    bad.process_rule = "{\"rules\":{}}"; /* no mode */
    CHECK_EQ_INT(rg_store_document_insert(f.s, &bad), RG_EINVAL);
    bad.process_rule = "{\"mode\":\"automatic\"}";
    memcpy(bad.upload.id, d1.upload.id, sizeof bad.upload.id); /* an upload twice */
    CHECK_EQ_INT(rg_store_document_insert(f.s, &bad), RG_ECONFLICT);
    snprintf(bad.upload.id, sizeof bad.upload.id, "../../etc/passwd");
    CHECK_EQ_INT(rg_store_document_insert(f.s, &bad), RG_EINVAL);
    rg_document ghost;
    rg_dataset nowhere;
    memset(&nowhere, 0, sizeof nowhere);
    rg_uuid4(nowhere.id);
    fx_doc_fill(&f, &ghost, f.ten.id, nowhere.id, "ghost.txt", "b6");
    CHECK_EQ_INT(rg_store_document_insert(f.s, &ghost), RG_ENOTFOUND);
    rg_tenant other;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &other), RG_OK);
    fx_doc_fill(&f, &ghost, other.id, f.ds.id, "ghost.txt", "b6"); /* not beta's dataset */
    CHECK_EQ_INT(rg_store_document_insert(f.s, &ghost), RG_ENOTFOUND);
    ds = fx_dataset_now(&f);
    CHECK_EQ_INT(ds.document_count, 4);
    int64_t queued = 0;
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &queued), RG_OK);
    CHECK_EQ_INT(queued, 4);

    /* tenant and dataset scope every read */
    CHECK_EQ_INT(rg_store_document_get(f.s, f.a, other.id, f.ds.id, d1.id, &got), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_document_get(f.s, f.a, f.ten.id, nowhere.id, d1.id, &got), RG_ENOTFOUND);
    CHECK_EQ_INT(fx_get(&f, ghost.id, &got), RG_ENOTFOUND);
    FX_CHECK_OK(&f);

    /* a new dataset with a dataset-wide economy technique keeps it */
    rg_dataset eco;
    fx_dataset(&f, f.ten.id, "eco", &eco);
    eco.indexing_technique = "economy";
    CHECK_EQ_INT(rg_store_dataset_update(f.s, &eco), RG_OK);
    rg_document e1;
    fx_doc_fill(&f, &e1, f.ten.id, eco.id, "e1.txt", "b7");
    CHECK_EQ_INT(rg_store_document_insert(f.s, &e1), RG_OK);
    CHECK_EQ_INT(e1.position, 1); /* positions are per dataset */
    rg_dataset eco_now;
    CHECK_EQ_INT(rg_store_dataset_get(f.s, f.a, f.ten.id, eco.id, &eco_now), RG_OK);
    CHECK_EQ_NSTR(eco_now.indexing_technique, "economy");
    CHECK(eco_now.embedding_model == NULL);
    fx_close(&f);
}

/* --- uploads -------------------------------------------------------------------- */

static void read_file(const char *path, char *buf, size_t cap)
{
    buf[0] = '\0';
    FILE *fp = fopen(path, "r");
    if (!fp)
        return;
    size_t n = fread(buf, 1, cap - 1, fp);
    buf[n] = '\0';
    fclose(fp);
}

TEST(store_upload_files)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    const char *spool = rg_store_spool_dir(f.s);
    struct stat sb;
    CHECK(stat(spool, &sb) == 0 && S_ISDIR(sb.st_mode));

    rg_upload u;
    fx_upload(&f, &u, "hello.txt", "hello, world\n");
    char path[512], body[64];
    CHECK_EQ_INT(rg_store_upload_path(f.s, u.id, path, sizeof path), RG_OK);
    char want[512];
    snprintf(want, sizeof want, "%s/uploads/%s", f.data, u.id);
    CHECK_EQ_STR(path, want);
    read_file(path, body, sizeof body);
    CHECK_EQ_STR(body, "hello, world\n");

    /* ids that are not UUIDs never become paths */
    CHECK_EQ_INT(rg_store_upload_path(f.s, "../ragd.db", path, sizeof path), RG_EINVAL);
    CHECK_EQ_STR(path, "");
    CHECK_EQ_INT(rg_store_upload_path(f.s, "", path, sizeof path), RG_EINVAL);
    char tiny[8];
    CHECK_EQ_INT(rg_store_upload_path(f.s, u.id, tiny, sizeof tiny), RG_EINVAL);
    char sp[512];
    snprintf(sp, sizeof sp, "%s/x.part", spool);
    FILE *fp = fopen(sp, "w");
    CHECK(fp != NULL);
    if (fp)
        fclose(fp);
    CHECK_EQ_INT(rg_store_upload_adopt(f.s, "../../escape", sp), RG_EINVAL);
    CHECK_EQ_INT(rg_store_upload_adopt(f.s, u.id, sp), RG_ECONFLICT); /* never over another */
    read_file(want, body, sizeof body);
    CHECK_EQ_STR(body, "hello, world\n");
    char missing[512];
    snprintf(missing, sizeof missing, "%s/nope.part", spool);
    char id2[RG_UUID_LEN + 1];
    rg_uuid4(id2);
    CHECK(rg_store_upload_adopt(f.s, id2, missing) != RG_OK);

    /* stale spool files go at open, fresh ones stay */
    struct timeval old[2] = {{.tv_sec = time(NULL) - 7200}, {.tv_sec = time(NULL) - 7200}};
    CHECK(utimes(sp, old) == 0);
    char fresh[512];
    snprintf(fresh, sizeof fresh, "%s/fresh.part", spool);
    fp = fopen(fresh, "w");
    if (fp)
        fclose(fp);
    if (!fx_reopen(&f)) {
        fx_close(&f);
        return;
    }
    CHECK(access(sp, F_OK) != 0);
    CHECK(access(fresh, F_OK) == 0);
    CHECK(access(want, F_OK) == 0); /* uploads are not the spool */

    /* a document's file goes with the document */
    rg_document d;
    fx_doc_add(&f, &d, "doc.txt", "b1");
    CHECK(file_exists(&f, d.upload.id));
    CHECK_EQ_INT(rg_store_document_delete(f.s, f.ten.id, f.ds.id, d.id), RG_OK);
    CHECK(!file_exists(&f, d.upload.id));
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM upload_files"), 0);
    CHECK_EQ_INT(rg_store_document_delete(f.s, f.ten.id, f.ds.id, d.id), RG_ENOTFOUND);

    /* ...and with its dataset */
    rg_document d2, d3;
    fx_doc_add(&f, &d2, "doc2.txt", "b2");
    fx_doc_add(&f, &d3, "doc3.txt", "b2");
    CHECK_EQ_INT(rg_store_dataset_delete(f.s, f.ten.id, f.ds.id), RG_OK);
    CHECK(!file_exists(&f, d2.upload.id));
    CHECK(!file_exists(&f, d3.upload.id));
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM documents"), 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM upload_files"), 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM jobs"), 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM process_rules"), 0);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* --- list and batch status ----------------------------------------------------------- */

static int64_t list_total(store_fx *f, const char *keyword, const char *status)
{
    rg_document_query q = {.tenant_id = f->ten.id,
                           .dataset_id = f->ds.id,
                           .keyword = keyword,
                           .status = status,
                           .limit = 100};
    rg_document *items = NULL;
    size_t n = 0;
    int64_t total = -1;
    CHECK_EQ_INT(rg_store_document_list(f->s, f->a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, total);
    return total;
}

/* The names of the documents a status filter lists, joined by spaces. */
static const char *list_names(store_fx *f, const char *status)
{
    rg_document_query q = {
        .tenant_id = f->ten.id, .dataset_id = f->ds.id, .status = status, .limit = 100};
    rg_document *items = NULL;
    size_t n = 0;
    int64_t total = -1;
    CHECK_EQ_INT(rg_store_document_list(f->s, f->a, &q, &items, &n, &total), RG_OK);
    char *out = rg_arena_printf(f->a, "%s", "");
    for (size_t i = 0; i < n; i++)
        out = rg_arena_printf(f->a, "%s%s%s", out, i ? " " : "", items[i].name);
    return out;
}

TEST(store_doc_list_paging_keyword)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    static const char *const names[] = {"Alpha Base", "alphabet", "Beta", "50% off",
                                        "500 off",    "a_b",      "axb",  "back\\slash"};
    static char many[20][16];
    rg_document d;
    for (size_t i = 0; i < RG_ARRAY_LEN(names); i++)
        fx_doc_add(&f, &d, names[i], "kw");
    for (int i = 0; i < 20; i++) {
        snprintf(many[i], sizeof many[i], "doc-%02d", i);
        fx_doc_add(&f, &d, many[i], "many");
    }
    CHECK_EQ_INT(list_total(&f, NULL, NULL), 28);
    CHECK_EQ_INT(list_total(&f, "ALPHA", NULL), 2);
    CHECK_EQ_INT(list_total(&f, "%", NULL), 1);
    CHECK_EQ_INT(list_total(&f, "_", NULL), 1);
    CHECK_EQ_INT(list_total(&f, "\\", NULL), 1);
    CHECK_EQ_INT(list_total(&f, "DOC-1", NULL), 10);
    CHECK_EQ_INT(list_total(&f, "zzz", NULL), 0);
    CHECK_EQ_INT(list_total(&f, "", NULL), 28);

    /* position descending: the last inserted first */
    rg_document_query q = {.tenant_id = f.ten.id, .dataset_id = f.ds.id, .limit = 10};
    rg_document *items = NULL;
    size_t n = 0;
    int64_t total = 0;
    CHECK_EQ_INT(rg_store_document_list(f.s, f.a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 10);
    CHECK_EQ_INT(total, 28);
    if (n == 10) {
        CHECK_EQ_STR(items[0].name, "doc-19");
        CHECK_EQ_INT(items[0].position, 28);
        CHECK_EQ_STR(items[9].name, "doc-10");
        CHECK_EQ_STR(items[0].upload.name, "doc-19");
        CHECK(items[0].process_rule != NULL);
        for (size_t i = 1; i < n; i++)
            CHECK(items[i].position < items[i - 1].position);
    }
    q.offset = 25;
    CHECK_EQ_INT(rg_store_document_list(f.s, f.a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 3);
    if (n == 3)
        CHECK_EQ_STR(items[2].name, "Alpha Base");
    q.offset = 28;
    CHECK_EQ_INT(rg_store_document_list(f.s, f.a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(total, 28);
    q.offset = 0;
    q.limit = 0;
    CHECK_EQ_INT(rg_store_document_list(f.s, f.a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(total, 28);
    q.limit = -1;
    CHECK_EQ_INT(rg_store_document_list(f.s, f.a, &q, &items, &n, &total), RG_EINVAL);

    /* another tenant sees nothing of the dataset */
    rg_tenant other;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &other), RG_OK);
    q = (rg_document_query){.tenant_id = other.id, .dataset_id = f.ds.id, .limit = 10};
    CHECK_EQ_INT(rg_store_document_list(f.s, f.a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(total, 0);
    fx_close(&f);
}

/* Claims the next job and leaves its document as the name says. */
static void drive(store_fx *f, const char *what)
{
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f->s, &job), RG_OK);
    const char *why = NULL;
    if (strcmp(what, "indexing") == 0) {
        CHECK_EQ_INT(rg_store_job_stage(f->s, &job, RG_DOC_PARSING), RG_OK);
        return;
    }
    if (strcmp(what, "error") == 0) {
        CHECK_EQ_INT(rg_store_job_stage(f->s, &job, RG_DOC_PARSING), RG_OK);
        CHECK_EQ_INT(rg_store_job_fail(f->s, &job, "broken file"), RG_OK);
        CHECK_EQ_INT(rg_store_job_finish(f->s, &job, false), RG_OK);
        return;
    }
    if (strcmp(what, "paused") == 0) {
        const char *const self[] = {job.document_id};
        CHECK_EQ_INT(rg_store_job_stage(f->s, &job, RG_DOC_PARSING), RG_OK);
        CHECK_EQ_INT(rg_store_document_action(f->s, f->a, f->ten.id, f->ds.id, RG_DOC_PAUSE, self,
                                              1, "owner-1", &why),
                     RG_OK);
        return;
    }
    fx_job_split(f, &job, 2, NULL);
    fx_job_index_all(f, &job);
    CHECK_EQ_INT(rg_store_job_finish(f->s, &job, false), RG_OK);
    rg_doc_action act = strcmp(what, "disabled") == 0   ? RG_DOC_DISABLE
                        : strcmp(what, "archived") == 0 ? RG_DOC_ARCHIVE
                                                        : RG_DOC_ENABLE;
    const char *const one[] = {job.document_id};
    CHECK_EQ_INT(
        rg_store_document_action(f->s, f->a, f->ten.id, f->ds.id, act, one, 1, "owner-1", &why),
        RG_OK);
}

TEST(store_doc_list_status_filter)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    /* claimed in insertion order (one tenant: oldest job first) */
    static const char *const names[] = {"available", "disabled", "archived", "error",
                                        "indexing",  "paused",   "queuing"};
    rg_document d;
    for (size_t i = 0; i < RG_ARRAY_LEN(names); i++)
        fx_doc_add(&f, &d, names[i], "b");
    for (size_t i = 0; i + 1 < RG_ARRAY_LEN(names); i++)
        drive(&f, names[i]);
    for (size_t i = 0; i < RG_ARRAY_LEN(names); i++)
        CHECK_EQ_STR(list_names(&f, names[i]), names[i]);
    CHECK_EQ_STR(list_names(&f, "ACTIVE"), "available");
    CHECK_EQ_STR(list_names(&f, "enabled"), "available");
    CHECK_EQ_STR(list_names(&f, "Paused"), "paused");
    CHECK_EQ_INT(list_total(&f, NULL, "no-such-status"), 7); /* ignored, as Dify */
    CHECK_EQ_INT(list_total(&f, "a", "available"), 1);
    CHECK_EQ_INT(list_total(&f, "zzz", "available"), 0);

    /* every listed document shows the display status it was filtered by */
    for (size_t i = 0; i < RG_ARRAY_LEN(names); i++) {
        rg_document_query q = {
            .tenant_id = f.ten.id, .dataset_id = f.ds.id, .status = names[i], .limit = 10};
        rg_document *items = NULL;
        size_t n = 0;
        int64_t total = 0;
        CHECK_EQ_INT(rg_store_document_list(f.s, f.a, &q, &items, &n, &total), RG_OK);
        for (size_t k = 0; k < n; k++)
            CHECK_EQ_STR(rg_doc_display_status(&items[k]), names[i]);
    }
    rg_dataset ds = fx_dataset_now(&f);
    CHECK_EQ_INT(ds.document_count, 7);
    CHECK_EQ_INT(ds.available_document_count, 1);
    CHECK_EQ_INT(ds.word_count, 3 * 20);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

TEST(store_doc_batch_status)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document a1, a2, a3, b1;
    fx_doc_add(&f, &a1, "a1", "20250101000000111111");
    fx_doc_add(&f, &a2, "a2", "20250101000000111111");
    fx_doc_add(&f, &b1, "b1", "20250101000000222222");
    fx_doc_add(&f, &a3, "a3", "20250101000000111111");
    fx_complete_next(&f, 3, NULL); /* a1 */
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK); /* a2 */
    CHECK_EQ_STR(job.document_id, a2.id);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_PARSING), RG_OK);
    CHECK_EQ_INT(rg_store_job_fail(f.s, &job, "no text"), RG_OK);

    rg_document *items = NULL;
    size_t n = 0;
    CHECK_EQ_INT(rg_store_document_batch_status(f.s, f.a, f.ten.id, f.ds.id, "20250101000000111111",
                                                &items, &n),
                 RG_OK);
    CHECK_EQ_INT(n, 3);
    if (n == 3) {
        CHECK_EQ_STR(items[0].id, a1.id);
        CHECK_EQ_INT(items[0].status, RG_DOC_COMPLETED);
        CHECK_EQ_INT(items[0].total_segments, 3);
        CHECK_EQ_INT(items[0].completed_segments, 3);
        CHECK(items[0].processing_started_at > 0);
        CHECK(items[0].parsing_completed_at >= items[0].processing_started_at);
        CHECK(items[0].completed_at >= items[0].splitting_completed_at);
        CHECK(items[0].error == NULL);
        CHECK_EQ_INT(items[0].stopped_at, -1);
        CHECK_EQ_STR(items[1].id, a2.id);
        CHECK_EQ_INT(items[1].status, RG_DOC_ERROR);
        CHECK_EQ_STR(items[1].error, "no text");
        CHECK(items[1].stopped_at > 0);
        CHECK_EQ_INT(items[1].completed_at, -1);
        CHECK_EQ_STR(items[2].id, a3.id);
        CHECK_EQ_INT(items[2].status, RG_DOC_WAITING);
        CHECK_EQ_INT(items[2].processing_started_at, -1);
        CHECK_EQ_INT(items[2].total_segments, 0);
        CHECK(items[2].name == NULL); /* only the status fields are read */
    }
    CHECK_EQ_INT(rg_store_document_batch_status(f.s, f.a, f.ten.id, f.ds.id, "20250101000000222222",
                                                &items, &n),
                 RG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(rg_store_document_batch_status(f.s, f.a, f.ten.id, f.ds.id, "nope", &items, &n),
                 RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK(items == NULL);
    rg_tenant other;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &other), RG_OK);
    CHECK_EQ_INT(rg_store_document_batch_status(f.s, f.a, other.id, f.ds.id, "20250101000000111111",
                                                &items, &n),
                 RG_OK);
    CHECK_EQ_INT(n, 0);
    fx_close(&f);
}

/* --- replace and delete ----------------------------------------------------------------- */

TEST(store_doc_replace)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d, other, got;
    fx_doc_add(&f, &d, "first.txt", "20250101000000333333");
    fx_doc_add(&f, &other, "other.txt", "20250101000000333333");
    fx_complete_next(&f, 4, NULL);
    fx_complete_next(&f, 2, NULL);
    rg_dataset ds = fx_dataset_now(&f);
    CHECK_EQ_INT(ds.word_count, 60);
    CHECK_EQ_INT(ds.available_document_count, 2);

    /* new text: new upload, name and rule; the batch stays */
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    rg_upload old = got.upload;
    rg_document r = got;
    fx_upload(&f, &r.upload, "second.txt", "new text\n");
    r.name = "second.txt";
    r.batch[0] = '\0';
    r.process_rule = "{\"mode\":\"automatic\"}";
    CHECK_EQ_INT(rg_store_document_replace(f.s, &r), RG_OK);
    CHECK(strcmp(r.process_rule_id, got.process_rule_id) != 0);
    CHECK(!file_exists(&f, old.id));
    CHECK(file_exists(&f, r.upload.id));
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_STR(got.name, "second.txt");
    CHECK_EQ_STR(got.batch, "20250101000000333333");
    CHECK_EQ_STR(got.upload.id, r.upload.id);
    CHECK_EQ_STR(got.process_rule, "{\"mode\":\"automatic\"}");
    CHECK_EQ_INT(got.position, 1);
    CHECK_EQ_INT(got.status, RG_DOC_WAITING);
    CHECK_EQ_INT(got.processing_started_at, -1);
    CHECK_EQ_INT(got.completed_at, -1);
    CHECK_EQ_INT(got.word_count, -1);
    CHECK_EQ_INT(got.tokens, -1);
    CHECK(got.indexing_latency < 0);
    CHECK_EQ_INT(got.total_segments, 0);
    CHECK_EQ_INT(got.completed_segments, 0);
    rg_segment *segs = NULL;
    size_t n = 0;
    int64_t total = -1;
    CHECK_EQ_INT(
        rg_store_segment_list(f.s, f.a, f.ten.id, d.id, NULL, NULL, 0, 100, &segs, &n, &total),
        RG_OK);
    CHECK_EQ_INT(total, 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM child_chunks"), 2);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM segment_index"), 2);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM upload_files"), 2);
    ds = fx_dataset_now(&f);
    CHECK_EQ_INT(ds.document_count, 2);
    CHECK_EQ_INT(ds.word_count, 20);
    CHECK_EQ_INT(ds.available_document_count, 1);
    int64_t queued = 0;
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &queued), RG_OK);
    CHECK_EQ_INT(queued, 1);
    FX_CHECK_OK(&f);

    /* a rule-only update keeps the upload and its file */
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    rg_document r2 = got;
    r2.process_rule = "{\"mode\":\"custom\",\"rules\":{}}";
    CHECK_EQ_INT(rg_store_document_replace(f.s, &r2), RG_OK);
    CHECK(file_exists(&f, got.upload.id));
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &queued), RG_OK);
    CHECK_EQ_INT(queued, 1); /* the earlier job was replaced, not doubled */
    FX_CHECK_OK(&f);

    rg_document ghost = got;
    rg_uuid4(ghost.id);
    CHECK_EQ_INT(rg_store_document_replace(f.s, &ghost), RG_ENOTFOUND);
    fx_close(&f);
}

TEST(store_doc_delete_counters)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document a, b;
    fx_doc_add(&f, &a, "a", "b");
    fx_doc_add(&f, &b, "b", "b");
    fx_complete_next(&f, 5, NULL);
    rg_dataset ds = fx_dataset_now(&f);
    CHECK_EQ_INT(ds.document_count, 2);
    CHECK_EQ_INT(ds.word_count, 50);
    CHECK_EQ_INT(ds.available_document_count, 1);
    CHECK_EQ_INT(rg_store_document_delete(f.s, f.ten.id, f.ds.id, a.id), RG_OK);
    ds = fx_dataset_now(&f);
    CHECK_EQ_INT(ds.document_count, 1);
    CHECK_EQ_INT(ds.word_count, 0);
    CHECK_EQ_INT(ds.available_document_count, 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM segments"), 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM child_chunks"), 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM segment_index"), 0);
    CHECK_EQ_INT(fx_sql_int(&f, "SELECT COUNT(*) FROM jobs"), 1);
    rg_tenant other;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &other), RG_OK);
    CHECK_EQ_INT(rg_store_document_delete(f.s, other.id, f.ds.id, b.id), RG_ENOTFOUND);
    CHECK(file_exists(&f, b.upload.id));
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* --- segments -------------------------------------------------------------------- */

TEST(store_seg_list)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d;
    fx_doc_add(&f, &d, "segs", "b");
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);
    char ids[12][RG_UUID_LEN + 1];
    fx_job_split(&f, &job, 12, ids);
    rg_segment_index one = fx_index_item(ids[0]);
    CHECK_EQ_INT(rg_store_job_indexed(f.s, &job, &one, 1), RG_OK);

    rg_segment *segs = NULL;
    size_t n = 0;
    int64_t total = 0;
    CHECK_EQ_INT(
        rg_store_segment_list(f.s, f.a, f.ten.id, d.id, NULL, NULL, 0, 5, &segs, &n, &total),
        RG_OK);
    CHECK_EQ_INT(total, 12);
    CHECK_EQ_INT(n, 5);
    if (n == 5) {
        CHECK_EQ_STR(segs[0].id, ids[0]);
        CHECK_EQ_INT(segs[0].position, 1);
        CHECK_EQ_STR(segs[0].status, "completed");
        CHECK(segs[0].enabled);
        CHECK_EQ_INT(segs[0].tokens, 5);
        CHECK(segs[0].completed_at > 0);
        CHECK_EQ_STR(segs[1].status, "waiting");
        CHECK(!segs[1].enabled);
        CHECK_EQ_INT(segs[1].completed_at, -1);
        CHECK_EQ_STR(segs[1].keywords, "[\"odd\"]");
        CHECK_EQ_STR(segs[4].document_id, d.id);
        CHECK_EQ_STR(segs[4].dataset_id, f.ds.id);
        CHECK_EQ_INT(strlen(segs[4].index_node_id), RG_UUID_LEN);
        CHECK_EQ_INT(strlen(segs[4].index_node_hash), 64);
        CHECK_EQ_INT(segs[4].word_count, 10);
    }
    CHECK_EQ_INT(
        rg_store_segment_list(f.s, f.a, f.ten.id, d.id, NULL, NULL, 10, 5, &segs, &n, &total),
        RG_OK);
    CHECK_EQ_INT(n, 2);
    if (n == 2)
        CHECK_EQ_INT(segs[1].position, 12);
    CHECK_EQ_INT(rg_store_segment_list(f.s, f.a, f.ten.id, d.id, "SEGMENT 1", NULL, 0, 100, &segs,
                                       &n, &total),
                 RG_OK);
    CHECK_EQ_INT(total, 3); /* 10, 11, 12 */
    CHECK_EQ_INT(rg_store_segment_list(f.s, f.a, f.ten.id, d.id, NULL, "completed", 0, 100, &segs,
                                       &n, &total),
                 RG_OK);
    CHECK_EQ_INT(total, 1);
    rg_tenant other;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "beta", &other), RG_OK);
    CHECK_EQ_INT(
        rg_store_segment_list(f.s, f.a, other.id, d.id, NULL, NULL, 0, 100, &segs, &n, &total),
        RG_OK);
    CHECK_EQ_INT(total, 0);

    rg_child_chunk *kids = NULL;
    CHECK_EQ_INT(rg_store_child_chunk_list(f.s, f.a, ids[2], &kids, &n), RG_OK);
    CHECK_EQ_INT(n, 1);
    if (n == 1) {
        CHECK_EQ_STR(kids[0].segment_id, ids[2]);
        CHECK_EQ_STR(kids[0].content, "child of 3");
        CHECK_EQ_STR(kids[0].type, "automatic");
        CHECK_EQ_INT(kids[0].word_count, 3);
    }
    CHECK_EQ_INT(rg_store_child_chunk_list(f.s, f.a, "no-such-segment", &kids, &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

/* --- actions ---------------------------------------------------------------------- */

static rg_rc act(store_fx *f, rg_doc_action a, const char *id1, const char *id2, const char **why)
{
    const char *ids[2] = {id1, id2};
    return rg_store_document_action(f->s, f->a, f->ten.id, f->ds.id, a, ids, id2 ? 2 : 1, "owner-2",
                                    why);
}

TEST(store_doc_actions_enable_disable_archive)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document done, waiting, got;
    fx_doc_add(&f, &done, "done.txt", "b");
    fx_doc_add(&f, &waiting, "waiting.txt", "b");
    fx_complete_next(&f, 2, NULL);
    const char *why = NULL;

    /* disable before completed is refused, naming the document, all or nothing */
    CHECK_EQ_INT(act(&f, RG_DOC_DISABLE, done.id, waiting.id, &why), RG_EACTION);
    CHECK_EQ_STR(why, "Document: waiting.txt is not completed.");
    CHECK_EQ_INT(fx_get(&f, done.id, &got), RG_OK);
    CHECK(got.enabled);
    char unknown[RG_UUID_LEN + 1];
    rg_uuid4(unknown);
    CHECK_EQ_INT(act(&f, RG_DOC_DISABLE, done.id, unknown, &why), RG_ENOTFOUND);
    CHECK(why != NULL && strstr(why, unknown) != NULL);
    CHECK_EQ_INT(fx_get(&f, done.id, &got), RG_OK);
    CHECK(got.enabled);
    CHECK_EQ_INT(
        rg_store_document_action(f.s, f.a, f.ten.id, f.ds.id, RG_DOC_DISABLE, NULL, 0, "x", &why),
        RG_OK);

    CHECK_EQ_INT(act(&f, RG_DOC_DISABLE, done.id, NULL, &why), RG_OK);
    CHECK_EQ_INT(fx_get(&f, done.id, &got), RG_OK);
    CHECK(!got.enabled);
    CHECK(got.disabled_at > 0);
    CHECK_EQ_STR(got.disabled_by, "owner-2");
    CHECK_EQ_STR(rg_doc_display_status(&got), "disabled");
    CHECK_EQ_INT(fx_dataset_now(&f).available_document_count, 0);
    CHECK_EQ_INT(act(&f, RG_DOC_DISABLE, done.id, NULL, &why), RG_OK); /* no-op */
    FX_CHECK_OK(&f);

    CHECK_EQ_INT(act(&f, RG_DOC_ENABLE, done.id, waiting.id, &why), RG_OK);
    CHECK_EQ_INT(fx_get(&f, done.id, &got), RG_OK);
    CHECK(got.enabled);
    CHECK_EQ_INT(got.disabled_at, -1);
    CHECK(got.disabled_by == NULL);
    CHECK_EQ_INT(fx_dataset_now(&f).available_document_count, 1);

    CHECK_EQ_INT(act(&f, RG_DOC_ARCHIVE, done.id, NULL, &why), RG_OK);
    CHECK_EQ_INT(fx_get(&f, done.id, &got), RG_OK);
    CHECK(got.archived);
    CHECK(got.archived_at > 0);
    CHECK_EQ_STR(got.archived_by, "owner-2");
    CHECK_EQ_STR(rg_doc_display_status(&got), "archived");
    CHECK_EQ_INT(fx_dataset_now(&f).available_document_count, 0);
    FX_CHECK_OK(&f);
    CHECK_EQ_INT(act(&f, RG_DOC_UN_ARCHIVE, done.id, NULL, &why), RG_OK);
    CHECK_EQ_INT(fx_get(&f, done.id, &got), RG_OK);
    CHECK(!got.archived);
    CHECK_EQ_INT(got.archived_at, -1);
    CHECK_EQ_INT(fx_dataset_now(&f).available_document_count, 1);
    /* archiving a waiting document is allowed (as Dify) and changes no counter */
    CHECK_EQ_INT(act(&f, RG_DOC_ARCHIVE, waiting.id, NULL, &why), RG_OK);
    CHECK_EQ_INT(fx_dataset_now(&f).available_document_count, 1);
    FX_CHECK_OK(&f);
    fx_close(&f);
}

TEST(store_doc_actions_pause_resume_retry)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d, done, got;
    fx_doc_add(&f, &done, "done.txt", "b");
    fx_doc_add(&f, &d, "d.txt", "b");
    fx_complete_next(&f, 1, NULL);
    const char *why = NULL;
    int64_t queued = 0;

    /* pause while queued: the job waits for resume instead of being claimed */
    CHECK_EQ_INT(act(&f, RG_DOC_PAUSE, d.id, NULL, &why), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK(got.is_paused);
    CHECK(got.paused_at > 0);
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &queued), RG_OK);
    CHECK_EQ_INT(queued, 0);
    rg_job job;
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_ENOTFOUND);
    FX_CHECK_OK(&f);
    CHECK_EQ_INT(act(&f, RG_DOC_PAUSE, d.id, NULL, &why), RG_EACTION);
    CHECK_EQ_STR(why, "Document: d.txt is already paused.");
    CHECK_EQ_INT(act(&f, RG_DOC_PAUSE, done.id, NULL, &why), RG_EACTION);
    CHECK_EQ_STR(why, "Document: done.txt is not in indexing state.");
    CHECK_EQ_INT(act(&f, RG_DOC_RESUME, done.id, NULL, &why), RG_EACTION);
    CHECK_EQ_STR(why, "Document: done.txt is not in paused state.");
    CHECK_EQ_INT(act(&f, RG_DOC_RETRY, d.id, NULL, &why), RG_EACTION);
    CHECK_EQ_STR(why, "Document: d.txt is not in error state.");

    CHECK_EQ_INT(act(&f, RG_DOC_RESUME, d.id, NULL, &why), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK(!got.is_paused);
    CHECK_EQ_INT(got.paused_at, -1);
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &queued), RG_OK);
    CHECK_EQ_INT(queued, 1);
    FX_CHECK_OK(&f);

    /* resume while the job still runs: no second job */
    CHECK_EQ_INT(rg_store_job_claim(f.s, &job), RG_OK);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_PARSING), RG_OK);
    CHECK_EQ_INT(act(&f, RG_DOC_PAUSE, d.id, NULL, &why), RG_OK);
    CHECK_EQ_INT(act(&f, RG_DOC_RESUME, d.id, NULL, &why), RG_OK);
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &queued), RG_OK);
    CHECK_EQ_INT(queued, 0);
    CHECK_EQ_INT(rg_store_job_stage(f.s, &job, RG_DOC_CLEANING), RG_OK); /* carries on */
    FX_CHECK_OK(&f);

    /* retry: only in error; back to waiting with a job */
    CHECK_EQ_INT(rg_store_job_fail(f.s, &job, "boom"), RG_OK);
    CHECK_EQ_INT(rg_store_job_finish(f.s, &job, false), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_ERROR);
    CHECK_EQ_STR(got.error, "boom");
    CHECK(got.stopped_at > 0);
    CHECK_EQ_INT(act(&f, RG_DOC_PAUSE, d.id, NULL, &why), RG_EACTION);
    CHECK_EQ_INT(act(&f, RG_DOC_RETRY, done.id, d.id, &why), RG_EACTION); /* all or nothing */
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &queued), RG_OK);
    CHECK_EQ_INT(queued, 0);
    CHECK_EQ_INT(act(&f, RG_DOC_RETRY, d.id, NULL, &why), RG_OK);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_WAITING);
    CHECK(got.error == NULL);
    CHECK_EQ_INT(got.stopped_at, -1);
    CHECK_EQ_INT(rg_store_jobs_queued(f.s, &queued), RG_OK);
    CHECK_EQ_INT(queued, 1);
    FX_CHECK_OK(&f);
    fx_complete_next(&f, 2, NULL);
    CHECK_EQ_INT(fx_get(&f, d.id, &got), RG_OK);
    CHECK_EQ_INT(got.status, RG_DOC_COMPLETED);
    FX_CHECK_OK(&f);
    fx_close(&f);
}
