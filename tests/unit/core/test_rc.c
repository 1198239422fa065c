/* test_rc.c - every return code has a wire mapping: a status, a code, a message. */
#include "harness.h"

#include "core/common.h"

#include <string.h>

TEST(rc_table_is_total)
{
    for (int rc = 0; rc < RG_RC_COUNT; rc++) {
        const rg_rc_info *w = rg_rc_wire((rg_rc)rc);
        CHECK(w->http_status >= 200 && w->http_status < 600);
        CHECK(w->code && *w->code);
        CHECK(w->message && *w->message);
        CHECK(strncmp(rg_rc_name((rg_rc)rc), "RG_", 3) == 0);
        CHECK(strcmp(rg_rc_name((rg_rc)rc), "RG_E?") != 0);
        CHECK(rc == RG_OK || w->http_status >= 400);
    }
}

TEST(rc_dify_codes)
{
    CHECK_EQ_STR(rg_rc_wire(RG_EINVAL)->code, "invalid_param");
    CHECK_EQ_INT(rg_rc_wire(RG_ENAMEDUP)->http_status, 409);
    CHECK_EQ_STR(rg_rc_wire(RG_ENAMEDUP)->code, "dataset_name_duplicate");
    CHECK_EQ_STR(rg_rc_wire(RG_EUNAUTH)->code, "unauthorized");
    CHECK_EQ_INT(rg_rc_wire(RG_EMEDIA)->http_status, 415);
    CHECK_EQ_STR(rg_rc_wire(RG_ENOFILE)->code, "no_file_uploaded");
    CHECK_EQ_STR(rg_rc_wire((rg_rc)9999)->code, "internal_server_error");
}
