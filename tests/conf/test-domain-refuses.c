/* Domain XML reader, what it refuses: hostile XML (entities, XXE, size, depth,
 * NUL, bad UTF-8), injection attempts in names, bad addresses; each with its
 * exact one-line message, and nothing printed. */
#include "autoconfig.h"

#include <string.h>

#include "conf/domain.h"
#include "domain-xml.h"
#include "util/error.h"

static NetisoDomain *
parse(const char *xml, gsize len, GError **error)
{
        return netiso_domain_new_from_xml("test.xml", xml, len, error);
}

typedef struct {
        const char *name, *xml, *message;
} Bad;

/* Each input is refused with exactly this message, one line. */
static const Bad bad_inputs[] = {
        /* XML syntax: FILE:LINE (xml-reader.c's words, GMarkup's where it found the error) */
        { "malformed-unclosed", "<domain><name>web1</name>",
          "test.xml:1: premature end of data in tag domain line 1" },
        { "malformed-mismatch", "<domain>\n<name>web1</nam>\n</domain>",
          "test.xml:2: element 'nam' was closed, but the currently open element is 'name'" },
        { "malformed-undefined-entity", "<domain><name>&xxe;</name></domain>",
          "test.xml:1: entity name 'xxe' is not known" },
        { "malformed-undefined-prefix", DOMAIN("<netiso:isolation tenant='prod'/>", ""),
          "test.xml:3: namespace prefix netiso on isolation is not defined" },
        { "empty", "", "test.xml: input is empty" },
        { "billion-laughs",
          "<?xml version='1.0'?>\n<!DOCTYPE domain [\n <!ENTITY a \"lol\">\n"
          " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
          " <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
          " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
          " <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n]>\n"
          "<domain><name>&e;</name></domain>",
          "test.xml:2: DOCTYPE is not allowed (no DTDs, no entities)" },
        { "xxe-file",
          "<!DOCTYPE domain [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>\n"
          "<domain><name>&xxe;</name></domain>",
          "test.xml:1: DOCTYPE is not allowed (no DTDs, no entities)" },
        { "xxe-parameter-entity",
          "<!DOCTYPE domain [<!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p;]>\n<domain/>",
          "test.xml:1: DOCTYPE is not allowed (no DTDs, no entities)" },
        { "external-dtd", "<!DOCTYPE domain SYSTEM \"http://example.com/domain.dtd\"><domain/>",
          "test.xml:1: DOCTYPE is not allowed (no DTDs, no entities)" },
        /* structure before the name is known: FILE */
        { "not-a-domain", "<network><name>web1</name></network>",
          "test.xml: root element is <network>, expected <domain>" },
        { "domain-in-namespace", "<domain xmlns='urn:x'><name>web1</name></domain>",
          "test.xml: root element is <domain> in namespace 'urn:x', expected <domain>" },
        { "missing-name", "<domain><uuid>8d2f1a3c-5b6e-4f70-9a81-b2c3d4e5f607</uuid></domain>",
          "test.xml: domain has no <name>" },
        { "empty-name", "<domain><name></name></domain>", "test.xml: domain name '' is empty" },
        { "two-names", "<domain><name>a</name><name>b</name></domain>",
          "test.xml: more than one <name>" },
        { "name-with-slash", "<domain><name>../etc</name></domain>",
          "test.xml: domain name '../etc' contains '/'" },
        { "name-dotdot", "<domain><name>..</name></domain>",
          "test.xml: domain name '..' is a path component" },
        { "name-newline", "<domain><name>a&#10;b</name></domain>",
          "test.xml: domain name 'a\\x0ab' contains a control character" },
        /* semantics: domain 'NAME' */
        { "bad-uuid", "<domain><name>web1</name><uuid>not-a-uuid</uuid></domain>",
          "domain 'web1': uuid 'not-a-uuid' is invalid" },
        { "uuid-bad-dashes",
          "<domain><name>web1</name><uuid>8d2f1a3c5-b6e-4f70-9a81-b2c3d4e5f607</uuid></domain>",
          "domain 'web1': uuid '8d2f1a3c5-b6e-4f70-9a81-b2c3d4e5f607' is invalid" },
        { "two-uuids",
          "<domain><name>web1</name><uuid>8d2f1a3c5b6e4f709a81b2c3d4e5f607</uuid>"
          "<uuid>8d2f1a3c5b6e4f709a81b2c3d4e5f607</uuid></domain>",
          "domain 'web1': more than one <uuid>" },
        /* tenant names that try to escape into nft syntax or a shell */
        { "tenant-semicolon", TENANT("tenant='a;b'"),
          META_NS "tenant 'a;b' is invalid: only A-Za-z0-9._- allowed" },
        { "tenant-flush-ruleset", TENANT("tenant='x\" ; flush ruleset'"),
          META_NS "tenant 'x\" ; flush ruleset' is invalid: only A-Za-z0-9._- allowed" },
        { "tenant-command-substitution", TENANT("tenant='$(reboot)'"),
          META_NS "tenant '$(reboot)' is invalid: only A-Za-z0-9._- allowed" },
        { "tenant-space", TENANT("tenant='prod uction'"),
          META_NS "tenant 'prod uction' is invalid: only A-Za-z0-9._- allowed" },
        { "tenant-newline", TENANT("tenant='prod&#10;add rule'"),
          META_NS "tenant 'prod\\x0aadd rule' is invalid: only A-Za-z0-9._- allowed" },
        { "tenant-empty", TENANT("tenant=''"), META_NS "tenant '' is invalid: must not be empty" },
        { "tenant-64-chars",
          TENANT("tenant='a123456789012345678901234567890123456789012345678901234567890123'"),
          META_NS "tenant 'a123456789012345678901234567890123456789012345678901234567890123' "
                  "is invalid: longer than 63 characters" },
        { "tenant-leading-dash", TENANT("tenant='-prod'"),
          META_NS "tenant '-prod' is invalid: must start with a letter or digit" },
        { "tenant-leading-dot", TENANT("tenant='.prod'"),
          META_NS "tenant '.prod' is invalid: must start with a letter or digit" },
        { "tenant-cyrillic-a",
          TENANT("tenant='prod\xd0\xb0"
                 "ction'"),
          META_NS "tenant 'prod\xd0\xb0"
                  "ction' is invalid: non-ASCII character U+0430 (Unicode "
                  "look-alikes are refused), only A-Za-z0-9._- allowed" },
        { "tenant-zero-width-space", TENANT("tenant='prod&#x200B;'"),
          META_NS "tenant 'prod\xe2\x80\x8b' is invalid: non-ASCII character U+200B (Unicode "
                  "look-alikes are refused), only A-Za-z0-9._- allowed" },
        { "tenant-long-is-cut",
          TENANT("tenant='"
                 "0123456789012345678901234567890123456789"
                 "0123456789012345678901234567890123456789;'"),
          META_NS "tenant '01234567890123456789012345678901234567890123456789012345678901234567"
                  "890123456789...' is invalid: only A-Za-z0-9._- allowed" },
        /* the metadata element itself */
        { "duplicate-isolation",
          DOMAIN("<a:isolation xmlns:a='" NS "' tenant='x'/><b:isolation xmlns:b='" NS
                 "' tenant='y'/>",
                 ""),
          META_NS "more than one isolation element" },
        { "unknown-element",
          DOMAIN("<netiso:tenant xmlns:netiso='" NS "'>prod</netiso:tenant>", ""),
          META_NS "unknown element 'tenant'" },
        { "unknown-attribute", TENANT("tenant='prod' tenent='prod'"),
          META_NS "unknown attribute 'tenent' on isolation" },
        { "namespaced-attribute", TENANT("netiso:tenant='prod'"),
          META_NS "unknown attribute 'netiso:tenant' on isolation" },
        { "missing-tenant", TENANT(""), META_NS "isolation element has no tenant attribute" },
        { "isolation-content",
          DOMAIN("<netiso:isolation xmlns:netiso='" NS "' tenant='p'>q</netiso:isolation>", ""),
          META_NS "isolation element must be empty" },
        /* interfaces */
        { "iface-no-type", DOMAIN("", "<interface/>"), IFACE0 "no type attribute" },
        { "iface-bad-type", DOMAIN("", "<interface type='eth;ernet'/>"),
          IFACE0 "type 'eth;ernet' is invalid" },
        { "tap-injection", IFACE("<target dev='vnet0;reboot'/>"),
          IFACE0 "target dev 'vnet0;reboot' is invalid: only A-Za-z0-9_.- allowed" },
        { "tap-too-long", IFACE("<target dev='vnet012345678901'/>"),
          IFACE0 "target dev 'vnet012345678901' is invalid: longer than 15 characters" },
        { "tap-leading-dash", IFACE("<target dev='-vnet0'/>"),
          IFACE0 "target dev '-vnet0' is invalid: must start with a letter or digit" },
        { "tap-empty", IFACE("<target dev=''/>"),
          IFACE0 "target dev '' is invalid: must not be empty" },
        { "mac-bad", IFACE("<mac address='52:54:00:zz:00:01'/>"),
          IFACE0 "mac address '52:54:00:zz:00:01' is not six colon-separated hex octets" },
        { "mac-multicast", IFACE("<mac address='01:00:5e:00:00:01'/>"),
          IFACE0 "mac address '01:00:5e:00:00:01' is a multicast address" },
        { "peer-not-an-address", PEER("address='10.0.0.1' peer='10.0.0.999'"),
          IFACE0 "source ip peer '10.0.0.999' is not an IPv4 or IPv6 address" },
        { "peer-multicast", PEER("address='10.0.0.1' peer='224.0.0.1'"),
          IFACE0 "source ip peer '224.0.0.1' is a multicast address" },
        { "peer-network", PEER("address='10.0.0.1' peer='10.0.0.0/24'"),
          IFACE0 "source ip peer '10.0.0.0/24' is a network, not a single address" },
        { "peer-short-prefix", PEER("address='10.0.0.1' peer='10.0.0.5/31'"),
          IFACE0 "source ip peer '10.0.0.5/31' is a network, not a single address" },
        { "peer-everything", PEER("address='10.0.0.1' peer='0.0.0.0/0'"),
          IFACE0 "source ip peer '0.0.0.0/0' is a network, not a single address" },
        { "peer-unspecified", PEER("address='10.0.0.1' peer='0.0.0.0'"),
          IFACE0 "source ip peer '0.0.0.0' is the unspecified address" },
        { "peer-broadcast", PEER("address='10.0.0.1' peer='255.255.255.255'"),
          IFACE0 "source ip peer '255.255.255.255' is the broadcast address" },
        { "peer-link-local-v4", PEER("address='10.0.0.1' peer='169.254.0.5'"),
          IFACE0 "source ip peer '169.254.0.5' is a link-local address" },
        { "peer-link-local-v6", PEER("address='fd00::1' family='ipv6' peer='fe80::5'"),
          IFACE0 "source ip peer 'fe80::5' is a link-local address" },
        { "peer-loopback", PEER("address='10.0.0.1' peer='127.0.0.1'"),
          IFACE0 "source ip peer '127.0.0.1' is a loopback address" },
        { "peer-other-family", PEER("address='10.0.0.1' peer='fd00::5'"),
          IFACE0 "source ip peer 'fd00::5' is not an IPv4 address" },
        { "ip-family-mismatch", PEER("address='10.0.0.1' family='ipv6' peer='10.0.0.5'"),
          IFACE0 "source ip address '10.0.0.1' is not family ipv6" },
        { "ip-family-unknown", PEER("address='10.0.0.1' family='inet' peer='10.0.0.5'"),
          IFACE0 "source ip family 'inet' is not ipv4 or ipv6" },
        { "ip-no-address", PEER("peer='10.0.0.5'"), IFACE0 "source ip has no address" },
        { "ip-bad-address", PEER("address='host.example' peer='10.0.0.5'"),
          IFACE0 "source ip address 'host.example' is not an IPv4 or IPv6 address" },
        { "filterref-network", FILTER("<parameter name='IP' value='10.0.0.0/8'/>"),
          IFACE0 "filterref parameter IP '10.0.0.0/8' is a network, not a single address" },
        { "filterref-multicast", FILTER("<parameter name='IP' value='239.1.1.1'/>"),
          IFACE0 "filterref parameter IP '239.1.1.1' is a multicast address" },
        /* A routed interface's link-local address is not its own to claim
         * (bridged ones may declare theirs: test-domain.c). */
        { "filterref-v6-link-local",
          IFACE("<filterref filter='f'><parameter name='IPV6' value='fe80::1'/></filterref>"),
          IFACE0 "filterref parameter IPV6 'fe80::1' is a link-local address" },
        { "filterref-ip-is-v6", FILTER("<parameter name='IP' value='fd00::5'/>"),
          IFACE0 "filterref parameter IP 'fd00::5' is not an IPv4 address" },
        { "filterref-bad-name",
          DOMAIN("", "<interface type='bridge'><filterref filter='clean traffic;'/></interface>"),
          IFACE0 "filterref filter 'clean traffic;' is invalid: only A-Za-z0-9._- allowed" },
        { "filterref-no-value", FILTER("<parameter name='IP'/>"),
          IFACE0 "filterref parameter IP has no value" },
        { "second-interface",
          DOMAIN("", "<interface type='network'/><interface type='bridge'><filterref filter='f'>"
                     "<parameter name='IP' value='0.0.0.0'/></filterref></interface>"),
          "domain 'web1': interface 1: filterref parameter IP '0.0.0.0' is the unspecified "
          "address" },
};

static void
check_refused(const char *xml, gsize len, const char *message)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoDomain) d = parse(xml, len, &error);

        g_assert_null(d);
        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN);
        g_assert_cmpstr(error->message, ==, message);
        g_assert_null(strchr(error->message, '\n'));
}

static void
test_refuses(gconstpointer data)
{
        const Bad *bad = data;

        check_refused(bad->xml, strlen(bad->xml), bad->message);
}

static void
test_refuses_nul_byte(void)
{
        static const char xml[] = "<domain>\n<name>web1</name>\n<uuid>\0</uuid>\n</domain>";

        check_refused(xml, sizeof(xml) - 1, "test.xml:3: NUL byte in input");
}

static void
test_refuses_10mb(void)
{
        g_autoptr(GString) xml = g_string_new("<domain><name>web1</name><metadata>");

        while (xml->len < 10 * 1024 * 1024)
                g_string_append(xml, "<x:a xmlns:x='urn:x'>padding</x:a>");
        g_string_append(xml, "</metadata></domain>");
        check_refused(xml->str, xml->len, "test.xml: input is larger than 4194304 bytes");
}

/* depth elements deep in total: <domain>, <metadata>, then foreign elements. */
static GString *
nested(unsigned depth)
{
        GString *xml = g_string_new("<domain><name>web1</name><metadata>");

        for (unsigned i = 2; i < depth; i++)
                g_string_append(xml, "<x:a xmlns:x='urn:x'>");
        for (unsigned i = 2; i < depth; i++)
                g_string_append(xml, "</x:a>");
        g_string_append(xml, "</metadata></domain>");
        return xml;
}

static void
test_depth(void)
{
        g_autoptr(GString) ok = nested(NETISO_DOMAIN_XML_DEPTH_MAX);
        g_autoptr(GString) over = nested(NETISO_DOMAIN_XML_DEPTH_MAX + 1);
        g_autoptr(GString) deep = nested(100000);
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoDomain) d = parse(ok->str, ok->len, &error);

        g_assert_no_error(error);
        g_assert_cmpstr(d->tenant, ==, "default");
        check_refused(over->str, over->len, "test.xml:1: elements nested deeper than 256 levels");
        check_refused(deep->str, deep->len, "test.xml:1: elements nested deeper than 256 levels");
}

static void
test_too_many_addresses(void)
{
        g_autoptr(GString) xml = g_string_new("<domain><name>web1</name><devices>"
                                              "<interface type='bridge'><filterref filter='f'>");

        for (unsigned i = 0; i <= NETISO_IFACE_ADDR_MAX; i++)
                g_string_append_printf(xml, "<parameter name='IP' value='10.1.%u.%u'/>", i / 250,
                                       i % 250 + 1);
        g_string_append(xml, "</filterref></interface></devices></domain>");
        check_refused(xml->str, xml->len, IFACE0 "more than 256 guest addresses");
}

/* Not refused but inert: XInclude is never processed, so nothing is loaded
 * (the reader has no code that opens anything). */
static void
test_xinclude_is_inert(void)
{
        static const char xml[] = DOMAIN("<xi:include xmlns:xi='http://www.w3.org/2001/XInclude' "
                                         "href='file:///etc/passwd' parse='text'/>",
                                         "");
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoDomain) d = parse(xml, strlen(xml), &error);

        g_assert_no_error(error);
        g_assert_cmpstr(d->tenant, ==, "default");
}

/* The hook's stderr must stay clean: no parser prints on its own. */
static void
test_prints_nothing(void)
{
        if (g_test_subprocess()) {
                for (gsize i = 0; i < G_N_ELEMENTS(bad_inputs); i++) {
                        g_autoptr(GError) error = NULL;
                        g_assert_null(parse(bad_inputs[i].xml, strlen(bad_inputs[i].xml), &error));
                }
                return;
        }
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
        g_test_trap_assert_passed();
        g_test_trap_assert_stdout("");
        g_test_trap_assert_stderr("");
}

/* The reader's message may quote the input: bytes that are not UTF-8 come
 * out escaped, so the message is one line of UTF-8 (found by fuzz-domain). */
static void
test_message_is_utf8(void)
{
        /* libxml2 quoted 50 bytes of an open comment, cutting this
         * two-byte character; any reader may quote input in a message. */
        static const char xml[] = "<domain type='kvm'>\n<!--"
                                  "0123456789012345678901234567890123456789012345678"
                                  "\xcc\x9d tail\n";
        g_autoptr(GError) error = NULL;

        g_assert_null(parse(xml, sizeof xml - 1, &error));
        g_assert_nonnull(error);
        g_assert_true(g_utf8_validate(error->message, -1, NULL));
        g_assert_null(strpbrk(error->message, "\r\n"));
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);

        for (gsize i = 0; i < G_N_ELEMENTS(bad_inputs); i++) {
                g_autofree char *name = g_strdup_printf("/domain/refuses/%s", bad_inputs[i].name);
                g_test_add_data_func(name, &bad_inputs[i], test_refuses);
        }
        g_test_add_func("/domain/refuses/nul-byte", test_refuses_nul_byte);
        g_test_add_func("/domain/refuses/10mb", test_refuses_10mb);
        g_test_add_func("/domain/refuses/depth-257-and-100000", test_depth);
        g_test_add_func("/domain/refuses/too-many-addresses", test_too_many_addresses);
        g_test_add_func("/domain/parser/xinclude-is-not-processed", test_xinclude_is_inert);
        g_test_add_func("/domain/parser/prints-nothing-to-stderr", test_prints_nothing);
        g_test_add_func("/domain/parser/message-is-utf8", test_message_is_utf8);
        return g_test_run();
}
