/*
 * multipart.h - streaming multipart/form-data for upload routes (private to
 * http/: server.c drives it; handlers read req->file and rg_req_field).
 */
#ifndef RG_HTTP_MULTIPART_H
#define RG_HTTP_MULTIPART_H

#include "http/http.h"

#include <microhttpd.h>

typedef struct rg_multipart rg_multipart;

/* Starts parsing the body of connection c into req; NULL when the request is
 * not multipart/form-data (or urlencoded).  Freed with rg_multipart_free. */
rg_multipart *rg_multipart_new(struct MHD_Connection *c, rg_req *req, const char *spool_dir);
/* Feeds body bytes; an error (with a reason in *why, static or arena) stops the upload. */
RG_WUR rg_rc rg_multipart_feed(rg_multipart *m, const char *data, size_t size, const char **why);
/* Ends the body: flushes and syncs the spool file, publishes the text fields. */
RG_WUR rg_rc rg_multipart_finish(rg_multipart *m, const char **why);
/* Frees the parser and removes the spool file unless it was moved away. */
void rg_multipart_free(rg_multipart *m);

#endif
