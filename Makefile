# ragd - build, run and test.  Plain GNU make + pkg-config (shared/reference/c-stack.md 1.20).
#
#   make            build/ragd (release: -O2 -g)
#   make run        install dependencies and the GloVe table, build, serve the embedded default on 127.0.0.1:5001
#   make test       install dependencies, build under ASan+UBSan, run every test
#   make format     clang-format the sources;  make lint: layer rule, banned functions, format
#   make fuzz       libFuzzer targets (clang), a short run each
#   make bench-http wrk: ragd vs nginx serving the same bytes

CC      ?= gcc
PKGS    := libmicrohttpd jansson sqlite3 libsodium libxml-2.0 libzip icu-uc icu-i18n openblas libcurl
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
CFLAGS_COMMON := -std=c11 -D_GNU_SOURCE $(WARN) -Isrc -MMD -MP
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS     = $(PKG_LIBS) -lpthread -lm

SRC      := $(shell find src -name '*.c' ! -path src/main.c | sort)
TEST_SRC := $(shell find tests/unit -name '*.c' | sort)

REL_OBJ  := $(SRC:%.c=build/obj/%.o)
SAN_OBJ  := $(SRC:%.c=build/asan/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=build/asan/obj/%.o)

SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined

.PHONY: all run test unit deps format format-check lint fuzz bench-http clean

all: build/ragd

V ?= 0
Q := $(if $(filter 1,$(V)),,@)

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_COMMON) -O2 -g $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

build/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC asan $<")
	$(Q)$(CC) $(CFLAGS_COMMON) -Itests -O1 -g $(SANFLAGS) $(PKG_CFLAGS) $(CFLAGS) -c $< -o $@

build/ragd: $(REL_OBJ) build/obj/src/main.o
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) -o $@ $^ $(LIBS) $(LDFLAGS)

build/asan/ragd: $(SAN_OBJ) build/asan/obj/src/main.o
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SANFLAGS) -o $@ $^ $(LIBS) $(LDFLAGS)

build/asan/unit: $(SAN_OBJ) $(TEST_OBJ)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(SANFLAGS) -o $@ $^ $(LIBS) $(LDFLAGS)

deps:
	@scripts/install-deps
	@scripts/fetch-glove

run: deps
	@$(MAKE) --no-print-directory -j$$(nproc) build/ragd
	./build/ragd serve

unit: build/asan/unit
	./build/asan/unit

test: deps
	@$(MAKE) --no-print-directory -j$$(nproc) build/asan/ragd build/asan/unit
	@scripts/checksrc
	@tests/run

format:
	clang-format -i $$(find src tests -name '*.[ch]')

format-check:
	clang-format --dry-run --Werror $$(find src tests -name '*.[ch]')

lint: format-check
	scripts/checksrc

fuzz:
	tests/fuzz/run

bench-http: build/ragd
	bench/http/run

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
