## tests/nwfilter: golden files (tests/data/nwfilter/, and the examples in
## xml/nwfilter/ for the seed configuration), libvirt's schema, then a private
## libvirtd.
check_PROGRAMS += tests/nwfilter/test-nwfilter tests/nwfilter/nwfilter-dump
nwfilter_cases = tests/nwfilter/nwfilter-cases.c tests/nwfilter/nwfilter-cases.h
nwfilter_ldadd = libnetiso-nwfilter.la $(unit_ldadd) $(LIBXML_LIBS)
tests_nwfilter_test_nwfilter_SOURCES = tests/nwfilter/test-nwfilter.c $(nwfilter_cases)
tests_nwfilter_test_nwfilter_CFLAGS = $(AM_CFLAGS) $(LIBXML_CFLAGS)
tests_nwfilter_test_nwfilter_LDADD = $(nwfilter_ldadd)
tests_nwfilter_nwfilter_dump_SOURCES = tests/nwfilter/nwfilter-dump.c $(nwfilter_cases)
tests_nwfilter_nwfilter_dump_LDADD = $(nwfilter_ldadd)
nwfilter_script_tests = \
	tests/nwfilter/validate.sh \
	tests/nwfilter/libvirtd-define.sh \
	$(NULL)
TESTS += tests/nwfilter/test-nwfilter $(nwfilter_script_tests)
dist_noinst_SCRIPTS += $(nwfilter_script_tests)
