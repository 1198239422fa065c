/*
 * main.c - the ragd command line: serve, key create/list/revoke, and embed
 * (one JSON array of floats per line of standard input, with any configured
 * model: for checking a model from the shell, and for the tests that compare
 * an engine with a reference implementation).
 *
 * Start-up order: config (defaults, environment, flags) -> logging -> random
 * source -> GloVe table (optional) -> store -> first-start key -> HTTP.
 * SIGTERM and SIGINT are blocked in every thread and taken by sigwait() in the main thread, which
 * then stops accepting, lets in-flight requests finish (--shutdown-grace),
 * closes the store and exits 0.
 */
#include "api/api.h"
#include "core/alloc.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/ids.h"
#include "core/log.h"
#include "embed/embed.h"
#include "embed/engines.h"
#include "http/http.h"
#include "index/index.h"
#include "store/store.h"
#include "worker/worker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RAGD_VERSION "0.1.0"

static void usage(FILE *out)
{
    fprintf(out,
            "ragd %s - a Dify-compatible knowledge-base server\n\n"
            "usage:\n"
            "  ragd serve [--data DIR] [--listen HOST:PORT] [--workers N] [options]\n"
            "  ragd key create [--data DIR] [--tenant NAME] [--dataset ID]\n"
            "  ragd key list [--data DIR]\n"
            "  ragd key revoke KEY [--data DIR]\n"
            "  ragd embed [--model PROVIDER/NAME] [options] < lines\n"
            "  ragd --help | --version\n\n"
            "settings (flag, environment variable, meaning, default):\n",
            RAGD_VERSION);
    rg_config_print_help(out);
    fprintf(out, "\nOn first start with an empty data directory, `serve` creates an API key for\n"
                 "the tenant \"default\" and prints it once.  Keys are stored hashed.\n");
}

typedef struct {
    const char *tenant, *dataset, *model, *positional;
} cli_extra;

/* Parses flags after the command; settings go to c, the rest to x. */
static int parse_flags(int argc, char **argv, int i, rg_config *c, cli_extra *x)
{
    char err[256];
    if (rg_config_from_env(c, err, sizeof err) != RG_OK) {
        fprintf(stderr, "ragd: %s\n", err);
        return 2;
    }
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        }
        if (strncmp(a, "--", 2) != 0) {
            if (x->positional) {
                fprintf(stderr, "ragd: unexpected argument '%s'\n", a);
                return 2;
            }
            x->positional = a;
            continue;
        }
        char flag[64];
        const char *eq = strchr(a, '='), *val;
        if (eq) {
            snprintf(flag, sizeof flag, "%.*s", (int)(eq - a), a);
            val = eq + 1;
        } else {
            snprintf(flag, sizeof flag, "%s", a);
            if (i + 1 >= argc) {
                fprintf(stderr, "ragd: %s needs a value\n", flag);
                return 2;
            }
            val = argv[++i];
        }
        if (strcmp(flag, "--tenant") == 0)
            x->tenant = val;
        else if (strcmp(flag, "--dataset") == 0)
            x->dataset = val;
        else if (strcmp(flag, "--model") == 0)
            x->model = val;
        else {
            rg_rc rc = rg_config_set_flag(c, flag, val, err, sizeof err);
            if (rc == RG_ENOTFOUND) {
                fprintf(stderr, "ragd: unknown option %s (see ragd --help)\n", flag);
                return 2;
            }
            if (rc != RG_OK) {
                fprintf(stderr, "ragd: %s\n", err);
                return 2;
            }
        }
    }
    rg_log_level lvl;
    if (rg_log_parse_level(c->log_level, &lvl) != RG_OK) {
        fprintf(stderr, "ragd: --log-level: expected debug, info, warn or error\n");
        return 2;
    }
    rg_log_set_level(lvl);
    return 0;
}

static int open_store(const rg_config *c, rg_store **s)
{
    if (rg_store_open(c->data_dir, s) != RG_OK) {
        fprintf(stderr, "ragd: cannot open the store in '%s' (see the log above)\n", c->data_dir);
        return 1;
    }
    return 0;
}

/* Creates a key for tenant (created if needed), optionally bound to dataset. */
static rg_rc make_key(rg_store *s, const char *tenant, const char *dataset,
                      char out[RG_KEY_LEN + 1])
{
    rg_key k = {0};
    RG_TRY(rg_store_tenant_ensure(s, tenant, &k.tenant));
    if (dataset) {
        if (!rg_str_is_uuid(rg_str_c(dataset)))
            return RG_EINVAL;
        rg_arena *a = rg_arena_new(1 << 20);
        rg_dataset d;
        rg_rc rc = rg_store_dataset_get(s, a, k.tenant.id, dataset, &d);
        if (rc == RG_OK)
            memcpy(k.dataset_id, d.id, sizeof k.dataset_id);
        rg_arena_free(a);
        RG_TRY(rc);
    }
    memcpy(out, RG_KEY_PREFIX, sizeof RG_KEY_PREFIX - 1);
    rg_random_alnum(out + sizeof RG_KEY_PREFIX - 1, RG_KEY_RANDOM_LEN);
    rg_api_key_hash((rg_str){out, RG_KEY_LEN}, k.hash);
    rg_uuid4(k.id);
    memcpy(k.shown, out, RG_KEY_SHOWN_LEN);
    k.shown[RG_KEY_SHOWN_LEN] = '\0';
    k.created_at = rg_now_s();
    return rg_store_key_insert(s, &k);
}

static int cmd_key(int argc, char **argv)
{
    rg_config c;
    rg_config_defaults(&c);
    cli_extra x = {0};
    if (argc < 3) {
        usage(stderr);
        return 2;
    }
    const char *sub = argv[2];
    int r = parse_flags(argc, argv, 3, &c, &x);
    if (r)
        return r;
    rg_store *s;
    if ((r = open_store(&c, &s)))
        return r;
    rg_rc rc = RG_OK;
    if (strcmp(sub, "create") == 0 && !x.positional) {
        char key[RG_KEY_LEN + 1];
        rc = make_key(s, x.tenant ? x.tenant : "default", x.dataset, key);
        if (rc == RG_OK)
            printf("%s\n", key);
        else if (rc == RG_ENOTFOUND || rc == RG_EINVAL)
            fprintf(stderr, "ragd: dataset '%s' does not exist in tenant '%s'\n", x.dataset,
                    x.tenant ? x.tenant : "default");
    } else if (strcmp(sub, "list") == 0 && !x.positional) {
        rg_arena *a = rg_arena_new((size_t)1 << 30);
        rg_key *keys;
        size_t n;
        rc = rg_store_key_list(s, a, &keys, &n);
        for (size_t i = 0; rc == RG_OK && i < n; i++) {
            char when[32];
            time_t t = (time_t)keys[i].created_at;
            struct tm tm;
            gmtime_r(&t, &tm);
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
            printf("%s…  tenant=%s  dataset=%s  created=%s\n", keys[i].shown, keys[i].tenant.name,
                   keys[i].dataset_id[0] ? keys[i].dataset_id : "*", when);
        }
        rg_arena_free(a);
    } else if (strcmp(sub, "revoke") == 0 && x.positional) {
        unsigned char hash[RG_KEY_HASH_LEN];
        rg_api_key_hash(rg_str_c(x.positional), hash);
        rc = rg_store_key_delete(s, hash);
        if (rc == RG_OK)
            fprintf(stderr, "ragd: key revoked\n");
        else if (rc == RG_ENOTFOUND)
            fprintf(stderr, "ragd: no such key\n");
    } else {
        rg_store_close(s);
        usage(stderr);
        return 2;
    }
    rg_store_close(s);
    return rc == RG_OK ? 0 : 1;
}

static void print_first_key(const rg_config *c, const char *key)
{
    printf("ragd: first start - created an API key for tenant \"default\" (shown only now):\n"
           "\n    %s\n\n"
           "try:\n    curl -s -H 'Authorization: Bearer %s' http://%s:%d/v1/datasets\n\n",
           key, key, c->listen_host, c->listen_port);
    fflush(stdout);
}

/* Starts the configured embedding engines; 0, or 2 with the reason printed. */
static int start_embedders(const rg_config *c)
{
    char err[512];
    if (rg_embed_start(c, err, sizeof err) != RG_OK) {
        fprintf(stderr, "ragd: %s\n", err);
        return 2;
    }
    return 0;
}

static int serve(const rg_config *c)
{
    int r = start_embedders(c);
    if (r)
        return r;
    rg_store *s;
    r = open_store(c, &s);
    if (r)
        return r;
    rg_store_embed_cache_limit(s, c->embed_cache);
    int64_t nkeys = 0;
    if (rg_store_key_count(s, &nkeys) == RG_OK && nkeys == 0) {
        char key[RG_KEY_LEN + 1];
        if (make_key(s, "default", NULL, key) != RG_OK) {
            rg_store_close(s);
            return 1;
        }
        print_first_key(c, key);
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1)
        cores = 1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts */
    signal(SIGPIPE, SIG_IGN);
    rg_workers *workers;
    rg_pipeline_opts popt = {.batch = (size_t)c->index_batch, .delay_ms = c->batch_delay_ms};
    if (rg_workers_start(s, (int)(c->workers ? c->workers : cores), c->stall_timeout_s, &popt,
                         &workers) != RG_OK) {
        rg_store_close(s);
        return 1;
    }
    rg_index_registry *index;
    if (rg_index_registry_new(s, &index) != RG_OK) {
        (void)rg_workers_stop(workers, 10000);
        rg_store_close(s);
        return 1;
    }
    rg_index_registry_ann(index, (size_t)c->ann_min);
    rg_api api = {.store = s,
                  .index = index,
                  .page_limit_max = c->page_limit_max,
                  .wake = rg_workers_wake,
                  .wake_arg = workers};
    rg_http_config hc = {
        .host = c->listen_host,
        .port = c->listen_port,
        .threads = (unsigned)(c->http_threads ? c->http_threads : cores),
        .max_connections = (unsigned)c->max_connections,
        .conn_timeout_s = (unsigned)c->conn_timeout_s,
        .conn_memory = (size_t)c->conn_memory,
        .max_json_body = (size_t)c->max_json_body,
        .max_upload = (size_t)c->max_upload,
        .request_arena = (size_t)c->request_arena,
        .max_response = (size_t)64 << 20,
        .routes = rg_api_routes,
        .n_routes = rg_api_n_routes,
        .authenticate = rg_api_authenticate,
        .app = &api,
        .spool_dir = rg_store_spool_dir(s),
    };
    rg_http *h;
    if (rg_http_start(&hc, &h) != RG_OK) {
        rg_index_registry_free(index);
        (void)rg_workers_stop(workers, 10000);
        rg_store_close(s);
        return 1;
    }
    rg_info("ragd %s listening on %s:%d (data %s, store %s, %u http threads)", RAGD_VERSION,
            c->listen_host, rg_http_port(h), c->data_dir, rg_store_engine(s), hc.threads);
    int sig = 0;
    while (sigwait(&set, &sig) != 0) {
    }
    rg_info("signal %d: stopping (grace %llds)", sig, (long long)c->shutdown_grace_s);
    rg_http_stop(h, c->shutdown_grace_s * 1000);
    rg_index_registry_free(index);      /* no request is running any more */
    if (rg_workers_stop(workers, 1500)) /* a job in flight resumes at the next start */
        rg_store_close(s);
    rg_info("stopped");
    return 0;
}

#define EMBED_LINE_MAX  (1 << 20)
#define EMBED_CLI_BATCH 64

/* Embeds lines[0..n) with m and prints one JSON array per line. */
static int embed_print(const rg_embed_model *m, char **lines, size_t n)
{
    rg_str texts[EMBED_CLI_BATCH];
    for (size_t i = 0; i < n; i++)
        texts[i] = rg_str_c(lines[i]);
    float *v = rg_try_malloc(n * (size_t)m->dims * sizeof *v);
    char err[RG_EMBED_ERR_MAX] = "";
    rg_rc rc = v ? m->embed(m, texts, n, v, err) : RG_ENOMEM;
    if (rc != RG_OK) {
        fprintf(stderr, "ragd: %s/%s: %s\n", m->provider, m->name,
                *err ? err : rg_rc_wire(rc)->message);
        rg_free(v);
        return 1;
    }
    for (size_t i = 0; i < n; i++) {
        putchar('[');
        for (int d = 0; d < m->dims; d++)
            printf(d ? ",%.9g" : "%.9g", (double)v[i * (size_t)m->dims + (size_t)d]);
        puts("]");
    }
    rg_free(v);
    return 0;
}

/* ragd embed: the model named by --model (PROVIDER/NAME; default: the server's
 * default model), configured as `serve` would be. */
static int cmd_embed(int argc, char **argv)
{
    rg_config c;
    cli_extra x = {0};
    rg_config_defaults(&c);
    int r = parse_flags(argc, argv, 2, &c, &x);
    if (r || (r = start_embedders(&c)))
        return r;
    const rg_embed_model *m = rg_embed_default();
    if (x.model) {
        const char *slash = strchr(x.model, '/');
        char prov[128];
        if (slash && (size_t)(slash - x.model) < sizeof prov) {
            snprintf(prov, sizeof prov, "%.*s", (int)(slash - x.model), x.model);
            m = rg_embed_find(prov, slash + 1);
        } else
            m = NULL;
        if (!m) {
            fprintf(stderr, "ragd: no model '%s' (PROVIDER/NAME, as the models API lists)\n",
                    x.model);
            return 2;
        }
    }
    char *lines[EMBED_CLI_BATCH];
    size_t n = 0;
    char *line = rg_xmalloc(EMBED_LINE_MAX + 2);
    while (r == 0 && fgets(line, EMBED_LINE_MAX + 2, stdin)) {
        size_t len = strlen(line);
        if (len && line[len - 1] == '\n')
            line[--len] = '\0';
        else if (len > EMBED_LINE_MAX) {
            fprintf(stderr, "ragd: a line longer than %d bytes\n", EMBED_LINE_MAX);
            r = 1;
            break;
        }
        lines[n++] = rg_xstrdup(line);
        if (n == EMBED_CLI_BATCH) {
            r = embed_print(m, lines, n);
            while (n)
                rg_free(lines[--n]);
        }
    }
    if (r == 0 && n)
        r = embed_print(m, lines, n);
    while (n)
        rg_free(lines[--n]);
    rg_free(line);
    return r;
}

int main(int argc, char **argv)
{
    if (rg_ids_init() != RG_OK) {
        fprintf(stderr, "ragd: no random source\n");
        return 1;
    }
    if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("ragd %s\n", RAGD_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "key") == 0)
        return cmd_key(argc, argv);
    if (strcmp(argv[1], "embed") == 0)
        return cmd_embed(argc, argv);
    if (strcmp(argv[1], "serve") == 0) {
        rg_config c;
        cli_extra x = {0};
        rg_config_defaults(&c);
        int r = parse_flags(argc, argv, 2, &c, &x);
        if (r)
            return r;
        if (x.positional || x.tenant || x.dataset) {
            fprintf(stderr, "ragd: serve takes no such argument (see ragd --help)\n");
            return 2;
        }
        return serve(&c);
    }
    fprintf(stderr, "ragd: unknown command '%s' (see ragd --help)\n", argv[1]);
    return 2;
}
