/*
 * config.h - every setting and limit of the server, named and documented.
 *
 * One table (config.c) lists each setting once: its command-line flag, its
 * environment variable, its default, its bounds and one line of help.  The
 * table drives parsing, `ragd serve --help` and docs/CONFIG.md, so a limit
 * cannot exist without a name and a sentence.  Values are read once at start
 * (defaults, then environment, then flags) and are immutable afterwards.
 */
#ifndef RG_CORE_CONFIG_H
#define RG_CORE_CONFIG_H

#include "core/common.h"

#include <stdio.h>

typedef struct rg_config {
    char data_dir[512];    /* --data / RAGD_DATA */
    char listen_host[256]; /* from --listen / RAGD_LISTEN */
    int listen_port;       /* from --listen / RAGD_LISTEN; 0 = ephemeral */
    int64_t workers;       /* indexing worker threads */
    int64_t http_threads;  /* HTTP pool threads */
    int64_t max_json_body; /* bytes of a JSON request body */
    int64_t max_upload;    /* bytes of a multipart upload */
    int64_t max_connections;
    int64_t conn_timeout_s; /* idle/slow connection timeout */
    int64_t conn_memory;    /* per-connection header and read buffer bytes */
    int64_t request_arena;  /* bytes one request may allocate */
    int64_t shutdown_grace_s;
    int64_t page_limit_max; /* rows one list page may return */
    int64_t stall_timeout_s;
    int64_t index_batch;      /* segments indexed per transaction */
    int64_t batch_delay_ms;   /* pause before each indexing batch */
    char embed_gguf[4096];    /* GGUF BERT files, comma-separated */
    int64_t embed_threads;    /* threads of one transformer forward pass */
    int64_t embed_cache;      /* entries of the embedding cache; 0 off */
    int64_t ann_min;          /* vectors from which a dataset gets an HNSW index; 0 never */
    char openai_url[512];     /* OpenAI-compatible embeddings service, ending in /v1 */
    char openai_key[512];     /* its Bearer key (never logged) */
    char openai_models[1024]; /* name[:dims],... */
    int64_t openai_batch;     /* texts per request */
    int64_t openai_inflight;  /* requests in flight, whole process */
    int64_t openai_timeout_s;
    int64_t openai_retries;
    char rerank_url[512];     /* OpenAI-compatible rerank service (POST URL/rerank) */
    char rerank_key[512];     /* its Bearer key (never logged) */
    char rerank_models[1024]; /* name,... */
    int64_t rerank_inflight;  /* rerank requests in flight, whole process */
    int64_t rerank_timeout_s;
    int64_t rerank_retries;
    char log_level[16];
} rg_config;

/* Fills c with the documented defaults (data dir "./data", 127.0.0.1:5001...). */
void rg_config_defaults(rg_config *c);
/* Applies RAGD_* environment variables; on error writes a message to err. */
RG_WUR rg_rc rg_config_from_env(rg_config *c, char *err, size_t errlen);
/* Applies one "--flag value" pair; RG_ENOTFOUND when flag is not a setting. */
RG_WUR rg_rc rg_config_set_flag(rg_config *c, const char *flag, const char *value, char *err,
                                size_t errlen);
/* Prints one help line per setting: flag, variable, default, meaning. */
void rg_config_print_help(FILE *out);
/* Parses "HOST:PORT" (IPv4 or a name; port 0..65535) into the listen fields. */
RG_WUR rg_rc rg_config_set_listen(rg_config *c, const char *hostport);

#endif
