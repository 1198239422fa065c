/*
 * store_fixture.h - what the document and job tests of the store share: a
 * store in a fresh temporary directory with one tenant and one dataset,
 * uploads made through the spool, documents filled with every field, a job
 * driven stage by stage, raw SQL on the database file (to look at rows the
 * interface does not show, or to corrupt them on purpose), and the
 * consistency check.
 */
#ifndef RG_TESTS_STORE_FIXTURE_H
#define RG_TESTS_STORE_FIXTURE_H

#include "core/arena.h"
#include "store/store.h"

#define FX_ARENA_MAX ((size_t)64 << 20)

typedef struct store_fx {
    char root[64]; /* mkdtemp directory, removed by fx_close */
    char data[96]; /* root/data: the store's directory */
    char db[128];  /* data/ragd.db */
    rg_store *s;
    rg_arena *a;   /* freed by fx_close */
    rg_tenant ten; /* "acme" */
    rg_dataset ds; /* "kb" of acme, no doc_form or technique yet */
} store_fx;

/* Opens a store with a tenant and a dataset; false (with a recorded failure)
 * when that did not work, in which case everything is cleaned up already. */
bool fx_open(store_fx *f);
/* Closes the store and removes the directory. */
void fx_close(store_fx *f);
/* Closes and reopens the store (same directory). */
bool fx_reopen(store_fx *f);
/* Adds a dataset named name to tenant_id (a static or long-lived string). */
void fx_dataset(store_fx *f, const char *tenant_id, const char *name, rg_dataset *out);

/* Writes text to a spool file and adopts it as a new upload described in *u. */
void fx_upload(store_fx *f, rg_upload *u, const char *name, const char *text);
/* Fills a new document of dataset ds (tenant tenant_id) with its own adopted
 * upload; name must outlive d. */
void fx_doc_fill(store_fx *f, rg_document *d, const char *tenant_id, const char *dataset_id,
                 const char *name, const char *batch);
/* fx_doc_fill for the fixture's dataset, then rg_store_document_insert (checked). */
void fx_doc_add(store_fx *f, rg_document *d, const char *name, const char *batch);

/* Moves the claimed job's document through parsing, cleaning and splitting
 * and stores n segments (word_count 10 each, one child chunk each); the
 * segment ids are written to ids (n entries, may be NULL). */
void fx_job_split(store_fx *f, const rg_job *job, int n, char (*ids)[RG_UUID_LEN + 1]);
/* Indexes every pending segment of the job's document, tokens 5 each. */
void fx_job_index_all(store_fx *f, const rg_job *job);
/* Claims the next job (checked) and completes its document with n segments,
 * then finishes the job; *out (nullable) is the job. */
void fx_complete_next(store_fx *f, int n, rg_job *out);
/* One rg_segment_index for segment_id with a 4-float vector. */
rg_segment_index fx_index_item(const char *segment_id);

/* A new segment (id, node id and hash set) with content and word_count, for
 * rg_store_segments_add; content must outlive it. */
rg_segment fx_segment(const char *content, int64_t word_count);
/* The ids of a document's segments by position, into an arena array (*n of them). */
char (*fx_segment_ids(store_fx *f, const char *document_id, size_t *n))[RG_UUID_LEN + 1];
/* The index version of a dataset of the fixture's tenant (-1 when that fails). */
int64_t fx_version(store_fx *f, const char *dataset_id);

/* Runs SQL on the database file through a connection of its own; returns the
 * SQLite result code. */
int fx_sql(store_fx *f, const char *sql);
/* Runs a query of one integer; -1 when it fails. */
long long fx_sql_int(store_fx *f, const char *sql);
/* Records a failure (with the reason) unless rg_store_check agrees. */
#define FX_CHECK_OK(f) fx_check_ok((f), __FILE__, __LINE__)
void fx_check_ok(store_fx *f, const char *file, int line);

/* Reads one document of the fixture's dataset into *out (arena f->a). */
rg_rc fx_get(store_fx *f, const char *id, rg_document *out);
/* The fixture dataset as stored now. */
rg_dataset fx_dataset_now(store_fx *f);

#endif
