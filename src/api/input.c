/*
 * input.c - typed reads of JSON fields and query parameters, each failure
 * turned into 400 invalid_param with a message that names the field and says
 * what was expected, so a person can fix the request from the message alone.
 */
#include "api/api.h"

#include <string.h>

rg_principal *rg_api_principal(rg_req *req)
{
    RG_ASSERT(req->auth);
    return req->auth;
}

rg_api *rg_api_ctx(rg_req *req)
{
    return req->app;
}

rg_rc rg_api_opt_string(rg_req *req, rg_resp *resp, json_t *obj, const char *key, const char **out,
                        bool *present)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    *present = v != NULL;
    if (!v)
        return RG_OK;
    if (json_is_null(v)) {
        *out = NULL;
        return RG_OK;
    }
    if (!json_is_string(v))
        return rg_resp_fail(resp, req, RG_EINVAL, "%s: expected a string", key);
    *out = json_string_value(v);
    if (strlen(*out) != json_string_length(v))
        return rg_resp_fail(resp, req, RG_EINVAL, "%s: must not contain NUL characters", key);
    return RG_OK;
}

rg_rc rg_api_opt_bool(rg_req *req, rg_resp *resp, json_t *obj, const char *key, bool *out)
{
    json_t *v = obj ? json_object_get(obj, key) : NULL;
    if (!v || json_is_null(v))
        return RG_OK;
    if (!json_is_boolean(v))
        return rg_resp_fail(resp, req, RG_EINVAL, "%s: expected true or false", key);
    *out = json_is_true(v);
    return RG_OK;
}

rg_rc rg_api_query_int(rg_req *req, rg_resp *resp, const char *name, int64_t def, int64_t min,
                       int64_t max, int64_t *out)
{
    const char *v = rg_req_query(req, name);
    if (!v || !*v) {
        *out = def;
        return RG_OK;
    }
    if (rg_str_to_i64(rg_str_c(v), min, max, out) != RG_OK)
        return rg_resp_fail(resp, req, RG_EINVAL,
                            "%s: expected a whole number from %lld to %lld, got '%.40s'", name,
                            (long long)min, (long long)max, v);
    return RG_OK;
}

rg_rc rg_api_query_bool(rg_req *req, rg_resp *resp, const char *name, bool def, bool *out)
{
    const char *v = rg_req_query(req, name);
    if (!v || !*v) {
        *out = def;
        return RG_OK;
    }
    if (rg_str_to_bool(rg_str_c(v), out) != RG_OK)
        return rg_resp_fail(resp, req, RG_EINVAL, "%s: expected true or false, got '%.40s'", name,
                            v);
    return RG_OK;
}
