# sensord: GNU make + pkg-config, no autotools.
#
# The build is driven by wildcards so that a module is added by adding its
# file: every sensord/*.c except the two mains goes into libsensord.a, every
# tests/unit/test_*.c is a unit-test binary, every tests/tools/*.c a helper
# tool, every tests/fuzz/fuzz_*.c a fuzz target (replayed over its corpus by
# `make check`, run by libFuzzer in `make fuzz`).
#
#   make                  build sensord and sensorctl (build/)
#   make check            install missing Debian packages, build with ASan +
#                         UBSan (build-san/), run every test
#   make demo             replay the bundled demo trace, show the story
#   make bench            synthetic 5M-packet trace: sensord vs softflowd
#   make fuzz             libFuzzer on every target, FUZZ_SECONDS each
#   make lint             clang-format check + cppcheck
#   make install          PREFIX=/usr/local DESTDIR=

SHELL	:= /bin/bash
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR	?= /lib/systemd/system
VERSION	:= 0.1.0

CC	?= cc
SANITIZE ?=
O	?= build$(if $(SANITIZE),-san)
SHARED_PCAPS ?= $(abspath ../shared/pcaps)
FUZZ_SECONDS ?= 120

PKGS	:= libpcap libnl-3.0 libnl-route-3.0 zlib libdeflate libisal
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	:= -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wcast-qual \
	   -Wstrict-prototypes -Wmissing-prototypes -Wmissing-declarations \
	   -Wformat=2 -Wvla -Wundef -Wwrite-strings
# The daemon's own sources are also -Wconversion clean; tests and tools are
# not held to it (they build fixtures with deliberate narrowing).
STRICT	:= -Wconversion
HARDEN	:= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
OPT	?= -O2 -g
ifneq ($(SANITIZE),)
OPT	:= -O1 -g -fno-omit-frame-pointer -fsanitize=$(SANITIZE) \
	   -fno-sanitize-recover=all
HARDEN	:= -fPIE
endif
CPPFLAGS += -D_GNU_SOURCE -DSENSORD_VERSION='"$(VERSION)"' -Isensord
CFLAGS	+= -std=c11 $(OPT) $(WARN) $(HARDEN) $(PKG_CFLAGS) -MMD -MP
LDFLAGS	+= -pie -Wl,-z,relro,-z,now $(if $(SANITIZE),-fsanitize=$(SANITIZE))
LIBS	:= $(PKG_LIBS) -lpthread -lm

MAINS	 := sensord/sensord.c sensord/sensorctl.c
LIB_SRCS := $(filter-out $(MAINS),$(wildcard sensord/*.c))
LIB_OBJS := $(LIB_SRCS:sensord/%.c=$(O)/obj/%.o)
UNIT_BINS := $(patsubst %.c,$(O)/%,$(wildcard tests/unit/test_*.c))
TOOL_BINS := $(patsubst %.c,$(O)/%,$(wildcard tests/tools/*.c))
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(patsubst %.c,$(O)/%,$(FUZZ_SRCS))
BINS	:= $(O)/sensord $(O)/sensorctl

.PHONY: all check check-run demo demo-run bench bench-run fuzz lint install \
	clean deps test-deps golden-update
.DEFAULT_GOAL := all

all: $(BINS)

$(O)/obj/%.o: sensord/%.c
	@mkdir -p $(@D)
	@echo "  CC      $<"
	@$(CC) $(CPPFLAGS) $(CFLAGS) $(STRICT) -c -o $@ $<

$(O)/libsensord.a: $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/sensord: $(O)/obj/sensord.o $(O)/libsensord.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/sensorctl: $(O)/obj/sensorctl.o $(O)/libsensord.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS)

$(O)/tests/unit/%: tests/unit/%.c $(O)/libsensord.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/lib $(CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(O)/libsensord.a $(LIBS)

$(O)/tests/tools/%: tests/tools/%.c $(O)/libsensord.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -Itests/lib $(CFLAGS) $(LDFLAGS) -o $@ $< \
	    $(O)/libsensord.a $(LIBS)

# gcc replay driver: runs a fuzz target over files (its corpus) once each.
$(O)/tests/fuzz/%: tests/fuzz/%.c tests/fuzz/main.c $(O)/libsensord.a
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< tests/fuzz/main.c \
	    $(O)/libsensord.a $(LIBS)

tests-build: $(BINS) $(UNIT_BINS) $(TOOL_BINS) $(FUZZ_REPLAY)

# --- set-up: install what is missing, only when it is missing -------------

BUILD_DEBS := build-essential pkg-config libpcap-dev libnl-3-dev \
	      libnl-route-3-dev zlib1g-dev libdeflate-dev libisal-dev
TEST_DEBS  := tshark tcpdump nfdump softflowd nmap tcpreplay iproute2 jq \
	      clang libclang-rt-14-dev curl python3 procps gzip time \
	      iputils-ping clang-format cppcheck
APT	:= DEBIAN_FRONTEND=noninteractive apt-get

deps:
	@pkg-config --exists $(PKGS) && command -v cc >/dev/null || { \
	    echo "deps: installing build dependencies"; \
	    $(APT) update -qq && $(APT) install -y -qq $(BUILD_DEBS); }

test-deps: deps
	@missing=; for t in tshark capinfos tcpdump nfcapd nfdump softflowd \
	    nmap tcpreplay ip jq clang curl python3 zcat ping clang-format \
	    cppcheck; do \
	    command -v $$t >/dev/null || missing=1; done; \
	    [ -x /usr/bin/time ] || missing=1; \
	    [ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] || \
	    [ -n "$$(ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a 2>/dev/null)" ] || missing=1; \
	    [ -z "$$missing" ] || { echo "deps: installing test dependencies"; \
	    $(APT) update -qq && $(APT) install -y -qq $(TEST_DEBS); }

# --- the two commands of the README --------------------------------------

check: test-deps
	@$(MAKE) --no-print-directory SANITIZE=address,undefined check-run

check-run: tests-build
	@O=$(O) SHARED_PCAPS=$(SHARED_PCAPS) tests/run.sh

demo: deps
	@$(MAKE) --no-print-directory demo-run

demo-run: $(BINS) $(TOOL_BINS)
	@O=$(O) tests/demo.sh

bench: test-deps
	@$(MAKE) --no-print-directory bench-run

bench-run: $(BINS) $(TOOL_BINS)
	@O=$(O) tests/bench.sh

# --- fuzzing with libFuzzer (clang) ---------------------------------------

FO	:= build-fuzz
FUZZ_CFLAGS := -std=c11 -g -O1 -fsanitize=fuzzer-no-link,address,undefined \
	       -DSENSORD_VERSION='"$(VERSION)"' \
	       $(PKG_CFLAGS) -D_GNU_SOURCE -Isensord
FUZZ_BINS := $(patsubst tests/fuzz/%.c,$(FO)/%,$(FUZZ_SRCS))

$(FO)/obj/%.o: sensord/%.c
	@mkdir -p $(@D)
	clang $(FUZZ_CFLAGS) -c -o $@ $<

$(FO)/libsensord.a: $(LIB_SRCS:sensord/%.c=$(FO)/obj/%.o)
	@rm -f $@
	$(AR) rcs $@ $^

$(FO)/fuzz_%: tests/fuzz/fuzz_%.c $(FO)/libsensord.a
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer,address,undefined -o $@ $< \
	    $(FO)/libsensord.a $(PKG_LIBS) -lpthread -lm

fuzz: test-deps
	@$(MAKE) --no-print-directory fuzz-run

fuzz-run: $(FUZZ_BINS)
	@for f in $(FUZZ_BINS); do n=$${f##*/}; \
	    mkdir -p $(FO)/corpus/$$n; \
	    echo "fuzz: $$n for $(FUZZ_SECONDS) s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        $(FO)/corpus/$$n tests/fuzz/corpus/$$n 2>&1 | \
	        grep -E 'stat::number_of_executed_units|ERROR|SUMMARY|Done' ; \
	    test $${PIPESTATUS[0]} -eq 0 || exit 1; done

# --- housekeeping ----------------------------------------------------------

# cppcheck false positives (tests/cppcheck.supp), each checked by hand:
# spool.c: TAILQ_FOREACH_REVERSE leaves the iterator NULL when the loop
# runs out, and the NULL test after the loop is the point of it;
# baseline.c bl_sort: an insertion sort reading v[i] only for i < n;
# flowtab.c ft_packet_batch: cand[j] points into the preallocated pool.
lint:
	clang-format --dry-run --Werror sensord/*.c sensord/*.h
	cppcheck --quiet --error-exitcode=1 --std=c11 -D_GNU_SOURCE \
	    --enable=warning,portability,performance \
	    --suppress=missingIncludeSystem \
	    --suppressions-list=tests/cppcheck.supp -Isensord sensord

install: $(BINS)
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(BINDIR) \
	    $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
	    $(DESTDIR)$(SYSCONFDIR)/sensord/policy/hosts \
	    $(DESTDIR)$(UNITDIR) $(DESTDIR)/usr/lib/sysusers.d \
	    $(DESTDIR)/usr/lib/tmpfiles.d
	install -m 0755 $(O)/sensord $(DESTDIR)$(SBINDIR)/sensord
	install -m 0755 $(O)/sensorctl $(DESTDIR)$(BINDIR)/sensorctl
	for m in doc/*.5; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man5/ || true; done
	for m in doc/*.8; do [ -e "$$m" ] && install -m 0644 $$m $(DESTDIR)$(MANDIR)/man8/ || true; done
	install -m 0644 policy/default.conf $(DESTDIR)$(SYSCONFDIR)/sensord/policy/
	for h in policy/hosts/*.conf; do [ -e "$$h" ] && install -m 0644 $$h $(DESTDIR)$(SYSCONFDIR)/sensord/policy/hosts/ || true; done
	install -m 0644 systemd/sensord.service $(DESTDIR)$(UNITDIR)/
	install -m 0644 systemd/sensord.sysusers $(DESTDIR)/usr/lib/sysusers.d/sensord.conf
	install -m 0644 systemd/sensord.tmpfiles $(DESTDIR)/usr/lib/tmpfiles.d/sensord.conf
	install -d $(DESTDIR)$(PREFIX)/share/doc/sensord
	install -m 0644 systemd/sensord-ipaccess.conf README.md policy/FORMAT.md \
	    $(DESTDIR)$(PREFIX)/share/doc/sensord/

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(O) $(FO) -name '*.d' 2>/dev/null)
