/*
 * pipeline.h - one indexing job, from the uploaded bytes to a completed (or
 * failed) document: parse -> clean -> split -> index, each stage recorded in
 * the store as it ends.
 *
 * Every write goes through the store's job-owned functions, so a document
 * that is deleted, paused or taken over (watchdog, update) stops the job at
 * its next write with nothing written.  Indexing is done in batches, each
 * one durable before the next starts, so a crash loses at most the batch in
 * flight and a restarted job continues where the last batch ended: no
 * segment is indexed twice and none is lost.
 */
#ifndef RG_INGEST_PIPELINE_H
#define RG_INGEST_PIPELINE_H

#include "core/arena.h"
#include "core/common.h"
#include "ingest/process_rule.h"
#include "store/store.h"

#include <stdatomic.h>

#define RG_PIPELINE_BATCH 32 /* segments indexed (and committed) together */

typedef struct rg_pipeline_opts {
    size_t batch;     /* segments per indexing batch (0: RG_PIPELINE_BATCH) */
    int64_t delay_ms; /* pause before each indexing batch (throttling; 0: none) */
} rg_pipeline_opts;

/* Runs the claimed job until its document is completed, in error, paused or
 * gone, or until *stop becomes true (the job is then left running and is
 * recovered at the next start).  Ends the job in the store (except when
 * stopped).  Problems of the document become its error; the return value is
 * RG_OK, or RG_ECANCELED when stopped early. */
rg_rc rg_pipeline_run(rg_store *s, const rg_job *job, const rg_pipeline_opts *opt,
                      const atomic_bool *stop);

/* The child chunks of a parent-child segment's content, split by rule's
 * subchunk rule exactly as indexing splits them (type automatic, positions
 * from 1, new ids, segment_id set); in the arena.  For regenerating the
 * children of an edited parent. */
RG_WUR rg_rc rg_pipeline_children(rg_arena *a, const rg_process_rule *rule, const char *segment_id,
                                  rg_str content, rg_child_chunk **out, size_t *n);

#endif
