/*
 * worker.c - worker threads and the watchdog.
 *
 * Each worker loops: claim a job (the store picks fairly), run it through
 * the pipeline, repeat; with an empty queue it waits on the condition
 * variable for up to one second.  The watchdog thread wakes every few seconds
 * and expires stalled jobs through the store.  Stopping sets an atomic flag
 * that the pipeline checks between stages and batches.
 */
#include "worker/worker.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "ingest/pipeline.h"

#include <pthread.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdatomic.h>
#include <time.h>

#define WATCHDOG_PERIOD_MS 2000
#define RG_WORKER_NICE     10 /* added to the workers' nice value (Linux: per thread) */

struct rg_workers {
    rg_store *s;
    int n;
    int64_t stall_s;
    rg_pipeline_opts opt;
    pthread_t *threads, watchdog;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    uint64_t wakeups;
    atomic_bool stop;
};

static uint64_t wake_count(rg_workers *w)
{
    pthread_mutex_lock(&w->mu);
    uint64_t n = w->wakeups;
    pthread_mutex_unlock(&w->mu);
    return n;
}

/* Waits until a wake-up newer than seen, stop, or ms elapse. */
static void wait_ms(rg_workers *w, uint64_t seen, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&w->mu);
    while (!atomic_load(&w->stop) && w->wakeups == seen)
        if (pthread_cond_timedwait(&w->cv, &w->mu, &ts) != 0)
            break;
    pthread_mutex_unlock(&w->mu);
}

/* Indexing is background work: worker threads run at nice +RG_WORKER_NICE
 * (per thread on Linux), so API requests, the status poll above all, are
 * served first while every core indexes.  Not SCHED_IDLE: under a sustained
 * request load idle-class threads could starve and the watchdog would fail
 * documents that were merely waiting; nice +10 still gets about a tenth. */
static void lower_priority(void)
{
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (setpriority(PRIO_PROCESS, (id_t)tid, RG_WORKER_NICE) != 0)
        rg_debug("worker: could not lower the thread priority");
}

static void *worker_main(void *arg)
{
    rg_workers *w = arg;
    lower_priority();
    while (!atomic_load(&w->stop)) {
        rg_job job;
        uint64_t seen = wake_count(w); /* before the claim, so no wake-up is missed */
        rg_rc rc = rg_store_job_claim(w->s, &job);
        if (rc == RG_ENOTFOUND) {
            wait_ms(w, seen, 1000);
            continue;
        }
        if (rc != RG_OK) {
            rg_warn("worker: claiming a job failed (%s); retrying", rg_rc_name(rc));
            wait_ms(w, seen, 1000);
            continue;
        }
        rg_debug("worker: job %lld (document %s)", (long long)job.id, job.document_id);
        (void)rg_pipeline_run(w->s, &job, &w->opt, &w->stop);
    }
    return NULL;
}

static void *watchdog_main(void *arg)
{
    rg_workers *w = arg;
    char reason[160];
    snprintf(reason, sizeof reason,
             "indexing made no progress for %lld seconds and was stopped by the watchdog; "
             "retry the document",
             (long long)w->stall_s);
    while (!atomic_load(&w->stop)) {
        wait_ms(w, wake_count(w), WATCHDOG_PERIOD_MS);
        int64_t n = 0;
        if (rg_store_jobs_expire(w->s, w->stall_s, reason, &n) == RG_OK && n > 0)
            rg_warn("watchdog: %lld stalled document(s) marked as error", (long long)n);
    }
    return NULL;
}

rg_rc rg_workers_start(rg_store *s, int n, int64_t stall_s, const rg_pipeline_opts *opt,
                       rg_workers **out)
{
    int64_t recovered = 0;
    RG_TRY(rg_store_jobs_recover(s, &recovered));
    if (recovered)
        rg_info("workers: resuming %lld job(s) left running by the previous process",
                (long long)recovered);
    rg_workers *w = rg_xcalloc(1, sizeof *w);
    w->s = s;
    w->n = n > 0 ? n : 1;
    w->stall_s = stall_s;
    w->opt = *opt;
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->threads = rg_xcalloc((size_t)w->n, sizeof *w->threads);
    for (int i = 0; i < w->n; i++)
        RG_ASSERT(pthread_create(&w->threads[i], NULL, worker_main, w) == 0);
    RG_ASSERT(pthread_create(&w->watchdog, NULL, watchdog_main, w) == 0);
    *out = w;
    return RG_OK;
}

void rg_workers_wake(void *arg)
{
    rg_workers *w = arg;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->wakeups++;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static bool join_by(pthread_t t, const struct timespec *deadline)
{
    return pthread_timedjoin_np(t, NULL, deadline) == 0;
}

bool rg_workers_stop(rg_workers *w, int64_t wait_ms)
{
    if (!w)
        return true;
    atomic_store(&w->stop, true);
    pthread_mutex_lock(&w->mu);
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += wait_ms / 1000;
    dl.tv_nsec += (wait_ms % 1000) * 1000000;
    if (dl.tv_nsec >= 1000000000) {
        dl.tv_sec++;
        dl.tv_nsec -= 1000000000;
    }
    bool all = true;
    for (int i = 0; i < w->n; i++)
        if (w->threads[i] && join_by(w->threads[i], &dl))
            w->threads[i] = 0;
        else if (w->threads[i])
            all = false;
    all = join_by(w->watchdog, &dl) && all;
    if (!all) {
        rg_warn("workers: a worker is still busy; leaving its job to resume at the next start");
        return false;
    }
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    rg_free(w->threads);
    rg_free(w);
    return true;
}
