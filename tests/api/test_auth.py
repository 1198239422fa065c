"""API keys: Dify's 401 messages, tenant isolation, dataset-bound keys, revocation,
and keys never kept in clear."""
import os
import re
import secrets
import string
import time
import uuid

from harness import check, eq, expect_error

MSG_NO_HEADER = "Authorization header must be provided and start with 'Bearer'"
MSG_SCHEME = "Authorization scheme must be 'Bearer'"
MSG_INVALID = "Access token is invalid"
ALNUM = string.ascii_letters + string.digits


def random_key():
    return "dataset-" + "".join(secrets.choice(ALNUM) for _ in range(24))


def unauthorized(srv, msg, message, **kw):
    """GET /v1/datasets with the given key/headers must be Dify's 401."""
    r = srv.call("GET", "/v1/datasets", **kw)
    expect_error(r, 401, "unauthorized", msg, message)
    check("bearer" in (r[1].get("WWW-Authenticate") or "").lower(),
          f"{msg}: 401 without a 'WWW-Authenticate: Bearer ...' header ({r[1].get('WWW-Authenticate')!r})")
    return r


def test_no_authorization_header_is_401(srv):
    unauthorized(srv, "no Authorization header", MSG_NO_HEADER, key=None)


def test_basic_scheme_is_401(srv):
    unauthorized(srv, "Basic abc", MSG_SCHEME, key=None, headers={"Authorization": "Basic abc"})


def test_bearer_without_token_is_401(srv):
    unauthorized(srv, "'Bearer' alone", MSG_NO_HEADER, key=None, headers={"Authorization": "Bearer"})
    r = srv.call("GET", "/v1/datasets", key=None, headers={"Authorization": "Bearer "})
    expect_error(r, 401, "unauthorized", "'Bearer ' with an empty token")


def test_unknown_well_formed_key_is_401(srv):
    unauthorized(srv, "unknown dataset- key", MSG_INVALID, key=random_key())


def test_malformed_tokens_are_401(srv):
    good = srv.key
    cases = {
        "10 KB token": "dataset-" + "a" * 10240,
        "non-ASCII token": ("Bearer dataset-" + "é" * 12).encode("utf-8"),
        "empty token after two spaces": "Bearer  ",
        "key one character short": good[:-1],
        "key with one character more": good + "x",
        "key in upper case": good.upper(),
        "key with a NUL-like escape": good[:-1] + "%00",
        "app- key": "app-" + good[8:],
    }
    for what, tok in cases.items():
        if isinstance(tok, bytes) or tok.startswith("Bearer"):
            hdr = tok
        else:
            hdr = "Bearer " + tok
        r = srv.call("GET", "/v1/datasets", key=None, headers={"Authorization": hdr})
        expect_error(r, 401, "unauthorized", what)


def test_lower_and_upper_case_scheme_accepted(srv):
    for scheme in ("bearer", "BEARER", "Bearer"):
        st = srv.call("GET", "/v1/datasets", key=None,
                      headers={"Authorization": f"{scheme} {srv.key}"})[0]
        eq(st, 200, f"scheme {scheme!r}")


def test_auth_is_checked_before_the_dataset_lookup(srv):
    r = srv.call("GET", f"/v1/datasets/{uuid.uuid4()}", key=None)
    expect_error(r, 401, "unauthorized", "unknown dataset without a key", MSG_NO_HEADER)
    r = srv.call("GET", f"/v1/datasets/{uuid.uuid4()}", key=random_key())
    expect_error(r, 401, "unauthorized", "unknown dataset with an unknown key", MSG_INVALID)
    r = srv.call("GET", f"/v1/datasets/{uuid.uuid4()}")
    expect_error(r, 404, "not_found", "unknown dataset with a good key", "Dataset not found.")


def test_other_tenant_cannot_see_the_dataset(srv):
    ds = srv.create_dataset("tenant-a-private")
    other = srv.create_key(tenant="other")
    p = f"/v1/datasets/{ds['id']}"
    expect_error(srv.call("GET", p, key=other), 404, "not_found", "GET by another tenant")
    expect_error(srv.call("PATCH", p, body={"name": "stolen"}, key=other), 404, "not_found",
                 "PATCH by another tenant")
    expect_error(srv.call("DELETE", p, key=other), 404, "not_found", "DELETE by another tenant")
    st, _, lst, raw = srv.call("GET", "/v1/datasets?limit=100", key=other)
    eq(st, 200, "list by another tenant")
    if isinstance(lst, dict):
        check(all(d.get("id") != ds["id"] for d in lst.get("data", [])),
              "another tenant's list shows the dataset")
        check(all(d.get("name") != "tenant-a-private" for d in lst.get("data", [])),
              "another tenant's list shows a dataset of that name")
    st, _, got, _ = srv.call("GET", p)
    eq(st, 200, "owner still reads the dataset after the other tenant's PATCH/DELETE")
    eq((got or {}).get("name"), "tenant-a-private", "name after the other tenant's PATCH")


def test_dataset_bound_key(srv):
    a = srv.create_dataset("bound-a")
    b = srv.create_dataset("bound-b")
    bound = srv.create_key(dataset=a["id"])
    st, _, got, raw = srv.call("GET", f"/v1/datasets/{a['id']}", key=bound)
    eq(st, 200, f"bound key GET its own dataset ({raw[:200]!r})")
    eq((got or {}).get("id"), a["id"], "bound key GET returns its dataset")
    expect_error(srv.call("GET", f"/v1/datasets/{b['id']}", key=bound), 403, "forbidden",
                 "bound key GET another dataset of the tenant")
    expect_error(srv.call("PATCH", f"/v1/datasets/{b['id']}", body={"description": "x"}, key=bound),
                 403, "forbidden", "bound key PATCH another dataset")
    expect_error(srv.call("DELETE", f"/v1/datasets/{b['id']}", key=bound), 403, "forbidden",
                 "bound key DELETE another dataset")
    eq(srv.call("GET", f"/v1/datasets/{b['id']}")[0], 200, "the other dataset survives")
    st, _, lst, raw = srv.call("GET", "/v1/datasets?limit=100", key=bound)
    eq(st, 200, "bound key list")
    if isinstance(lst, dict):
        eq([d.get("id") for d in lst.get("data", [])], [a["id"]], "bound key list shows only its dataset")
        eq(lst.get("total"), 1, "bound key list total")
        eq(lst.get("has_more"), False, "bound key list has_more")
    expect_error(srv.call("POST", "/v1/datasets", body={"name": "bound-new"}, key=bound), 403,
                 "forbidden", "bound key POST /datasets")
    st, _, lst, _ = srv.call("GET", "/v1/datasets?keyword=bound-new&limit=100")
    eq((lst or {}).get("total"), 0, "nothing created by the refused POST")


def test_bound_key_for_unknown_dataset_is_refused(srv):
    p = srv.cli("key", "create", "--dataset", str(uuid.uuid4()))
    check(p.returncode != 0, f"key create --dataset <unknown id> exited 0 and printed {p.stdout!r}")
    check("dataset-" not in p.stdout, "key create --dataset <unknown id> printed a key")
    p = srv.cli("key", "create", "--dataset", "not-a-uuid")
    check(p.returncode != 0, "key create --dataset not-a-uuid exited 0")
    ds = srv.create_dataset("bound-cross-tenant")
    p = srv.cli("key", "create", "--tenant", "stranger", "--dataset", ds["id"])
    check(p.returncode != 0, "key create --tenant stranger --dataset <default's dataset> exited 0")


def test_revoked_key_is_401(srv):
    k = srv.create_key()
    eq(srv.call("GET", "/v1/datasets", key=k)[0], 200, "fresh key before revoke")
    p = srv.cli("key", "revoke", k)
    eq(p.returncode, 0, f"key revoke exit status (stderr {p.stderr.strip()!r})")
    unauthorized(srv, "revoked key", MSG_INVALID, key=k)
    eq(srv.call("GET", "/v1/datasets")[0], 200, "another key still works after a revoke")
    p = srv.cli("key", "revoke", k)
    check(p.returncode != 0, "revoking the same key twice exited 0")
    p = srv.cli("key", "revoke", random_key())
    check(p.returncode != 0, "revoking an unknown key exited 0")


def test_key_list_shows_prefix_never_the_key(srv):
    k = srv.create_key(tenant="listing")
    p = srv.cli("key", "list")
    eq(p.returncode, 0, "key list exit status")
    out = p.stdout
    for key in (srv.key, k):
        check(key[:12] in out, f"key list does not show the prefix {key[:12]!r}: {out[:300]!r}")
        check(key not in out and key[8:] not in out, "key list shows a full key")
        check(key[8:20] not in out, "key list shows more than the short prefix")
    check("tenant=listing" in out, "key list does not name the tenant 'listing'")


def test_data_dir_holds_no_key_in_clear(srv):
    srv.create_key(tenant="at-rest")
    keys = list(srv.keys)
    check(len(keys) >= 2, "the test needs keys")
    files = []
    for root, _, names in os.walk(srv.data):
        files += [os.path.join(root, n) for n in names]
    check(any(f.endswith(".db") for f in files), f"no .db file in the data dir: {files}")
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read()
        for key in keys:
            secret = key[8:].encode()  # the 24 random characters
            check(secret not in data, f"{os.path.basename(f)} holds the key {key[:12]}... in clear")


def test_first_start_prints_a_working_key(srv):
    fresh = srv.spawn(make_key=False)  # `serve` on an empty data dir
    keys = []
    deadline = time.time() + 3
    while not keys and time.time() < deadline:
        keys = re.findall(r"dataset-[A-Za-z0-9]{24}", fresh.stdout())
        time.sleep(0.05)
    if not check(keys, f"first start printed no key on stdout: {fresh.stdout()[:300]!r}"):
        return
    eq(len(set(keys)), 1, "first start printed more than one key")
    eq(fresh.call("GET", "/v1/datasets", key=keys[0])[0], 200, "the printed key works")
    before = fresh.stdout().count("dataset-")
    fresh.restart()
    eq(fresh.stdout().count("dataset-"), before, "a restart printed a key again")
    eq(fresh.call("GET", "/v1/datasets", key=keys[0])[0], 200, "the printed key works after a restart")
