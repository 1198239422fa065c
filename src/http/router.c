/*
 * router.c - matches a method and a path against a static route table.
 *
 * Paths are compared segment by segment without allocating: literal segments
 * byte for byte, "{uuid}" only against a syntactically valid UUID, "{str}"
 * against any non-empty segment.  A path that matches some pattern but with
 * another method gives RG_EMETHOD (405); no pattern at all gives RG_ENOTFOUND.
 * Empty segments ("//", a trailing "/") never match, as in Werkzeug.
 */
#include "http/http.h"

#include <string.h>

rg_method rg_method_parse(const char *name)
{
    static const struct {
        const char *name;
        rg_method m;
    } names[] = {{"GET", RG_GET},       {"POST", RG_POST}, {"PATCH", RG_PATCH},
                 {"DELETE", RG_DELETE}, {"PUT", RG_PUT},   {"HEAD", RG_HEAD}};
    for (size_t i = 0; i < RG_ARRAY_LEN(names); i++)
        if (strcmp(name, names[i].name) == 0)
            return names[i].m;
    return RG_OTHER;
}

/* Splits path into at most RG_ROUTE_MAX_SEGMENTS segments; false on an empty
 * segment or too many. */
static bool split_path(rg_str path, rg_str seg[RG_ROUTE_MAX_SEGMENTS], size_t *n)
{
    *n = 0;
    if (path.n == 0 || path.p[0] != '/')
        return false;
    size_t i = 1;
    while (i <= path.n) {
        size_t j = i;
        while (j < path.n && path.p[j] != '/')
            j++;
        if (j == i || *n == RG_ROUTE_MAX_SEGMENTS)
            return false;
        seg[(*n)++] = (rg_str){path.p + i, j - i};
        i = j + 1;
    }
    return true;
}

static bool match_pattern(const char *pattern, const rg_str *seg, size_t n_seg,
                          rg_str params[RG_ROUTE_MAX_PARAMS], size_t *n_params)
{
    size_t k = 0, np = 0;
    const char *p = pattern;
    while (*p) {
        if (*p != '/')
            return false;
        p++;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (k == n_seg)
            return false;
        rg_str pat = {p, len};
        if (rg_str_eqz(pat, "{uuid}") || rg_str_eqz(pat, "{str}")) {
            if (rg_str_eqz(pat, "{uuid}") && !rg_str_is_uuid(seg[k]))
                return false;
            if (np == RG_ROUTE_MAX_PARAMS)
                return false;
            params[np++] = seg[k];
        } else if (!rg_str_eq(pat, seg[k]))
            return false;
        k++;
        p += len;
    }
    if (k != n_seg)
        return false;
    *n_params = np;
    return true;
}

rg_rc rg_route_match(const rg_route *routes, size_t n, rg_method m, rg_str path,
                     const rg_route **out, rg_str params[RG_ROUTE_MAX_PARAMS], size_t *n_params)
{
    rg_str seg[RG_ROUTE_MAX_SEGMENTS];
    size_t n_seg;
    if (!split_path(path, seg, &n_seg))
        return RG_ENOTFOUND;
    bool path_seen = false;
    rg_method want = (m == RG_HEAD) ? RG_GET : m;
    for (size_t i = 0; i < n; i++) {
        rg_str tmp[RG_ROUTE_MAX_PARAMS];
        size_t ntmp = 0;
        if (!match_pattern(routes[i].pattern, seg, n_seg, tmp, &ntmp))
            continue;
        path_seen = true;
        if (!(routes[i].methods & want))
            continue;
        memcpy(params, tmp, ntmp * sizeof tmp[0]);
        *n_params = ntmp;
        *out = &routes[i];
        return RG_OK;
    }
    return path_seen ? RG_EMETHOD : RG_ENOTFOUND;
}
