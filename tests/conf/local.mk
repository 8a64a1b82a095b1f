## tests/conf: the TOML reader and the configuration, the XML reader and the
## domain reader, and the sample domains in xml/.
unit_conf_tests = \
	tests/conf/test-toml \
	tests/conf/test-config \
	tests/conf/test-config-errors \
	tests/conf/test-xml-reader \
	tests/conf/test-domain \
	tests/conf/test-domain-refuses \
	$(NULL)
check_PROGRAMS += $(unit_conf_tests)
TESTS += $(unit_conf_tests)
tests_conf_test_toml_SOURCES = tests/conf/test-toml.c
tests_conf_test_toml_LDADD = $(unit_ldadd)
tests_conf_test_config_SOURCES = tests/conf/test-config.c
tests_conf_test_config_LDADD = $(unit_ldadd)
tests_conf_test_config_errors_SOURCES = tests/conf/test-config-errors.c
tests_conf_test_config_errors_LDADD = $(unit_ldadd)
tests_conf_test_xml_reader_SOURCES = tests/conf/test-xml-reader.c
tests_conf_test_xml_reader_LDADD = $(unit_ldadd)
tests_conf_test_domain_SOURCES = tests/conf/test-domain.c tests/conf/domain-xml.h
tests_conf_test_domain_LDADD = $(unit_ldadd)
tests_conf_test_domain_refuses_SOURCES = tests/conf/test-domain-refuses.c tests/conf/domain-xml.h
tests_conf_test_domain_refuses_LDADD = $(unit_ldadd)

# Sample domains, valid for libvirt 9.0's schema: validate-samples.sh checks
# them with virt-xml-validate and xml/netiso-metadata.rng, test-domain reads them.
TESTS += tests/xml/validate-samples.sh
dist_noinst_SCRIPTS += tests/xml/validate-samples.sh
