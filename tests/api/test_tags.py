"""Tags: create, list (binding_count as a string), rename, delete; binding and
unbinding datasets; a dataset's tags in its own listing, in the Dataset object and
in the dataset list's tag_ids filter (every listed tag required); renames and
deletes seen everywhere; tenant isolation; keys bound to one dataset."""
import uuid

from harness import check, eq, expect_error


def uniq(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def new_tag(srv, name=None, key=None):
    kw = {"key": key} if key else {}
    st, _, js, raw = srv.call("POST", "/v1/datasets/tags", body={"name": name or uniq("t")}, **kw)
    assert st == 200, raw
    return js


def tags(srv, key=None):
    kw = {"key": key} if key else {}
    st, _, js, raw = srv.call("GET", "/v1/datasets/tags", **kw)
    assert st == 200, raw
    return js


def bind(srv, tag_ids, ds, key=None):
    kw = {"key": key} if key else {}
    return srv.call("POST", "/v1/datasets/tags/binding", body={"tag_ids": tag_ids, "target_id": ds},
                    **kw)


def dataset_tags(srv, ds, key=None):
    kw = {"key": key} if key else {}
    st, _, js, raw = srv.call("GET", f"/v1/datasets/{ds}/tags", **kw)
    assert st == 200, raw
    return js


def listed(srv, tag_ids, key=None):
    kw = {"key": key} if key else {}
    q = "".join(f"&tag_ids={t}" for t in tag_ids)
    st, _, js, raw = srv.call("GET", f"/v1/datasets?limit=100{q}", **kw)
    assert st == 200, raw
    return [d["id"] for d in js["data"]], js["total"]


def test_create_list_rename_delete(srv):
    name = uniq("alpha")
    t = new_tag(srv, name)
    eq(sorted(t), ["binding_count", "id", "name", "type"], "tag keys")
    eq((t["name"], t["type"], t["binding_count"]), (name, "knowledge", "0"), "new tag")
    t2 = new_tag(srv)
    got = tags(srv)
    check(isinstance(got, list), "GET /datasets/tags is a bare array")
    ids = [x["id"] for x in got]
    check(ids.index(t2["id"]) < ids.index(t["id"]), "newest first")
    check(all(isinstance(x["binding_count"], str) for x in got), "binding_count is a string")
    st, _, r, raw = srv.call("PATCH", "/v1/datasets/tags", body={"tag_id": t["id"], "name": "renamed-" + name})
    eq(st, 200, f"rename: {raw[:200]!r}")
    eq((r["id"], r["name"], r["binding_count"]), (t["id"], "renamed-" + name, "0"), "renamed tag")
    expect_error(srv.call("PATCH", "/v1/datasets/tags", body={"tag_id": t2["id"], "name": "renamed-" + name}),
                 400, "invalid_param", "rename onto another tag's name", "Tag name already exists")
    expect_error(srv.call("POST", "/v1/datasets/tags", body={"name": t2["name"]}), 400, "invalid_param",
                 "duplicate name", "Tag name already exists")
    st, _, _, raw = srv.call("DELETE", "/v1/datasets/tags", body={"tag_id": t["id"]})
    eq(st, 204, "delete")
    eq(raw, b"", "204 has no body")
    check(t["id"] not in [x["id"] for x in tags(srv)], "deleted tag is not listed")
    expect_error(srv.call("DELETE", "/v1/datasets/tags", body={"tag_id": t["id"]}), 404, "not_found",
                 "delete twice", "Tag not found")
    expect_error(srv.call("PATCH", "/v1/datasets/tags", body={"tag_id": str(uuid.uuid4()), "name": "x"}),
                 404, "not_found", "rename unknown", "Tag not found")


def test_name_validation(srv):
    for body, what in (({}, "missing"), ({"name": ""}, "empty"), ({"name": "   "}, "blank"),
                       ({"name": "x" * 51}, "51 characters"), ({"name": 5}, "a number")):
        expect_error(srv.call("POST", "/v1/datasets/tags", body=body), 400, "invalid_param", f"name {what}")
    t = new_tag(srv, "y" * 50)
    eq(len(t["name"]), 50, "50 characters are fine")
    expect_error(srv.call("PATCH", "/v1/datasets/tags", body={"tag_id": t["id"]}), 400, "invalid_param",
                 "rename without a name")
    expect_error(srv.call("DELETE", "/v1/datasets/tags", body={}), 400, "invalid_param", "delete without tag_id")


def test_binding_everywhere(srv):
    a, b = new_tag(srv), new_tag(srv)
    d1 = srv.create_dataset(uniq("tg"))["id"]
    d2 = srv.create_dataset(uniq("tg"))["id"]
    st, _, _, raw = bind(srv, [a["id"], b["id"]], d1)
    eq(st, 204, f"bind: {raw[:200]!r}")
    eq(raw, b"", "204 has no body")
    eq(bind(srv, [a["id"]], d2)[0], 204, "bind a to d2")
    eq(bind(srv, [a["id"]], d2)[0], 204, "binding twice keeps one binding")
    got = dataset_tags(srv, d1)
    eq(got["total"], 2, "d1 has two tags")
    eq(sorted(x["id"] for x in got["data"]), sorted([a["id"], b["id"]]), "d1's tags")
    eq(sorted(got["data"][0]), ["id", "name"], "dataset tag keys")
    counts = {x["id"]: x["binding_count"] for x in tags(srv)}
    eq((counts[a["id"]], counts[b["id"]]), ("2", "1"), "binding counts")
    ds = srv.dataset(d1)
    eq(sorted((x["id"], x["name"], x["type"]) for x in ds["tags"]),
       sorted([(a["id"], a["name"], "knowledge"), (b["id"], b["name"], "knowledge")]), "Dataset.tags")
    # the list filter needs every listed tag
    eq(sorted(listed(srv, [a["id"]])[0]), sorted([d1, d2]), "filter by a")
    eq(listed(srv, [a["id"], b["id"]]), ([d1], 1), "filter by a and b")
    eq(listed(srv, [a["id"], a["id"], b["id"]]), ([d1], 1), "a repeated tag id counts once")
    eq(listed(srv, [str(uuid.uuid4())]), ([], 0), "unknown tag matches nothing")
    eq(listed(srv, ["not-a-uuid"]), ([], 0), "malformed tag id matches nothing")
    # rename is seen everywhere
    st, _, _, _ = srv.call("PATCH", "/v1/datasets/tags", body={"tag_id": b["id"], "name": "renamed-" + b["name"]})
    eq(st, 200, "rename b")
    check(any(x["name"] == "renamed-" + b["name"] for x in dataset_tags(srv, d1)["data"]), "rename in dataset tags")
    check(any(x["name"] == "renamed-" + b["name"] for x in srv.dataset(d1)["tags"]), "rename in Dataset.tags")
    # unbinding: list and legacy single form
    st, _, _, raw = srv.call("POST", "/v1/datasets/tags/unbinding", body={"tag_id": a["id"], "target_id": d1})
    eq(st, 204, f"unbind (tag_id): {raw[:200]!r}")
    eq([x["id"] for x in dataset_tags(srv, d1)["data"]], [b["id"]], "a unbound from d1")
    eq(listed(srv, [a["id"]]), ([d2], 1), "filter after unbinding")
    st, _, _, _ = srv.call("POST", "/v1/datasets/tags/unbinding", body={"tag_ids": [a["id"]], "target_id": d2})
    eq(st, 204, "unbind (tag_ids)")
    eq(dataset_tags(srv, d2), {"data": [], "total": 0}, "d2 has no tags")
    eq(srv.call("POST", "/v1/datasets/tags/unbinding", body={"tag_ids": [a["id"]], "target_id": d2})[0], 204,
       "unbinding an absent binding")
    # delete removes the bindings
    eq(srv.call("DELETE", "/v1/datasets/tags", body={"tag_id": b["id"]})[0], 204, "delete b")
    eq(dataset_tags(srv, d1)["total"], 0, "deleted tag gone from the dataset")
    eq(srv.dataset(d1)["tags"], [], "deleted tag gone from Dataset.tags")
    eq(listed(srv, [b["id"]]), ([], 0), "deleted tag filters nothing")
    # a deleted dataset takes its bindings along
    eq(bind(srv, [a["id"]], d2)[0], 204, "bind a to d2 again")
    eq(srv.call("DELETE", f"/v1/datasets/{d2}")[0], 204, "delete d2")
    eq({x["id"]: x["binding_count"] for x in tags(srv)}[a["id"]], "0", "binding gone with the dataset")


def test_binding_validation(srv):
    a = new_tag(srv)
    d = srv.create_dataset(uniq("tv"))["id"]
    expect_error(bind(srv, [], d), 400, "invalid_param", "empty tag_ids", "Tag IDs is required.")
    expect_error(srv.call("POST", "/v1/datasets/tags/binding", body={"target_id": d}), 400, "invalid_param",
                 "no tag_ids")
    expect_error(bind(srv, "x", d), 400, "invalid_param", "tag_ids not an array")
    expect_error(srv.call("POST", "/v1/datasets/tags/binding", body={"tag_ids": [a["id"]]}), 400,
                 "invalid_param", "no target_id")
    expect_error(bind(srv, [a["id"]], str(uuid.uuid4())), 404, "not_found", "unknown dataset", "Dataset not found")
    expect_error(srv.call("POST", "/v1/datasets/tags/unbinding", body={"target_id": d}), 400, "invalid_param",
                 "unbinding without ids", "Tag IDs is required.")
    eq(bind(srv, [a["id"], str(uuid.uuid4())], d)[0], 204, "unknown tag ids are ignored")
    eq([x["id"] for x in dataset_tags(srv, d)["data"]], [a["id"]], "only the known tag is bound")


def test_tenant_isolation(srv):
    other = srv.create_key(tenant="tags-other-" + uuid.uuid4().hex[:6])
    mine = new_tag(srv)
    theirs = new_tag(srv, key=other)
    d_mine = srv.create_dataset(uniq("iso"))["id"]
    d_theirs = srv.create_dataset(uniq("iso"), key=other)["id"]
    check(theirs["id"] not in [x["id"] for x in tags(srv)], "their tag not in my list")
    check(mine["id"] not in [x["id"] for x in tags(srv, key=other)], "my tag not in their list")
    eq(new_tag(srv, mine["name"], key=other)["name"], mine["name"], "same name in another tenant")
    expect_error(srv.call("PATCH", "/v1/datasets/tags", body={"tag_id": theirs["id"], "name": "x"}), 404,
                 "not_found", "rename their tag")
    expect_error(srv.call("DELETE", "/v1/datasets/tags", body={"tag_id": theirs["id"]}), 404, "not_found",
                 "delete their tag")
    eq(bind(srv, [theirs["id"]], d_mine)[0], 204, "binding their tag is ignored")
    eq(dataset_tags(srv, d_mine)["total"], 0, "their tag was not bound")
    expect_error(bind(srv, [mine["id"]], d_theirs), 404, "not_found", "binding to their dataset")
    expect_error(srv.call("GET", f"/v1/datasets/{d_theirs}/tags"), 404, "not_found", "their dataset's tags")
    eq(listed(srv, [theirs["id"]]), ([], 0), "their tag filters nothing of mine")


def test_bound_key(srv):
    d = srv.create_dataset(uniq("bk"))["id"]
    d_other = srv.create_dataset(uniq("bk"))["id"]
    t = new_tag(srv)
    bound = srv.create_key(dataset=d)
    for method, body, what in (("POST", {"name": uniq("b")}, "create"),
                               ("PATCH", {"tag_id": t["id"], "name": uniq("b")}, "rename"),
                               ("DELETE", {"tag_id": t["id"]}, "delete")):
        expect_error(srv.call(method, "/v1/datasets/tags", body=body, key=bound), 403, "forbidden",
                     f"bound key may not {what} tags")
    check(t["id"] in [x["id"] for x in tags(srv, key=bound)], "bound key lists tags")
    eq(bind(srv, [t["id"]], d, key=bound)[0], 204, "bound key binds to its dataset")
    expect_error(bind(srv, [t["id"]], d_other, key=bound), 403, "forbidden", "bound key binds elsewhere")
    eq(dataset_tags(srv, d, key=bound)["total"], 1, "bound key reads its dataset's tags")
    eq(listed(srv, [t["id"]], key=bound), ([d], 1), "bound key's list filter")
    eq(listed(srv, [str(uuid.uuid4())], key=bound), ([], 0), "bound key's list filter, no match")
