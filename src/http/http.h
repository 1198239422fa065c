/*
 * http.h - the HTTP transport: bytes in, rg_req / rg_resp out.
 *
 * The layer knows routes, methods, bodies, headers and the Dify error
 * envelope; it knows nothing of storage or of what a dataset is.  The
 * application gives it a route table, an authentication hook and an opaque
 * application pointer; the server runs each request through:
 *
 *   route match (404 / 405) -> body limit (413, unread) -> Content-Type (415)
 *   -> JSON parse (400) -> authenticate hook (401/403) -> handler
 *
 * and turns a handler's rg_rc into {"code","message","status"} through the
 * one rc table (core/rc.c).  Every request has an arena, freed when the
 * response has been sent.
 */
#ifndef RG_HTTP_HTTP_H
#define RG_HTTP_HTTP_H

#include "core/arena.h"
#include "core/buf.h"
#include "core/common.h"
#include "core/jsonw.h"
#include "core/str.h"

#include <jansson.h>

#define RG_ROUTE_MAX_PARAMS   6
#define RG_ROUTE_MAX_SEGMENTS 16

typedef enum rg_method {
    RG_GET = 1 << 0,
    RG_POST = 1 << 1,
    RG_PATCH = 1 << 2,
    RG_DELETE = 1 << 3,
    RG_PUT = 1 << 4,
    RG_HEAD = 1 << 5,
    RG_OTHER = 1 << 6,
} rg_method;

/* Route flags. */
enum {
    RG_ROUTE_JSON = 1 << 0,     /* body must be a JSON object (415 / 400 otherwise) */
    RG_ROUTE_JSON_OPT = 1 << 1, /* a JSON body is parsed when present */
    RG_ROUTE_PUBLIC = 1 << 2,   /* no authentication */
    RG_ROUTE_UPLOAD = 1 << 3,   /* body limit is the upload limit, not the JSON one */
};

typedef struct rg_req rg_req;
typedef struct rg_resp rg_resp;

/* A handler fills resp and returns RG_OK, or returns an error code (and may
 * set a message with rg_resp_fail); the server writes the envelope. */
typedef rg_rc (*rg_handler)(rg_req *req, rg_resp *resp);

/* One row of the route table.  Pattern segments: literal, "{uuid}" (must be a
 * UUID or the route does not match, as Dify's <uuid:...>) or "{str}" (any
 * non-empty segment).  The first row whose pattern and method match wins. */
typedef struct rg_route {
    unsigned methods;
    const char *pattern;
    rg_handler fn;
    unsigned flags;
} rg_route;

/* A file part of a multipart upload, spooled to disk as it arrives. */
typedef struct rg_file_part {
    const char *field;        /* form field name ("file") */
    const char *filename;     /* as sent by the client ("" when empty); never a path */
    const char *content_type; /* nullable */
    const char *path;         /* the spool file; removed after the response unless moved */
    int64_t size;
} rg_file_part;

#define RG_UPLOAD_MAX_FIELD  ((size_t)1 << 20) /* bytes of one non-file form field */
#define RG_UPLOAD_MAX_FIELDS 16

struct rg_req {
    rg_arena *arena; /* owns everything of this request */
    rg_method method;
    rg_str path; /* decoded path, no query string */
    rg_str params[RG_ROUTE_MAX_PARAMS];
    size_t n_params;
    rg_str body;  /* raw body (borrowed from the server until the response is sent) */
    json_t *json; /* parsed body for JSON routes, else NULL; owned by the server */
    const rg_route *route;
    void *app;  /* the application pointer given to rg_http_start */
    void *auth; /* set by the authenticate hook */
    void *conn; /* transport connection, opaque */
    /* multipart uploads (RG_ROUTE_UPLOAD): the first file part, how many file
     * parts came, and the text fields (borrowed until the response is sent) */
    rg_file_part file;
    int n_files;
    bool multipart; /* the body was multipart/form-data */
    const char *field_names[RG_UPLOAD_MAX_FIELDS];
    rg_str field_values[RG_UPLOAD_MAX_FIELDS];
    size_t n_fields;
};

struct rg_resp {
    int status; /* 200 unless set */
    rg_buf body;
    const char *content_type;               /* default application/json */
    const char *message;                    /* error message for a failing rc, arena-owned */
    const char *extra_header, *extra_value; /* one optional header */
    int fd;           /* >= 0: send fd_size bytes of this file instead of body */
    uint64_t fd_size; /* (the server closes fd) */
};

typedef struct rg_http_config {
    const char *host;
    int port; /* 0 = ephemeral; rg_http_port tells which */
    unsigned threads;
    unsigned max_connections;
    unsigned conn_timeout_s;
    size_t conn_memory;
    size_t max_json_body;
    size_t max_upload;
    size_t request_arena;
    size_t max_response;
    const char *spool_dir; /* where upload parts are spooled (same file system as the store) */
    const rg_route *routes;
    size_t n_routes;
    rg_rc (*authenticate)(rg_req *req, rg_resp *resp);
    void *app;
} rg_http_config;

typedef struct rg_http rg_http;

/* Binds, listens and starts the server threads.  *out is a new server that
 * rg_http_stop stops and frees.  The config and route table are borrowed and
 * must outlive the server. */
RG_WUR rg_rc rg_http_start(const rg_http_config *cfg, rg_http **out);
/* The port actually bound (useful with port 0). */
int rg_http_port(const rg_http *h);
/* Stops accepting, lets in-flight requests finish for up to grace_ms, then
 * closes every connection and frees the server. */
void rg_http_stop(rg_http *h, int64_t grace_ms);

/* Request accessors: values are borrowed until the response is sent. */
const char *rg_req_header(rg_req *req, const char *name);
/* The decoded value of query parameter name, or NULL. */
const char *rg_req_query(rg_req *req, const char *name);
/* Collects every value of a repeated query parameter (arena-owned array). */
size_t rg_req_query_all(rg_req *req, const char *name, const char ***out);
/* The value of multipart text field name, or a NULL slice. */
rg_str rg_req_field(rg_req *req, const char *name);
/* Path parameter i as a NUL-terminated arena copy. */
const char *rg_req_param(rg_req *req, size_t i);

/* Starts a JSON body on resp and returns a writer over it. */
void rg_resp_json(rg_resp *resp, rg_jsonw *w);
/* Records a formatted message for an error and returns rc unchanged. */
rg_rc rg_resp_fail(rg_resp *resp, rg_req *req, rg_rc rc, const char *fmt, ...) RG_PRINTF(4, 5);
/* Writes the Dify envelope for rc (message, or the table's default) into resp. */
void rg_resp_error(rg_resp *resp, rg_rc rc, const char *message);

/* Router, exposed for tests and fuzzing: matches method and path against the
 * table.  RG_OK with *out and params filled, RG_EMETHOD when only the method
 * differs, RG_ENOTFOUND otherwise. */
RG_WUR rg_rc rg_route_match(const rg_route *routes, size_t n, rg_method m, rg_str path,
                            const rg_route **out, rg_str params[RG_ROUTE_MAX_PARAMS],
                            size_t *n_params);
/* Maps a method name to rg_method (RG_OTHER for anything unknown). */
rg_method rg_method_parse(const char *name);

#endif
