/*
 * openai.c - embedding models served by an OpenAI-compatible HTTP service
 * (provider "openai_api_compatible").  The design is described in openai.h;
 * the pure helpers declared in openai_int.h come first, then the HTTP client
 * (libcurl), embed() and start-up.
 */
#include "embed/openai.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/clock.h"
#include "core/jsonw.h"
#include "core/log.h"
#include "core/str.h"
#include "embed/openai_int.h"
#include "embed/registry.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

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
/* Connecting gets at most this long (and never more than the whole timeout). */
#define OA_CONNECT_TIMEOUT_S 10
/* Bytes of a Retry-After value kept. */
#define OA_RETRY_AFTER_MAX 64

/* ---- the models list ----------------------------------------------------- */

static bool all_digits(rg_str s)
{
    if (s.n == 0)
        return false;
    for (size_t i = 0; i < s.n; i++)
        if (s.p[i] < '0' || s.p[i] > '9')
            return false;
    return true;
}

/* Parses one trimmed, non-empty entry into sp. */
static rg_rc parse_entry(rg_str e, rg_openai__spec *sp, char *err, size_t errlen)
{
    rg_str name = e;
    sp->dims = 0;
    const char *colon = memrchr(e.p, ':', e.n);
    if (colon) {
        rg_str tail = {colon + 1, e.n - (size_t)(colon + 1 - e.p)};
        if (all_digits(tail)) {
            int64_t d;
            if (rg_str_to_i64(tail, 1, RG_OPENAI_MAX_DIMS, &d) != RG_OK) {
                snprintf(err, errlen, "--embed-openai-models: %.*s: dimensions must be 1-%d",
                         (int)(e.n > 200 ? 200 : e.n), e.p, RG_OPENAI_MAX_DIMS);
                return RG_EINVAL;
            }
            sp->dims = (int)d;
            name = (rg_str){e.p, (size_t)(colon - e.p)};
        }
    }
    if (name.n == 0 || name.n > RG_OPENAI_MAX_NAME) {
        snprintf(err, errlen, "--embed-openai-models: a model name must have 1-%d bytes",
                 RG_OPENAI_MAX_NAME);
        return RG_EINVAL;
    }
    for (size_t i = 0; i < name.n; i++)
        if ((unsigned char)name.p[i] <= ' ' || name.p[i] == 0x7F) {
            snprintf(err, errlen,
                     "--embed-openai-models: model name \"%.*s\" has a space or control "
                     "character",
                     (int)name.n, name.p);
            return RG_EINVAL;
        }
    memcpy(sp->name, name.p, name.n);
    sp->name[name.n] = 0;
    return RG_OK;
}

rg_rc rg_openai__parse_models(const char *list, rg_openai__spec *out, size_t *n, char *err,
                              size_t errlen)
{
    *n = 0;
    const char *p = list;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        rg_str e = rg_str_trim((rg_str){p, len});
        p += len + (end ? 1 : 0);
        if (e.n == 0)
            continue;
        if (*n == RG_OPENAI_MAX_MODELS) {
            snprintf(err, errlen, "--embed-openai-models: more than %d models",
                     RG_OPENAI_MAX_MODELS);
            return RG_EINVAL;
        }
        RG_TRY(parse_entry(e, &out[*n], err, errlen));
        for (size_t i = 0; i < *n; i++)
            if (strcmp(out[i].name, out[*n].name) == 0) {
                snprintf(err, errlen, "--embed-openai-models: model %s is listed twice",
                         out[i].name);
                return RG_EINVAL;
            }
        (*n)++;
    }
    if (*n == 0) {
        snprintf(err, errlen, "--embed-openai-models: no model given (NAME[:DIMENSIONS],...)");
        return RG_EINVAL;
    }
    return RG_OK;
}

/* ---- the base URL -------------------------------------------------------- */

static rg_rc url_bad(char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "--embed-openai-url: %s", why);
    return RG_EINVAL;
}

rg_rc rg_openai__check_url(const char *url, char *base, size_t cap, bool *v1, char *err,
                           size_t errlen)
{
    rg_str u = rg_str_c(url);
    size_t skip;
    if (u.n >= 7 && strncasecmp(u.p, "http://", 7) == 0)
        skip = 7;
    else if (u.n >= 8 && strncasecmp(u.p, "https://", 8) == 0)
        skip = 8;
    else
        return url_bad(err, errlen, "must start with http:// or https://");
    for (size_t i = 0; i < u.n; i++) {
        unsigned char ch = (unsigned char)u.p[i];
        if (ch <= ' ' || ch == 0x7F)
            return url_bad(err, errlen, "has white space or a control character");
        if (ch == '?' || ch == '#')
            return url_bad(err, errlen, "must not have a query or fragment");
    }
    const char *host = u.p + skip, *slash = strchr(host, '/');
    size_t host_n = slash ? (size_t)(slash - host) : strlen(host);
    if (host_n == 0)
        return url_bad(err, errlen, "has no host");
    if (memchr(host, '@', host_n))
        return url_bad(err, errlen,
                       "must not carry user info (give the key with --embed-openai-key)");
    while (u.n > skip + host_n && u.p[u.n - 1] == '/')
        u.n--;
    if (u.n + 1 > cap)
        return url_bad(err, errlen, "is too long");
    memcpy(base, u.p, u.n);
    base[u.n] = 0;
    *v1 = u.n >= skip + host_n + 3 && memcmp(base + u.n - 3, "/v1", 3) == 0;
    return RG_OK;
}

/* ---- Retry-After and backoff --------------------------------------------- */

bool rg_openai__retry_after(const char *value, int64_t now_s, int64_t *ms)
{
    rg_str v = rg_str_trim(rg_str_c(value));
    int64_t secs;
    if (all_digits(v)) {
        /* any number of digits: a huge value is simply the cap */
        secs = v.n > 9 ? INT32_MAX : 0;
        if (v.n <= 9 && rg_str_to_i64(v, 0, 999999999, &secs) != RG_OK)
            return false;
    } else {
        char tmp[OA_RETRY_AFTER_MAX];
        if (v.n == 0 || v.n >= sizeof tmp)
            return false;
        memcpy(tmp, v.p, v.n);
        tmp[v.n] = 0;
        time_t t = curl_getdate(tmp, NULL);
        if (t == (time_t)-1)
            return false;
        secs = (int64_t)t - now_s;
    }
    if (secs < 0)
        secs = 0;
    *ms = secs > RG_OPENAI_RETRY_AFTER_MAX_MS / 1000 ? RG_OPENAI_RETRY_AFTER_MAX_MS : secs * 1000;
    return true;
}

int64_t rg_openai__backoff_cap_ms(int retry)
{
    int64_t ms = RG_OPENAI_BACKOFF_BASE_MS;
    for (int i = 0; i < retry && ms < RG_OPENAI_BACKOFF_CAP_MS; i++)
        ms *= 2;
    return ms < RG_OPENAI_BACKOFF_CAP_MS ? ms : RG_OPENAI_BACKOFF_CAP_MS;
}

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
        char msg[RG_OPENAI_MESSAGE_MAX + 8];
        rg_openai__error_message(body, len, msg, sizeof msg);
        rc = bad_resp(err, errlen, "malformed response (no \"data\" array): %s", msg);
    } else if (json_array_size(data) != n) {
        rc = bad_resp(err, errlen, "the service returned %zu embeddings for %zu texts",
                      json_array_size(data), n);
    } else if (dims == 0) { /* the probe: learn the width from the first row */
        json_t *emb = json_object_get(json_array_get(data, 0), "embedding");
        size_t w = json_array_size(emb);
        if (n != 1 || w == 0 || w > RG_OPENAI_MAX_DIMS)
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

/* ---- the service's error message ----------------------------------------- */

/* Copies the n bytes at p to out (cap bytes) on one line: control characters
 * and bytes of invalid UTF-8 become '?', never a partial character. */
static void one_line(const char *p, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap;) {
        unsigned char c = (unsigned char)p[i];
        size_t len = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (c >= 0x80 && (i + len > n || !rg_utf8_valid(p + i, len)))
            len = 0; /* not a character: one '?' for this byte */
        if (len <= 1) {
            out[o++] = (len == 0 || c < ' ' || c == 0x7F) ? '?' : (char)c;
            i++;
            continue;
        }
        if (o + len + 1 > cap)
            break;
        memcpy(out + o, p + i, len);
        o += len;
        i += len;
    }
    out[o] = 0;
}

void rg_openai__error_message(const char *body, size_t len, char *out, size_t cap)
{
    if (cap > RG_OPENAI_MESSAGE_MAX + 1)
        cap = RG_OPENAI_MESSAGE_MAX + 1;
    json_t *root = len ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *e = json_object_get(root, "error"), *m = json_object_get(e, "message");
    if (!json_is_string(m))
        m = json_is_string(e) ? e : json_object_get(root, "message");
    if (!json_is_string(m))
        m = json_object_get(root, "detail");
    if (json_is_string(m) && json_string_length(m) > 0)
        one_line(json_string_value(m), json_string_length(m), out, cap);
    else if (len)
        one_line(body, len, out, cap);
    else
        snprintf(out, cap, "(empty body)");
    json_decref(root);
}

/* ---- the service and its models ------------------------------------------ */

typedef struct oa_service {
    char base[sizeof(((rg_config *)0)->openai_url)]; /* no trailing slash */
    char endpoint[sizeof(((rg_config *)0)->openai_url) + 16];
    char *auth; /* "Authorization: Bearer KEY", or NULL without a key */
    char *key;  /* the key alone, to scrub from messages; NULL without one */
    size_t batch;
    long timeout_s;
    int retries;
    pthread_mutex_t mu; /* the in-flight semaphore */
    pthread_cond_t cv;
    int free_slots;
} oa_service;

typedef struct oa_model {
    rg_embed_model model; /* first: embed() recovers the oa_model from it */
    oa_service *svc;
} oa_model;

static void slot_take(oa_service *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->free_slots == 0)
        pthread_cond_wait(&s->cv, &s->mu);
    s->free_slots--;
    pthread_mutex_unlock(&s->mu);
}

static void slot_give(oa_service *s)
{
    pthread_mutex_lock(&s->mu);
    s->free_slots++;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

static void sleep_ms(int64_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A uniform draw in [0, max]: xorshift64*, one state per thread. */
static int64_t jitter_ms(int64_t max)
{
    static _Thread_local uint64_t state;
    if (!state)
        state = (uint64_t)rg_now_us() ^ ((uint64_t)(uintptr_t)&state << 17) ^ 0x9E3779B97F4A7C15u;
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return (int64_t)((state * 0x2545F4914F6CDD1Du >> 11) % (uint64_t)(max + 1));
}

/* Replaces every occurrence of the key in line by "***". */
static void scrub_key(const oa_service *s, char *line)
{
    size_t kn = s->key ? strlen(s->key) : 0;
    if (kn == 0)
        return;
    for (char *p = strstr(line, s->key); p; p = strstr(p, s->key)) {
        memmove(p + 3, p + kn, strlen(p + kn) + 1);
        memcpy(p, "***", 3);
    }
}

/* ---- one HTTP exchange --------------------------------------------------- */

typedef struct oa_call {
    rg_buf resp;
    char retry_after[OA_RETRY_AFTER_MAX];
    bool too_big;
} oa_call;

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    oa_call *c = arg;
    size_t n = size * nmemb;
    if (rg_buf_append(&c->resp, p, n) != RG_OK) {
        c->too_big = true;
        return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
    }
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    oa_call *c = arg;
    size_t n = size * nmemb;
    static const char name[] = "retry-after:";
    if (n > sizeof name - 1 && strncasecmp(p, name, sizeof name - 1) == 0) {
        rg_str v = rg_str_trim((rg_str){p + sizeof name - 1, n - (sizeof name - 1)});
        if (v.n < sizeof c->retry_after) {
            memcpy(c->retry_after, v.p, v.n);
            c->retry_after[v.n] = 0;
        }
    }
    return n;
}

/* How one attempt ended. */
typedef struct oa_outcome {
    CURLcode cc;
    long status;
    bool retryable;
    int64_t retry_after_ms; /* -1: none given */
} oa_outcome;

static bool transient(CURLcode cc)
{
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR: return true;
    default: return false;
    }
}

/* Sets up h for one POST of body to the service. */
static void setup(CURL *h, const oa_service *s, struct curl_slist *hdrs, const rg_buf *body,
                  long timeout_s, oa_call *c, char *cerr)
{
    curl_easy_setopt(h, CURLOPT_URL, s->endpoint);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->p);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
                     timeout_s < OA_CONNECT_TIMEOUT_S ? timeout_s : (long)OA_CONNECT_TIMEOUT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, timeout_s);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "ragd");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, c);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, c);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
}

/* One attempt: performs the request holding an in-flight slot. */
static oa_outcome attempt(oa_service *s, CURL *h, oa_call *c)
{
    oa_outcome o = {.retry_after_ms = -1};
    rg_buf_reset(&c->resp);
    c->retry_after[0] = 0;
    c->too_big = false;
    slot_take(s);
    o.cc = curl_easy_perform(h);
    slot_give(s);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &o.status);
    if (o.cc != CURLE_OK) {
        o.retryable = transient(o.cc);
        return o;
    }
    o.retryable = o.status == 429 || o.status >= 500;
    if (c->retry_after[0] && !rg_openai__retry_after(c->retry_after, rg_now_s(), &o.retry_after_ms))
        o.retry_after_ms = -1;
    return o;
}

/* The final error line of a failed exchange. */
static void explain(const oa_service *s, CURL *h, const oa_call *c, const oa_outcome *o,
                    int retries, const char *cerr, char *err, size_t errlen)
{
    char after[48] = "";
    if (retries > 0)
        snprintf(after, sizeof after, " after %d retr%s", retries, retries == 1 ? "y" : "ies");
    if (c->too_big)
        snprintf(err, errlen, "the service's response is over %zu MiB", OA_MAX_RESPONSE >> 20);
    else if (o->cc == CURLE_OPERATION_TIMEDOUT)
        snprintf(err, errlen, "the request to %.160s timed out (%ld s)%s", s->endpoint,
                 s->timeout_s, after);
    else if (o->cc != CURLE_OK)
        snprintf(err, errlen, "cannot reach %.160s%s: %.120s", s->endpoint, after,
                 *cerr ? cerr : curl_easy_strerror(o->cc));
    else if (o->status >= 300 && o->status < 400) {
        char *loc = NULL;
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
        snprintf(err, errlen,
                 "HTTP %ld: the service redirects to %.120s; ragd follows no redirects, set "
                 "--embed-openai-url to the final address",
                 o->status, loc ? loc : "(no Location)");
    } else {
        char msg[RG_OPENAI_MESSAGE_MAX + 8];
        rg_openai__error_message(c->resp.p, c->resp.len, msg, sizeof msg);
        snprintf(err, errlen, "HTTP %ld%s: %s", o->status, after, msg);
    }
    scrub_key(s, err);
}

/* The delay before retry number retry after outcome o. */
static int64_t delay_ms(const oa_outcome *o, int retry)
{
    if (o->retry_after_ms >= 0)
        return o->retry_after_ms;
    return jitter_ms(rg_openai__backoff_cap_ms(retry));
}

/* POSTs body to the service with up to retries retries; on RG_OK c->resp
 * holds a 2xx body. */
static rg_rc exchange(oa_service *s, const char *model, CURL *h, const rg_buf *body, long timeout_s,
                      int retries, oa_call *c, char *err, size_t errlen)
{
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *more = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
    if (more && s->auth)
        more = curl_slist_append(hdrs, s->auth);
    if (!more) {
        curl_slist_free_all(hdrs);
        return RG_ENOMEM;
    }
    char cerr[CURL_ERROR_SIZE] = "";
    setup(h, s, hdrs, body, timeout_s, c, cerr);
    rg_rc rc = RG_OK;
    for (int n = 0;; n++) {
        cerr[0] = 0;
        oa_outcome o = attempt(s, h, c);
        if (o.cc == CURLE_OK && o.status >= 200 && o.status < 300)
            break;
        if (!o.retryable || n >= retries) {
            explain(s, h, c, &o, n, cerr, err, errlen);
            rc = RG_EUPSTREAM;
            break;
        }
        int64_t ms = delay_ms(&o, n);
        if (o.cc == CURLE_OK)
            rg_warn("openai: model %s: HTTP %ld; retry %d of %d in %lld ms", model, o.status, n + 1,
                    retries, (long long)ms);
        else
            rg_warn("openai: model %s: %s; retry %d of %d in %lld ms", model,
                    curl_easy_strerror(o.cc), n + 1, retries, (long long)ms);
        sleep_ms(ms);
    }
    curl_slist_free_all(hdrs);
    return rc;
}

/* ---- embed() ------------------------------------------------------------- */

size_t rg_openai__cut(rg_str t, size_t max_chars)
{
    size_t chars = 0;
    for (size_t i = 0; i < t.n; i++)
        if (((unsigned char)t.p[i] & 0xC0) != 0x80 && chars++ == max_chars)
            return i;
    return t.n;
}

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
        rg_jsonw_str(&w, (rg_str){t.p, rg_openai__cut(t, OA_CONTEXT_CHARS)});
    }
    rg_jsonw_arr_end(&w);
    rg_jsonw_kstr(&w, "encoding_format", "float");
    rg_jsonw_obj_end(&w);
    return rg_buf_failed(b) ? RG_ETOOBIG : RG_OK;
}

/* Embeds texts[idx[0..k)] into their rows of out. */
static rg_rc embed_batch(const oa_model *om, CURL *h, const rg_str *texts, const size_t *idx,
                         size_t k, float *tmp, float *out, char *err)
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
    oa_call c;
    rg_buf_init(&c.resp, OA_MAX_RESPONSE);
    char line[RG_EMBED_ERR_MAX];
    rc = exchange(om->svc, om->model.name, h, &body, om->svc->timeout_s, om->svc->retries, &c, line,
                  sizeof line);
    if (rc == RG_OK)
        rc = rg_openai__parse_response(c.resp.p, c.resp.len, k, om->model.dims, tmp, NULL, line,
                                       sizeof line);
    if (rc == RG_OK)
        for (size_t i = 0; i < k; i++)
            memcpy(out + idx[i] * dims, tmp + i * dims, dims * sizeof *out);
    else if (rc != RG_ENOMEM)
        rc = rg_embed_fail(err, rc, "%s", line);
    rg_buf_free(&c.resp);
    rg_buf_free(&body);
    return rc;
}

static rg_rc oa_embed(const rg_embed_model *m, const rg_str *texts, size_t n, float *out, char *err)
{
    const oa_model *om = (const oa_model *)m;
    size_t dims = (size_t)m->dims, batch = om->svc->batch;
    memset(out, 0, n * dims * sizeof *out); /* empty texts stay zero and are not sent */
    for (size_t i = 0; i < n; i++)
        if (!rg_utf8_valid(texts[i].p, texts[i].n))
            return rg_embed_fail(err, RG_EINVAL, "text %zu is not valid UTF-8", i);
    size_t *idx = rg_try_malloc(batch * sizeof *idx);
    float *tmp = rg_try_malloc(batch * dims * sizeof *tmp);
    CURL *h = idx && tmp ? curl_easy_init() : NULL;
    rg_rc rc = h ? RG_OK : RG_ENOMEM;
    for (size_t i = 0, k = 0; rc == RG_OK && i < n; i++) {
        if (texts[i].n)
            idx[k++] = i;
        if (k == batch || (i + 1 == n && k > 0)) {
            rc = embed_batch(om, h, texts, idx, k, tmp, out, err);
            k = 0;
        }
    }
    if (h)
        curl_easy_cleanup(h);
    rg_free(tmp);
    rg_free(idx);
    return rc;
}

/* ---- start-up ------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

/* Asks the service for one embedding of "ragd" to learn name's width. */
static rg_rc probe(oa_service *s, const char *name, int *dims, char *err, size_t errlen)
{
    static const rg_str text = RG_STR("ragd");
    static const size_t zero = 0;
    CURL *h = curl_easy_init();
    if (!h)
        return RG_ENOMEM;
    rg_buf body;
    rg_buf_init(&body, OA_MAX_REQUEST);
    rg_rc rc = request_body(name, &text, &zero, 1, &body);
    oa_call c;
    rg_buf_init(&c.resp, OA_MAX_RESPONSE);
    long t = s->timeout_s < OA_PROBE_TIMEOUT_S ? s->timeout_s : OA_PROBE_TIMEOUT_S;
    if (rc == RG_OK)
        rc = exchange(s, name, h, &body, t, 0, &c, err, errlen);
    if (rc == RG_OK)
        rc = rg_openai__parse_response(c.resp.p, c.resp.len, 1, 0, NULL, dims, err, errlen);
    rg_buf_free(&c.resp);
    rg_buf_free(&body);
    curl_easy_cleanup(h);
    return rc;
}

static oa_service *service_new(const rg_config *c, const char *base)
{
    oa_service *s = rg_xcalloc(1, sizeof *s);
    snprintf(s->base, sizeof s->base, "%s", base);
    snprintf(s->endpoint, sizeof s->endpoint, "%s/embeddings", base);
    if (*c->openai_key) {
        size_t n = strlen(c->openai_key) + 32;
        s->auth = rg_xmalloc(n);
        snprintf(s->auth, n, "Authorization: Bearer %s", c->openai_key);
        s->key = rg_xstrdup(c->openai_key);
    }
    s->batch = (size_t)c->openai_batch;
    s->timeout_s = (long)c->openai_timeout_s;
    s->retries = (int)c->openai_retries;
    s->free_slots = (int)c->openai_inflight;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
}

/* Learns (when needed) the width of sp and registers it. */
static rg_rc add_model(oa_service *s, const rg_openai__spec *sp, char *err, size_t errlen)
{
    int dims = sp->dims;
    if (dims == 0) {
        char why[RG_EMBED_ERR_MAX];
        if (probe(s, sp->name, &dims, why, sizeof why) != RG_OK) {
            snprintf(err, errlen,
                     "--embed-openai-models: cannot learn the dimensions of model %s from %s: "
                     "%s; give it as %s:DIMENSIONS to start without asking the service",
                     sp->name, s->base, why, sp->name);
            return RG_EUPSTREAM;
        }
        rg_info("openai: model %s has %d dimensions (asked the service)", sp->name, dims);
    }
    oa_model *om = rg_xcalloc(1, sizeof *om);
    char *name = rg_xstrdup(sp->name);
    om->svc = s;
    om->model = (rg_embed_model){.provider = OA_PROVIDER,
                                 .name = name,
                                 .label = name,
                                 .dims = dims,
                                 .context_size = OA_CONTEXT_CHARS,
                                 .revision = s->base,
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
    if (!*c->openai_url && !*c->openai_models)
        return RG_OK;
    if (!*c->openai_url) {
        snprintf(err, errlen, "--embed-openai-models is set but --embed-openai-url is not");
        return RG_EINVAL;
    }
    char base[sizeof c->openai_url];
    bool v1;
    RG_TRY(rg_openai__check_url(c->openai_url, base, sizeof base, &v1, err, errlen));
    static rg_openai__spec specs[RG_OPENAI_MAX_MODELS]; /* start-up only */
    size_t n;
    RG_TRY(rg_openai__parse_models(c->openai_models, specs, &n, err, errlen));
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "--embed-openai-url: libcurl: %s", curl_easy_strerror(curl_init_rc));
        return RG_EIO;
    }
    if (!v1)
        rg_warn("openai: %s does not end in /v1; requests go to %s/embeddings", base, base);
    static oa_service *service; /* shared by the models, never freed; kept reachable */
    oa_service *s = service = service_new(c, base);
    for (size_t i = 0; i < n; i++)
        RG_TRY(add_model(s, &specs[i], err, errlen));
    rg_info("openai: %zu model(s) of %s (batch %zu, %lld in flight, timeout %ld s, %d retries)", n,
            base, s->batch, (long long)c->openai_inflight, s->timeout_s, s->retries);
    return RG_OK;
}
