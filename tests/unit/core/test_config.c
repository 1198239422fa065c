/* test_config.c - defaults, sizes with suffixes, bounds, listen parsing, env. */
#include "harness.h"

#include "core/config.h"

#include <stdlib.h>

TEST(config_defaults_are_documented_values)
{
    rg_config c;
    rg_config_defaults(&c);
    CHECK_EQ_STR(c.data_dir, "./data");
    CHECK_EQ_STR(c.listen_host, "127.0.0.1");
    CHECK_EQ_INT(c.listen_port, 5001);
    CHECK_EQ_INT(c.max_json_body, 15 << 20);
    CHECK_EQ_INT(c.max_upload, 100 << 20);
    CHECK_EQ_INT(c.page_limit_max, 100);
}

TEST(config_flags_and_bounds)
{
    rg_config c;
    char err[256];
    rg_config_defaults(&c);
    CHECK(rg_config_set_flag(&c, "--max-json-body", "2M", err, sizeof err) == RG_OK);
    CHECK_EQ_INT(c.max_json_body, 2 << 20);
    CHECK(rg_config_set_flag(&c, "--max-json-body", "12", err, sizeof err) == RG_EINVAL);
    CHECK(rg_config_set_flag(&c, "--workers", "-1", err, sizeof err) == RG_EINVAL);
    CHECK(rg_config_set_flag(&c, "--workers", "abc", err, sizeof err) == RG_EINVAL);
    CHECK(rg_config_set_flag(&c, "--nope", "1", err, sizeof err) == RG_ENOTFOUND);
    CHECK(rg_config_set_flag(&c, "--listen", "0.0.0.0:0", err, sizeof err) == RG_OK);
    CHECK_EQ_STR(c.listen_host, "0.0.0.0");
    CHECK_EQ_INT(c.listen_port, 0);
    CHECK(rg_config_set_listen(&c, "localhost") == RG_EINVAL);
    CHECK(rg_config_set_listen(&c, "h:70000") == RG_EINVAL);
    CHECK(rg_config_set_listen(&c, ":80") == RG_EINVAL);
}

TEST(config_env_overrides)
{
    rg_config c;
    char err[256];
    rg_config_defaults(&c);
    setenv("RAGD_DATA", "/tmp/ragd-env-test", 1);
    setenv("RAGD_LISTEN", "127.0.0.2:6001", 1);
    CHECK(rg_config_from_env(&c, err, sizeof err) == RG_OK);
    CHECK_EQ_STR(c.data_dir, "/tmp/ragd-env-test");
    CHECK_EQ_INT(c.listen_port, 6001);
    setenv("RAGD_CONN_TIMEOUT", "0", 1);
    CHECK(rg_config_from_env(&c, err, sizeof err) == RG_EINVAL);
    unsetenv("RAGD_DATA");
    unsetenv("RAGD_LISTEN");
    unsetenv("RAGD_CONN_TIMEOUT");
}
