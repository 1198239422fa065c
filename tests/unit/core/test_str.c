/* test_str.c - slices, UTF-8 validation, strict integer parsing, UUID shape. */
#include "harness.h"

#include "core/str.h"

TEST(str_utf8_valid_accepts_wellformed)
{
    CHECK(rg_utf8_valid("", 0));
    CHECK(rg_utf8_valid("abc", 3));
    CHECK(rg_utf8_valid("\xe5\x85\x89\xe5\x90\x88", 6)); /* 光合 */
    CHECK(rg_utf8_valid("\xf0\x9f\x98\x80", 4));         /* emoji */
    CHECK(rg_utf8_valid("\xc3\xa9", 2));
}

TEST(str_utf8_valid_rejects_malformed)
{
    CHECK(!rg_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    CHECK(!rg_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    CHECK(!rg_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    CHECK(!rg_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    CHECK(!rg_utf8_valid("\xe5\x85", 2));         /* truncated */
    CHECK(!rg_utf8_valid("\x80", 1));             /* lone continuation */
    CHECK(!rg_utf8_valid("\xff", 1));
}

TEST(str_utf8_len_counts_code_points)
{
    CHECK_EQ_INT(rg_utf8_len("a\xe5\x85\x89\xf0\x9f\x98\x80", 8), 3);
}

TEST(str_to_i64_is_strict)
{
    int64_t v = 0;
    CHECK(rg_str_to_i64(RG_STR("42"), 0, 100, &v) == RG_OK && v == 42);
    CHECK(rg_str_to_i64(RG_STR("-5"), -10, 10, &v) == RG_OK && v == -5);
    CHECK(rg_str_to_i64(RG_STR("101"), 0, 100, &v) == RG_EINVAL);
    CHECK(rg_str_to_i64(RG_STR(""), 0, 100, &v) == RG_EINVAL);
    CHECK(rg_str_to_i64(RG_STR("1 "), 0, 100, &v) == RG_EINVAL);
    CHECK(rg_str_to_i64(RG_STR("0x10"), 0, 100, &v) == RG_EINVAL);
    CHECK(rg_str_to_i64(RG_STR("-"), -1, 100, &v) == RG_EINVAL);
    CHECK(rg_str_to_i64(RG_STR("9223372036854775807"), INT64_MIN, INT64_MAX, &v) == RG_OK &&
          v == INT64_MAX);
    CHECK(rg_str_to_i64(RG_STR("-9223372036854775808"), INT64_MIN, INT64_MAX, &v) == RG_OK &&
          v == INT64_MIN);
    CHECK(rg_str_to_i64(RG_STR("9223372036854775808"), INT64_MIN, INT64_MAX, &v) == RG_EINVAL);
    CHECK(rg_str_to_i64(RG_STR("99999999999999999999"), INT64_MIN, INT64_MAX, &v) == RG_EINVAL);
}

TEST(str_is_uuid)
{
    CHECK(rg_str_is_uuid(RG_STR("c42e2a6e-40b3-4330-96f8-f1e4d768e8c9")));
    CHECK(rg_str_is_uuid(RG_STR("C42E2A6E-40B3-4330-96F8-F1E4D768E8C9")));
    CHECK(!rg_str_is_uuid(RG_STR("c42e2a6e-40b3-4330-96f8-f1e4d768e8c")));
    CHECK(!rg_str_is_uuid(RG_STR("c42e2a6e040b3-4330-96f8-f1e4d768e8c9")));
    CHECK(!rg_str_is_uuid(RG_STR("g42e2a6e-40b3-4330-96f8-f1e4d768e8c9")));
    CHECK(!rg_str_is_uuid(RG_STR("tags")));
}

TEST(str_trim_ieq_bool)
{
    CHECK(rg_str_eqz(rg_str_trim(RG_STR("  a b \n")), "a b"));
    CHECK(rg_str_trim(RG_STR("   ")).n == 0);
    CHECK(rg_str_ieq(RG_STR("Bearer"), RG_STR("bEARER")));
    CHECK(!rg_str_ieq(RG_STR("Bearer"), RG_STR("Bearer ")));
    bool b = false;
    CHECK(rg_str_to_bool(RG_STR("TRUE"), &b) == RG_OK && b);
    CHECK(rg_str_to_bool(RG_STR("0"), &b) == RG_OK && !b);
    CHECK(rg_str_to_bool(RG_STR("yes"), &b) == RG_EINVAL);
}
