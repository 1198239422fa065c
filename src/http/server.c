/*
 * server.c - libmicrohttpd glue: connection contexts, body limits, dispatch.
 *
 * MHD runs a pool of threads, each with its own epoll set (EPOLL_INTERNAL_THREAD
 * + TURBO, shared/reference/c-stack.md 1.1).  For each request the access
 * handler is called several times:
 *   1. first call: allocate the request context, match the route, check the
 *      declared Content-Length against the limit.  Nothing is queued here on
 *      success (queueing on the first call makes MHD drop keep-alive); an
 *      oversized declared body is refused at once with 413 and the
 *      connection is closed without reading the body;
 *   2. upload calls: bytes go into a buffer whose hard maximum is the limit;
 *      a chunked body that grows past it gets 413 as soon as it does;
 *   3. final call: Content-Type and JSON checks, authentication, handler,
 *      response.
 * The request-completed callback frees the context and its arena.  An atomic
 * count of requests in flight lets shutdown wait for them.
 */
#include "http/http.h"
#include "http/multipart.h"

#include "core/alloc.h"
#include "core/clock.h"
#include "core/log.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct rg_http {
    struct MHD_Daemon *d;
    const rg_http_config *cfg;
    int fd, port;
    atomic_int in_flight;
};

typedef struct req_ctx {
    rg_req req;
    rg_resp resp;
    rg_buf body;
    rg_rc early; /* an error found before the body was read (404, 405) */
    size_t limit;
    uint64_t received; /* body bytes so far (uploads are not buffered) */
    rg_rc deferred;    /* an error found mid-body, answered when the body ends */
    const char *deferred_msg;
    rg_multipart *mp; /* upload routes: the streaming multipart parser */
    bool upload;
    bool responded; /* a response was queued before the final call */
} req_ctx;

/* ---- responses ------------------------------------------------------------ */

void rg_resp_json(rg_resp *resp, rg_jsonw *w)
{
    rg_buf_reset(&resp->body);
    resp->content_type = "application/json";
    rg_jsonw_init(w, &resp->body);
}

rg_rc rg_resp_fail(rg_resp *resp, rg_req *req, rg_rc rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char tmp[1024];
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    resp->message = rg_arena_strdup(req->arena, tmp);
    return rc;
}

void rg_resp_error(rg_resp *resp, rg_rc rc, const char *message)
{
    const rg_rc_info *w = rg_rc_wire(rc);
    rg_jsonw j;
    rg_resp_json(resp, &j);
    resp->status = w->http_status;
    rg_jsonw_obj(&j);
    rg_jsonw_kstr(&j, "code", w->code);
    rg_jsonw_kstr(&j, "message", message ? message : w->message);
    rg_jsonw_kint(&j, "status", w->http_status);
    rg_jsonw_obj_end(&j);
    if (rc == RG_EUNAUTH) {
        resp->extra_header = "WWW-Authenticate";
        resp->extra_value = "Bearer realm=\"api\"";
    }
}

static enum MHD_Result queue(struct MHD_Connection *c, req_ctx *x)
{
    rg_resp *r = &x->resp;
    size_t len = 0;
    char *bytes;
    if (rg_buf_failed(&r->body)) {
        rg_error("response over %zu bytes for %.*s", r->body.max, (int)x->req.path.n,
                 x->req.path.p);
        rg_buf_free(&r->body);
        rg_buf_init(&r->body, 4096);
        rg_resp_error(r, RG_EIO, "The response was larger than the server's limit.");
    }
    if (r->status == 204 || r->status == 304) {
        bytes = NULL;
        rg_buf_free(&r->body);
    } else
        bytes = rg_buf_take(&r->body, &len);
    struct MHD_Response *m;
    if (r->fd >= 0 && r->status == 200) {
        rg_free(bytes);
        bytes = NULL;
        m = MHD_create_response_from_fd64(r->fd_size, r->fd); /* MHD closes fd */
        if (m)
            r->fd = -1; /* else on_completed closes it */
    } else if (bytes)
        m = MHD_create_response_from_buffer(len, bytes, MHD_RESPMEM_MUST_FREE);
    else
        m = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    if (!m) {
        rg_free(bytes);
        return MHD_NO;
    }
    if (r->status != 204)
        MHD_add_response_header(m, MHD_HTTP_HEADER_CONTENT_TYPE,
                                r->content_type ? r->content_type : "application/json");
    if (r->extra_header)
        MHD_add_response_header(m, r->extra_header, r->extra_value);
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, m);
    MHD_destroy_response(m);
    x->responded = true;
    return ok;
}

static enum MHD_Result queue_error(struct MHD_Connection *c, req_ctx *x, rg_rc rc, const char *msg)
{
    rg_resp_error(&x->resp, rc, msg);
    return queue(c, x);
}

/* ---- request accessors ---------------------------------------------------- */

const char *rg_req_header(rg_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *rg_req_query(rg_req *req, const char *name)
{
    return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
}

typedef struct {
    rg_req *req;
    const char *name;
    const char **vals;
    size_t n, cap;
} query_all;

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    RG_UNUSED(kind);
    query_all *q = cls;
    if (!key || strcmp(key, q->name) != 0 || !value)
        return MHD_YES;
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 8;
        const char **v = rg_arena_alloc(q->req->arena, cap * sizeof *v);
        if (q->n)
            memcpy(v, q->vals, q->n * sizeof *v);
        q->vals = v;
        q->cap = cap;
    }
    q->vals[q->n++] = value;
    return MHD_YES;
}

size_t rg_req_query_all(rg_req *req, const char *name, const char ***out)
{
    query_all q = {req, name, NULL, 0, 0};
    MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, collect_query, &q);
    *out = q.vals;
    return q.n;
}

rg_str rg_req_field(rg_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_fields; i++)
        if (strcmp(req->field_names[i], name) == 0)
            return req->field_values[i];
    return RG_STR_NULL;
}

const char *rg_req_param(rg_req *req, size_t i)
{
    RG_ASSERT(i < req->n_params);
    char *z = rg_arena_strz(req->arena, req->params[i]);
    if (rg_str_is_uuid(req->params[i])) /* ids are stored in lower case, as Dify renders them */
        for (char *p = z; *p; p++)
            if (*p >= 'A' && *p <= 'F')
                *p = (char)(*p + 32);
    return z;
}

/* ---- dispatch ------------------------------------------------------------- */

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    rg_str s = rg_str_c(ct);
    const char *semi = memchr(s.p, ';', s.n);
    if (semi)
        s.n = (size_t)(semi - s.p);
    s = rg_str_trim(s);
    if (rg_str_ieq(s, RG_STR("application/json")))
        return true;
    /* application/<anything>+json, as Werkzeug's is_json */
    return s.n > 17 && rg_str_ieq((rg_str){s.p, 12}, RG_STR("application/")) &&
           rg_str_ieq((rg_str){s.p + s.n - 5, 5}, RG_STR("+json"));
}

static rg_rc parse_body(req_ctx *x)
{
    const rg_route *rt = x->req.route;
    bool need = rt->flags & RG_ROUTE_JSON;
    if (!(rt->flags & (RG_ROUTE_JSON | RG_ROUTE_JSON_OPT)))
        return RG_OK;
    if (!need && x->body.len == 0)
        return RG_OK;
    if (!is_json_type(rg_req_header(&x->req, MHD_HTTP_HEADER_CONTENT_TYPE)))
        return RG_EMEDIA;
    if (rg_str_trim(rg_buf_str(&x->body)).n == 0)
        return RG_EBADREQ;
    json_error_t err;
    json_t *j = json_loadb(x->body.p, x->body.len, JSON_REJECT_DUPLICATES, &err);
    if (!j) {
        x->resp.message =
            rg_arena_printf(x->req.arena, "Failed to decode JSON object: %s (line %d, column %d)",
                            err.text, err.line, err.column);
        return RG_EBADREQ;
    }
    x->req.json = j;
    if (!json_is_object(j)) {
        x->resp.message = "The request body must be a JSON object.";
        return RG_EINVAL;
    }
    return RG_OK;
}

static void run_request(rg_http *h, req_ctx *x)
{
    x->req.body = rg_buf_str(&x->body);
    rg_rc rc = parse_body(x);
    if (rc == RG_OK && !(x->req.route->flags & RG_ROUTE_PUBLIC) && h->cfg->authenticate)
        rc = h->cfg->authenticate(&x->req, &x->resp);
    if (rc == RG_OK) {
        x->resp.status = 200;
        rc = x->req.route->fn(&x->req, &x->resp);
    }
    if (rc != RG_OK)
        rg_resp_error(&x->resp, rc, x->resp.message);
}

static req_ctx *ctx_new(rg_http *h, struct MHD_Connection *c, const char *url, const char *method)
{
    req_ctx *x = rg_xcalloc(1, sizeof *x);
    x->req.arena = rg_arena_new(h->cfg->request_arena);
    x->req.method = rg_method_parse(method);
    x->req.path = rg_str_c(rg_arena_strdup(x->req.arena, url));
    x->req.app = h->cfg->app;
    x->req.conn = c;
    rg_buf_init(&x->resp.body, h->cfg->max_response);
    x->resp.status = 200;
    x->resp.fd = -1;
    x->early = rg_route_match(h->cfg->routes, h->cfg->n_routes, x->req.method, x->req.path,
                              &x->req.route, x->req.params, &x->req.n_params);
    x->upload = x->early == RG_OK && (x->req.route->flags & RG_ROUTE_UPLOAD);
    x->limit = x->upload ? h->cfg->max_upload : h->cfg->max_json_body;
    /* a body we will not use (404/405) is still read, but only up to a small bound */
    if (x->early != RG_OK && x->limit > 65536)
        x->limit = 65536;
    /* an upload route buffers only a body that is not multipart, and little of it */
    rg_buf_init(&x->body, x->upload ? 65536 : x->limit);
    atomic_fetch_add(&h->in_flight, 1);
    return x;
}

/* libmicrohttpd accepts a response only before the body or after all of it,
 * so an error found mid-body is remembered, the rest of the body is counted
 * and dropped, and the error is answered at the end.  A client that keeps
 * sending long past the limit is disconnected. */
#define DISCARD_MAX ((uint64_t)64 << 20)

static enum MHD_Result defer_error(req_ctx *x, rg_rc rc, const char *msg)
{
    if (x->deferred == RG_OK) {
        x->deferred = rc;
        x->deferred_msg = msg;
    }
    return MHD_YES;
}

static enum MHD_Result discard(req_ctx *x, size_t *upload_data_size)
{
    x->received += *upload_data_size;
    *upload_data_size = 0;
    return x->received > x->limit + DISCARD_MAX ? MHD_NO : MHD_YES;
}

static bool declared_too_big(struct MHD_Connection *c, size_t limit)
{
    const char *cl =
        MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    int64_t n;
    if (!cl)
        return false;
    if (rg_str_to_i64(rg_str_c(cl), 0, INT64_MAX, &n) != RG_OK)
        return true; /* MHD itself rejects a malformed length; be safe */
    return (uint64_t)n > limit;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    RG_UNUSED(version);
    rg_http *h = cls;
    req_ctx *x = *con_cls;
    if (!x) {
        x = ctx_new(h, c, url, method);
        *con_cls = x;
        if (declared_too_big(c, x->limit) && x->early == RG_OK) {
            return queue_error(
                c, x, (x->req.route->flags & RG_ROUTE_UPLOAD) ? RG_EFILETOOBIG : RG_ETOOBIG,
                rg_arena_printf(x->req.arena, "The request body exceeds the limit of %zu bytes.",
                                x->limit));
        }
        return MHD_YES;
    }
    if (x->responded) { /* discard whatever still arrives */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size && x->deferred != RG_OK)
        return discard(x, upload_data_size);
    if (*upload_data_size && x->upload) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        x->received += n;
        if (x->received > x->limit)
            return defer_error(x, RG_EFILETOOBIG,
                               rg_arena_printf(x->req.arena,
                                               "The upload exceeds the limit of %zu bytes.",
                                               x->limit));
        if (!x->mp && !x->req.multipart && x->body.len == 0)
            x->mp = rg_multipart_new(c, &x->req, h->cfg->spool_dir);
        const char *why = NULL;
        rg_rc rc = x->mp ? rg_multipart_feed(x->mp, upload_data, n, &why)
                         : rg_buf_append(&x->body, upload_data, n);
        if (rc != RG_OK)
            return defer_error(x, rc, why);
        return MHD_YES;
    }
    if (*upload_data_size) {
        if (x->early != RG_OK) /* unroutable: the body is not wanted */
            return discard(x, upload_data_size);
        x->received += *upload_data_size;
        if (rg_buf_append(&x->body, upload_data, *upload_data_size) != RG_OK) {
            *upload_data_size = 0;
            return defer_error(x, RG_ETOOBIG,
                               rg_arena_printf(x->req.arena,
                                               "The request body exceeds the limit of %zu bytes.",
                                               x->limit));
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (x->deferred != RG_OK)
        return queue_error(c, x, x->deferred, x->deferred_msg);
    if (x->early != RG_OK) {
        const char *msg = x->early == RG_ENOTFOUND
                              ? "The requested URL was not found on the server. If you entered the "
                                "URL manually please check your spelling and try again."
                              : NULL;
        return queue_error(c, x, x->early, msg);
    }
    if (x->mp) {
        const char *why = NULL;
        rg_rc rc = rg_multipart_finish(x->mp, &why);
        if (rc != RG_OK)
            return queue_error(c, x, rc, why);
    }
    run_request(h, x);
    return queue(c, x);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    RG_UNUSED(c);
    RG_UNUSED(toe);
    rg_http *h = cls;
    req_ctx *x = *con_cls;
    if (!x)
        return;
    if (x->req.json)
        json_decref(x->req.json);
    rg_multipart_free(x->mp);
    if (x->resp.fd >= 0)
        close(x->resp.fd);
    rg_buf_free(&x->body);
    rg_buf_free(&x->resp.body);
    rg_arena_free(x->req.arena);
    rg_free(x);
    *con_cls = NULL;
    atomic_fetch_sub(&h->in_flight, 1);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    RG_UNUSED(cls);
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    rg_debug("http: %s", line);
}

/* ---- lifecycle ------------------------------------------------------------ */

static rg_rc open_listener(const char *host, int port, int *fd_out, int *port_out)
{
    struct addrinfo hints = {0}, *ai = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int gai = getaddrinfo(host, ps, &hints, &ai);
    if (gai != 0) {
        rg_error("listen: cannot resolve '%s': %s", host, gai_strerror(gai));
        return RG_EINVAL;
    }
    int fd = -1;
    for (struct addrinfo *a = ai; a; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0)
            continue;
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(fd, a->ai_addr, a->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        close(fd);
        fd = -1;
    }
    freeaddrinfo(ai);
    if (fd < 0) {
        rg_error("listen: cannot bind %s:%d: %m", host, port);
        return RG_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                               : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return RG_OK;
}

rg_rc rg_http_start(const rg_http_config *cfg, rg_http **out)
{
    rg_http *h = rg_xcalloc(1, sizeof *h);
    h->cfg = cfg;
    rg_rc rc = open_listener(cfg->host, cfg->port, &h->fd, &h->port);
    if (rc != RG_OK) {
        rg_free(h);
        return rc;
    }
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ITC | MHD_USE_ERROR_LOG;
    h->d = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, h->fd, MHD_OPTION_THREAD_POOL_SIZE,
        (unsigned)(cfg->threads ? cfg->threads : 1), MHD_OPTION_CONNECTION_LIMIT,
        cfg->max_connections, MHD_OPTION_CONNECTION_TIMEOUT, cfg->conn_timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, cfg->conn_memory, MHD_OPTION_NOTIFY_COMPLETED,
        on_completed, h, MHD_OPTION_END);
    if (!h->d) {
        rg_error("http: libmicrohttpd failed to start");
        close(h->fd);
        rg_free(h);
        return RG_EIO;
    }
    *out = h;
    return RG_OK;
}

int rg_http_port(const rg_http *h)
{
    return h->port;
}

void rg_http_stop(rg_http *h, int64_t grace_ms)
{
    if (!h)
        return;
    MHD_socket s = MHD_quiesce_daemon(h->d);
    if (s != MHD_INVALID_SOCKET)
        close(s);
    int64_t deadline = rg_mono_ms() + grace_ms;
    while (atomic_load(&h->in_flight) > 0 && rg_mono_ms() < deadline) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int left = atomic_load(&h->in_flight);
    if (left > 0)
        rg_warn("http: %d request(s) still in flight after the grace period; closing", left);
    MHD_stop_daemon(h->d);
    rg_free(h);
}
