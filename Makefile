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

-include $(CORE_OBJS:.o=.d) $(TOOL_OBJS:.o=.d) $(CTL_SRCS:%.c=$(BUILD)/%.d) $(BUILD)/$(MAIN_SRC:.c=.d) $(UNIT_BINS:=.d)
