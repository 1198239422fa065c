/* test_ids.c - UUID v4 shape, key alphabet, batch id form. */
#include "harness.h"

#include "core/ids.h"
#include "core/str.h"

#include <ctype.h>
#include <string.h>

TEST(ids_uuid4_shape_and_uniqueness)
{
    CHECK(rg_ids_init() == RG_OK);
    char a[RG_UUID_LEN + 1], b[RG_UUID_LEN + 1];
    rg_uuid4(a);
    rg_uuid4(b);
    CHECK(rg_str_is_uuid(rg_str_c(a)));
    CHECK(a[14] == '4');
    CHECK(strchr("89ab", a[19]) != NULL);
    CHECK(strcmp(a, b) != 0);
}

TEST(ids_alnum_and_batch)
{
    char k[25], batch[RG_BATCH_LEN + 1];
    rg_random_alnum(k, 24);
    CHECK_EQ_INT(strlen(k), 24);
    for (int i = 0; i < 24; i++)
        CHECK(isalnum((unsigned char)k[i]));
    rg_batch_id(batch);
    CHECK_EQ_INT(strlen(batch), 20);
    for (int i = 0; i < 20; i++)
        CHECK(isdigit((unsigned char)batch[i]));
    CHECK(strncmp(batch, "20", 2) == 0);
}
