# tlsmodem — build, run, test.
#   make          build build/tlsmodem, build/tlsmodem-cert and build/tlsmodem-ctl
#   make run      install what is missing, build, start an interactive HL session
#                 (options for tlsmodem in ARGS: make run ARGS="--dialect spwf --resolve H:P:A")
#   make test     install what is missing, build, run unit + end-to-end tests
#   make asan     unit + end-to-end tests with AddressSanitizer/UBSan
#   make bench    benchmarks (bench/)
#   make install  programs, man pages, systemd unit, docs (PREFIX=/usr/local, DESTDIR for staging)
#   make fuzz     libFuzzer targets (tests/fuzz/), each for FUZZ_TIME seconds, in build-fuzz/

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Isrc -MMD -MP
LDLIBS  += -lssl -lcrypto -lutil

MAIN_SRC  := src/port/posix/main.c
CORE_SRCS := $(filter-out $(MAIN_SRC),$(shell find src -name '*.c' | sort))
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
TOOL_SRCS := $(shell find tools -name '*.c' -not -path 'tools/ctl/*' 2>/dev/null | sort)
CTL_SRCS  := $(wildcard tools/ctl/*.c)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | sort)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

BINS := $(BUILD)/tlsmodem $(if $(TOOL_SRCS),$(BUILD)/tlsmodem-cert) $(if $(CTL_SRCS),$(BUILD)/tlsmodem-ctl)

# The version is said once, in src/core/version.h; the man pages get it at install.
VERSION := $(shell sed -n 's/^\#define TM_VERSION "\(.*\)"/\1/p' src/core/version.h)
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DOCDIR  ?= $(PREFIX)/share/doc/tlsmodem
UNITDIR ?= $(PREFIX)/lib/systemd/system
INSTALLED := $(BINDIR)/tlsmodem $(BINDIR)/tlsmodem-cert $(BINDIR)/tlsmodem-ctl $(MANDIR)/man1/tlsmodem.1 \
             $(MANDIR)/man1/tlsmodem-cert.1 $(UNITDIR)/tlsmodem@.service $(DOCDIR)/LICENSE \
             $(DOCDIR)/README.md $(addprefix $(DOCDIR)/,$(notdir $(wildcard docs/*.md)))

.PHONY: all run test unit e2e asan bench clean deps-run deps-test install uninstall \
        fuzz fuzz-build fuzz-bins fuzz-check
all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libtm.a: $(CORE_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/tlsmodem: $(BUILD)/$(MAIN_SRC:.c=.o) $(BUILD)/libtm.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tlsmodem-cert: $(TOOL_OBJS) $(BUILD)/libtm.a
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tlsmodem-ctl: $(CTL_SRCS:%.c=$(BUILD)/%.o)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^

$(BUILD)/tests/%: tests/unit/%.c tests/unit/tm_test.h $(BUILD)/libtm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(BUILD)/libtm.a $(LDLIBS)

deps-run:
	@sh tools/setup-deps.sh run
deps-test:
	@sh tools/setup-deps.sh test

ARGS ?=
run: deps-run all
	@$(BUILD)/tlsmodem $(ARGS)

unit: $(UNIT_BINS)
	@sh tests/unit/run.sh $(UNIT_BINS)

e2e: all
	python3 tests/e2e/run.py --bin $(BUILD)/tlsmodem

test: deps-test
	$(MAKE) all unit
	$(MAKE) e2e
	$(MAKE) asan
	$(MAKE) fuzz-check

asan:
	$(MAKE) BUILD=build-asan \
	  OPT="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" all unit
	ASAN_OPTIONS=detect_leaks=1 python3 tests/e2e/run.py --bin build-asan/tlsmodem

bench: all
	sh bench/run.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/tlsmodem $(BUILD)/tlsmodem-cert $(BUILD)/tlsmodem-ctl $(DESTDIR)$(BINDIR)/
	for m in tlsmodem tlsmodem-cert; do \
	  sed 's/@VERSION@/$(VERSION)/g' man/$$m.1 > $(DESTDIR)$(MANDIR)/man1/$$m.1 && \
	  chmod 0644 $(DESTDIR)$(MANDIR)/man1/$$m.1 || exit 1; done
	sed 's|@BINDIR@|$(BINDIR)|g' systemd/tlsmodem@.service > $(DESTDIR)$(UNITDIR)/tlsmodem@.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/tlsmodem@.service
	install -m 0644 LICENSE README.md docs/*.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null

# ---- fuzzing (tests/fuzz/README.md) ----------------------------------------------
# clang + libFuzzer with ASan/UBSan, in its own build directory.  `make fuzz`
# runs every target for FUZZ_TIME seconds, one after the other (new inputs go
# to build-fuzz/corpus/<target>, crashes to build-fuzz/artifacts/; FUZZ_EXTRA=
# "-fork=1 -ignore_crashes=1" keeps going past a crash); `make
# fuzz-check` (part of `make test`) runs each over its seed corpus plus
# FUZZ_RUNS mutations with a fixed seed, so the targets keep building and
# passing.
FUZZ_CC      ?= clang
FUZZ_BUILD   ?= build-fuzz
FUZZ_TIME    ?= 300
FUZZ_RUNS    ?= 2000
FUZZ_MAXLEN  ?= 8192
FUZZ_TARGETS ?= at_hl at_spwf at_esp certfmt http store
FUZZ_EXTRA   ?=
FUZZ_SAN     := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_OPTS    := -max_len=$(FUZZ_MAXLEN) -timeout=20 -print_final_stats=0
FUZZ_ENV     := ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1

fuzz-build:
	$(MAKE) BUILD=$(FUZZ_BUILD) CC=$(FUZZ_CC) OPT="-O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN)" fuzz-bins

FUZZ_HARNESS := tests/fuzz/harness.c tests/fuzz/harness.h
fuzz-bins: $(FUZZ_TARGETS:%=$(BUILD)/fuzz/fuzz_%)

$(BUILD)/fuzz/fuzz_at_%: tests/fuzz/fuzz_at.c $(FUZZ_HARNESS) $(BUILD)/libtm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -DFUZZ_DIALECT='"$*"' -o $@ $< tests/fuzz/harness.c $(BUILD)/libtm.a $(LDLIBS)

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_HARNESS) $(BUILD)/libtm.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -o $@ $< tests/fuzz/harness.c $(BUILD)/libtm.a $(LDLIBS)

fuzz: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  mkdir -p $(FUZZ_BUILD)/corpus/$$t $(FUZZ_BUILD)/artifacts; \
	  echo "== fuzz_$$t for $(FUZZ_TIME) s"; \
	  $(FUZZ_ENV) $(FUZZ_BUILD)/fuzz/fuzz_$$t $(FUZZ_OPTS) $(FUZZ_EXTRA) -max_total_time=$(FUZZ_TIME) \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
	    $(FUZZ_BUILD)/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

fuzz-check: fuzz-build
	@for t in $(FUZZ_TARGETS); do \
	  rm -rf $(FUZZ_BUILD)/check/$$t; mkdir -p $(FUZZ_BUILD)/check/$$t $(FUZZ_BUILD)/artifacts; \
	  echo "== fuzz_$$t: seed corpus + $(FUZZ_RUNS) runs"; \
	  $(FUZZ_ENV) $(FUZZ_BUILD)/fuzz/fuzz_$$t $(FUZZ_OPTS) -seed=1 -runs=$(FUZZ_RUNS) \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$$t- \
	    $(FUZZ_BUILD)/check/$$t tests/fuzz/corpus/$$t 2>$(FUZZ_BUILD)/check/$$t.log \
	    || { tail -60 $(FUZZ_BUILD)/check/$$t.log; exit 1; }; \
	  grep -E '^(INFO: seed corpus|Done)' $(FUZZ_BUILD)/check/$$t.log | tr '\n' ' '; echo; \
	done

clean:
	rm -rf build build-asan $(FUZZ_BUILD)

-include $(CORE_OBJS:.o=.d) $(TOOL_OBJS:.o=.d) $(CTL_SRCS:%.c=$(BUILD)/%.d) $(BUILD)/$(MAIN_SRC:.c=.d) $(UNIT_BINS:=.d)
