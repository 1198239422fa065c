/*
 * openai.c - embedding models served by an OpenAI-compatible HTTP service
 * (provider "openai_api_compatible").  The design is described in openai.h;
 * the response parser declared in openai_int.h comes first, then embed() and
 * start-up; the HTTP exchange (retries, backoff, in-flight slots, URL and
 * list checks, the service's error message) is remote.c's.
 */
#include "embed/openai.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/str.h"
#include "embed/openai_int.h"
#include "embed/registry.h"
#include "embed/remote.h"
#include "embed/remote_int.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define OA_PROVIDER "openai_api_compatible"
/* Code points of one text that are sent; the rest is cut at a character
 * boundary.  8191 tokens (OpenAI's limit) at ~4 characters a token. */
#define OA_CONTEXT_CHARS 32768
/* Largest response body read (decoded bytes); beyond it the transfer is
 * aborted.  2048 texts x 3072 dims of JSON numbers is ~130 MB, so large
 * batches of wide models need a smaller --embed-openai-batch. */
#define OA_MAX_RESPONSE ((size_t)64 << 20)
/* Largest request body built for one batch. */
#define OA_MAX_REQUEST ((size_t)64 << 20)
/* The probe of a model listed without dimensions gets at most this long. */
#define OA_PROBE_TIMEOUT_S 10
/* The settings' prefix, for messages. */
#define OA_OPT "--embed-openai"

/* ---- the response -------------------------------------------------------- */

static rg_rc bad_resp(char *err, size_t errlen, const char *fmt, ...) RG_PRINTF(3, 4);
static rg_rc bad_resp(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return RG_EUPSTREAM;
}

/* Copies one embedding array into row (dims floats), L2-normalised. */
static rg_rc take_row(json_t *emb, size_t dims, float *row, char *err, size_t errlen)
{
    double sum = 0;
    for (size_t d = 0; d < dims; d++) {
        json_t *x = json_array_get(emb, d);
        double v = json_number_value(x);
        if (!json_is_number(x) || !isfinite(v) || !isfinite((float)v))
            return bad_resp(err, errlen,
                            "the service returned an embedding with a value that is not a "
                            "finite number");
        row[d] = (float)v;
        sum += (double)row[d] * row[d];
    }
    if (sum > 0) {
        double inv = 1.0 / sqrt(sum);
        for (size_t d = 0; d < dims; d++)
            row[d] = (float)(row[d] * inv);
    }
    return RG_OK;
}

/* Places every item of data into out; seen has n flags. */
static rg_rc take_rows(json_t *data, size_t n, size_t dims, float *out, bool *seen, char *err,
                       size_t errlen)
{
    for (size_t i = 0; i < n; i++) {
        json_t *it = json_array_get(data, i), *emb = json_object_get(it, "embedding");
        json_t *jx = json_object_get(it, "index");
        if (!json_is_array(emb))
            return bad_resp(err, errlen,
                            "malformed response: item %zu has no \"embedding\" array of numbers "
                            "(base64 encoding is not read)",
                            i);
        json_int_t at = (json_int_t)i;
        if (jx) {
            if (!json_is_integer(jx) || json_integer_value(jx) < 0 ||
                json_integer_value(jx) >= (json_int_t)n)
                return bad_resp(err, errlen, "malformed response: item %zu has a bad \"index\"", i);
            at = json_integer_value(jx);
        }
        if (seen[at])
            return bad_resp(err, errlen, "malformed response: index %lld appears twice",
                            (long long)at);
        seen[at] = true;
        if (json_array_size(emb) != dims)
            return bad_resp(err, errlen,
                            "the service returned %zu dimensions, the model is configured "
                            "with %zu",
                            json_array_size(emb), dims);
        RG_TRY(take_row(emb, dims, out + (size_t)at * dims, err, errlen));
    }
    return RG_OK;
}

rg_rc rg_openai__parse_response(const char *body, size_t len, size_t n, int dims, float *out,
                                int *got_dims, char *err, size_t errlen)
{
    json_error_t je;
    json_t *root = json_loadb(body, len, 0, &je);
    if (!root)
        return bad_resp(err, errlen, "malformed JSON from the service: %s", je.text);
    json_t *data = json_object_get(root, "data");
    rg_rc rc = RG_OK;
    if (!json_is_array(data)) {
        char msg[RG_REMOTE_MESSAGE_MAX + 8];
        rg_remote__error_message(body, len, msg, sizeof msg);
        rc = bad_resp(err, errlen, "malformed response (no \"data\" array): %s", msg);
    } else if (json_array_size(data) != n) {
        rc = bad_resp(err, errlen, "the service returned %zu embeddings for %zu texts",
                      json_array_size(data), n);
    } else if (dims == 0) { /* the probe: learn the width from the first row */
        json_t *emb = json_object_get(json_array_get(data, 0), "embedding");
        size_t w = json_array_size(emb);
        if (n != 1 || w == 0 || w > RG_REMOTE_MAX_DIMS)
            rc = bad_resp(err, errlen, "the service returned an embedding of %zu numbers", w);
        else
            *got_dims = (int)w;
    } else {
        bool *seen = n ? rg_xcalloc(n, sizeof *seen) : NULL;
        rc = take_rows(data, n, (size_t)dims, out, seen, err, errlen);
        rg_free(seen);
    }
    json_decref(root);
    return rc;
}

/* ---- the service and its models ------------------------------------------ */

typedef struct oa_model {
    rg_embed_model model; /* first: embed() recovers the oa_model from it */
    rg_remote *svc;
    size_t batch;
} oa_model;

/* ---- embed() ------------------------------------------------------------- */

/* The request body for texts[idx[0..k)]. */
static rg_rc request_body(const char *model, const rg_str *texts, const size_t *idx, size_t k,
                          rg_buf *b)
{
    rg_jsonw w;
    rg_jsonw_init(&w, b);
    rg_jsonw_obj(&w);
    rg_jsonw_kstr(&w, "model", model);
    rg_jsonw_key(&w, "input");
    rg_jsonw_arr(&w);
    for (size_t i = 0; i < k; i++) {
        rg_str t = texts[idx[i]];
        rg_jsonw_str(&w, (rg_str){t.p, rg_remote__cut(t, OA_CONTEXT_CHARS)});
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_kstr(&w, "encoding_format", "float");
    rg_jsonw_obj_end(&w);
    return rg_buf_failed(b) ? RG_ETOOBIG : RG_OK;
}

/* Embeds texts[idx[0..k)] into their rows of out. */
static rg_rc embed_batch(const oa_model *om, rg_remote_conn *conn, const rg_str *texts,
                         const size_t *idx, size_t k, float *tmp, float *out, char *err)
{
    size_t dims = (size_t)om->model.dims;
    rg_buf body;
    rg_buf_init(&body, OA_MAX_REQUEST);
    rg_rc rc = request_body(om->model.name, texts, idx, k, &body);
    if (rc != RG_OK) {
        rg_buf_free(&body);
        return rg_embed_fail(err, RG_EINVAL,
                             "a request of %zu texts is over %zu MiB; lower "
                             "--embed-openai-batch",
                             k, OA_MAX_REQUEST >> 20);
    }
    rg_buf resp;
    rg_buf_init(&resp, OA_MAX_RESPONSE);
    char line[RG_EMBED_ERR_MAX];
    rc = rg_remote_post(om->svc, conn, om->model.name, &body, 0, -1, &resp, line, sizeof line);
    if (rc == RG_OK)
        rc = rg_openai__parse_response(resp.p, resp.len, k, om->model.dims, tmp, NULL, line,
                                       sizeof line);
    if (rc == RG_OK)
        for (size_t i = 0; i < k; i++)
            memcpy(out + idx[i] * dims, tmp + i * dims, dims * sizeof *out);
    else if (rc != RG_ENOMEM)
        rc = rg_embed_fail(err, rc, "%s", line);
    rg_buf_free(&resp);
    rg_buf_free(&body);
    return rc;
}

static rg_rc oa_embed(const rg_embed_model *m, const rg_str *texts, size_t n, float *out, char *err)
{
    const oa_model *om = (const oa_model *)m;
    size_t dims = (size_t)m->dims, batch = om->batch;
    memset(out, 0, n * dims * sizeof *out); /* empty texts stay zero and are not sent */
    for (size_t i = 0; i < n; i++)
        if (!rg_utf8_valid(texts[i].p, texts[i].n))
            return rg_embed_fail(err, RG_EINVAL, "text %zu is not valid UTF-8", i);
    size_t *idx = rg_try_malloc(batch * sizeof *idx);
    float *tmp = rg_try_malloc(batch * dims * sizeof *tmp);
    rg_remote_conn *conn = idx && tmp ? rg_remote_conn_open() : NULL;
    rg_rc rc = conn ? RG_OK : RG_ENOMEM;
    for (size_t i = 0, k = 0; rc == RG_OK && i < n; i++) {
        if (texts[i].n)
            idx[k++] = i;
        if (k == batch || (i + 1 == n && k > 0)) {
            rc = embed_batch(om, conn, texts, idx, k, tmp, out, err);
            k = 0;
        }
    }
    rg_remote_conn_close(conn);
    rg_free(tmp);
    rg_free(idx);
    return rc;
}

/* ---- start-up ------------------------------------------------------------ */

/* Asks the service for one embedding of "ragd" to learn name's width. */
static rg_rc probe(rg_remote *s, long timeout_s, const char *name, int *dims, char *err,
                   size_t errlen)
{
    static const rg_str text = RG_STR("ragd");
    static const size_t zero = 0;
    rg_remote_conn *conn = rg_remote_conn_open();
    if (!conn)
        return RG_ENOMEM;
    rg_buf body;
    rg_buf_init(&body, OA_MAX_REQUEST);
    rg_rc rc = request_body(name, &text, &zero, 1, &body);
    rg_buf resp;
    rg_buf_init(&resp, OA_MAX_RESPONSE);
    long t = timeout_s < OA_PROBE_TIMEOUT_S ? timeout_s : OA_PROBE_TIMEOUT_S;
    if (rc == RG_OK)
        rc = rg_remote_post(s, conn, name, &body, t, 0, &resp, err, errlen);
    if (rc == RG_OK)
        rc = rg_openai__parse_response(resp.p, resp.len, 1, 0, NULL, dims, err, errlen);
    rg_buf_free(&resp);
    rg_buf_free(&body);
    rg_remote_conn_close(conn);
    return rc;
}

/* Learns (when needed) the width of sp and registers it. */
static rg_rc add_model(rg_remote *s, const rg_config *c, const rg_remote__spec *sp, char *err,
                       size_t errlen)
{
    int dims = sp->dims;
    if (dims == 0) {
        char why[RG_EMBED_ERR_MAX];
        if (probe(s, (long)c->openai_timeout_s, sp->name, &dims, why, sizeof why) != RG_OK) {
            snprintf(err, errlen,
                     "--embed-openai-models: cannot learn the dimensions of model %s from %s: "
                     "%s; give it as %s:DIMENSIONS to start without asking the service",
                     sp->name, rg_remote_base(s), why, sp->name);
            return RG_EUPSTREAM;
        }
        rg_info("openai: model %s has %d dimensions (asked the service)", sp->name, dims);
    }
    oa_model *om = rg_xcalloc(1, sizeof *om);
    char *name = rg_xstrdup(sp->name);
    om->svc = s;
    om->batch = (size_t)c->openai_batch;
    om->model = (rg_embed_model){.provider = OA_PROVIDER,
                                 .name = name,
                                 .label = name,
                                 .dims = dims,
                                 .context_size = OA_CONTEXT_CHARS,
                                 .revision = rg_remote_base(s),
                                 .cache = true, /* a call costs a round trip, or money */
                                 .embed = oa_embed};
    rg_rc rc = rg_embed_register(&om->model);
    if (rc != RG_OK) {
        snprintf(err, errlen, "--embed-openai-models: cannot register model %s: %s", sp->name,
                 rc == RG_ECONFLICT ? "already registered" : "too many models");
        rg_free(name);
        rg_free(om);
    }
    return rc;
}

rg_rc rg_openai_start(const rg_config *c, char *err, size_t errlen)
{
    static rg_remote__spec specs[RG_REMOTE_MAX_MODELS]; /* start-up only */
    static rg_remote *service; /* shared by the models, never freed; kept reachable */
    size_t n;
    rg_remote_opts o = {.opt = OA_OPT,
                        .tag = "openai",
                        .url = c->openai_url,
                        .path = "/embeddings",
                        .key = c->openai_key,
                        .timeout_s = (long)c->openai_timeout_s,
                        .retries = (int)c->openai_retries,
                        .inflight = (int)c->openai_inflight};
    RG_TRY(rg_remote_start(&o, c->openai_models, true, specs, &n, &service, err, errlen));
    if (!service)
        return RG_OK; /* not configured */
    for (size_t i = 0; i < n; i++)
        RG_TRY(add_model(service, c, &specs[i], err, errlen));
    rg_info("openai: %zu model(s) of %s (batch %lld, %lld in flight, timeout %lld s, %lld retries)",
            n, rg_remote_base(service), (long long)c->openai_batch, (long long)c->openai_inflight,
            (long long)c->openai_timeout_s, (long long)c->openai_retries);
    return RG_OK;
}
