/* Domain XML reader, what it accepts: every field of every sample, metadata
 * found by namespace URI whatever the prefix, interface details, the validators.
 * What it refuses is in test-domain-refuses.c. */
#include "autoconfig.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "conf/domain.h"
#include "domain-xml.h"
#include "util/error.h"
#include "util/names.h"

static NetisoDomain *
parse(const char *xml, gsize len, GError **error)
{
        return netiso_domain_new_from_xml("test.xml", xml, len, error);
}

static char *
sample_path(const char *name)
{
        return g_test_build_filename(G_TEST_DIST, "..", "xml", "samples", name, NULL);
}

/* One line per interface with every field, so a table can state them all. */
static char *
iface_summary(const NetisoIface *iface)
{
        GString *s = g_string_new(NULL);

        g_string_append_printf(s, "%u %s(%s) tap=%s mac=%s addr=", iface->index,
                               netiso_iface_type_to_string(iface->type), iface->type_name,
                               iface->tap ? iface->tap : "-", iface->mac ? iface->mac : "-");
        for (guint i = 0; i < iface->addresses->len; i++) {
                g_autofree char *a =
                        netiso_cidr_to_string(&g_array_index(iface->addresses, NetisoCidr, i),
                                              /* with_host_prefix */ TRUE);
                g_string_append_printf(s, "%s%s", i ? "," : "", a);
        }
        if (!iface->addresses->len)
                g_string_append_c(s, '-');
        g_string_append_printf(
                s, " host4=%s host6=%s filter=%s", iface->host_v4 ? iface->host_v4 : "-",
                iface->host_v6 ? iface->host_v6 : "-", iface->filterref ? iface->filterref : "-");
        return g_string_free(s, /* free_segment */ FALSE);
}

typedef struct {
        const char *file, *name, *uuid, *tenant;
        gboolean explicit;
        const char *ifaces[5];
} Sample;

static const Sample samples[] = {
        { "routed.xml",
          "web1",
          "8d2f1a3c-5b6e-4f70-9a81-b2c3d4e5f607",
          "production",
          TRUE,
          { "0 ethernet(ethernet) tap=- mac=52:54:00:0a:00:05 addr=10.0.0.5/32,fd00:10::5/128 "
            "host4=10.0.0.1 host6=fd00:10::1 filter=-" } },
        { "routed-running.xml",
          "web1",
          "8d2f1a3c-5b6e-4f70-9a81-b2c3d4e5f607",
          "production",
          TRUE,
          { "0 ethernet(ethernet) tap=vnet0 mac=52:54:00:0a:00:05 addr=10.0.0.5/32,"
            "fd00:10::5/128 host4=10.0.0.1 host6=fd00:10::1 filter=-" } },
        { "bridged.xml",
          "db1",
          "3f1e6a52-7c0d-4b8e-9f21-0a1b2c3d4e5f",
          "staging",
          TRUE,
          { "0 bridge(bridge) tap=- mac=52:54:00:14:00:07 addr=10.20.0.7/32,10.20.0.8/32,"
            "2001:db8:20::7/128 host4=- host6=- filter=clean-traffic" } },
        { "default-tenant.xml",
          "scratch",
          NULL,
          "default",
          FALSE,
          { "0 network(network) tap=- mac=- addr=- host4=- host6=- filter=-" } },
        { "direct.xml",
          "legacy1",
          "0c9b8a7f-6e5d-4c3b-a291-8f7e6d5c4b3a",
          "production",
          TRUE,
          { "0 direct(direct) tap=macvtap0 mac=52:54:00:99:00:01 addr=- host4=- host6=- "
            "filter=-" } },
        { "multi.xml",
          "gateway-7",
          "a1b2c3d4-e5f6-4789-8abc-def012345678",
          "team.blue-2",
          TRUE,
          { "0 ethernet(ethernet) tap=vm7-routed mac=52:54:00:07:00:01 addr=192.0.2.71/32 "
            "host4=192.0.2.1 host6=- filter=-",
            "1 bridge(bridge) tap=vnet12 mac=52:54:00:07:00:02 addr=10.30.0.72/32 host4=- "
            "host6=- filter=clean-traffic",
            "2 user(user) tap=- mac=52:54:00:07:00:03 addr=- host4=- host6=- filter=-",
            "3 vhostuser(vhostuser) tap=- mac=52:54:00:07:00:04 addr=- host4=- host6=- "
            "filter=-" } },
};

static void
check_sample(const Sample *want, const NetisoDomain *d)
{
        guint n = 0;

        g_assert_cmpstr(d->name, ==, want->name);
        g_assert_cmpstr(d->uuid, ==, want->uuid);
        g_assert_cmpstr(d->tenant, ==, want->tenant);
        g_assert_cmpint(d->tenant_explicit, ==, want->explicit);
        while (n < G_N_ELEMENTS(want->ifaces) && want->ifaces[n])
                n++;
        g_assert_cmpuint(d->ifaces->len, ==, n);
        for (guint i = 0; i < n; i++) {
                g_autofree char *got = iface_summary(g_ptr_array_index(d->ifaces, i));
                g_assert_cmpstr(got, ==, want->ifaces[i]);
        }
}

static void
test_sample(gconstpointer data)
{
        const Sample *want = data;
        g_autofree char *path = sample_path(want->file);
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoDomain) d = netiso_domain_new_from_file(path, &error);

        g_assert_no_error(error);
        check_sample(want, d);
}

/* "-" reads standard input and calls it "<stdin>" in messages. */
static void
test_stdin(void)
{
        g_autofree char *path = sample_path("routed-running.xml");
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoDomain) d = NULL;
        int saved = dup(STDIN_FILENO), fd = open(path, O_RDONLY);

        g_assert_cmpint(fd, >=, 0);
        g_assert_cmpint(dup2(fd, STDIN_FILENO), ==, STDIN_FILENO);
        d = netiso_domain_new_from_file("-", &error);
        g_assert_no_error(error);
        check_sample(&samples[1], d);

        g_assert_cmpint(dup2(open("/dev/null", O_RDONLY), STDIN_FILENO), ==, STDIN_FILENO);
        g_clear_pointer(&d, netiso_domain_free);
        d = netiso_domain_new_from_file("-", &error);
        g_assert_null(d);
        g_assert_cmpstr(error->message, ==, "<stdin>: input is empty");
        dup2(saved, STDIN_FILENO);
        close(saved);
        close(fd);
}

/* Exactly the limit is read; one byte more is refused without parsing. */
static void
test_file_limits(void)
{
        g_autofree char *dir = g_dir_make_tmp("test-domain-XXXXXX", NULL);
        g_autofree char *path = g_build_filename(dir, "big.xml", NULL);
        g_autofree char *missing = g_build_filename(dir, "missing.xml", NULL);
        g_autofree char *message = NULL;
        g_autoptr(GString) xml = g_string_new("<domain><name>big</name><!--");
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoDomain) d = NULL;

        while (xml->len < NETISO_DOMAIN_XML_MAX - strlen("--></domain>"))
                g_string_append_c(xml, 'x');
        g_string_append(xml, "--></domain>");
        g_assert_cmpuint(xml->len, ==, NETISO_DOMAIN_XML_MAX);
        g_assert_true(g_file_set_contents(path, xml->str, xml->len, NULL));
        d = netiso_domain_new_from_file(path, &error);
        g_assert_no_error(error);
        g_assert_cmpstr(d->name, ==, "big");

        g_string_append_c(xml, '\n');
        g_assert_true(g_file_set_contents(path, xml->str, xml->len, NULL));
        g_clear_pointer(&d, netiso_domain_free);
        d = netiso_domain_new_from_file(path, &error);
        g_assert_null(d);
        message = g_strdup_printf("%s: input is larger than 4194304 bytes", path);
        g_assert_cmpstr(error->message, ==, message);
        g_clear_error(&error);

        g_assert_null(netiso_domain_new_from_file(missing, &error));
        g_free(message);
        message = g_strdup_printf("%s: cannot open: No such file or directory", missing);
        g_assert_cmpstr(error->message, ==, message);
        g_unlink(path);
        g_rmdir(dir);
}

/* A domain XML and the tenant it is of (NULL: default, not explicit). */
typedef struct {
        const char *xml, *tenant;
} TenantCase;

static void
check_tenants(const TenantCase *cases, gsize n)
{
        for (gsize i = 0; i < n; i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(NetisoDomain) d = parse(cases[i].xml, strlen(cases[i].xml), &error);

                g_test_message("case %" G_GSIZE_FORMAT, i);
                g_assert_no_error(error);
                g_assert_cmpstr(d->tenant, ==, cases[i].tenant ? cases[i].tenant : "default");
                g_assert_cmpint(d->tenant_explicit, ==, cases[i].tenant != NULL);
        }
}

/* The prefix is free and the namespace may be declared anywhere above; an
 * isolation element of another namespace (or none) is someone else's, so the
 * domain is of the tenant default, exactly as if it had no metadata. */
static void
test_namespace_forms(void)
{
        static const TenantCase cases[] = {
                { TENANT("tenant='prod'"), "prod" },
                { DOMAIN("<ns0:isolation xmlns:ns0='" NS "' tenant='prod'/>", ""), "prod" },
                { DOMAIN("<isolation xmlns='" NS "' tenant='prod'/>", ""), "prod" },
                { "<domain xmlns:t='" NS "'><name>web1</name><metadata><t:isolation tenant='prod'/>"
                  "</metadata></domain>",
                  "prod" },
                { "<domain><name>web1</name><metadata xmlns:n='" NS "'><n:isolation "
                  "tenant='prod'/></metadata></domain>",
                  "prod" },
                /* virsh dumpxml after: virsh metadata web1 --uri NS --key netiso
                 * --set '<isolation tenant="production"/>' --config */
                { "<domain type='kvm'>\n  <name>web1</name>\n  <metadata>\n"
                  "    <libosinfo:libosinfo xmlns:libosinfo=\"http://libosinfo.org/xmlns/libvirt/"
                  "domain/1.0\">\n      <libosinfo:os id=\"http://debian.org/debian/12\"/>\n"
                  "    </libosinfo:libosinfo>\n    <netiso:isolation xmlns:netiso=\"" NS
                  "\" tenant=\"production\"/>\n  </metadata>\n</domain>\n",
                  "production" },
                { TENANT("tenant='default'"), "default" },
                { TENANT("tenant='a'"), "a" },
                { TENANT("tenant='0.x_y-Z'"), "0.x_y-Z" },
                { DOMAIN("<netiso:isolation xmlns:netiso='" NS "' tenant='prod'>\n "
                         "<!-- a comment --></netiso:isolation>",
                         ""),
                  "prod" },
                /* not ours: */
                { DOMAIN("", ""), NULL },
                { DOMAIN("<isolation xmlns='urn:blixard:network-isolation:2' tenant='a;b'/>", ""),
                  NULL },
                { DOMAIN("<x:isolation xmlns:x='urn:example:other' tenant='prod'/>", ""), NULL },
                { DOMAIN("<isolation tenant='prod'/>", ""), NULL },
                { DOMAIN("<o:wrap xmlns:o='urn:other'><isolation xmlns='" NS "' tenant='p'/>"
                         "</o:wrap>",
                         ""),
                  NULL },
                { "<domain><name>web1</name><devices><isolation xmlns='" NS "' tenant='p'/>"
                  "</devices></domain>",
                  NULL },
        };
        check_tenants(cases, G_N_ELEMENTS(cases));
}

/* libvirt keeps only a domain's first <metadata> (./metadata[1]) and drops
 * the others: a tenant in a later one is not the domain's, and does not
 * make two isolation elements. */
static void
test_first_metadata_only(void)
{
#define META(body) "<metadata>" body "</metadata>"
#define ISO(t) "<n:isolation xmlns:n='" NS "' tenant='" t "'/>"
        static const TenantCase cases[] = {
                { "<domain><name>web1</name>" META(ISO("first")) META(ISO("second")) "</domain>",
                  "first" },
                { "<domain><name>web1</name>" META("") META(ISO("second")) "</domain>", NULL },
                { "<domain><name>web1</name>" META("<o:x xmlns:o='urn:other'/>") "<devices/>" META(
                          ISO("second")) "</domain>",
                  NULL },
                { "<domain><name>web1</name>" META(ISO("first"))
                          META("<n:bogus xmlns:n='" NS "'/>") "</domain>",
                  "first" },
        };
#undef META
#undef ISO
        check_tenants(cases, G_N_ELEMENTS(cases));
}

/* Interface details the samples do not show. */
static void
test_iface_details(void)
{
        static const struct {
                const char *xml, *summary;
        } cases[] = {
                { IFACE(""), "0 ethernet(ethernet) tap=- mac=- addr=- host4=- host6=- filter=-" },
                { IFACE("<target managed='no'/><mac/>"),
                  "0 ethernet(ethernet) tap=- mac=- addr=- host4=- host6=- filter=-" },
                { IFACE("<source><ip address='10.0.0.1' prefix='24'/></source>"),
                  "0 ethernet(ethernet) tap=- mac=- addr=- host4=10.0.0.1 host6=- filter=-" },
                { PEER("address='10.0.0.1' peer='10.0.0.5/32'"),
                  "0 ethernet(ethernet) tap=- mac=- addr=10.0.0.5/32 host4=10.0.0.1 host6=- "
                  "filter=-" },
                { PEER("address='FD00::1' peer='FD00:0::5/128'"),
                  "0 ethernet(ethernet) tap=- mac=- addr=fd00::5/128 host4=- host6=fd00::1 "
                  "filter=-" },
                /* The first host address of a family is kept; every peer counts once. */
                { IFACE("<source><ip address='10.0.0.1' peer='10.0.0.5'/><ip address='10.9.9.9' "
                        "peer='10.0.0.6'/><ip address='10.0.0.1' peer='10.0.0.5'/></source>"
                        "<filterref filter='clean-traffic'><parameter name='IP' value='10.0.0.6'/>"
                        "<parameter name='ip' value='not checked'/><parameter name='MAC' "
                        "value='52:54:00:00:00:01'/></filterref>"),
                  "0 ethernet(ethernet) tap=- mac=- addr=10.0.0.5/32,10.0.0.6/32 host4=10.0.0.1 "
                  "host6=- filter=clean-traffic" },
                { DOMAIN("", "<interface type='hostdev'/><interface type='mcast'/>"
                             "<interface type='vdpa'/>"),
                  "2 other(vdpa) tap=- mac=- addr=- host4=- host6=- filter=-" },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                g_autoptr(NetisoDomain) d = parse(cases[i].xml, strlen(cases[i].xml), &error);
                g_autofree char *got = NULL;

                g_assert_no_error(error);
                got = iface_summary(g_ptr_array_index(d->ifaces, d->ifaces->len - 1));
                g_assert_cmpstr(got, ==, cases[i].summary);
        }
}

static void
test_iface_types(void)
{
        static const struct {
                NetisoIfaceType type;
                const char *name;
                gboolean filterable;
        } cases[] = {
                { NETISO_IFACE_ETHERNET, "ethernet", TRUE },
                { NETISO_IFACE_BRIDGE, "bridge", TRUE },
                { NETISO_IFACE_NETWORK, "network", TRUE },
                { NETISO_IFACE_DIRECT, "direct", FALSE },
                { NETISO_IFACE_HOSTDEV, "hostdev", FALSE },
                { NETISO_IFACE_VHOSTUSER, "vhostuser", FALSE },
                { NETISO_IFACE_USER, "user", FALSE },
                { NETISO_IFACE_OTHER, "other", FALSE },
        };
        G_STATIC_ASSERT(G_N_ELEMENTS(cases) == _NETISO_IFACE_MAX);
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_assert_cmpstr(netiso_iface_type_to_string(cases[i].type), ==, cases[i].name);
                g_assert_cmpint(netiso_iface_type_is_filterable(cases[i].type), ==,
                                cases[i].filterable);
        }
        g_assert_cmpstr(netiso_iface_type_to_string(_NETISO_IFACE_MAX), ==, "invalid");
        netiso_domain_free(NULL);
        netiso_iface_free(NULL);
}

/* The validators on their own, as the CLI's tag command uses them. */
static void
test_validators(void)
{
        static const struct {
                gboolean tenant;
                const char *name, *message; /* message NULL: accepted */
        } cases[] = {
                { TRUE, "production", NULL },
                { TRUE, "a;b", "tenant 'a;b' is invalid: only A-Za-z0-9._- allowed" },
                { TRUE, "-a", "tenant '-a' is invalid: must start with a letter or digit" },
                { TRUE, "", "tenant '' is invalid: must not be empty" },
                { TRUE, "a\nb", "tenant 'a\\x0ab' is invalid: only A-Za-z0-9._- allowed" },
                { FALSE, "vnet0", NULL },
                { FALSE, "vm7-routed", NULL },
                { FALSE, "a.b_c-0123456", NULL },
                { FALSE, "123456789012345", NULL },
                { FALSE, "1234567890123456",
                  "interface name '1234567890123456' is invalid: longer than 15 characters" },
                { FALSE, "", "interface name '' is invalid: must not be empty" },
                { FALSE, "eth0:1",
                  "interface name 'eth0:1' is invalid: only A-Za-z0-9_.- allowed" },
                { FALSE, "../x", "interface name '../x' is invalid: only A-Za-z0-9_.- allowed" },
                { FALSE, "_x",
                  "interface name '_x' is invalid: must start with a letter or digit" },
                { FALSE, ".", "interface name '.' is invalid: must start with a letter or digit" },
        };
        for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
                g_autoptr(GError) error = NULL;
                gboolean ok = cases[i].tenant ? netiso_tenant_name_validate(cases[i].name, &error)
                                              : netiso_ifname_validate(cases[i].name, &error);
                g_assert_cmpint(ok, ==, cases[i].message == NULL);
                if (!ok) {
                        g_assert_error(error, NETISO_ERROR, NETISO_ERROR_DOMAIN);
                        g_assert_cmpstr(error->message, ==, cases[i].message);
                }
        }
}

int
main(int argc, char **argv)
{
        g_test_init(&argc, &argv, NULL);
        for (gsize i = 0; i < G_N_ELEMENTS(samples); i++) {
                g_autofree char *name = g_strdup_printf("/domain/sample/%s", samples[i].file);
                g_test_add_data_func(name, &samples[i], test_sample);
        }
        g_test_add_func("/domain/file/stdin-is-dash", test_stdin);
        g_test_add_func("/domain/file/size-limit-and-missing-file", test_file_limits);
        g_test_add_func("/domain/metadata/found-by-namespace-uri-any-prefix", test_namespace_forms);
        g_test_add_func("/domain/metadata/first-metadata-only", test_first_metadata_only);
        g_test_add_func("/domain/iface/optional-parts-dedup-and-types", test_iface_details);
        g_test_add_func("/domain/iface/type-names-and-filterability", test_iface_types);
        g_test_add_func("/domain/validators/tenant-and-ifname", test_validators);
        return g_test_run();
}
