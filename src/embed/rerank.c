/*
 * rerank.c - the registry of rerank models and the rerank models of an
 * OpenAI-compatible service (provider "openai_api_compatible").  The design
 * is described in rerank.h; the registry comes first, then the pure helpers
 * of rerank_int.h (request body, response), then rerank() and start-up.  The
 * HTTP exchange is remote.c's, shared with the embeddings client.
 *
 * Registry: slots are only appended and never changed once published, so
 * readers take no lock; a writer fills the next slot under the mutex and
 * publishes the count with a release store (readers load with acquire).
 */
#include "embed/rerank.h"

#include "core/alloc.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "embed/remote.h"
#include "embed/remote_int.h"
#include "embed/rerank_int.h"

#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#define RR_PROVIDER "openai_api_compatible"
/* The settings' prefix, for messages. */
#define RR_OPT "--rerank"
/* Largest response body read: n results of an index and a score each. */
#define RR_MAX_RESPONSE ((size_t)8 << 20)
/* Largest request body built (the documents of one call, JSON-escaped). */
#define RR_MAX_REQUEST ((size_t)64 << 20)

/* ---- the registry ----------------------------------------------------------- */

static const rg_rerank_model *models[RG_RERANK_MAX_MODELS];
static _Atomic size_t n_models;
static pthread_mutex_t register_lock = PTHREAD_MUTEX_INITIALIZER;

size_t rg_rerank_models(const rg_rerank_model *const **out)
{
    if (out)
        *out = models;
    return atomic_load_explicit(&n_models, memory_order_acquire);
}

const rg_rerank_model *rg_rerank_find(const char *provider, const char *name)
{
    size_t n = provider && name ? rg_rerank_models(NULL) : 0;
    for (size_t i = 0; i < n; i++)
        if (strcmp(models[i]->provider, provider) == 0 && strcmp(models[i]->name, name) == 0)
            return models[i];
    return NULL;
}

rg_rc rg_rerank_register(const rg_rerank_model *m)
{
    if (!m || !m->provider || !*m->provider || !m->name || !*m->name || !m->label || !m->rerank ||
        m->context_size <= 0)
        return RG_EINVAL;
    pthread_mutex_lock(&register_lock);
    size_t n = atomic_load_explicit(&n_models, memory_order_relaxed);
    rg_rc rc = rg_rerank_find(m->provider, m->name) ? RG_ECONFLICT
               : n == RG_RERANK_MAX_MODELS          ? RG_ENOMEM
                                                    : RG_OK;
    if (rc == RG_OK) {
        models[n] = m;
        atomic_store_explicit(&n_models, n + 1, memory_order_release);
    }
    pthread_mutex_unlock(&register_lock);
    return rc;
}

/* ---- request and response ---------------------------------------------------- */

rg_rc rg_rerank__request(const char *model, rg_str query, const rg_str *docs, size_t n, rg_buf *b)
{
    rg_jsonw w;
    rg_jsonw_init(&w, b);
    rg_jsonw_obj(&w);
    rg_jsonw_kstr(&w, "model", model);
    rg_jsonw_key(&w, "query");
    rg_jsonw_str(&w, (rg_str){query.p, rg_remote__cut(query, RG_RERANK_DOC_CHARS)});
    rg_jsonw_key(&w, "documents");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < n; i++)
        rg_jsonw_str(&w, (rg_str){docs[i].p, rg_remote__cut(docs[i], RG_RERANK_DOC_CHARS)});
    rg_jsonw_arr_end(&w);
    rg_jsonw_kint(&w, "top_n", (int64_t)n);
    rg_jsonw_obj_end(&w);
    return rg_buf_failed(b) ? RG_ETOOBIG : RG_OK;
}

static rg_rc bad(char *err, size_t errlen, const char *fmt, ...) RG_PRINTF(3, 4);
static rg_rc bad(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return RG_EUPSTREAM;
}

/* Reads every item of results into scores (NAN: not given); *logits is set
 * when a score lies outside [0,1]. */
static rg_rc take_results(json_t *results, size_t n, double *scores, bool *logits, char *err,
                          size_t errlen)
{
    for (size_t i = 0; i < json_array_size(results); i++) {
        json_t *it = json_array_get(results, i), *jx = json_object_get(it, "index");
        json_t *js = json_object_get(it, "relevance_score");
        if (!js)
            js = json_object_get(it, "score");
        if (!json_is_integer(jx) || json_integer_value(jx) < 0 ||
            json_integer_value(jx) >= (json_int_t)n)
            return bad(err, errlen, "malformed response: result %zu has no valid \"index\"", i);
        size_t at = (size_t)json_integer_value(jx);
        double s = json_number_value(js);
        if (!json_is_number(js) || !isfinite(s))
            return bad(err, errlen,
                       "malformed response: result %zu has no finite \"relevance_score\"", i);
        if (!isnan(scores[at]))
            return bad(err, errlen, "malformed response: index %zu appears twice", at);
        scores[at] = s;
        *logits |= s < 0 || s > 1;
    }
    return RG_OK;
}

rg_rc rg_rerank__parse_response(const char *body, size_t len, size_t n, double *scores, char *err,
                                size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!root)
        return bad(err, errlen, "malformed JSON from the service: %s", je.text);
    json_t *results = json_is_array(root) ? root : json_object_get(root, "results");
    rg_rc rc = RG_OK;
    bool logits = false;
    for (size_t i = 0; i < n; i++)
        scores[i] = NAN;
    if (!json_is_array(results)) {
        char msg[RG_REMOTE_MESSAGE_MAX + 8];
        rg_remote__error_message(body, len, msg, sizeof msg);
        rc = bad(err, errlen, "malformed response (no \"results\" array): %s", msg);
    } else
        rc = take_results(results, n, scores, &logits, err, errlen);
    for (size_t i = 0; rc == RG_OK && i < n; i++)
        scores[i] = isnan(scores[i]) ? 0 : logits ? 1.0 / (1.0 + exp(-scores[i])) : scores[i];
    json_decref(root);
    return rc;
}

/* ---- rerank() ----------------------------------------------------------------- */

typedef struct rr_model {
    rg_rerank_model model; /* first: rerank() recovers the rr_model from it */
    rg_remote *svc;
} rr_model;

static rg_rc rr_fail(char *err, rg_rc rc, const char *fmt, ...) RG_PRINTF(3, 4);
static rg_rc rr_fail(char *err, rg_rc rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, RG_RERANK_ERR_MAX, fmt, ap);
        va_end(ap);
    }
    return rc;
}

static rg_rc rr_rerank(const rg_rerank_model *m, rg_str query, const rg_str *docs, size_t n,
                       double *scores, char *err)
{
    const rr_model *rm = (const rr_model *)m;
    if (n == 0)
        return RG_OK;
    if (!rg_utf8_valid(query.p, query.n))
        return rr_fail(err, RG_EINVAL, "the query is not valid UTF-8");
    for (size_t i = 0; i < n; i++)
        if (!rg_utf8_valid(docs[i].p, docs[i].n))
            return rr_fail(err, RG_EINVAL, "document %zu is not valid UTF-8", i);
    rg_buf body, resp;
    rg_buf_init(&body, RR_MAX_REQUEST);
    rg_buf_init(&resp, RR_MAX_RESPONSE);
    char line[RG_RERANK_ERR_MAX] = "";
    rg_remote_conn *conn = rg_remote_conn_open();
    rg_rc rc = conn ? rg_rerank__request(m->name, query, docs, n, &body) : RG_ENOMEM;
    if (rc == RG_ETOOBIG)
        snprintf(line, sizeof line, "a rerank request of %zu documents is over %zu MiB", n,
                 RR_MAX_REQUEST >> 20);
    if (rc == RG_OK)
        rc = rg_remote_post(rm->svc, conn, m->name, &body, 0, -1, &resp, line, sizeof line);
    if (rc == RG_OK)
        rc = rg_rerank__parse_response(resp.p, resp.len, n, scores, line, sizeof line);
    if (rc != RG_OK && rc != RG_ENOMEM)
        rc = rr_fail(err, rc == RG_ETOOBIG ? RG_EINVAL : rc, "%s", line);
    rg_remote_conn_close(conn);
    rg_buf_free(&resp);
    rg_buf_free(&body);
    return rc;
}

/* ---- start-up ------------------------------------------------------------------ */

rg_rc rg_rerank_start(const rg_config *c, char *err, size_t errlen)
{
    static rg_remote__spec specs[RG_REMOTE_MAX_MODELS]; /* start-up only */
    static rg_remote *service; /* shared by the models, never freed; kept reachable */
    size_t n;
    rg_remote_opts o = {.opt = RR_OPT,
                        .tag = "rerank",
                        .url = c->rerank_url,
                        .path = "/rerank",
                        .key = c->rerank_key,
                        .timeout_s = (long)c->rerank_timeout_s,
                        .retries = (int)c->rerank_retries,
                        .inflight = (int)c->rerank_inflight};
    RG_TRY(rg_remote_start(&o, c->rerank_models, false, specs, &n, &service, err, errlen));
    if (!service)
        return RG_OK; /* not configured */
    for (size_t i = 0; i < n; i++) {
        rr_model *rm = rg_xcalloc(1, sizeof *rm);
        char *name = rg_xstrdup(specs[i].name);
        rm->svc = service;
        rm->model = (rg_rerank_model){.provider = RR_PROVIDER,
                                      .name = name,
                                      .label = name,
                                      .context_size = RG_RERANK_DOC_CHARS,
                                      .rerank = rr_rerank};
        rg_rc rc = rg_rerank_register(&rm->model);
        if (rc != RG_OK) {
            snprintf(err, errlen, "--rerank-models: cannot register model %s: %s", name,
                     rc == RG_ECONFLICT ? "already registered" : "too many models");
            rg_free(name);
            rg_free(rm);
            return rc;
        }
    }
    rg_info("rerank: %zu model(s) of %s (%lld in flight, timeout %lld s, %lld retries)", n,
            rg_remote_base(service), (long long)c->rerank_inflight, (long long)c->rerank_timeout_s,
            (long long)c->rerank_retries);
    return RG_OK;
}
