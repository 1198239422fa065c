/* test_router.c - typed segments, 404 vs 405, static routes before ids. */
#include "harness.h"

#include "http/http.h"

static rg_rc h_dummy(rg_req *req, rg_resp *resp)
{
    (void)req;
    (void)resp;
    return RG_OK;
}

static const rg_route routes[] = {
    {RG_GET | RG_POST, "/v1/datasets", h_dummy, 0},
    {RG_GET, "/v1/datasets/tags", h_dummy, 0},
    {RG_GET | RG_DELETE, "/v1/datasets/{uuid}", h_dummy, 0},
    {RG_GET, "/v1/datasets/{uuid}/documents/{str}/indexing-status", h_dummy, 0},
};

static rg_rc m(rg_method meth, const char *path, const rg_route **r, rg_str *params, size_t *n)
{
    return rg_route_match(routes, 4, meth, rg_str_c(path), r, params, n);
}

TEST(router_matches_literal_and_typed)
{
    const rg_route *r;
    rg_str p[RG_ROUTE_MAX_PARAMS];
    size_t n;
    CHECK(m(RG_GET, "/v1/datasets", &r, p, &n) == RG_OK && r == &routes[0] && n == 0);
    CHECK(m(RG_GET, "/v1/datasets/tags", &r, p, &n) == RG_OK && r == &routes[1]);
    CHECK(m(RG_GET, "/v1/datasets/c42e2a6e-40b3-4330-96f8-f1e4d768e8c9", &r, p, &n) == RG_OK &&
          r == &routes[2] && n == 1 && rg_str_eqz(p[0], "c42e2a6e-40b3-4330-96f8-f1e4d768e8c9"));
    CHECK(m(RG_GET,
            "/v1/datasets/c42e2a6e-40b3-4330-96f8-f1e4d768e8c9/documents/20250101/indexing-status",
            &r, p, &n) == RG_OK &&
          n == 2 && rg_str_eqz(p[1], "20250101"));
}

TEST(router_404_and_405)
{
    const rg_route *r;
    rg_str p[RG_ROUTE_MAX_PARAMS];
    size_t n;
    CHECK(m(RG_GET, "/v1/datasets/not-a-uuid", &r, p, &n) == RG_ENOTFOUND);
    CHECK(m(RG_GET, "/v1/nope", &r, p, &n) == RG_ENOTFOUND);
    CHECK(m(RG_GET, "/v1/datasets/", &r, p, &n) == RG_ENOTFOUND);
    CHECK(m(RG_GET, "//v1/datasets", &r, p, &n) == RG_ENOTFOUND);
    CHECK(m(RG_GET, "", &r, p, &n) == RG_ENOTFOUND);
    CHECK(m(RG_PUT, "/v1/datasets", &r, p, &n) == RG_EMETHOD);
    CHECK(m(RG_PATCH, "/v1/datasets/c42e2a6e-40b3-4330-96f8-f1e4d768e8c9", &r, p, &n) ==
          RG_EMETHOD);
    CHECK(m(RG_HEAD, "/v1/datasets", &r, p, &n) == RG_OK);
}

TEST(router_refuses_too_many_segments)
{
    const rg_route *r;
    rg_str p[RG_ROUTE_MAX_PARAMS];
    size_t n;
    CHECK(m(RG_GET, "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s", &r, p, &n) == RG_ENOTFOUND);
    CHECK(rg_method_parse("GET") == RG_GET);
    CHECK(rg_method_parse("get") == RG_OTHER);
    CHECK(rg_method_parse("BREW") == RG_OTHER);
}
