/* test_arena.c - alignment, limits, cleanups, big allocations. */
#include "harness.h"

#include "core/arena.h"

#include <stdint.h>

static int cleanup_order[4], n_cleanups;

static void note(void *arg)
{
    cleanup_order[n_cleanups++] = (int)(intptr_t)arg;
}

TEST(arena_aligns_and_copies)
{
    rg_arena *a = rg_arena_new(1 << 20);
    for (int i = 1; i < 100; i++) {
        void *p = rg_arena_alloc(a, (size_t)i);
        CHECK(((uintptr_t)p & 15) == 0);
    }
    CHECK_EQ_STR(rg_arena_strndup(a, "abcdef", 3), "abc");
    CHECK_EQ_STR(rg_arena_printf(a, "%s-%d", "x", 7), "x-7");
    CHECK(rg_arena_strdup(a, NULL) == NULL);
    rg_arena_free(a);
}

TEST(arena_refuses_past_max)
{
    rg_arena *a = rg_arena_new(8192);
    CHECK(rg_arena_try_alloc(a, 4096) != NULL);
    CHECK(rg_arena_try_alloc(a, 8192) == NULL);
    CHECK(rg_arena_try_alloc(a, SIZE_MAX) == NULL);
    CHECK(rg_arena_try_alloc(a, 1024) != NULL);
    rg_arena_free(a);
}

TEST(arena_big_blocks_and_cleanups_in_reverse)
{
    n_cleanups = 0;
    rg_arena *a = rg_arena_new((size_t)64 << 20);
    char *small = rg_arena_alloc(a, 10);
    char *big = rg_arena_alloc(a, (size_t)1 << 20);
    char *small2 = rg_arena_alloc(a, 10);
    big[(1 << 20) - 1] = 1;
    small[0] = small2[0] = 2;
    rg_arena_on_free(a, note, (void *)1);
    rg_arena_on_free(a, note, (void *)2);
    CHECK(rg_arena_used(a) >= (1u << 20) + 20);
    rg_arena_free(a);
    CHECK_EQ_INT(n_cleanups, 2);
    CHECK_EQ_INT(cleanup_order[0], 2);
    CHECK_EQ_INT(cleanup_order[1], 1);
}
