/*
 * remote.c - the HTTP client shared by the remote engines (openai.c,
 * rerank.c).  The design is described in remote.h; the pure helpers declared
 * in remote_int.h come first (models list, base URL, Retry-After, backoff,
 * cutting, error messages), then the service, its semaphore and one POST
 * with retries over libcurl.
 */
#include "embed/remote.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/str.h"
#include "embed/remote_int.h"

#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* Bytes of a Retry-After value kept. */
#define REMOTE_RETRY_AFTER_MAX 64
/* Bytes of a service's URL (base + path) kept: a base URL of the settings'
 * 512 bytes and a short path. */
#define REMOTE_URL_MAX 560

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
static rg_rc parse_entry(const char *opt, rg_str e, bool dims_ok, rg_remote__spec *sp, char *err,
                         size_t errlen)
{
    rg_str name = e;
    sp->dims = 0;
    const char *colon = dims_ok ? memrchr(e.p, ':', e.n) : NULL;
    if (colon) {
        rg_str tail = {colon + 1, e.n - (size_t)(colon + 1 - e.p)};
        if (all_digits(tail)) {
            int64_t d;
            if (rg_str_to_i64(tail, 1, RG_REMOTE_MAX_DIMS, &d) != RG_OK) {
                snprintf(err, errlen, "%s-models: %.*s: dimensions must be 1-%d", opt,
                         (int)(e.n > 200 ? 200 : e.n), e.p, RG_REMOTE_MAX_DIMS);
                return RG_EINVAL;
            }
            sp->dims = (int)d;
            name = (rg_str){e.p, (size_t)(colon - e.p)};
        }
    }
    if (name.n == 0 || name.n > RG_REMOTE_MAX_NAME) {
        snprintf(err, errlen, "%s-models: a model name must have 1-%d bytes", opt,
                 RG_REMOTE_MAX_NAME);
        return RG_EINVAL;
    }
    for (size_t i = 0; i < name.n; i++)
        if ((unsigned char)name.p[i] <= ' ' || name.p[i] == 0x7F) {
            snprintf(err, errlen, "%s-models: model name \"%.*s\" has a space or control character",
                     opt, (int)name.n, name.p);
            return RG_EINVAL;
        }
    memcpy(sp->name, name.p, name.n);
    sp->name[name.n] = 0;
    return RG_OK;
}

rg_rc rg_remote__parse_models(const char *opt, const char *list, bool dims_ok, rg_remote__spec *out,
                              size_t *n, char *err, size_t errlen)
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
        if (*n == RG_REMOTE_MAX_MODELS) {
            snprintf(err, errlen, "%s-models: more than %d models", opt, RG_REMOTE_MAX_MODELS);
            return RG_EINVAL;
        }
        RG_TRY(parse_entry(opt, e, dims_ok, &out[*n], err, errlen));
        for (size_t i = 0; i < *n; i++)
            if (strcmp(out[i].name, out[*n].name) == 0) {
                snprintf(err, errlen, "%s-models: model %s is listed twice", opt, out[i].name);
                return RG_EINVAL;
            }
        (*n)++;
    }
    if (*n == 0) {
        snprintf(err, errlen, "%s-models: no model given (%s,...)", opt,
                 dims_ok ? "NAME[:DIMENSIONS]" : "NAME");
        return RG_EINVAL;
    }
    return RG_OK;
}

/* ---- the base URL -------------------------------------------------------- */

static rg_rc url_bad(const char *opt, char *err, size_t errlen, const char *why)
{
    snprintf(err, errlen, "%s-url: %s", opt, why);
    return RG_EINVAL;
}

rg_rc rg_remote__check_url(const char *opt, const char *url, char *base, size_t cap, bool *v1,
                           char *err, size_t errlen)
{
    rg_str u = rg_str_c(url);
    size_t skip;
    if (u.n >= 7 && strncasecmp(u.p, "http://", 7) == 0)
        skip = 7;
    else if (u.n >= 8 && strncasecmp(u.p, "https://", 8) == 0)
        skip = 8;
    else
        return url_bad(opt, err, errlen, "must start with http:// or https://");
    for (size_t i = 0; i < u.n; i++) {
        unsigned char ch = (unsigned char)u.p[i];
        if (ch <= ' ' || ch == 0x7F)
            return url_bad(opt, err, errlen, "has white space or a control character");
        if (ch == '?' || ch == '#')
            return url_bad(opt, err, errlen, "must not have a query or fragment");
    }
    const char *host = u.p + skip, *slash = strchr(host, '/');
    size_t host_n = slash ? (size_t)(slash - host) : strlen(host);
    if (host_n == 0)
        return url_bad(opt, err, errlen, "has no host");
    if (memchr(host, '@', host_n)) {
        snprintf(err, errlen, "%s-url: must not carry user info (give the key with %s-key)", opt,
                 opt);
        return RG_EINVAL;
    }
    while (u.n > skip + host_n && u.p[u.n - 1] == '/')
        u.n--;
    if (u.n + 1 > cap)
        return url_bad(opt, err, errlen, "is too long");
    memcpy(base, u.p, u.n);
    base[u.n] = 0;
    *v1 = u.n >= skip + host_n + 3 && memcmp(base + u.n - 3, "/v1", 3) == 0;
    return RG_OK;
}

/* ---- Retry-After, backoff, cutting --------------------------------------- */

bool rg_remote__retry_after(const char *value, int64_t now_s, int64_t *ms)
{
    rg_str v = rg_str_trim(rg_str_c(value));
    int64_t secs;
    if (all_digits(v)) {
        /* any number of digits: a huge value is simply the cap */
        secs = v.n > 9 ? INT32_MAX : 0;
        if (v.n <= 9 && rg_str_to_i64(v, 0, 999999999, &secs) != RG_OK)
            return false;
    } else {
        char tmp[REMOTE_RETRY_AFTER_MAX];
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
    *ms = secs > RG_REMOTE_RETRY_AFTER_MAX_MS / 1000 ? RG_REMOTE_RETRY_AFTER_MAX_MS : secs * 1000;
    return true;
}

int64_t rg_remote__backoff_cap_ms(int retry)
{
    int64_t ms = RG_REMOTE_BACKOFF_BASE_MS;
    for (int i = 0; i < retry && ms < RG_REMOTE_BACKOFF_CAP_MS; i++)
        ms *= 2;
    return ms < RG_REMOTE_BACKOFF_CAP_MS ? ms : RG_REMOTE_BACKOFF_CAP_MS;
}

size_t rg_remote__cut(rg_str t, size_t max_chars)
{
    size_t chars = 0;
    for (size_t i = 0; i < t.n; i++)
        if (((unsigned char)t.p[i] & 0xC0) != 0x80 && chars++ == max_chars)
            return i;
    return t.n;
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

void rg_remote__error_message(const char *body, size_t len, char *out, size_t cap)
{
    if (cap > RG_REMOTE_MESSAGE_MAX + 1)
        cap = RG_REMOTE_MESSAGE_MAX + 1;
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

/* ---- the service -------------------------------------------------------- */

struct rg_remote {
    char opt[32], tag[32];
    char base[REMOTE_URL_MAX - 32]; /* no trailing slash */
    char endpoint[REMOTE_URL_MAX];
    char *auth; /* "Authorization: Bearer KEY", or NULL without a key */
    char *key;  /* the key alone, to scrub from messages; NULL without one */
    long timeout_s;
    int retries;
    pthread_mutex_t mu; /* the in-flight semaphore */
    pthread_cond_t cv;
    int free_slots;
};

struct rg_remote_conn {
    CURL *h;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void)
{
    curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static rg_remote *service_new(const rg_remote_opts *o, const char *base)
{
    rg_remote *s = rg_xcalloc(1, sizeof *s);
    snprintf(s->opt, sizeof s->opt, "%s", o->opt);
    snprintf(s->tag, sizeof s->tag, "%s", o->tag);
    snprintf(s->base, sizeof s->base, "%s", base);
    snprintf(s->endpoint, sizeof s->endpoint, "%s%s", base, o->path);
    if (o->key && *o->key) {
        size_t n = strlen(o->key) + 32;
        s->auth = rg_xmalloc(n);
        snprintf(s->auth, n, "Authorization: Bearer %s", o->key);
        s->key = rg_xstrdup(o->key);
    }
    s->timeout_s = o->timeout_s;
    s->retries = o->retries;
    s->free_slots = o->inflight > 0 ? o->inflight : 1;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    return s;
}

rg_rc rg_remote_start(const rg_remote_opts *o, const char *models, bool dims_ok,
                      rg_remote__spec *specs, size_t *n, rg_remote **out, char *err, size_t errlen)
{
    char base[REMOTE_URL_MAX - 32];
    bool v1;
    *n = 0;
    *out = NULL;
    if (!*o->url && !*models)
        return RG_OK;
    if (!*o->url) {
        snprintf(err, errlen, "%s-models is set but %s-url is not", o->opt, o->opt);
        return RG_EINVAL;
    }
    RG_TRY(rg_remote__check_url(o->opt, o->url, base, sizeof base, &v1, err, errlen));
    RG_TRY(rg_remote__parse_models(o->opt, models, dims_ok, specs, n, err, errlen));
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "%s-url: libcurl: %s", o->opt, curl_easy_strerror(curl_init_rc));
        return RG_EIO;
    }
    if (!v1)
        rg_warn("%s: %s does not end in /v1; requests go to %s%s", o->tag, base, base, o->path);
    *out = service_new(o, base);
    return RG_OK;
}

const char *rg_remote_base(const rg_remote *r)
{
    return r->base;
}

const char *rg_remote_endpoint(const rg_remote *r)
{
    return r->endpoint;
}

rg_remote_conn *rg_remote_conn_open(void)
{
    rg_remote_conn *c = rg_try_malloc(sizeof *c);
    if (c && !(c->h = curl_easy_init())) {
        rg_free(c);
        c = NULL;
    }
    return c;
}

void rg_remote_conn_close(rg_remote_conn *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->h);
    rg_free(c);
}

static void slot_take(rg_remote *s)
{
    pthread_mutex_lock(&s->mu);
    while (s->free_slots == 0)
        pthread_cond_wait(&s->cv, &s->mu);
    s->free_slots--;
    pthread_mutex_unlock(&s->mu);
}

static void slot_give(rg_remote *s)
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
static void scrub_key(const rg_remote *s, char *line)
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

typedef struct call {
    rg_buf *resp;
    char retry_after[REMOTE_RETRY_AFTER_MAX];
    bool too_big;
} call;

static size_t on_body(char *p, size_t size, size_t nmemb, void *arg)
{
    call *c = arg;
    size_t n = size * nmemb;
    if (rg_buf_append(c->resp, p, n) != RG_OK) {
        c->too_big = true;
        return 0; /* aborts the transfer (CURLE_WRITE_ERROR) */
    }
    return n;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *arg)
{
    call *c = arg;
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
typedef struct outcome {
    CURLcode cc;
    long status;
    bool retryable;
    int64_t retry_after_ms; /* -1: none given */
} outcome;

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
static void setup(CURL *h, const rg_remote *s, struct curl_slist *hdrs, const rg_buf *body,
                  long timeout_s, call *c, char *cerr)
{
    curl_easy_setopt(h, CURLOPT_URL, s->endpoint);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->p);
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->len);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
                     timeout_s < RG_REMOTE_CONNECT_TIMEOUT_S ? timeout_s
                                                             : (long)RG_REMOTE_CONNECT_TIMEOUT_S);
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
static outcome attempt(rg_remote *s, CURL *h, call *c)
{
    outcome o = {.retry_after_ms = -1};
    rg_buf_reset(c->resp);
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
    if (c->retry_after[0] && !rg_remote__retry_after(c->retry_after, rg_now_s(), &o.retry_after_ms))
        o.retry_after_ms = -1;
    return o;
}

/* The final error line of a failed exchange. */
static void explain(const rg_remote *s, CURL *h, const call *c, const outcome *o, long timeout_s,
                    int retries, const char *cerr, char *err, size_t errlen)
{
    char after[48] = "";
    if (retries > 0)
        snprintf(after, sizeof after, " after %d retr%s", retries, retries == 1 ? "y" : "ies");
    if (c->too_big)
        snprintf(err, errlen, "the service's response is over %zu MiB", c->resp->max >> 20);
    else if (o->cc == CURLE_OPERATION_TIMEDOUT)
        snprintf(err, errlen, "the request to %.160s timed out (%ld s)%s", s->endpoint, timeout_s,
                 after);
    else if (o->cc != CURLE_OK)
        snprintf(err, errlen, "cannot reach %.160s%s: %.120s", s->endpoint, after,
                 *cerr ? cerr : curl_easy_strerror(o->cc));
    else if (o->status >= 300 && o->status < 400) {
        char *loc = NULL;
        curl_easy_getinfo(h, CURLINFO_REDIRECT_URL, &loc);
        snprintf(err, errlen,
                 "HTTP %ld: the service redirects to %.120s; ragd follows no redirects, set "
                 "%s-url to the final address",
                 o->status, loc ? loc : "(no Location)", s->opt);
    } else {
        char msg[RG_REMOTE_MESSAGE_MAX + 8];
        rg_remote__error_message(c->resp->p, c->resp->len, msg, sizeof msg);
        snprintf(err, errlen, "HTTP %ld%s: %s", o->status, after, msg);
    }
    scrub_key(s, err);
}

/* The delay before retry number retry after outcome o. */
static int64_t delay_ms(const outcome *o, int retry)
{
    if (o->retry_after_ms >= 0)
        return o->retry_after_ms;
    return jitter_ms(rg_remote__backoff_cap_ms(retry));
}

rg_rc rg_remote_post(rg_remote *s, rg_remote_conn *conn, const char *model, const rg_buf *body,
                     long timeout_s, int retries, rg_buf *resp, char *err, size_t errlen)
{
    if (timeout_s <= 0)
        timeout_s = s->timeout_s;
    if (retries < 0)
        retries = s->retries;
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    struct curl_slist *more = hdrs ? curl_slist_append(hdrs, "Expect:") : NULL;
    if (more && s->auth)
        more = curl_slist_append(hdrs, s->auth);
    if (!more) {
        curl_slist_free_all(hdrs);
        return RG_ENOMEM;
    }
    char cerr[CURL_ERROR_SIZE] = "";
    call c = {.resp = resp};
    setup(conn->h, s, hdrs, body, timeout_s, &c, cerr);
    rg_rc rc = RG_OK;
    for (int n = 0;; n++) {
        cerr[0] = 0;
        outcome o = attempt(s, conn->h, &c);
        if (o.cc == CURLE_OK && o.status >= 200 && o.status < 300)
            break;
        if (!o.retryable || n >= retries) {
            explain(s, conn->h, &c, &o, timeout_s, n, cerr, err, errlen);
            rc = RG_EUPSTREAM;
            break;
        }
        int64_t ms = delay_ms(&o, n);
        if (o.cc == CURLE_OK)
            rg_warn("%s: model %s: HTTP %ld; retry %d of %d in %lld ms", s->tag, model, o.status,
                    n + 1, retries, (long long)ms);
        else
            rg_warn("%s: model %s: %s; retry %d of %d in %lld ms", s->tag, model,
                    curl_easy_strerror(o.cc), n + 1, retries, (long long)ms);
        sleep_ms(ms);
    }
    curl_slist_free_all(hdrs);
    return rc;
}
