## fuzz: libFuzzer harnesses, built by clang: the library comes from $(CC), so
## its sources are compiled again with clang into fuzz/obj/. `make fuzz` builds
## them, `make fuzz-run [FUZZ_SECONDS=N]` runs each on a corpus kept in
## fuzz/corpus/NAME/, seeded from the test data (see DEVELOPERS.md).
fuzz_harnesses = fuzz/fuzz-config fuzz/fuzz-domain fuzz/fuzz-record fuzz/fuzz-xmlread
fuzz_lib_objects = \
	$(patsubst src/%.c,fuzz/obj/%.o,$(filter %.c,$(netiso_lib_sources))) \
	fuzz/obj/fuzz-common.o \
	$(NULL)
FUZZ_SECONDS = 600
FUZZ_CFLAGS = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
FUZZ_CPPFLAGS = -I$(top_builddir) -I$(top_srcdir)/fuzz $(AM_CPPFLAGS) \
	$(GLIB_CFLAGS) $(LIBNFTABLES_CFLAGS) $(LIBNETFILTER_CONNTRACK_CFLAGS)
fuzz_headers = $(wildcard $(srcdir)/src/*/*.h) $(srcdir)/fuzz/fuzz-common.h autoconfig.h

fuzz/obj/%.o: $(srcdir)/src/%.c $(fuzz_headers)
	$(AM_V_CC)$(MKDIR_P) $(@D) && $(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer-no-link -c -o $@ $<
fuzz/obj/fuzz-common.o: $(srcdir)/fuzz/fuzz-common.c $(fuzz_headers)
	$(AM_V_CC)$(MKDIR_P) $(@D) && $(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) \
		-fsanitize=fuzzer-no-link -c -o $@ $<
$(fuzz_harnesses): fuzz/%: $(srcdir)/fuzz/%.c $(fuzz_lib_objects) $(fuzz_headers)
	$(AM_V_CCLD)$(FUZZ_CC) $(FUZZ_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(fuzz_lib_objects) $(GLIB_LIBS) $(LIBS)

fuzz-check-cc:
	@test "$(HAVE_FUZZ)" = yes || { echo "make fuzz: no clang with libFuzzer was found" \
		"at configure time: install clang and libclang-rt-14-dev, then re-run configure" >&2; \
		exit 1; }
fuzz: fuzz-check-cc
	@$(MAKE) $(AM_MAKEFLAGS) $(fuzz_harnesses)
fuzz-run: fuzz
	@for h in $(fuzz_harnesses); do \
		$(SHELL) $(srcdir)/fuzz/run.sh $(srcdir) "$$h" $(FUZZ_SECONDS) fuzz/corpus || exit 1; \
	done
.PHONY: fuzz fuzz-run fuzz-check-cc
if FUZZ_IN_CHECK
check_DATA += $(fuzz_harnesses)
endif
clean-local: clean-fuzz
clean-fuzz:
	-rm -rf fuzz/obj $(fuzz_harnesses) fuzz/artifacts
.PHONY: clean-fuzz

# A short fuzz run of each harness plus every input a harness once crashed on
# (tests/data/fuzz-regressions/HARNESS/); it skips when the harnesses are not built.
TESTS += tests/fuzz/smoke.sh
dist_noinst_SCRIPTS += tests/fuzz/smoke.sh fuzz/run.sh
EXTRA_DIST += \
	fuzz/fuzz-common.c \
	fuzz/fuzz-common.h \
	fuzz/fuzz-config.c \
	fuzz/fuzz-domain.c \
	fuzz/fuzz-record.c \
	fuzz/fuzz-xmlread.c \
	fuzz/toml.dict \
	fuzz/xml.dict \
	fuzz/record.dict \
	fuzz/seeds \
	$(NULL)
