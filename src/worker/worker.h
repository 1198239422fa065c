/*
 * worker.h - the indexing workers: N threads that claim jobs from the store's
 * durable queue and run the pipeline, plus a watchdog.
 *
 * Jobs are claimed fairly across tenants by the store.  Workers sleep on a
 * condition variable that rg_workers_wake signals when a job is queued, and
 * poll the queue every second anyway, so a lost wake-up costs at most a
 * second.  The watchdog ends documents with no progress for stall_s seconds
 * in error with the reason, so nothing waits forever.
 */
#ifndef RG_WORKER_WORKER_H
#define RG_WORKER_WORKER_H

#include "core/common.h"
#include "ingest/pipeline.h"
#include "store/store.h"

typedef struct rg_workers rg_workers;

/* Recovers jobs left running by a previous process, then starts n workers
 * and the watchdog.  *out is freed by rg_workers_stop. */
RG_WUR rg_rc rg_workers_start(rg_store *s, int n, int64_t stall_s, const rg_pipeline_opts *opt,
                              rg_workers **out);
/* Tells the workers a job was queued (cheap; safe from any thread; w may be NULL). */
void rg_workers_wake(void *w);
/* Asks every worker to stop after its current stage or batch and waits up to
 * wait_ms for them.  Returns true (w freed) when all have stopped; false when
 * one is still inside a long step (an extraction), in which case w and the
 * store must be left alone: the process may exit, and the job in flight
 * resumes at the next start. */
bool rg_workers_stop(rg_workers *w, int64_t wait_ms);

#endif
