/*
 * test_store.c - the storage interface on its SQLite engine.
 *
 * Every test opens a store in a fresh mkdtemp directory under /tmp (in a
 * subdirectory that the store itself has to create) and removes it at the
 * end.  The tests go through store.h only, except where the file itself is
 * the subject (schema version, the thread-exit close of read connections),
 * where they look with the SQLite API directly.
 */
#include "harness.h"

#include "core/alloc.h"
#include "core/arena.h"
#include "core/ids.h"
#include "store/store.h"

#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARENA_MAX (1u << 20)

typedef struct tmpdir {
    char root[64];
    char data[96]; /* root/data: does not exist until the store creates it */
    char db[128];  /* data/ragd.db */
} tmpdir;

static void tmp_make(tmpdir *t)
{
    snprintf(t->root, sizeof t->root, "/tmp/ragd-store-XXXXXX");
    if (!mkdtemp(t->root)) {
        perror("mkdtemp");
        abort();
    }
    snprintf(t->data, sizeof t->data, "%s/data", t->root);
    snprintf(t->db, sizeof t->db, "%s/ragd.db", t->data);
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void tmp_remove(const tmpdir *t)
{
    CHECK(nftw(t->root, rm_entry, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

/* Opens the store of t; on failure records it and returns NULL. */
static rg_store *open_store(const tmpdir *t)
{
    CHECK(rg_ids_init() == RG_OK);
    rg_store *s = NULL;
    rg_rc rc = rg_store_open(t->data, &s);
    CHECK_EQ_INT(rc, RG_OK);
    CHECK(rc != RG_OK || s != NULL);
    return rc == RG_OK ? s : NULL;
}

/* Opens (or reopens) the store into s, or ends the test when that fails. */
#define OPEN_OR_RETURN(s, t)                                                                       \
    do {                                                                                           \
        (s) = open_store(&(t));                                                                    \
        if (!(s)) {                                                                                \
            tmp_remove(&(t));                                                                      \
            return;                                                                                \
        }                                                                                          \
    } while (0)

static void ensure_tenant(rg_store *s, const char *name, rg_tenant *out)
{
    CHECK_EQ_INT(rg_store_tenant_ensure(s, name, out), RG_OK);
}

/* A minimal valid dataset; name must outlive its use. */
static void ds_fill(rg_dataset *d, const char *tenant_id, const char *name, int64_t created_at)
{
    memset(d, 0, sizeof *d);
    rg_uuid4(d->id);
    snprintf(d->tenant_id, sizeof d->tenant_id, "%s", tenant_id);
    d->name = name;
    d->provider = "vendor";
    d->permission = "only_me";
    d->created_by = "owner-1";
    d->created_at = created_at;
    d->updated_at = created_at;
    d->enable_api = true;
}

/* A dataset with every field set to a value of its own. */
static void ds_fill_all(rg_dataset *d, const char *tenant_id)
{
    ds_fill(d, tenant_id, "Everything", 1700000000);
    d->description = "all the fields";
    d->permission = "partial_members";
    d->data_source_type = "upload_file";
    d->indexing_technique = "high_quality";
    d->updated_by = "owner-2";
    d->updated_at = 1700000001;
    d->embedding_model = "text-embedding-3-small";
    d->embedding_model_provider = "openai";
    d->retrieval_model = "{\"search_method\":\"hybrid_search\",\"top_k\":3}";
    d->summary_index_setting = "{\"enable\":false}";
    d->icon_info = "{\"icon\":\"📙\"}";
    d->doc_form = "text_model";
    d->external_knowledge_id = "ext-1";
    d->external_knowledge_api_id = "ext-api-1";
    d->external_retrieval_model = "{\"top_k\":2}";
    d->partial_member_list = "[\"m1\",\"m2\"]";
    d->built_in_field_enabled = true;
    d->enable_api = false;
    d->is_multimodal = true;
    d->document_count = 99; /* counters are not the caller's to write */
    d->word_count = 98;
    d->available_document_count = 97;
}

#define CHECK_EQ_NSTR(a, b)                                                                        \
    do {                                                                                           \
        if ((b) == NULL)                                                                           \
            CHECK((a) == NULL);                                                                    \
        else                                                                                       \
            CHECK_EQ_STR(a, b);                                                                    \
    } while (0)

static void check_same_dataset(const rg_dataset *got, const rg_dataset *want)
{
    CHECK_EQ_STR(got->id, want->id);
    CHECK_EQ_STR(got->tenant_id, want->tenant_id);
    CHECK_EQ_STR(got->name, want->name);
    CHECK_EQ_NSTR(got->description, want->description);
    CHECK_EQ_STR(got->provider, want->provider);
    CHECK_EQ_STR(got->permission, want->permission);
    CHECK_EQ_NSTR(got->data_source_type, want->data_source_type);
    CHECK_EQ_NSTR(got->indexing_technique, want->indexing_technique);
    CHECK_EQ_STR(got->created_by, want->created_by);
    CHECK_EQ_INT(got->created_at, want->created_at);
    CHECK_EQ_NSTR(got->updated_by, want->updated_by);
    CHECK_EQ_INT(got->updated_at, want->updated_at);
    CHECK_EQ_NSTR(got->embedding_model, want->embedding_model);
    CHECK_EQ_NSTR(got->embedding_model_provider, want->embedding_model_provider);
    CHECK_EQ_NSTR(got->retrieval_model, want->retrieval_model);
    CHECK_EQ_NSTR(got->summary_index_setting, want->summary_index_setting);
    CHECK_EQ_NSTR(got->icon_info, want->icon_info);
    CHECK_EQ_NSTR(got->doc_form, want->doc_form);
    CHECK_EQ_NSTR(got->external_knowledge_id, want->external_knowledge_id);
    CHECK_EQ_NSTR(got->external_knowledge_api_id, want->external_knowledge_api_id);
    CHECK_EQ_NSTR(got->external_retrieval_model, want->external_retrieval_model);
    CHECK_EQ_NSTR(got->partial_member_list, want->partial_member_list);
    CHECK_EQ_INT(got->built_in_field_enabled, want->built_in_field_enabled);
    CHECK_EQ_INT(got->enable_api, want->enable_api);
    CHECK_EQ_INT(got->is_multimodal, want->is_multimodal);
}

static int user_version(const char *db_path)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int v = -1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

/* --- lifecycle ----------------------------------------------------------------- */

TEST(store_reopen_keeps_data)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    CHECK_EQ_STR(rg_store_engine(s), "sqlite");
    CHECK_EQ_INT(rg_store_ping(s), RG_OK);
    struct stat sb;
    CHECK(stat(t.data, &sb) == 0 && S_ISDIR(sb.st_mode) && (sb.st_mode & 0777) == 0700);

    rg_tenant ten;
    ensure_tenant(s, "acme", &ten);
    rg_dataset d;
    ds_fill_all(&d, ten.id);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &d), RG_OK);
    rg_store_close(s);

    OPEN_OR_RETURN(s, t);
    rg_arena *a = rg_arena_new(ARENA_MAX);
    rg_dataset got;
    CHECK_EQ_INT(rg_store_dataset_get(s, a, ten.id, d.id, &got), RG_OK);
    check_same_dataset(&got, &d);
    CHECK_EQ_STR(got.author_name, "acme");
    CHECK_EQ_INT(got.document_count, 0);
    CHECK_EQ_INT(got.word_count, 0);
    CHECK_EQ_INT(got.available_document_count, 0);
    rg_tenant again;
    ensure_tenant(s, "acme", &again);
    CHECK_EQ_STR(again.id, ten.id);
    rg_arena_free(a);
    rg_store_close(s);
    tmp_remove(&t);
}

TEST(store_migrations_idempotent)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    rg_tenant ten;
    ensure_tenant(s, "acme", &ten);
    rg_store_close(s);
    int v1 = user_version(t.db);
    CHECK(v1 >= 1);

    OPEN_OR_RETURN(s, t); /* must not try to create the tables again */
    rg_store_close(s);
    OPEN_OR_RETURN(s, t);
    CHECK_EQ_INT(user_version(t.db), v1);
    rg_tenant again;
    ensure_tenant(s, "acme", &again);
    CHECK_EQ_STR(again.id, ten.id);
    rg_store_close(s);
    tmp_remove(&t);
}

TEST(store_refuses_newer_schema)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    rg_store_close(s);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(t.db, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 9999", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);

    s = (rg_store *)&t; /* must be reset on failure */
    CHECK_EQ_INT(rg_store_open(t.data, &s), RG_EIO);
    CHECK(s == NULL);
    CHECK_EQ_INT(user_version(t.db), 9999);
    tmp_remove(&t);
}

TEST(store_open_rejects_file_as_dir)
{
    tmpdir t;
    tmp_make(&t);
    FILE *f = fopen(t.data, "w"); /* a file where the data directory should be */
    CHECK(f != NULL);
    if (f)
        fclose(f);
    rg_store *s = NULL;
    CHECK_EQ_INT(rg_store_open(t.data, &s), RG_EIO);
    CHECK(s == NULL);
    tmp_remove(&t);
}

/* A child that is killed right after a write: the write must be there. */
TEST(store_commit_survives_kill)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    rg_tenant ten;
    ensure_tenant(s, "acme", &ten);
    rg_store_close(s);

    rg_dataset d;
    ds_fill(&d, ten.id, "survivor", 42);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        rg_store *cs = NULL;
        if (rg_store_open(t.data, &cs) != RG_OK || rg_store_dataset_insert(cs, &d) != RG_OK)
            _exit(1);
        kill(getpid(), SIGKILL);
        _exit(2);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    OPEN_OR_RETURN(s, t);
    rg_arena *a = rg_arena_new(ARENA_MAX);
    rg_dataset got;
    CHECK_EQ_INT(rg_store_dataset_get(s, a, ten.id, d.id, &got), RG_OK);
    CHECK_EQ_STR(got.name, "survivor");
    rg_arena_free(a);
    rg_store_close(s);
    tmp_remove(&t);
}

/* --- tenants and keys ------------------------------------------------------------ */

TEST(store_tenant_ensure)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    rg_tenant a1, a2, b;
    ensure_tenant(s, "acme", &a1);
    ensure_tenant(s, "acme", &a2);
    ensure_tenant(s, "beta", &b);
    CHECK_EQ_INT(strlen(a1.id), RG_UUID_LEN);
    CHECK_EQ_INT(strlen(a1.owner_id), RG_UUID_LEN);
    CHECK_EQ_STR(a1.name, "acme");
    CHECK_EQ_STR(a2.id, a1.id);
    CHECK_EQ_STR(a2.owner_id, a1.owner_id);
    CHECK_EQ_STR(a2.name, "acme");
    CHECK(strcmp(b.id, a1.id) != 0);
    CHECK(strcmp(b.owner_id, a1.owner_id) != 0);
    CHECK(strcmp(a1.id, a1.owner_id) != 0);
    CHECK_EQ_STR(b.name, "beta");

    char longname[RG_TENANT_NAME_MAX + 2];
    memset(longname, 'x', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    rg_tenant bad;
    CHECK_EQ_INT(rg_store_tenant_ensure(s, longname, &bad), RG_EINVAL);
    CHECK_EQ_INT(rg_store_tenant_ensure(s, "", &bad), RG_EINVAL);
    longname[RG_TENANT_NAME_MAX] = '\0'; /* exactly the maximum fits */
    ensure_tenant(s, longname, &bad);
    CHECK_EQ_STR(bad.name, longname);
    rg_store_close(s);
    tmp_remove(&t);
}

static void key_fill(rg_key *k, const rg_tenant *ten, unsigned char fill, int64_t created_at)
{
    memset(k, 0, sizeof *k);
    rg_uuid4(k->id);
    memset(k->hash, fill, sizeof k->hash);
    snprintf(k->shown, sizeof k->shown, "dataset-%c%c%c%c", 'a' + fill, 'b', 'c', 'd');
    k->created_at = created_at;
    k->tenant = *ten;
}

TEST(store_keys)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    rg_tenant ten;
    ensure_tenant(s, "acme", &ten);
    rg_key k1, k2, got;
    key_fill(&k1, &ten, 1, 200);
    key_fill(&k2, &ten, 2, 100);
    rg_uuid4(k2.dataset_id); /* bound to one dataset */
    int64_t n = -1;
    CHECK_EQ_INT(rg_store_key_count(s, &n), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(rg_store_key_insert(s, &k1), RG_OK);
    CHECK_EQ_INT(rg_store_key_insert(s, &k2), RG_OK);
    CHECK_EQ_INT(rg_store_key_count(s, &n), RG_OK);
    CHECK_EQ_INT(n, 2);

    CHECK_EQ_INT(rg_store_key_find(s, k1.hash, &got), RG_OK);
    CHECK_EQ_STR(got.id, k1.id);
    CHECK(memcmp(got.hash, k1.hash, RG_KEY_HASH_LEN) == 0);
    CHECK_EQ_STR(got.shown, k1.shown);
    CHECK_EQ_STR(got.dataset_id, "");
    CHECK_EQ_INT(got.created_at, 200);
    CHECK_EQ_STR(got.tenant.id, ten.id);
    CHECK_EQ_STR(got.tenant.owner_id, ten.owner_id);
    CHECK_EQ_STR(got.tenant.name, "acme");
    CHECK_EQ_INT(rg_store_key_find(s, k2.hash, &got), RG_OK);
    CHECK_EQ_STR(got.dataset_id, k2.dataset_id);

    unsigned char unknown[RG_KEY_HASH_LEN];
    memset(unknown, 3, sizeof unknown);
    CHECK_EQ_INT(rg_store_key_find(s, unknown, &got), RG_ENOTFOUND);

    rg_key clash;
    key_fill(&clash, &ten, 1, 300); /* new id, same hash as k1 */
    CHECK_EQ_INT(rg_store_key_insert(s, &clash), RG_ECONFLICT);
    rg_key orphan;
    rg_tenant nobody = ten;
    rg_uuid4(nobody.id);
    key_fill(&orphan, &nobody, 4, 300);
    CHECK_EQ_INT(rg_store_key_insert(s, &orphan), RG_EINVAL);

    rg_arena *a = rg_arena_new(ARENA_MAX);
    rg_key *list = NULL;
    size_t nl = 0;
    CHECK_EQ_INT(rg_store_key_list(s, a, &list, &nl), RG_OK);
    CHECK_EQ_INT(nl, 2);
    if (nl == 2) { /* oldest first */
        CHECK_EQ_STR(list[0].id, k2.id);
        CHECK_EQ_STR(list[0].dataset_id, k2.dataset_id);
        CHECK_EQ_STR(list[1].id, k1.id);
        CHECK_EQ_STR(list[1].tenant.name, "acme");
    }

    CHECK_EQ_INT(rg_store_key_delete(s, k1.hash), RG_OK);
    CHECK_EQ_INT(rg_store_key_delete(s, k1.hash), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_key_find(s, k1.hash, &got), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_key_count(s, &n), RG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(rg_store_key_list(s, a, &list, &nl), RG_OK);
    CHECK_EQ_INT(nl, 1);
    CHECK_EQ_INT(rg_store_key_delete(s, k2.hash), RG_OK);
    CHECK_EQ_INT(rg_store_key_list(s, a, &list, &nl), RG_OK);
    CHECK_EQ_INT(nl, 0);
    rg_arena_free(a);
    rg_store_close(s);
    tmp_remove(&t);
}

/* --- datasets -------------------------------------------------------------------- */

TEST(store_dataset_crud)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    rg_tenant ten;
    ensure_tenant(s, "acme", &ten);
    rg_arena *a = rg_arena_new(ARENA_MAX);
    rg_dataset d, got;
    ds_fill_all(&d, ten.id);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &d), RG_OK);
    CHECK_EQ_INT(rg_store_dataset_get(s, a, ten.id, d.id, &got), RG_OK);
    check_same_dataset(&got, &d);

    rg_dataset u = d;
    u.name = "Renamed";
    u.description = NULL;
    u.retrieval_model = "{\"search_method\":\"semantic_search\"}";
    u.icon_info = NULL;
    u.enable_api = true;
    u.is_multimodal = false;
    u.updated_by = "owner-3";
    u.updated_at = 1800000000;
    u.created_at = 5; /* immutable: not written */
    CHECK_EQ_INT(rg_store_dataset_update(s, &u), RG_OK);
    CHECK_EQ_INT(rg_store_dataset_get(s, a, ten.id, d.id, &got), RG_OK);
    u.created_at = d.created_at;
    check_same_dataset(&got, &u);
    CHECK_EQ_INT(got.document_count, 0);
    CHECK_EQ_STR(got.author_name, "acme");

    rg_dataset ghost;
    ds_fill(&ghost, ten.id, "ghost", 1);
    CHECK_EQ_INT(rg_store_dataset_update(s, &ghost), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_dataset_delete(s, ten.id, ghost.id), RG_ENOTFOUND);

    CHECK_EQ_INT(rg_store_dataset_delete(s, ten.id, d.id), RG_OK);
    CHECK_EQ_INT(rg_store_dataset_get(s, a, ten.id, d.id, &got), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_dataset_delete(s, ten.id, d.id), RG_ENOTFOUND);
    /* the name is free again */
    CHECK_EQ_INT(rg_store_dataset_insert(s, &ghost), RG_OK);
    rg_dataset again;
    ds_fill(&again, ten.id, "Renamed", 2);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &again), RG_OK);
    /* same id twice is a conflict, not a name clash */
    ghost.name = "ghost-2";
    CHECK_EQ_INT(rg_store_dataset_insert(s, &ghost), RG_ECONFLICT);
    rg_arena_free(a);
    rg_store_close(s);
    tmp_remove(&t);
}

TEST(store_dataset_name_dup)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    rg_tenant ta, tb;
    ensure_tenant(s, "acme", &ta);
    ensure_tenant(s, "beta", &tb);
    rg_dataset d1, d2, d3, d4;
    ds_fill(&d1, ta.id, "kb", 1);
    ds_fill(&d2, ta.id, "kb", 2);
    ds_fill(&d3, tb.id, "kb", 3);
    ds_fill(&d4, ta.id, "kb2", 4);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &d1), RG_OK);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &d2), RG_ENAMEDUP);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &d3), RG_OK);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &d4), RG_OK);
    d4.name = "kb";
    CHECK_EQ_INT(rg_store_dataset_update(s, &d4), RG_ENAMEDUP);
    d4.name = "kb2-renamed";
    CHECK_EQ_INT(rg_store_dataset_update(s, &d4), RG_OK);
    CHECK_EQ_INT(rg_store_dataset_update(s, &d4), RG_OK); /* unchanged name is no clash */

    rg_arena *a = rg_arena_new(ARENA_MAX);
    rg_dataset got;
    CHECK_EQ_INT(rg_store_dataset_get(s, a, ta.id, d2.id, &got), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_dataset_get(s, a, ta.id, d4.id, &got), RG_OK);
    CHECK_EQ_STR(got.name, "kb2-renamed");
    CHECK_EQ_INT(rg_store_dataset_get(s, a, tb.id, d3.id, &got), RG_OK);
    CHECK_EQ_STR(got.author_name, "beta");
    rg_arena_free(a);
    rg_store_close(s);
    tmp_remove(&t);
}

TEST(store_dataset_wrong_tenant)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    rg_tenant ta, tb;
    ensure_tenant(s, "acme", &ta);
    ensure_tenant(s, "beta", &tb);
    rg_dataset d, got;
    ds_fill(&d, ta.id, "private", 1);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &d), RG_OK);
    rg_arena *a = rg_arena_new(ARENA_MAX);
    CHECK_EQ_INT(rg_store_dataset_get(s, a, tb.id, d.id, &got), RG_ENOTFOUND);
    rg_dataset stolen = d;
    snprintf(stolen.tenant_id, sizeof stolen.tenant_id, "%s", tb.id);
    stolen.name = "mine now";
    CHECK_EQ_INT(rg_store_dataset_update(s, &stolen), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_dataset_delete(s, tb.id, d.id), RG_ENOTFOUND);
    rg_dataset_query q = {.tenant_id = tb.id, .limit = 10};
    rg_dataset *items = NULL;
    size_t n = 9;
    int64_t total = 9;
    CHECK_EQ_INT(rg_store_dataset_list(s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(total, 0);
    CHECK_EQ_INT(rg_store_dataset_get(s, a, ta.id, d.id, &got), RG_OK);
    CHECK_EQ_STR(got.name, "private");
    rg_arena_free(a);
    rg_store_close(s);
    tmp_remove(&t);
}

TEST(store_dataset_list_paging)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    rg_tenant ta, tb;
    ensure_tenant(s, "acme", &ta);
    ensure_tenant(s, "beta", &tb);
    static char names[25][16];
    for (int i = 0; i < 25; i++) {
        snprintf(names[i], sizeof names[i], "ds-%02d", i);
        rg_dataset d;
        ds_fill(&d, ta.id, names[i], 1000 + i);
        CHECK_EQ_INT(rg_store_dataset_insert(s, &d), RG_OK);
    }
    rg_dataset other;
    ds_fill(&other, tb.id, "not yours", 5000);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &other), RG_OK);

    rg_arena *a = rg_arena_new(ARENA_MAX);
    rg_dataset_query q = {.tenant_id = ta.id, .offset = 0, .limit = 10};
    rg_dataset *items = NULL;
    size_t n = 0;
    int64_t total = 0;
    CHECK_EQ_INT(rg_store_dataset_list(s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 10);
    CHECK_EQ_INT(total, 25);
    if (n == 10) { /* newest first */
        CHECK_EQ_STR(items[0].name, "ds-24");
        CHECK_EQ_STR(items[9].name, "ds-15");
        CHECK_EQ_STR(items[0].author_name, "acme");
    }
    q.offset = 20;
    CHECK_EQ_INT(rg_store_dataset_list(s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 5);
    CHECK_EQ_INT(total, 25);
    if (n == 5) {
        CHECK_EQ_STR(items[0].name, "ds-04");
        CHECK_EQ_STR(items[4].name, "ds-00");
    }
    q.offset = 25;
    CHECK_EQ_INT(rg_store_dataset_list(s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(total, 25);
    q.offset = 0;
    q.limit = 0;
    CHECK_EQ_INT(rg_store_dataset_list(s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(total, 25);
    q.limit = 100;
    CHECK_EQ_INT(rg_store_dataset_list(s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 25);
    q.offset = -1;
    CHECK_EQ_INT(rg_store_dataset_list(s, a, &q, &items, &n, &total), RG_EINVAL);
    q.offset = 0;

    /* equal timestamps: the later insert comes first */
    rg_dataset tie1, tie2;
    ds_fill(&tie1, ta.id, "tie-first", 9000);
    ds_fill(&tie2, ta.id, "tie-second", 9000);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &tie1), RG_OK);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &tie2), RG_OK);
    q.limit = 2;
    CHECK_EQ_INT(rg_store_dataset_list(s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(total, 27);
    if (n == 2) {
        CHECK_EQ_STR(items[0].name, "tie-second");
        CHECK_EQ_STR(items[1].name, "tie-first");
    }

    /* no tags table yet: a tag filter matches nothing */
    const char *tags[] = {"00000000-0000-4000-8000-000000000000"};
    q.tag_ids = tags;
    q.n_tag_ids = 1;
    CHECK_EQ_INT(rg_store_dataset_list(s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 0);
    CHECK_EQ_INT(total, 0);
    rg_arena_free(a);
    rg_store_close(s);
    tmp_remove(&t);
}

/* Lists with keyword kw and returns the total, checking that the page agrees. */
static int64_t count_matches(rg_store *s, const char *tenant_id, const char *kw)
{
    rg_arena *a = rg_arena_new(ARENA_MAX);
    rg_dataset_query q = {.tenant_id = tenant_id, .keyword = kw, .limit = 100};
    rg_dataset *items = NULL;
    size_t n = 0;
    int64_t total = -1;
    CHECK_EQ_INT(rg_store_dataset_list(s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, total);
    rg_arena_free(a);
    return total;
}

TEST(store_dataset_list_keyword)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    rg_tenant ta, tb;
    ensure_tenant(s, "acme", &ta);
    ensure_tenant(s, "beta", &tb);
    static const char *const names[] = {"Alpha Base", "alphabet", "Beta", "50% off",
                                        "500 off",    "a_b",      "axb",  "back\\slash"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        rg_dataset d;
        ds_fill(&d, ta.id, names[i], (int64_t)i);
        CHECK_EQ_INT(rg_store_dataset_insert(s, &d), RG_OK);
    }
    rg_dataset other;
    ds_fill(&other, tb.id, "alpha elsewhere", 1);
    CHECK_EQ_INT(rg_store_dataset_insert(s, &other), RG_OK);

    CHECK_EQ_INT(count_matches(s, ta.id, "ALPHA"), 2);
    CHECK_EQ_INT(count_matches(s, ta.id, "pHaB"), 1);
    CHECK_EQ_INT(count_matches(s, ta.id, "%"), 1);
    CHECK_EQ_INT(count_matches(s, ta.id, "0%"), 1);
    CHECK_EQ_INT(count_matches(s, ta.id, "_"), 1);
    CHECK_EQ_INT(count_matches(s, ta.id, "a_b"), 1);
    CHECK_EQ_INT(count_matches(s, ta.id, "\\"), 1);
    CHECK_EQ_INT(count_matches(s, ta.id, "zzz"), 0);
    CHECK_EQ_INT(count_matches(s, ta.id, ""), 8);
    CHECK_EQ_INT(count_matches(s, ta.id, NULL), 8);

    /* a keyword longer than SQLite's LIKE pattern limit matches nothing, quietly */
    size_t big = 60000;
    char *kw = rg_xcalloc(1, big + 1);
    memset(kw, 'a', big);
    CHECK_EQ_INT(count_matches(s, ta.id, kw), 0);
    rg_free(kw);

    rg_arena *a = rg_arena_new(ARENA_MAX);
    rg_dataset_query q = {.tenant_id = ta.id, .keyword = "alpha", .limit = 1};
    rg_dataset *items = NULL;
    size_t n = 0;
    int64_t total = 0;
    CHECK_EQ_INT(rg_store_dataset_list(s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(n, 1);
    CHECK_EQ_INT(total, 2);
    if (n == 1)
        CHECK_EQ_STR(items[0].name, "alphabet"); /* the newer of the two */
    rg_arena_free(a);
    rg_store_close(s);
    tmp_remove(&t);
}

/* --- threads --------------------------------------------------------------------- */

#define READERS 4
#define ROUNDS  200

typedef struct conc {
    rg_store *s;
    rg_tenant ten;
    rg_dataset seed;
    rg_key key;
    pthread_barrier_t start;
    int failures[READERS + 1];
} conc;

typedef struct conc_arg {
    conc *c;
    int idx;
} conc_arg;

static void *conc_reader(void *p)
{
    conc_arg *arg = p;
    conc *c = arg->c;
    pthread_barrier_wait(&c->start);
    for (int i = 0; i < ROUNDS; i++) {
        rg_arena *a = rg_arena_new(ARENA_MAX);
        rg_dataset got;
        rg_key k;
        rg_dataset_query q = {.tenant_id = c->ten.id, .limit = 5};
        rg_dataset *items = NULL;
        size_t n = 0;
        int64_t total = 0;
        if (rg_store_dataset_get(c->s, a, c->ten.id, c->seed.id, &got) != RG_OK ||
            strcmp(got.name, "seed") != 0)
            c->failures[arg->idx]++;
        if (rg_store_key_find(c->s, c->key.hash, &k) != RG_OK)
            c->failures[arg->idx]++;
        if (rg_store_dataset_list(c->s, a, &q, &items, &n, &total) != RG_OK || total < 1 ||
            n != (size_t)(total < 5 ? total : 5))
            c->failures[arg->idx]++;
        rg_arena_free(a);
    }
    return NULL;
}

static void *conc_writer(void *p)
{
    conc_arg *arg = p;
    conc *c = arg->c;
    pthread_barrier_wait(&c->start);
    for (int i = 0; i < ROUNDS; i++) {
        char name[32];
        snprintf(name, sizeof name, "w-%03d", i);
        rg_dataset d;
        ds_fill(&d, c->ten.id, name, 2000 + i);
        if (rg_store_dataset_insert(c->s, &d) != RG_OK)
            c->failures[arg->idx]++;
    }
    return NULL;
}

TEST(store_concurrent_readers_and_writer)
{
    tmpdir t;
    tmp_make(&t);
    static conc c;
    memset(&c, 0, sizeof c);
    OPEN_OR_RETURN(c.s, t);
    ensure_tenant(c.s, "acme", &c.ten);
    ds_fill(&c.seed, c.ten.id, "seed", 1);
    CHECK_EQ_INT(rg_store_dataset_insert(c.s, &c.seed), RG_OK);
    key_fill(&c.key, &c.ten, 7, 1);
    CHECK_EQ_INT(rg_store_key_insert(c.s, &c.key), RG_OK);
    CHECK_EQ_INT(rg_store_ping(c.s), RG_OK); /* this thread's reader stays open until close */

    pthread_barrier_init(&c.start, NULL, READERS + 1);
    pthread_t th[READERS + 1];
    conc_arg args[READERS + 1];
    for (int i = 0; i <= READERS; i++) {
        args[i] = (conc_arg){.c = &c, .idx = i};
        CHECK(pthread_create(&th[i], NULL, i < READERS ? conc_reader : conc_writer, &args[i]) == 0);
    }
    for (int i = 0; i <= READERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&c.start);
    for (int i = 0; i <= READERS; i++)
        CHECK_EQ_INT(c.failures[i], 0);

    rg_arena *a = rg_arena_new(ARENA_MAX);
    rg_dataset_query q = {.tenant_id = c.ten.id, .limit = 1};
    rg_dataset *items = NULL;
    size_t n = 0;
    int64_t total = 0;
    CHECK_EQ_INT(rg_store_dataset_list(c.s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(total, ROUNDS + 1);
    if (n == 1)
        CHECK_EQ_STR(items[0].name, "w-199");
    rg_arena_free(a);
    rg_store_close(c.s);
    tmp_remove(&t);
}

#define WRITERS 4
#define WRITES  50

static void *conc_many_writer(void *p)
{
    conc_arg *arg = p;
    conc *c = arg->c;
    pthread_barrier_wait(&c->start);
    for (int i = 0; i < WRITES; i++) {
        char name[32], tenant[32];
        snprintf(name, sizeof name, "w%d-%03d", arg->idx, i);
        snprintf(tenant, sizeof tenant, "t-%d", i % 5); /* contended first creation */
        rg_tenant ten;
        if (rg_store_tenant_ensure(c->s, tenant, &ten) != RG_OK)
            c->failures[arg->idx]++;
        rg_dataset d;
        ds_fill(&d, c->ten.id, name, 3000 + i);
        if (rg_store_dataset_insert(c->s, &d) != RG_OK)
            c->failures[arg->idx]++;
    }
    return NULL;
}

/* Writes from several threads are serialised on the one write connection. */
TEST(store_concurrent_writers)
{
    tmpdir t;
    tmp_make(&t);
    static conc c;
    memset(&c, 0, sizeof c);
    OPEN_OR_RETURN(c.s, t);
    ensure_tenant(c.s, "acme", &c.ten);
    pthread_barrier_init(&c.start, NULL, WRITERS);
    pthread_t th[WRITERS];
    conc_arg args[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        args[i] = (conc_arg){.c = &c, .idx = i};
        CHECK(pthread_create(&th[i], NULL, conc_many_writer, &args[i]) == 0);
    }
    for (int i = 0; i < WRITERS; i++)
        pthread_join(th[i], NULL);
    pthread_barrier_destroy(&c.start);
    for (int i = 0; i < WRITERS; i++)
        CHECK_EQ_INT(c.failures[i], 0);

    rg_arena *a = rg_arena_new(ARENA_MAX);
    rg_dataset_query q = {.tenant_id = c.ten.id, .limit = 1};
    rg_dataset *items = NULL;
    size_t n = 0;
    int64_t total = 0;
    CHECK_EQ_INT(rg_store_dataset_list(c.s, a, &q, &items, &n, &total), RG_OK);
    CHECK_EQ_INT(total, WRITERS * WRITES);
    rg_tenant t0, t0b;
    ensure_tenant(c.s, "t-0", &t0);
    ensure_tenant(c.s, "t-0", &t0b);
    CHECK_EQ_STR(t0.id, t0b.id);
    rg_arena_free(a);
    rg_store_close(c.s);
    tmp_remove(&t);
}

static void *ping_and_measure(void *p)
{
    rg_store *s = p;
    if (rg_store_ping(s) != RG_OK)
        return (void *)-1;
    return (void *)(intptr_t)sqlite3_memory_used();
}

/* A thread's read connection is closed when the thread exits, not at close. */
TEST(store_reader_closed_at_thread_exit)
{
    tmpdir t;
    tmp_make(&t);
    rg_store *s;
    OPEN_OR_RETURN(s, t);
    CHECK_EQ_INT(rg_store_ping(s), RG_OK);
    sqlite3_int64 before = sqlite3_memory_used();
    pthread_t th;
    void *ret = NULL;
    CHECK(pthread_create(&th, NULL, ping_and_measure, s) == 0);
    pthread_join(th, &ret);
    CHECK(ret != (void *)-1);
    sqlite3_int64 during = (sqlite3_int64)(intptr_t)ret;
    sqlite3_int64 after = sqlite3_memory_used();
    CHECK(during > before); /* the thread opened a connection */
    CHECK(after - before < (during - before) / 2);
    rg_store_close(s);
    tmp_remove(&t);
}

typedef struct live {
    rg_store *s;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stage; /* 1: the thread has its reader; 2: the store is closed */
    rg_rc rc;
} live;

static void *live_thread(void *p)
{
    live *l = p;
    rg_rc rc = rg_store_ping(l->s);
    pthread_mutex_lock(&l->mu);
    l->rc = rc;
    l->stage = 1;
    pthread_cond_broadcast(&l->cv);
    while (l->stage < 2)
        pthread_cond_wait(&l->cv, &l->mu);
    pthread_mutex_unlock(&l->mu);
    return NULL; /* exits after the store is gone: nothing may be closed twice */
}

TEST(store_close_with_live_reader_thread)
{
    tmpdir t;
    tmp_make(&t);
    static live l;
    memset(&l, 0, sizeof l);
    OPEN_OR_RETURN(l.s, t);
    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.cv, NULL);
    pthread_t th;
    CHECK(pthread_create(&th, NULL, live_thread, &l) == 0);
    pthread_mutex_lock(&l.mu);
    while (l.stage < 1)
        pthread_cond_wait(&l.cv, &l.mu);
    pthread_mutex_unlock(&l.mu);
    CHECK_EQ_INT(l.rc, RG_OK);

    rg_store_close(l.s);
    /* a new store may reuse the key and the memory; the old thread must not touch them */
    l.s = open_store(&t);
    if (l.s)
        CHECK_EQ_INT(rg_store_ping(l.s), RG_OK);

    pthread_mutex_lock(&l.mu);
    l.stage = 2;
    pthread_cond_broadcast(&l.cv);
    pthread_mutex_unlock(&l.mu);
    pthread_join(th, NULL);
    if (l.s)
        CHECK_EQ_INT(rg_store_ping(l.s), RG_OK);
    rg_store_close(l.s);
    pthread_cond_destroy(&l.cv);
    pthread_mutex_destroy(&l.mu);
    tmp_remove(&t);
}
