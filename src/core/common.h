/*
 * common.h - the vocabulary every ragd module shares.
 *
 * One return-code type (rg_rc) for every fallible function, invariant
 * assertions that stay on in release builds, and a few attribute macros.
 * Nothing here allocates or depends on another project header.  The table
 * that maps an rg_rc to an HTTP status and a Dify error code lives in rc.c,
 * so that adding a code forces a decision about how it looks on the wire.
 */
#ifndef RG_CORE_COMMON_H
#define RG_CORE_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RG_WUR          __attribute__((warn_unused_result))
#define RG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#define RG_NORETURN     __attribute__((noreturn))
#define RG_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define RG_UNUSED(x)    ((void)(x))

/* Every fallible function returns one of these; data goes out through pointers. */
typedef enum rg_rc {
    RG_OK = 0,
    RG_ENOMEM,        /* allocation failed or a hard memory limit was reached */
    RG_EIO,           /* storage or OS failure; details are logged, not sent */
    RG_EINVAL,        /* a parameter is out of its documented range */
    RG_EBADREQ,       /* the request cannot be parsed (malformed JSON, bad framing) */
    RG_EUNAUTH,       /* missing, malformed or unknown API key */
    RG_EFORBIDDEN,    /* the key may not touch this resource */
    RG_ENOTFOUND,     /* no such resource for this tenant */
    RG_EMETHOD,       /* the route exists but not with this method */
    RG_ENAMEDUP,      /* a dataset with this name already exists in the tenant */
    RG_ECONFLICT,     /* another uniqueness or state conflict */
    RG_ETOOBIG,       /* a request body over the configured limit */
    RG_EMEDIA,        /* the request's Content-Type is not the one required */
    RG_EFILETOOBIG,   /* an uploaded file over the configured limit */
    RG_EFILETYPE,     /* an uploaded file of a type ragd does not extract */
    RG_ENOFILE,       /* a multipart upload without its file part */
    RG_ETOOMANYFILES, /* a multipart upload with more than one file part */
    RG_ENOFILENAME,   /* a file part without a file name */
    RG_EARCHIVED,     /* the document is archived and cannot be edited */
    RG_EACTION,       /* an unknown or impossible action on a document */
    RG_EMETADATA,     /* a bad value for the metadata query parameter */
    RG_EINDEXING,     /* the document is being indexed and cannot be edited */
    RG_EPROVIDER,     /* the embedding model is not configured or not available */
    RG_EBUSY,         /* a bounded queue is full; try again later */
    RG_ECANCELED,     /* work stopped because its subject was paused or deleted */
    RG_ETIMEOUT,      /* an operation ran out of time */
    RG_EUPSTREAM,     /* a model or remote service failed; its message says why */
    RG_RC_COUNT
} rg_rc;

/* How an rg_rc looks on the wire: HTTP status, Dify code, default message. */
typedef struct rg_rc_info {
    int http_status;
    const char *code;
    const char *message;
} rg_rc_info;

/* Returns the static wire description of rc (never NULL, valid forever). */
const rg_rc_info *rg_rc_wire(rg_rc rc);

/* Returns the symbolic name of rc ("RG_ENOTFOUND"), static storage. */
const char *rg_rc_name(rg_rc rc);

/* Logs file:line and the failed expression, then aborts. */
RG_NORETURN void rg_panic(const char *file, int line, const char *what);

/* Invariants: on in every build.  Nothing a client sends may trigger one. */
#define RG_ASSERT(x)                                                                               \
    do {                                                                                           \
        if (__builtin_expect(!(x), 0))                                                             \
            rg_panic(__FILE__, __LINE__, #x);                                                      \
    } while (0)

#define RG_TRY(expr)                                                                               \
    do {                                                                                           \
        rg_rc rg_try_rc_ = (expr);                                                                 \
        if (rg_try_rc_ != RG_OK)                                                                   \
            return rg_try_rc_;                                                                     \
    } while (0)

#endif
