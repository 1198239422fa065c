/*
 * config.c - the settings table and its parsers.
 *
 * Sizes accept a plain byte count or a K/M/G suffix (powers of 1024).
 * Each numeric setting has bounds: a value outside them is a start-up error
 * with a message naming the setting, never a silent clamp.
 */
#include "core/config.h"

#include "core/str.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef enum { SET_STR, SET_INT, SET_SIZE, SET_LISTEN } set_kind;

typedef struct {
    const char *flag, *env;
    set_kind kind;
    size_t off, len; /* field offset; string capacity */
    int64_t min, max;
    const char *def, *help;
} setting;

#define F(field) offsetof(rg_config, field), sizeof(((rg_config *)0)->field)

static const setting settings[] = {
    {"--data", "RAGD_DATA", SET_STR, F(data_dir), 0, 0, "./data",
     "data directory (SQLite database, uploads); created if missing"},
    {"--listen", "RAGD_LISTEN", SET_LISTEN, 0, 0, 0, 0, "127.0.0.1:5001",
     "address and port to serve on (port 0 picks a free one and logs it)"},
    {"--workers", "RAGD_WORKERS", SET_INT, F(workers), 0, 256, "0",
     "indexing worker threads (0 = one per core)"},
    {"--http-threads", "RAGD_HTTP_THREADS", SET_INT, F(http_threads), 0, 256, "0",
     "HTTP threads, each with its own epoll set (0 = one per core)"},
    {"--max-json-body", "RAGD_MAX_JSON_BODY", SET_SIZE, F(max_json_body), 1024, (int64_t)1 << 32,
     "15M", "largest JSON request body; larger ones get 413 unread"},
    {"--max-upload", "RAGD_MAX_UPLOAD", SET_SIZE, F(max_upload), 1024, (int64_t)1 << 36, "100M",
     "largest multipart upload (file plus fields); larger ones get 413"},
    {"--max-connections", "RAGD_MAX_CONNECTIONS", SET_INT, F(max_connections), 4, 100000, "1024",
     "concurrent client connections; more are refused"},
    {"--conn-timeout", "RAGD_CONN_TIMEOUT", SET_INT, F(conn_timeout_s), 1, 3600, "30",
     "seconds a connection may stay idle or stall mid-request before it is closed"},
    {"--conn-memory", "RAGD_CONN_MEMORY", SET_SIZE, F(conn_memory), 8192, 16 << 20, "32K",
     "per-connection buffer for the request line and headers; larger headers get 431/413"},
    {"--request-memory", "RAGD_REQUEST_MEMORY", SET_SIZE, F(request_arena), 1 << 20,
     (int64_t)1 << 34, "256M", "memory one request may allocate while it is handled"},
    {"--shutdown-grace", "RAGD_SHUTDOWN_GRACE", SET_INT, F(shutdown_grace_s), 0, 3600, "6",
     "seconds to let in-flight requests finish after SIGTERM/SIGINT"},
    {"--page-limit-max", "RAGD_PAGE_LIMIT_MAX", SET_INT, F(page_limit_max), 1, 10000, "100",
     "most rows one list page returns (Dify: 100)"},
    {"--stall-timeout", "RAGD_STALL_TIMEOUT", SET_INT, F(stall_timeout_s), 5, 86400, "600",
     "seconds an indexing document may go without progress before the watchdog fails it"},
    {"--index-batch", "RAGD_INDEX_BATCH", SET_INT, F(index_batch), 1, 4096, "32",
     "segments embedded and committed per indexing batch (completed_segments rises by this)"},
    {"--batch-delay-ms", "RAGD_BATCH_DELAY_MS", SET_INT, F(batch_delay_ms), 0, 3600000, "0",
     "pause before each indexing batch (throttles a busy machine; tests use it to watch "
     "indexing mid-way)"},
    {"--embed-gguf", "RAGD_EMBED_GGUF", SET_STR, F(embed_gguf), 0, 0, "",
     "GGUF BERT embedding models (comma-separated paths); each is a model of provider ragd "
     "named after its file"},
    {"--embed-threads", "RAGD_EMBED_THREADS", SET_INT, F(embed_threads), 0, 256, "0",
     "threads of one transformer forward pass (0 = one per core)"},
    {"--ann-min-vectors", "RAGD_ANN_MIN_VECTORS", SET_INT, F(ann_min), 0, 1000000000, "20000",
     "vectors of one dimension from which a dataset's semantic search uses an approximate "
     "index (HNSW, built in the background); below, and until it is built, an exact scan "
     "(0 = always exact)"},
    {"--embed-cache", "RAGD_EMBED_CACHE", SET_INT, F(embed_cache), 0, 1000000000, "500000",
     "vectors kept in the embedding cache (transformer and remote models; oldest dropped "
     "first; 0 = off)"},
    {"--embed-openai-url", "RAGD_EMBED_OPENAI_URL", SET_STR, F(openai_url), 0, 0, "",
     "OpenAI-compatible embeddings service, base URL ending in /v1 (provider "
     "openai_api_compatible)"},
    {"--embed-openai-key", "RAGD_EMBED_OPENAI_KEY", SET_STR, F(openai_key), 0, 0, "",
     "Bearer key of that service (prefer the variable: flags show in ps); never logged"},
    {"--embed-openai-models", "RAGD_EMBED_OPENAI_MODELS", SET_STR, F(openai_models), 0, 0, "",
     "its models, comma-separated, each NAME or NAME:DIMENSIONS"},
    {"--embed-openai-batch", "RAGD_EMBED_OPENAI_BATCH", SET_INT, F(openai_batch), 1, 2048, "32",
     "texts per embeddings request"},
    {"--embed-openai-inflight", "RAGD_EMBED_OPENAI_INFLIGHT", SET_INT, F(openai_inflight), 1, 256,
     "4", "embeddings requests in flight at once, whole process"},
    {"--embed-openai-timeout", "RAGD_EMBED_OPENAI_TIMEOUT", SET_INT, F(openai_timeout_s), 1, 3600,
     "60", "seconds one embeddings request may take"},
    {"--embed-openai-retries", "RAGD_EMBED_OPENAI_RETRIES", SET_INT, F(openai_retries), 0, 20, "5",
     "retries of a request answered 429 or 5xx or timed out (exponential backoff with jitter, "
     "Retry-After honoured)"},
    {"--rerank-url", "RAGD_RERANK_URL", SET_STR, F(rerank_url), 0, 0, "",
     "OpenAI-compatible rerank service (Jina/Cohere shape, POST URL/rerank), base URL normally "
     "ending in /v1 (provider openai_api_compatible)"},
    {"--rerank-key", "RAGD_RERANK_KEY", SET_STR, F(rerank_key), 0, 0, "",
     "Bearer key of that service (prefer the variable: flags show in ps); never logged"},
    {"--rerank-models", "RAGD_RERANK_MODELS", SET_STR, F(rerank_models), 0, 0, "",
     "its rerank models, comma-separated names"},
    {"--rerank-inflight", "RAGD_RERANK_INFLIGHT", SET_INT, F(rerank_inflight), 1, 256, "4",
     "rerank requests in flight at once, whole process"},
    {"--rerank-timeout", "RAGD_RERANK_TIMEOUT", SET_INT, F(rerank_timeout_s), 1, 3600, "30",
     "seconds one rerank request may take"},
    {"--rerank-retries", "RAGD_RERANK_RETRIES", SET_INT, F(rerank_retries), 0, 20, "2",
     "retries of a rerank request answered 429 or 5xx or timed out (as --embed-openai-retries)"},
    {"--log-level", "RAGD_LOG_LEVEL", SET_STR, F(log_level), 0, 0, "info",
     "debug, info, warn or error"},
};

static rg_rc parse_size(const char *z, int64_t *out)
{
    size_t n = strlen(z);
    int64_t mul = 1;
    if (n && strchr("kKmMgG", z[n - 1])) {
        char c = z[n - 1];
        mul = (c == 'k' || c == 'K') ? 1024 : (c == 'm' || c == 'M') ? 1 << 20 : 1 << 30;
        n--;
    }
    int64_t v;
    RG_TRY(rg_str_to_i64((rg_str){z, n}, 0, INT64_MAX / (1 << 30), &v));
    *out = v * mul;
    return RG_OK;
}

static rg_rc apply(rg_config *c, const setting *s, const char *value, const char *origin, char *err,
                   size_t errlen)
{
    char *field = (char *)c + s->off;
    int64_t v = 0;
    rg_rc rc = RG_OK;
    switch (s->kind) {
    case SET_STR:
        if (strlen(value) >= s->len) {
            snprintf(err, errlen, "%s: value longer than %zu bytes", origin, s->len - 1);
            return RG_EINVAL;
        }
        memcpy(field, value, strlen(value) + 1);
        return RG_OK;
    case SET_LISTEN:
        rc = rg_config_set_listen(c, value);
        if (rc != RG_OK)
            snprintf(err, errlen, "%s: expected HOST:PORT, got '%s'", origin, value);
        return rc;
    case SET_INT: rc = rg_str_to_i64(rg_str_c(value), INT64_MIN, INT64_MAX, &v); break;
    case SET_SIZE: rc = parse_size(value, &v); break;
    }
    if (rc != RG_OK || v < s->min || v > s->max) {
        snprintf(err, errlen, "%s: '%s' is not a number in [%lld, %lld]", origin, value,
                 (long long)s->min, (long long)s->max);
        return RG_EINVAL;
    }
    memcpy(field, &v, sizeof v);
    return RG_OK;
}

void rg_config_defaults(rg_config *c)
{
    memset(c, 0, sizeof *c);
    char err[128];
    for (size_t i = 0; i < RG_ARRAY_LEN(settings); i++)
        RG_ASSERT(apply(c, &settings[i], settings[i].def, settings[i].flag, err, sizeof err) ==
                  RG_OK);
}

rg_rc rg_config_from_env(rg_config *c, char *err, size_t errlen)
{
    for (size_t i = 0; i < RG_ARRAY_LEN(settings); i++) {
        const char *v = getenv(settings[i].env);
        if (v && *v)
            RG_TRY(apply(c, &settings[i], v, settings[i].env, err, errlen));
    }
    return RG_OK;
}

rg_rc rg_config_set_flag(rg_config *c, const char *flag, const char *value, char *err,
                         size_t errlen)
{
    for (size_t i = 0; i < RG_ARRAY_LEN(settings); i++)
        if (strcmp(flag, settings[i].flag) == 0)
            return apply(c, &settings[i], value, flag, err, errlen);
    return RG_ENOTFOUND;
}

rg_rc rg_config_set_listen(rg_config *c, const char *hostport)
{
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || (size_t)(colon - hostport) >= sizeof c->listen_host)
        return RG_EINVAL;
    int64_t port;
    RG_TRY(rg_str_to_i64(rg_str_c(colon + 1), 0, 65535, &port));
    memcpy(c->listen_host, hostport, (size_t)(colon - hostport));
    c->listen_host[colon - hostport] = '\0';
    c->listen_port = (int)port;
    return RG_OK;
}

void rg_config_print_help(FILE *out)
{
    for (size_t i = 0; i < RG_ARRAY_LEN(settings); i++) {
        const setting *s = &settings[i];
        fprintf(out, "  %-18s %-22s %s (default %s)\n", s->flag, s->env, s->help, s->def);
    }
}
