/*
 * remote.h - the HTTP client shared by the engines that call a remote model
 * service (openai.c: embeddings, rerank.c: rerank): one JSON POST with
 * retries, bounded in time, in size and in requests in flight.
 *
 * A service (rg_remote) is one endpoint URL with an optional Bearer key, a
 * timeout, a retry count and a counting semaphore of requests in flight in
 * the whole process; it is created at start-up and never freed (registered
 * models point to it).  A connection (rg_remote_conn) is one libcurl easy
 * handle, owned by one thread for the length of one model call, so that the
 * requests of that call reuse its connection and no handle is shared.
 *
 * HTTP.  CURLOPT_NOSIGNAL; connect timeout min(RG_REMOTE_CONNECT_TIMEOUT_S,
 * timeout), total timeout per attempt; http/https only; no redirect is
 * followed (a 3xx fails with the Location, so the key never reaches another
 * host); the response body is limited by the caller's rg_buf maximum.  An
 * in-flight slot is held only while a request runs, not during backoff.
 *
 * Retries.  HTTP 429, any 5xx, a timeout and connection failures are retried.
 * The delay honours Retry-After (delta seconds or an HTTP-date, cut to
 * 120 s); otherwise it is full jitter, uniform in [0, min(30 s, 0.5 s *
 * 2^retry)].  Each retry is logged at warn level with the engine's tag, the
 * model, the status or curl's reason and the delay.  Other answers fail at
 * once.  The final error is RG_EUPSTREAM with one line carrying the HTTP
 * status and the service's own message ("HTTP 429 after 5 retries: Rate
 * limit reached", "the request to URL timed out (60 s) after 5 retries").
 *
 * Secrets.  The key is only ever in the Authorization header; CURLOPT_VERBOSE
 * is never set, no log line or error shows headers, and any occurrence of the
 * key in a service's message is replaced by "***".
 */
#ifndef RG_EMBED_REMOTE_H
#define RG_EMBED_REMOTE_H

#include "core/buf.h"
#include "core/common.h"

/* Connecting gets at most this long (and never more than the whole timeout). */
#define RG_REMOTE_CONNECT_TIMEOUT_S 10

typedef struct rg_remote rg_remote;
typedef struct rg_remote_conn rg_remote_conn;
struct rg_remote__spec; /* remote_int.h */

/* What a service is made of; every pointer is borrowed (copied by
 * rg_remote_new). */
typedef struct rg_remote_opts {
    const char *opt;  /* the settings' prefix for messages: "--embed-openai" */
    const char *tag;  /* the log lines' prefix: "openai" */
    const char *url;  /* the base URL as configured (checked by rg_remote_start) */
    const char *path; /* appended to the base URL: "/embeddings" */
    const char *key;  /* Bearer key, or NULL / "" for none */
    long timeout_s;   /* one attempt */
    int retries;
    int inflight; /* requests in flight at once, whole process (>= 1) */
} rg_remote_opts;

/* Start-up of an engine's service.  Neither o->url nor models set: RG_OK
 * with *out NULL and *n 0 (the engine is not configured); models without a
 * URL: RG_EINVAL.  Otherwise checks o->url (rg_remote__check_url; a
 * path not ending in /v1 is only warned about), parses models (the engine's
 * list, rg_remote__parse_models with dims_ok) into specs[0..*n) (room for
 * RG_REMOTE_MAX_MODELS), initialises libcurl once per process and creates
 * the service in *out.  The service is never freed (registered models point
 * to it; the caller keeps it reachable).  RG_EINVAL (bad URL or list) or
 * RG_EIO (libcurl) with a line in err (errlen bytes) naming the setting. */
RG_WUR rg_rc rg_remote_start(const rg_remote_opts *o, const char *models, bool dims_ok,
                             struct rg_remote__spec *specs, size_t *n, rg_remote **out, char *err,
                             size_t errlen);

/* The service's base URL (no trailing slash) and full URL (base + path);
 * owned by the service. */
const char *rg_remote_base(const rg_remote *r);
const char *rg_remote_endpoint(const rg_remote *r);

/* A connection for one thread's requests, or NULL when out of memory; close
 * it with rg_remote_conn_close (NULL is fine). */
rg_remote_conn *rg_remote_conn_open(void);
void rg_remote_conn_close(rg_remote_conn *c);

/* POSTs the JSON body to the service over c for model (named in log lines),
 * with up to retries retries (-1: the service's) of timeout_s seconds each
 * (0: the service's).  resp is the caller's buffer, initialised with the
 * largest body it accepts; on RG_OK it holds a 2xx answer.  RG_EUPSTREAM
 * with one line in err (errlen bytes) for every failure of the service;
 * RG_ENOMEM when headers cannot be built. */
RG_WUR rg_rc rg_remote_post(rg_remote *r, rg_remote_conn *c, const char *model, const rg_buf *body,
                            long timeout_s, int retries, rg_buf *resp, char *err, size_t errlen);

#endif
