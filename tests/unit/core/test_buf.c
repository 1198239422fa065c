/* test_buf.c - the growable buffer keeps its hard maximum and its contents. */
#include "harness.h"

#include "core/alloc.h"
#include "core/buf.h"

TEST(buf_appends_and_terminates)
{
    rg_buf b;
    rg_buf_init(&b, 100);
    CHECK(rg_buf_puts(&b, "hello") == RG_OK);
    CHECK(rg_buf_printf(&b, " %d", 42) == RG_OK);
    CHECK_EQ_STR(b.p, "hello 42");
    CHECK_EQ_INT(b.len, 8);
    rg_buf_free(&b);
}

TEST(buf_refuses_past_max_and_stays_failed)
{
    rg_buf b;
    rg_buf_init(&b, 10);
    CHECK(rg_buf_append(&b, "0123456789", 10) == RG_OK);
    CHECK(rg_buf_putc(&b, 'x') == RG_ETOOBIG);
    CHECK(rg_buf_failed(&b));
    CHECK(rg_buf_putc(&b, 'y') == RG_ETOOBIG); /* sticky */
    CHECK_EQ_INT(b.len, 10);
    rg_buf_reset(&b);
    CHECK(!rg_buf_failed(&b));
    CHECK(rg_buf_printf(&b, "%s", "0123456789abc") == RG_ETOOBIG);
    CHECK(b.cap <= 11);
    rg_buf_free(&b);
}

TEST(buf_grows_over_many_appends)
{
    rg_buf b;
    rg_buf_init(&b, 1 << 20);
    for (int i = 0; i < 100000; i++)
        CHECK(rg_buf_putc(&b, (char)('a' + i % 26)) == RG_OK);
    CHECK_EQ_INT(b.len, 100000);
    CHECK(b.p[99999] == 'a' + 99999 % 26);
    size_t n;
    char *p = rg_buf_take(&b, &n);
    CHECK_EQ_INT(n, 100000);
    CHECK(b.p == NULL && b.len == 0);
    rg_free(p);
}
