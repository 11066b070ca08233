# lumen: a plain GNU Makefile. `make` builds ./lumen; `make test` installs what is missing,
# builds and runs every test; `make sanitize` runs them under ASan and UBSan.
BUILD    ?= build
PREFIX   ?= /usr/local
CC       ?= cc
PKGS     := sqlite3 lua5.4 ncursesw openblas libcjson
# Read lazily (=, not :=): `make demo` installs the packages before anything is compiled, and
# the targets that install them re-run make so that these are read afresh afterwards.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# The Debian package that brings each .pc file, for the message when one is missing.
PKG_DEB_sqlite3  := libsqlite3-dev
PKG_DEB_lua5.4   := liblua5.4-dev
PKG_DEB_ncursesw := libncurses-dev
PKG_DEB_openblas := libopenblas-dev
PKG_DEB_libcjson := libcjson-dev
WARN     := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
            -Wdouble-promotion -Wvla -Wformat=2 -Wno-format-nonliteral
OPT      ?= -O2
CFLAGS   ?= $(OPT) -g
ALL_CFLAGS = -std=c11 $(WARN) $(CFLAGS) $(PKG_CFLAGS) -D_GNU_SOURCE \
             -DLUMEN_DATADIR='"$(PREFIX)/share/lumen"' -MMD -MP
LIBS     := $(PKG_LIBS) -lcsv -lm -lpthread
# Quiet by default; `make V=1` shows the full commands.
ifeq ($(V),1)
  Q :=
  say = @true
else
  Q := @
  say = @echo
endif
ifeq ($(SANITIZE),1)
  ALL_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
  LDFLAGS += -fsanitize=address,undefined
endif

SRC      := $(wildcard src/*.c src/*/*.c explain/*.c ui/*.c lua/*.c)
OBJ      := $(SRC:%.c=$(BUILD)/%.o)
LIBOBJ   := $(filter-out $(BUILD)/src/main.o,$(OBJ))
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all test check sanitize demo bench install clean deps fuzz
all: lumen

lumen: $(BUILD)/lumen
	@if [ "$(BUILD)" = build ]; then cp $(BUILD)/lumen lumen; fi

$(BUILD)/lumen: $(OBJ)
	$(say) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $(OBJ) $(LIBS)

# Before the first compile: every .pc file is there, or one line names the package to install.
$(BUILD)/.pkgcheck:
	@command -v pkg-config >/dev/null 2>&1 || { echo "lumen: build: pkg-config is missing: run 'make deps' (or apt-get install pkg-config)" >&2; exit 1; }
	@for p in $(PKGS); do pkg-config --exists $$p || { \
	  case $$p in sqlite3) d=$(PKG_DEB_sqlite3);; lua5.4) d=$(PKG_DEB_lua5.4);; ncursesw) d=$(PKG_DEB_ncursesw);; \
	    openblas) d=$(PKG_DEB_openblas);; libcjson) d=$(PKG_DEB_libcjson);; *) d=?;; esac; \
	  echo "lumen: build: $$p.pc not found: install the Debian package $$d ('make deps' installs every missing one)" >&2; exit 1; }; done
	@[ -e /usr/include/csv.h ] || { echo "lumen: build: csv.h not found: install the Debian package libcsv-dev ('make deps')" >&2; exit 1; }
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/%.o: %.c | $(BUILD)/.pkgcheck
	@mkdir -p $(dir $@)
	$(say) "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(say) "  TEST    $@"
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LIBS) -lcmocka

# the Cox fit's benchmark program (bench/bench_cox.sh builds it on demand)
$(BUILD)/bench/cox_bench: bench/cox_bench.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LIBS)

# the GRU's benchmark program (bench/bench_gru.sh builds it on demand)
$(BUILD)/bench/gru_bench: bench/gru_bench.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LIBS)

# the engine's benchmark program (bench/bench_train.sh builds it on demand)
$(BUILD)/bench/nn_bench: bench/nn_bench.c $(LIBOBJ)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $< $(LIBOBJ) $(LIBS)

# DEPS: the install step (tests/e2e/onramp.sh puts a stand-in here to play a bare machine)
DEPS ?= sh scripts/deps.sh
deps:
	@LUMEN_ORACLES=$(ORACLES) $(DEPS)

# `make test`: what CI runs. Oracles (scikit-learn, R survival, PyTorch) are installed when
# the package archive has them; their tests skip with a message otherwise.
test: ORACLES = test
test: deps
	@$(MAKE) --no-print-directory check

check: $(BUILD)/lumen $(UNIT_BIN)
	@LUMEN=$(abspath $(BUILD)/lumen) LUMEN_BUILD=$(abspath $(BUILD)) sh tests/run.sh

sanitize: deps
	@$(MAKE) --no-print-directory BUILD=build-san SANITIZE=1 OPT=-O1 check

# The targets that install packages re-run make after deps, so that pkg-config's flags are
# read once the packages are there (a fresh machine has none of them at first).
demo: deps
	@$(MAKE) --no-print-directory all
	./lumen demo $(DEMO_ARGS)

bench: ORACLES = bench
bench: deps
	@$(MAKE) --no-print-directory all
	@sh bench/run.sh

# `make fuzz`: libFuzzer drivers for the CSV reader and the Lua API (tests/fuzz/), built with
# clang under ASan and UBSan, each run FUZZ_SECONDS from the seed corpus in tests/fuzz/ (new
# inputs go to build-fuzz/corpus-*, never into the repository). A crash stops with its input.
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_BUILD   := build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS   = -std=c11 $(filter-out -Werror,$(WARN)) -Wno-double-promotion -g -O1 $(FUZZ_SAN) -fsanitize=fuzzer-no-link \
                $(PKG_CFLAGS) -D_GNU_SOURCE -DLUMEN_DATADIR='"$(PREFIX)/share/lumen"'
FUZZ_OBJ     := $(patsubst %.c,$(FUZZ_BUILD)/%.o,$(filter-out src/main.c,$(SRC)))

.SECONDARY: $(FUZZ_OBJ)
$(FUZZ_BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(say) "  CC      $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJ)
	$(say) "  FUZZ    $@"
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ) $(LIBS)

fuzz: $(FUZZ_BUILD)/fuzz_csv $(FUZZ_BUILD)/fuzz_lua
	@for t in csv lua; do \
	  mkdir -p $(FUZZ_BUILD)/corpus-$$t; \
	  dict=; [ -f tests/fuzz/$$t.dict ] && dict=-dict=tests/fuzz/$$t.dict; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  LUMEN_LUA_DIR=$(CURDIR)/lua $(FUZZ_BUILD)/fuzz_$$t $$dict -max_total_time=$(FUZZ_SECONDS) \
	    -timeout=10 -rss_limit_mb=2048 -max_len=4096 -print_final_stats=1 \
	    -artifact_prefix=$(FUZZ_BUILD)/crash-$$t- \
	    $(FUZZ_BUILD)/corpus-$$t tests/fuzz/$$t 2>$(FUZZ_BUILD)/fuzz_$$t.log || \
	    { tail -n 40 $(FUZZ_BUILD)/fuzz_$$t.log; exit 1; }; \
	  grep -E '^stat::number_of_executed_units|^stat::new_units_added' $(FUZZ_BUILD)/fuzz_$$t.log; \
	done

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/man/man5 $(DESTDIR)$(PREFIX)/share/man/man7 \
	  $(DESTDIR)$(PREFIX)/share/lumen/lua $(DESTDIR)$(PREFIX)/share/lumen/sample_data
	install -m 755 lumen $(DESTDIR)$(PREFIX)/bin/lumen
	install -m 644 man/lumen.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/lumen-file.5 $(DESTDIR)$(PREFIX)/share/man/man5/
	install -m 644 sample_data/pbc.csv sample_data/pbcseq.csv sample_data/pbc_labels.csv sample_data/README.md \
	  $(DESTDIR)$(PREFIX)/share/lumen/sample_data/
	if [ -f man/lumen-lua.7 ]; then install -m 644 man/lumen-lua.7 $(DESTDIR)$(PREFIX)/share/man/man7/; fi
	cd lua && for d in lib filters reports; do \
	  install -d $(DESTDIR)$(PREFIX)/share/lumen/lua/$$d; \
	  for f in $$d/*.lua; do [ -f "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(PREFIX)/share/lumen/lua/$$d/; done; \
	done; true

clean:
	rm -rf build build-san build-fuzz lumen

-include $(OBJ:.o=.d)
