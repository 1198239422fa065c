"""Knowledge bases: create/list/get/update/delete with Dify's fields, defaults and
validation; durability across kill -9; the models endpoint."""
import threading
import time
import uuid
from urllib.parse import quote

from harness import check, eq, expect_error, load_spec

SPEC = load_spec()
DATASET_KEYS = list(SPEC["components"]["schemas"]["Dataset"]["properties"])
CREATE_FIELDS = list(SPEC["paths"]["/datasets"]["post"]["requestBody"]["content"]
                     ["application/json"]["schema"]["properties"])
# only in GET of a partial_members dataset and in PATCH responses (Dify 1.14.2)
CONDITIONAL_KEYS = {"partial_member_list"}
# computed when rendered, not stored
COMPUTED_KEYS = {"embedding_available", "retrieval_model_dict", "partial_member_list"}
_cache = {}


def ragd_model(srv):
    """(provider, model) of the first embedding model the server offers under "ragd"."""
    if "model" not in _cache:
        st, _, js, raw = srv.call("GET", "/v1/workspaces/current/models/model-types/text-embedding")
        for p in (js or {}).get("data", []):
            if p.get("provider") == "ragd" and p.get("models"):
                _cache["model"] = ("ragd", p["models"][0]["model"])
                _cache["all"] = [(x.get("provider"), m.get("model")) for x in js["data"]
                                 for m in x.get("models", [])]
                break
        else:
            raise AssertionError(f"no ragd embedding model offered: HTTP {st} {raw[:200]!r}")
    return _cache["model"]


def post(srv, body, key=None):
    kw = {"key": key} if key else {}
    return srv.call("POST", "/v1/datasets", body=body, **kw)


def get(srv, ds_id, key=None):
    kw = {"key": key} if key else {}
    return srv.call("GET", f"/v1/datasets/{ds_id}", **kw)


def invalid(srv, body, msg, field=None):
    """POST body must be 400 invalid_param, with a message naming field."""
    r = post(srv, body)
    pred = (lambda m: field in m) if field else None
    return expect_error(r, 400, "invalid_param", msg, pred)


def list_all(srv, key, query=""):
    st, _, js, raw = srv.call("GET", f"/v1/datasets?limit=100{query}", key=key)
    assert st == 200, f"list: HTTP {st} {raw[:200]!r}"
    return js


def valid_retrieval_model(srv):
    prov, model = ragd_model(srv)
    return {
        "search_method": "hybrid_search",
        "reranking_enable": False,
        "reranking_mode": "weighted_score",
        "reranking_model": {"reranking_provider_name": "", "reranking_model_name": ""},
        "weights": {
            "weight_type": "customized",
            "vector_setting": {"vector_weight": 0.7, "embedding_provider_name": prov,
                               "embedding_model_name": model},
            "keyword_setting": {"keyword_weight": 0.3},
        },
        "top_k": 7,
        "score_threshold_enabled": True,
        "score_threshold": 0.25,
    }


# ---- create ---------------------------------------------------------------------


def test_create_with_every_contract_field(srv):
    prov, model = ragd_model(srv)
    body = {
        "name": "every-field",
        "description": "all the fields of the contract",
        "indexing_technique": "high_quality",
        "permission": "all_team_members",
        "provider": "vendor",
        "embedding_model": model,
        "embedding_model_provider": prov,
        "retrieval_model": valid_retrieval_model(srv),
        "external_knowledge_api_id": str(uuid.uuid4()),
        "external_knowledge_id": "ext-1",
        "summary_index_setting": {"enable": False, "model_name": "summ", "model_provider_name": "ragd",
                                  "summary_prompt": "Summarise."},
    }
    eq(sorted(set(CREATE_FIELDS) - set(body)), [], "contract create fields the test does not send")
    t0 = int(time.time())
    st, h, ds, raw = post(srv, body)
    if not eq(st, 200, f"create with every field ({raw[:300]!r})"):
        return
    check("json" in (h.get("Content-Type") or ""), "create: Content-Type is not JSON")
    missing = [k for k in DATASET_KEYS if k not in ds and k not in CONDITIONAL_KEYS]
    eq(missing, [], "Dataset keys missing from the create response")
    for k in ("name", "description", "indexing_technique", "permission", "provider",
              "embedding_model", "embedding_model_provider"):
        eq(ds.get(k), body[k], f"create echoes {k}")
    eq(ds.get("retrieval_model_dict"), body["retrieval_model"], "create: retrieval_model_dict")
    eq(ds.get("summary_index_setting"), body["summary_index_setting"], "create: summary_index_setting")
    eq(ds.get("embedding_available"), None, "create: embedding_available is null as in Dify")
    for k in ("app_count", "document_count", "word_count", "total_documents", "total_available_documents"):
        eq(ds.get(k), 0, f"create: {k}")
    check(isinstance(ds.get("created_at"), int) and abs(ds["created_at"] - t0) <= 5,
          f"create: created_at {ds.get('created_at')!r} is not the current Unix time in seconds")
    eq(ds.get("updated_at"), ds.get("created_at"), "create: updated_at")
    check(isinstance(ds.get("id"), str) and str(uuid.UUID(ds["id"])) == ds["id"], "create: id is a UUID")
    eq(ds.get("enable_api"), True, "create: enable_api")
    eq(ds.get("tags"), [], "create: tags")
    eq(ds.get("doc_form"), None, "create: doc_form before any document")
    eq(ds.get("data_source_type"), None, "create: data_source_type before any document")
    check(isinstance(ds.get("created_by"), str) and ds["created_by"], "create: created_by is set")
    st, _, got, raw = get(srv, ds["id"])
    eq(st, 200, "GET after create")
    if isinstance(got, dict):
        missing = [k for k in DATASET_KEYS if k not in got and k not in CONDITIONAL_KEYS]
        eq(missing, [], "Dataset keys missing from GET")
        eq(got.get("embedding_available"), True, "GET: embedding_available")
        eq(got.get("retrieval_model_dict"), body["retrieval_model"], "GET: retrieval_model_dict")
        for k in ("name", "description", "permission", "created_at", "embedding_model"):
            eq(got.get(k), ds.get(k), f"GET: {k} as created")
        check("partial_member_list" not in got, "GET of an all_team_members dataset has partial_member_list")


def test_create_defaults(srv):
    st, _, ds, raw = post(srv, {"name": "defaults-only"})
    if not eq(st, 200, f"create with a name only ({raw[:200]!r})"):
        return
    eq(ds.get("description"), "", "default description")
    eq(ds.get("provider"), "vendor", "default provider")
    eq(ds.get("permission"), "only_me", "default permission")
    eq(ds.get("indexing_technique"), None, "default indexing_technique")
    eq(ds.get("embedding_model"), None, "default embedding_model")
    eq(ds.get("runtime_mode"), "general", "runtime_mode")
    # Dify 1.14.2 writes an all-null object, newer Dify and the contract's examples null
    check(ds.get("summary_index_setting") in (None, {"enable": None, "model_name": None,
                                                     "model_provider_name": None, "summary_prompt": None}),
          f"unset summary_index_setting: {ds.get('summary_index_setting')!r}")


def test_name_missing_is_400(srv):
    invalid(srv, {"description": "no name"}, "missing name", "name")
    invalid(srv, {"name": None}, "null name", "name")


def test_name_blank_is_400(srv):
    for name in ("", "   ", "\t\n"):
        invalid(srv, {"name": name}, f"name {name!r}", "name")


def test_name_length_counts_characters(srv):
    for ch in ("知", "😀", "a"):
        st, _, ds, raw = post(srv, {"name": ch * 40})
        eq(st, 200, f"40 x {ch!r} ({raw[:150]!r})")
        eq((ds or {}).get("name"), ch * 40, f"40 x {ch!r} echoed")
        invalid(srv, {"name": ch * 41}, f"41 x {ch!r}", "name")


def test_name_not_a_string_is_400(srv):
    for v in (123, True, ["x"], {"a": 1}, 1.5):
        invalid(srv, {"name": v}, f"name {v!r}", "name")


def test_description_length(srv):
    st, _, ds, raw = post(srv, {"name": "desc-400", "description": "描" * 400})
    eq(st, 200, f"description of 400 characters ({raw[:150]!r})")
    eq((ds or {}).get("description"), "描" * 400, "400-character description echoed")
    invalid(srv, {"name": "desc-401", "description": "d" * 401}, "description of 401 characters",
            "description")
    invalid(srv, {"name": "desc-int", "description": 5}, "description 5", "description")


def test_bad_enums_name_the_field(srv):
    for field, bad in (("indexing_technique", "fast"), ("permission", "everyone"),
                       ("provider", "acme"), ("indexing_technique", 5), ("permission", True)):
        invalid(srv, {"name": f"enum-{field}", field: bad}, f"{field}={bad!r}", field)
    lst = list_all(srv, srv.key, "&keyword=enum-")
    eq(lst.get("total"), 0, "a refused create left a dataset behind")


def test_duplicate_name(srv):
    srv.create_dataset("dup-name")
    r = post(srv, {"name": "dup-name"})
    expect_error(r, 409, "dataset_name_duplicate", "same name in the same tenant",
                 "The dataset name already exists. Please modify your dataset name.")
    other = srv.create_key(tenant="dup-other")
    st, _, ds, raw = post(srv, {"name": "dup-name"}, key=other)
    eq(st, 200, f"same name in another tenant ({raw[:150]!r})")
    st, _, _, raw = post(srv, {"name": "DUP-NAME"})
    eq(st, 200, f"same name in another case (Dify: exact match) ({raw[:150]!r})")


def test_high_quality_without_model_gets_the_default(srv):
    st, _, ds, raw = post(srv, {"name": "hq-default", "indexing_technique": "high_quality"})
    if not eq(st, 200, f"high_quality without a model ({raw[:150]!r})"):
        return
    ragd_model(srv)
    eq(ds.get("embedding_model_provider"), "ragd", "default embedding provider")
    check((ds.get("embedding_model_provider"), ds.get("embedding_model")) in _cache["all"],
          f"default model {ds.get('embedding_model')!r} is not offered by the models endpoint")
    got = get(srv, ds["id"])[2] or {}
    eq(got.get("embedding_available"), True, "GET: embedding_available of the default model")
    eq(got.get("embedding_model"), ds.get("embedding_model"), "GET: embedding_model")
    eq(got.get("retrieval_model_dict", {}).get("search_method"), "semantic_search",
       "GET: a high_quality dataset without retrieval model shows semantic_search")


def test_economy_has_no_model_and_is_available(srv):
    st, _, ds, raw = post(srv, {"name": "eco-plain", "indexing_technique": "economy"})
    if not eq(st, 200, f"economy ({raw[:150]!r})"):
        return
    eq(ds.get("embedding_model"), None, "economy: embedding_model")
    got = get(srv, ds["id"])[2] or {}
    eq(got.get("embedding_available"), True, "economy: embedding_available")


def test_unknown_embedding_model_is_400(srv):
    invalid(srv, {"name": "emb-unknown", "indexing_technique": "high_quality",
                  "embedding_model": "no-such-model", "embedding_model_provider": "ragd"},
            "unknown ragd model")
    invalid(srv, {"name": "emb-openai", "indexing_technique": "high_quality",
                  "embedding_model": "text-embedding-3-small", "embedding_model_provider": "openai"},
            "unknown provider")
    invalid(srv, {"name": "emb-type", "indexing_technique": "high_quality",
                  "embedding_model": 5, "embedding_model_provider": "ragd"},
            "embedding_model not a string", "embedding_model")


def test_retrieval_model_validation(srv):
    base = {"search_method": "semantic_search", "reranking_enable": False, "top_k": 3,
            "score_threshold_enabled": False}
    cases = {
        "missing search_method": {k: v for k, v in base.items() if k != "search_method"},
        "unknown search_method": dict(base, search_method="magic_search"),
        "missing reranking_enable": {k: v for k, v in base.items() if k != "reranking_enable"},
        "missing top_k": {k: v for k, v in base.items() if k != "top_k"},
        "top_k 0": dict(base, top_k=0),
        "top_k -1": dict(base, top_k=-1),
        "top_k as a string": dict(base, top_k="3"),
        "top_k 2.5": dict(base, top_k=2.5),
        "bad reranking_mode": dict(base, reranking_mode="fastest"),
        "score_threshold 2": dict(base, score_threshold=2),
        "vector_weight 1.5": dict(base, search_method="hybrid_search", reranking_mode="weighted_score",
                                  weights={"weight_type": "customized",
                                           "vector_setting": {"vector_weight": 1.5},
                                           "keyword_setting": {"keyword_weight": 0.3}}),
        "keyword_weight -0.1": dict(base, search_method="hybrid_search", weights={
            "weight_type": "customized", "vector_setting": {"vector_weight": 0.5},
            "keyword_setting": {"keyword_weight": -0.1}}),
        "bad weight_type": dict(base, weights={"weight_type": "heaviest"}),
        "a string": "semantic_search",
        "reranking without a rerank model": dict(base, reranking_enable=True,
                                                 reranking_model={"reranking_provider_name": "cohere",
                                                                  "reranking_model_name": "rerank-v3"}),
    }
    for what, rm in cases.items():
        invalid(srv, {"name": "rm-bad", "indexing_technique": "high_quality", "retrieval_model": rm},
                f"retrieval_model {what}", None if "rerank model" in what else "retrieval_model")
    eq(list_all(srv, srv.key, "&keyword=rm-bad").get("total"), 0, "a refused retrieval_model left a dataset")


def test_retrieval_model_round_trips(srv):
    rm = valid_retrieval_model(srv)
    st, _, ds, raw = post(srv, {"name": "rm-ok", "indexing_technique": "high_quality", "retrieval_model": rm})
    if not eq(st, 200, f"valid retrieval_model ({raw[:200]!r})"):
        return
    eq(ds.get("retrieval_model_dict"), rm, "create: retrieval_model_dict")
    eq((get(srv, ds["id"])[2] or {}).get("retrieval_model_dict"), rm, "GET: retrieval_model_dict")
    rm2 = {"search_method": "full_text_search", "reranking_enable": False, "top_k": 1,
           "score_threshold_enabled": False}
    st, _, up, raw = srv.call("PATCH", f"/v1/datasets/{ds['id']}", body={"retrieval_model": rm2})
    eq(st, 200, f"PATCH retrieval_model ({raw[:200]!r})")
    want = {"search_method": "full_text_search", "reranking_enable": False, "reranking_mode": None,
            "reranking_model": {"reranking_provider_name": "", "reranking_model_name": ""},
            "weights": None, "top_k": 1, "score_threshold_enabled": False, "score_threshold": None}
    eq((up or {}).get("retrieval_model_dict"), want, "PATCH: retrieval_model_dict with defaults filled")
    eq((get(srv, ds["id"])[2] or {}).get("retrieval_model_dict"), want, "GET after PATCH: retrieval_model_dict")


def test_economy_get_shows_keyword_search(srv):
    rm = {"search_method": "semantic_search", "reranking_enable": False, "top_k": 3,
          "score_threshold_enabled": False}
    ds = srv.create_dataset("eco-keyword", indexing_technique="economy", retrieval_model=rm)
    got = get(srv, ds["id"])[2] or {}
    eq(got.get("retrieval_model_dict", {}).get("search_method"), "keyword_search",
       "GET of an economy dataset: search_method")
    eq(got.get("retrieval_model_dict", {}).get("top_k"), 3, "GET of an economy dataset: top_k kept")
    ds = srv.create_dataset("unset-keyword")
    got = get(srv, ds["id"])[2] or {}
    eq(got.get("retrieval_model_dict", {}).get("search_method"), "keyword_search",
       "GET of a dataset without indexing_technique: search_method")


# ---- list -----------------------------------------------------------------------


def test_list_pages(srv):
    key = srv.create_key(tenant="pages")
    batches = []
    for b in range(3):  # three batches in three different seconds
        if b:
            time.sleep(1.05)
        batches.append([srv.create_dataset(f"page-{b}-{i:02d}", key=key)["id"]
                        for i in range(9 if b < 2 else 7)])
    created = [i for b in batches for i in b]
    eq(len(created), 25, "datasets created")
    seen, stamps = [], []
    for page, n, more in ((1, 10, True), (2, 10, True), (3, 5, False), (4, 0, False)):
        st, _, js, raw = srv.call("GET", f"/v1/datasets?page={page}&limit=10", key=key)
        if not eq(st, 200, f"page {page}"):
            return
        eq(len(js.get("data", [])), n, f"page {page}: rows")
        eq(js.get("page"), page, f"page {page}: page")
        eq(js.get("limit"), 10, f"page {page}: limit")
        eq(js.get("total"), 25, f"page {page}: total")
        eq(js.get("has_more"), more, f"page {page}: has_more")
        for d in js.get("data", []):
            seen.append(d.get("id"))
            stamps.append(d.get("created_at"))
            check(d.get("embedding_available") is True, f"list item {d.get('name')}: embedding_available")
    eq(sorted(seen), sorted(created), "the three pages hold every dataset exactly once")
    eq(stamps, sorted(stamps, reverse=True), "list is newest first (created_at descending)")
    pos = {i: seen.index(i) for i in created if i in seen}
    if len(pos) == 25:
        check(max(pos[i] for i in batches[2]) < min(pos[i] for i in batches[1]) and
              max(pos[i] for i in batches[1]) < min(pos[i] for i in batches[0]),
              "later batches do not come first")
    js = srv.call("GET", "/v1/datasets", key=key)[2] or {}
    eq((js.get("page"), js.get("limit"), len(js.get("data", []))), (1, 20, 20), "defaults page=1 limit=20")


def test_list_bad_query_is_400(srv):
    for q in ("limit=0", "page=abc", "limit=abc", "limit=-1", "limit=1.5", "include_all=maybe"):
        expect_error(srv.call("GET", f"/v1/datasets?{q}"), 400, "invalid_param", f"GET /v1/datasets?{q}")
    for q in ("page=0", "page=-3", "page=999999", "include_all=true", "limit=100&page=2147483647"):
        st, _, js, raw = srv.call("GET", f"/v1/datasets?{q}")
        eq(st, 200, f"GET /v1/datasets?{q} ({raw[:150]!r})")


def test_list_limit_capped_at_100_but_echoed(srv):
    key = srv.create_key(tenant="bulk")
    c = srv.connection()
    try:
        for i in range(105):
            st = srv.call("POST", "/v1/datasets", body={"name": f"bulk-{i:03d}"}, key=key, conn=c)[0]
            if st != 200:
                check(False, f"bulk create {i}: HTTP {st}")
                return
    finally:
        c.close()
    st, _, js, raw = srv.call("GET", "/v1/datasets?limit=1000", key=key, timeout=30)
    if not eq(st, 200, f"limit=1000 ({raw[:150]!r})"):
        return
    eq(len(js.get("data", [])), 100, "limit=1000 returns at most 100 rows")
    eq(js.get("limit"), 1000, "limit=1000 is echoed")
    eq(js.get("total"), 105, "total with limit=1000")
    js = srv.call("GET", "/v1/datasets?limit=100&page=2", key=key)[2] or {}
    eq(len(js.get("data", [])), 5, "page 2 of 100")
    eq(js.get("has_more"), False, "page 2 of 100: has_more")


def test_list_keyword_filter(srv):
    key = srv.create_key(tenant="keywords")
    for name in ("Alpha%Beta", "alphaXbeta", "ALPHA_beta", "gamma"):
        srv.create_dataset(name, key=key)

    def names(kw):
        js = list_all(srv, key, f"&keyword={quote(kw)}")
        return sorted(d.get("name") for d in js.get("data", [])), js.get("total")

    eq(names("alpha"), (["ALPHA_beta", "Alpha%Beta", "alphaXbeta"], 3), "keyword is case-insensitive")
    eq(names("A%B"), (["Alpha%Beta"], 1), "'%' in a keyword is literal")
    eq(names("a_b"), (["ALPHA_beta"], 1), "'_' in a keyword is literal")
    eq(names("%"), (["Alpha%Beta"], 1), "keyword '%' alone is literal")
    eq(names("zzz"), ([], 0), "keyword without a match")
    eq(names("'; DROP TABLE datasets; --"), ([], 0), "keyword with SQL in it")
    eq(names("\\"), ([], 0), "keyword '\\'")
    st = srv.call("GET", "/v1/datasets?keyword=%FF%FE", key=key)[0]
    check(st in (200, 400), f"keyword of invalid UTF-8: HTTP {st}")
    eq(names(""), (["ALPHA_beta", "Alpha%Beta", "alphaXbeta", "gamma"], 4), "empty keyword is no filter")


def test_list_unknown_tag_is_empty(srv):
    srv.create_dataset("tagged-nothing")
    js = list_all(srv, srv.key, f"&tag_ids={uuid.uuid4()}")
    eq(js.get("data"), [], "unknown tag: data")
    eq(js.get("total"), 0, "unknown tag: total")
    eq(js.get("has_more"), False, "unknown tag: has_more")


# ---- update ---------------------------------------------------------------------


def test_patch_name_and_description(srv):
    ds = srv.create_dataset("patch-me", description="to be cleared")
    p = f"/v1/datasets/{ds['id']}"
    st, _, up, raw = srv.call("PATCH", p, body={"name": "patched"})
    if not eq(st, 200, f"PATCH name ({raw[:200]!r})"):
        return
    eq(up.get("name"), "patched", "PATCH: name")
    eq(up.get("description"), "to be cleared", "PATCH name leaves the description")
    missing = [k for k in DATASET_KEYS if k not in up]
    eq(missing, [], "Dataset keys missing from the PATCH response")
    eq(up.get("partial_member_list"), [], "PATCH response has partial_member_list []")
    st, _, up, raw = srv.call("PATCH", p, body={"description": None})
    eq(st, 200, f"PATCH description null ({raw[:200]!r})")
    eq((up or {}).get("description"), None, "PATCH: description null clears it")
    got = get(srv, ds["id"])[2] or {}
    eq(got.get("description"), None, "GET after clearing: description")
    eq(got.get("name"), "patched", "GET after PATCH: name")
    check(got.get("updated_at", 0) >= ds["created_at"], "updated_at before created_at")
    st, _, up, _ = srv.call("PATCH", p, body={"name": None, "permission": None})
    eq(st, 200, "PATCH with null name/permission (ignored)")
    eq((up or {}).get("name"), "patched", "null name is ignored")
    eq((up or {}).get("permission"), "only_me", "null permission is ignored")


def test_patch_partial_members(srv):
    ds = srv.create_dataset("members")
    p = f"/v1/datasets/{ds['id']}"
    members = {"permission": "partial_members", "partial_member_list": [{"user_id": "u-1"}, {"user_id": "u-2"}]}
    st, _, up, raw = srv.call("PATCH", p, body=members)
    if not eq(st, 200, f"PATCH partial_members ({raw[:200]!r})"):
        return
    eq(up.get("permission"), "partial_members", "PATCH: permission")
    eq(up.get("partial_member_list"), ["u-1", "u-2"], "PATCH: partial_member_list")
    got = get(srv, ds["id"])[2] or {}
    eq(got.get("partial_member_list"), ["u-1", "u-2"], "GET of a partial_members dataset: member list")
    st, _, up, _ = srv.call("PATCH", p, body={"permission": "all_team_members"})
    eq((up or {}).get("partial_member_list"), [], "switching to all_team_members clears the list")
    got = get(srv, ds["id"])[2] or {}
    check("partial_member_list" not in got, "GET of an all_team_members dataset shows partial_member_list")
    expect_error(srv.call("PATCH", p, body={"permission": "partial_members", "partial_member_list": "u-1"}),
                 400, "invalid_param", "partial_member_list not a list")
    expect_error(srv.call("PATCH", p, body={"permission": "partial_members",
                                            "partial_member_list": [{"user_id": 5}]}),
                 400, "invalid_param", "partial_member_list user_id not a string")


def test_patch_keeps_members_unless_replaced(srv):
    # Dify (reference 4.1.4): null values are ignored, and the member list is replaced only
    # when permission=partial_members comes with a non-empty list
    ds = srv.create_dataset("members-kept")
    p = f"/v1/datasets/{ds['id']}"
    members = {"permission": "partial_members", "partial_member_list": [{"user_id": "u-1"}, {"user_id": "u-2"}]}
    for what, body in (("PATCH description only", {"description": "members stay"}),
                       ("PATCH permission=null", {"permission": None}),
                       ("PATCH permission=partial_members without a list", {"permission": "partial_members"})):
        eq(srv.call("PATCH", p, body=members)[0], 200, "setting the members")
        st, _, up, raw = srv.call("PATCH", p, body=body)
        eq(st, 200, f"{what} ({raw[:150]!r})")
        eq((up or {}).get("partial_member_list"), ["u-1", "u-2"], f"{what}: members in the response")
        eq((get(srv, ds["id"])[2] or {}).get("partial_member_list"), ["u-1", "u-2"],
           f"{what}: members in a later GET")


def test_patch_rename_to_existing_name_is_400(srv):
    srv.create_dataset("taken-name")
    ds = srv.create_dataset("wants-taken")
    r = srv.call("PATCH", f"/v1/datasets/{ds['id']}", body={"name": "taken-name"})
    expect_error(r, 400, "invalid_param", "rename to an existing name",
                 lambda m: "already exists" in m)
    eq((get(srv, ds["id"])[2] or {}).get("name"), "wants-taken", "name after the refused rename")
    st, _, up, _ = srv.call("PATCH", f"/v1/datasets/{ds['id']}", body={"name": "wants-taken"})
    eq(st, 200, "renaming a dataset to its own name")


def test_patch_wrong_types_are_400(srv):
    ds = srv.create_dataset("typed", description="keep")
    p = f"/v1/datasets/{ds['id']}"
    for body, field in (({"name": 5}, "name"), ({"name": ""}, "name"), ({"name": "n" * 41}, "name"),
                        ({"description": 5}, "description"), ({"description": "d" * 401}, "description"),
                        ({"permission": 7}, "permission"), ({"permission": "everyone"}, "permission"),
                        ({"indexing_technique": "fast"}, "indexing_technique"),
                        ({"retrieval_model": "x"}, "retrieval_model"),
                        ({"retrieval_model": {"search_method": "semantic_search"}}, "retrieval_model")):
        expect_error(srv.call("PATCH", p, body=body), 400, "invalid_param", f"PATCH {body!r:.60}",
                     lambda m, f=field: f in m)
    got = get(srv, ds["id"])[2] or {}
    eq((got.get("name"), got.get("description")), ("typed", "keep"), "refused PATCHes changed the dataset")
    expect_error(srv.call("PATCH", p, raw=b"[]"), 400, "invalid_param", "PATCH with a JSON array")


def test_patch_to_economy_drops_the_embedding_model(srv):
    ds = srv.create_dataset("hq-to-eco", indexing_technique="high_quality")
    check(ds.get("embedding_model"), "high_quality dataset without an embedding model")
    st, _, up, raw = srv.call("PATCH", f"/v1/datasets/{ds['id']}", body={"indexing_technique": "economy"})
    eq(st, 200, f"PATCH to economy ({raw[:150]!r})")
    eq(((up or {}).get("embedding_model"), (up or {}).get("embedding_model_provider")), (None, None),
       "economy keeps no embedding model")


def test_patch_unknown_dataset_is_404(srv):
    expect_error(srv.call("PATCH", f"/v1/datasets/{uuid.uuid4()}", body={"name": "x"}), 404, "not_found",
                 "PATCH an unknown dataset", "Dataset not found.")


def test_upper_case_dataset_id(srv):
    # Werkzeug's uuid converter parses the id, so Dify finds the dataset whatever the case
    ds = srv.create_dataset("upper-case-id")
    st, _, got, raw = get(srv, ds["id"].upper())
    eq(st, 200, f"GET /v1/datasets/<upper-case id> ({raw[:150]!r})")
    eq((got or {}).get("id"), ds["id"], "upper-case id: the id is rendered in lower case")


def test_concurrent_creates(srv):
    key = srv.create_key(tenant="race")
    results = []

    def worker(name):
        try:
            results.append((name, srv.call("POST", "/v1/datasets", body={"name": name}, key=key)[0]))
        except Exception as e:  # transport error
            results.append((name, repr(e)))

    threads = [threading.Thread(target=worker, args=("race-same",)) for _ in range(8)]
    threads += [threading.Thread(target=worker, args=(f"race-{i}",)) for i in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    same = sorted(str(st) for n, st in results if n == "race-same")
    eq(same, ["200"] + ["409"] * 7, "8 concurrent creates of one name: one 200, seven 409")
    other = [st for n, st in results if n != "race-same"]
    eq(other, [200] * 16, "16 concurrent creates of distinct names")
    js = list_all(srv, key)
    eq(js.get("total"), 17, "datasets after the concurrent creates")


# ---- delete ---------------------------------------------------------------------


def test_delete(srv):
    ds = srv.create_dataset("delete-me")
    p = f"/v1/datasets/{ds['id']}"
    st, h, _, raw = srv.call("DELETE", p)
    eq(st, 204, "DELETE")
    eq(raw, b"", "DELETE: 204 with an empty body")
    expect_error(get(srv, ds["id"]), 404, "not_found", "GET after DELETE", "Dataset not found.")
    expect_error(srv.call("DELETE", p), 404, "not_found", "DELETE again")
    js = list_all(srv, srv.key, "&keyword=delete-me")
    eq(js.get("total"), 0, "deleted dataset still listed")
    st, _, _, raw = post(srv, {"name": "delete-me"})
    eq(st, 200, f"the name of a deleted dataset is free again ({raw[:150]!r})")


# ---- durability -----------------------------------------------------------------


def test_datasets_survive_kill_9(srv):
    key = srv.create_key(tenant="durable")
    prov, model = ragd_model(srv)
    created = []
    for i in range(20):
        fields = {"description": f"durable #{i} — ünïcödé"}
        if i % 3 == 0:
            fields.update(indexing_technique="high_quality", embedding_model=model,
                          embedding_model_provider=prov, retrieval_model=valid_retrieval_model(srv))
        elif i % 3 == 1:
            fields.update(indexing_technique="economy", permission="all_team_members",
                          summary_index_setting={"enable": True, "model_name": "m",
                                                 "model_provider_name": "p", "summary_prompt": "s"})
        created.append(srv.create_dataset(f"durable-{i:02d}", key=key, **fields))
    before = {d["id"]: get(srv, d["id"], key=key)[2] for d in created}
    srv.kill9()
    srv.restart()
    st, _, js, raw = srv.call("GET", "/v1/datasets?limit=100", key=key)
    eq(st, 200, "list after kill -9 and restart")
    eq((js or {}).get("total"), 20, "datasets after kill -9")
    for d in created:
        st, _, got, raw = get(srv, d["id"], key=key)
        if not eq(st, 200, f"{d['name']} after kill -9 ({raw[:100]!r})"):
            continue
        eq(got, before[d["id"]], f"{d['name']}: GET after restart differs from GET before")
        for k in DATASET_KEYS:
            if k in COMPUTED_KEYS:
                continue
            eq(got.get(k), d.get(k), f"{d['name']}: {k} after restart differs from the create response")


# ---- models ---------------------------------------------------------------------


def test_models_text_embedding(srv):
    st, _, js, raw = srv.call("GET", "/v1/workspaces/current/models/model-types/text-embedding")
    if not eq(st, 200, f"text-embedding models ({raw[:150]!r})"):
        return
    ragd = [p for p in js.get("data", []) if p.get("provider") == "ragd"]
    check(ragd and ragd[0].get("models"), "no model of provider 'ragd'")
    for p in js.get("data", []):
        for m in p.get("models", []):
            eq(m.get("model_type"), "text-embedding", f"model {m.get('model')}: model_type")
            check(isinstance(m.get("model"), str) and m["model"], "a model without a name")


def test_models_rerank_is_empty(srv):
    st, _, js, raw = srv.call("GET", "/v1/workspaces/current/models/model-types/rerank")
    eq(st, 200, "rerank models")
    eq((js or {}).get("data"), [], "rerank models: data")


def test_models_bogus_type_is_400(srv):
    expect_error(srv.call("GET", "/v1/workspaces/current/models/model-types/bogus"), 400, "invalid_param",
                 "model type bogus")
    expect_error(srv.call("GET", "/v1/workspaces/current/models/model-types/text-embedding", key=None),
                 401, "unauthorized", "models without a key")
