/* test_tags.c - tags and their bindings across tenants, the dataset list's tag
 * filter, and metadata fields whose renames and deletes rewrite the documents. */
#include "harness.h"

#include "core/ids.h"
#include "store/store.h"
#include "store_fixture.h"

#include <string.h>

static rg_tag tag(store_fx *f, const char *tenant_id, const char *name)
{
    rg_tag t = {.name = name, .type = "knowledge", .created_at = 1};
    rg_uuid4(t.id);
    CHECK_EQ_INT(rg_store_tag_insert(f->s, tenant_id, &t), RG_OK);
    return t;
}

static int64_t listed(store_fx *f, const char *const *ids, size_t n)
{
    rg_dataset_query q = {.tenant_id = f->ten.id, .tag_ids = ids, .n_tag_ids = n, .limit = 10};
    rg_dataset *items;
    size_t cnt;
    int64_t total = -1;
    CHECK_EQ_INT(rg_store_dataset_list(f->s, f->a, &q, &items, &cnt, &total), RG_OK);
    CHECK_EQ_INT((int64_t)cnt, total);
    return total;
}

TEST(store_tags_bind_filter_isolate)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_tenant other;
    CHECK_EQ_INT(rg_store_tenant_ensure(f.s, "other", &other), RG_OK);
    rg_tag a = tag(&f, f.ten.id, "a"), b = tag(&f, f.ten.id, "b");
    rg_tag theirs = tag(&f, other.id, "a"); /* names are per tenant */
    rg_tag dup = {.name = "a", .created_at = 1};
    rg_uuid4(dup.id);
    CHECK_EQ_INT(rg_store_tag_insert(f.s, f.ten.id, &dup), RG_ENAMEDUP);
    const char *both[] = {a.id, b.id, theirs.id};
    CHECK_EQ_INT(rg_store_tag_bind(f.s, f.ten.id, both, 3, f.ds.id), RG_OK);
    CHECK_EQ_INT(rg_store_tag_bind(f.s, other.id, both, 1, f.ds.id), RG_ENOTFOUND);
    rg_dataset got;
    CHECK_EQ_INT(rg_store_dataset_get(f.s, f.a, f.ten.id, f.ds.id, &got), RG_OK);
    CHECK(strstr(got.tags, a.id) && strstr(got.tags, b.id) && !strstr(got.tags, theirs.id));
    CHECK_EQ_INT(listed(&f, both, 2), 1);
    CHECK_EQ_INT(listed(&f, both + 2, 1), 0); /* another tenant's tag */
    rg_tag *items;
    size_t n;
    CHECK_EQ_INT(rg_store_tag_list(f.s, f.a, f.ten.id, NULL, &items, &n), RG_OK);
    CHECK_EQ_INT(n, 2);
    CHECK_EQ_INT(items[0].binding_count, 1);
    rg_tag r;
    CHECK_EQ_INT(rg_store_tag_rename(f.s, f.a, other.id, a.id, "z", &r), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_tag_rename(f.s, f.a, f.ten.id, a.id, "b", &r), RG_ENAMEDUP);
    CHECK_EQ_INT(rg_store_tag_delete(f.s, other.id, a.id), RG_ENOTFOUND);
    CHECK_EQ_INT(rg_store_tag_unbind(f.s, f.ten.id, both, 1, f.ds.id), RG_OK);
    CHECK_EQ_INT(listed(&f, both, 2), 0);
    CHECK_EQ_INT(rg_store_tag_delete(f.s, f.ten.id, b.id), RG_OK);
    CHECK_EQ_INT(rg_store_dataset_get(f.s, f.a, f.ten.id, f.ds.id, &got), RG_OK);
    CHECK_EQ_STR(got.tags, "[]");
    fx_close(&f);
}

TEST(store_metadata_rename_delete_rewrite_documents)
{
    store_fx f;
    if (!fx_open(&f))
        return;
    rg_document d;
    fx_doc_add(&f, &d, "doc.txt", "b1");
    rg_metadata_field m = {.name = "author", .type = "string", .created_at = 1};
    rg_uuid4(m.id);
    memcpy(m.dataset_id, f.ds.id, sizeof m.dataset_id);
    CHECK_EQ_INT(rg_store_metadata_insert(f.s, f.ten.id, &m), RG_OK);
    CHECK_EQ_INT(rg_store_metadata_insert(f.s, f.ten.id, &m), RG_ENAMEDUP);
    const char *ids[] = {d.id}, *vals[] = {"{\"author\":\"Ada\",\"keep\":1}"};
    size_t bad;
    CHECK_EQ_INT(rg_store_document_metadata_set(f.s, f.ten.id, f.ds.id, ids, vals, 1, &bad), RG_OK);
    rg_metadata_field r;
    CHECK_EQ_INT(rg_store_metadata_rename(f.s, f.a, f.ten.id, f.ds.id, m.id, "writer", &r), RG_OK);
    CHECK_EQ_STR(r.name, "writer");
    rg_document got;
    CHECK_EQ_INT(rg_store_document_get(f.s, f.a, f.ten.id, f.ds.id, d.id, &got), RG_OK);
    CHECK_EQ_STR(got.doc_metadata, "{\"writer\":\"Ada\",\"keep\":1}");
    rg_metadata_field *items;
    size_t n;
    CHECK_EQ_INT(rg_store_metadata_list(f.s, f.a, f.ten.id, f.ds.id, &items, &n), RG_OK);
    CHECK(n == 1 && items[0].count == 1);
    CHECK_EQ_INT(rg_store_metadata_delete(f.s, f.ten.id, f.ds.id, m.id), RG_OK);
    CHECK_EQ_INT(rg_store_document_get(f.s, f.a, f.ten.id, f.ds.id, d.id, &got), RG_OK);
    CHECK_EQ_STR(got.doc_metadata, "{\"keep\":1}");
    CHECK_EQ_INT(rg_store_metadata_delete(f.s, f.ten.id, f.ds.id, m.id), RG_ENOTFOUND);
    const char *nobody[] = {"00000000-0000-4000-8000-000000000000"};
    CHECK_EQ_INT(rg_store_document_metadata_set(f.s, f.ten.id, f.ds.id, nobody, vals, 1, &bad),
                 RG_ENOTFOUND);
    fx_close(&f);
}
