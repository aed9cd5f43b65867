# tlsmodem — build, run, test.
#   make          build build/tlsmodem and build/tlsmodem-cert
#   make run      install what is missing, build, start an interactive HL session
#                 (options for tlsmodem in ARGS: make run ARGS="--dialect spwf --resolve H:P:A")
#   make test     install what is missing, build, run unit + end-to-end tests
#   make asan     unit + end-to-end tests with AddressSanitizer/UBSan
#   make bench    benchmarks (bench/)

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wno-unused-parameter -Isrc -MMD -MP
LDLIBS  += -lssl -lcrypto -lutil

MAIN_SRC  := src/port/posix/main.c
CORE_SRCS := $(filter-out $(MAIN_SRC),$(shell find src -name '*.c' | sort))
CORE_OBJS := $(CORE_SRCS:%.c=$(BUILD)/%.o)
TOOL_SRCS := $(shell find tools -name '*.c' 2>/dev/null | sort)
TOOL_OBJS := $(TOOL_SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS := $(shell find tests/unit -name 'test_*.c' 2>/dev/null | sort)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

BINS := $(BUILD)/tlsmodem $(if $(TOOL_SRCS),$(BUILD)/tlsmodem-cert)

.PHONY: all run test unit e2e asan bench clean deps-run deps-test
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

asan:
	$(MAKE) BUILD=build-asan \
	  OPT="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  LDFLAGS="-fsanitize=address,undefined" all unit
	ASAN_OPTIONS=detect_leaks=1 python3 tests/e2e/run.py --bin build-asan/tlsmodem

bench: all
	sh bench/run.sh

clean:
	rm -rf build build-asan

-include $(CORE_OBJS:.o=.d) $(TOOL_OBJS:.o=.d) $(BUILD)/$(MAIN_SRC:.c=.d) $(UNIT_BINS:=.d)
