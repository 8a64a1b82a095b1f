/* why: would this packet pass, and which rule of TRAFFIC SEMANTICS decides?
 * Answers from the records and the configuration (core/verdict.h), finds
 * the ends with the records and the kernel's routes, and compares the
 * firewall with the records (the backend's check) so that drift is said.
 * Exit 0 allowed, 1 dropped, 2 usage, 3 the kernel could not confirm it. */
#include "autoconfig.h"

#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/why-kernel.h"
#include "cli/why-output.h"
#include "core/drift.h"
#include "core/inspect.h"
#include "core/locator.h"
#include "core/state.h"
#include "engine/inspectors.h"
#include "util/error.h"

#define NETISO_EXIT_WHY_UNCONFIRMED 3
#define LOCK_TIMEOUT_MS 20000

/* One end as written: a domain or an address, perhaps with a port. */
typedef struct {
        const char *option; /* "--from", "--to" */
        char *domain;       /* NULL for an address */
        gboolean is_address;
        NetisoCidr address;
        guint port; /* 0: none */
} Endpoint;

static void
endpoint_clear(Endpoint *e)
{
        g_clear_pointer(&e->domain, g_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Endpoint, endpoint_clear)

static gboolean usage_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

static gboolean
usage_error(GError **error, const char *format, ...)
{
        va_list ap;

        va_start(ap, format);
        if (error)
                *error = g_error_new_valist(NETISO_ERROR, NETISO_ERROR_USAGE, format, ap);
        va_end(ap);
        return FALSE;
}

static gboolean
parse_port(const Endpoint *e, const char *text, guint *ret_port, GError **error)
{
        guint64 port = 0;

        if (!g_ascii_string_to_unsigned(text, 10, 1, 65535, &port, NULL))
                return usage_error(error, "%s: port '%s' is not a number in 1..65535", e->option,
                                   text);
        *ret_port = (guint)port;
        return TRUE;
}

static gboolean
is_domain(const NetisoLocator *locator, const char *name)
{
        g_autoptr(NetisoPlace) place = NULL;
        g_autoptr(GError) local = NULL;

        /* A known domain without addresses still is one: that error comes later. */
        if (!netiso_locator_domain(locator, name, 0, &place, &local))
                return local->domain == NETISO_ERROR && local->code == NETISO_ERROR_USAGE;
        return place != NULL;
}

/* "10.0.0.5", "10.0.0.5:80", "[fd00::5]:80", "fd00::5", "web1", "web1:80". */
static gboolean
parse_endpoint(const NetisoLocator *locator, const char *option, const char *text, Endpoint *ret,
               GError **error)
{
        const char *colon = strrchr(text, ':');
        g_autofree char *head = NULL;

        ret->option = option;
        if (text[0] == '[') {
                const char *end = strchr(text, ']');
                head = end ? g_strndup(text + 1, end - text - 1) : NULL;
                if (!head || !netiso_addr_parse(head, &ret->address, NULL) ||
                    ret->address.family != NETISO_FAMILY_IPV6 || (end[1] && end[1] != ':'))
                        return usage_error(error, "%s: '%s' is not [IPV6-ADDRESS]:PORT", option,
                                           text);
                ret->is_address = TRUE;
                return !end[1] || parse_port(ret, end + 2, &ret->port, error);
        }
        if (netiso_addr_parse(text, &ret->address, NULL)) {
                ret->is_address = TRUE;
                return TRUE;
        }
        head = colon ? g_strndup(text, colon - text) : NULL;
        if (head && !strchr(head, ':') && netiso_addr_parse(head, &ret->address, NULL)) {
                ret->is_address = TRUE;
                return parse_port(ret, colon + 1, &ret->port, error);
        }
        if (is_domain(locator, text)) {
                ret->domain = g_strdup(text);
                return TRUE;
        }
        if (head && is_domain(locator, head)) {
                ret->domain = g_steal_pointer(&head);
                return parse_port(ret, colon + 1, &ret->port, error);
        }
        return usage_error(error,
                           "%s: '%s' is neither an address nor a domain installed on this host",
                           option, text);
}

/* The family both ends share: an address says it; two domains take
 * IPv4 when both have it (or what -4/-6 asked for). */
static gboolean
pick_family(const NetisoLocator *locator, const Endpoint *from, const Endpoint *to, int forced,
            int *ret_family, GError **error)
{
        const Endpoint *ends[] = { from, to };
        int family = forced;

        for (gsize i = 0; i < G_N_ELEMENTS(ends); i++) {
                if (!ends[i]->is_address)
                        continue;
                if (family && family != (int)ends[i]->address.family) {
                        g_autofree char *text = netiso_cidr_to_string(&ends[i]->address, FALSE);
                        return usage_error(error, "%s: %s is not an IPv%d address", ends[i]->option,
                                           text, family);
                }
                family = ends[i]->address.family;
        }
        if (!family) {
                g_autoptr(NetisoPlace) a = NULL;
                g_autoptr(NetisoPlace) b = NULL;
                gboolean v4 = netiso_locator_domain(locator, from->domain, 4, &a, NULL) &&
                              netiso_locator_domain(locator, to->domain, 4, &b, NULL);
                family = v4 ? 4 : 6;
        }
        *ret_family = family;
        return TRUE;
}

static gboolean
locate(const NetisoLocator *locator, const Endpoint *e, int family, NetisoPlace **ret_place,
       GError **error)
{
        if (e->is_address)
                return netiso_locator_address(locator, &e->address, ret_place, error);
        if (!netiso_locator_domain(locator, e->domain, family, ret_place, error))
                return FALSE;
        g_assert(*ret_place); /* parse_endpoint found it */
        return TRUE;
}

/* ---- the kernel's agreement ---- */

/* Does a line of drift (reconcile --check's wording) name any of these? */
static gboolean
mentions(const char *line, GPtrArray *names)
{
        for (guint i = 0; i < names->len; i++) {
                const char *name = g_ptr_array_index(names, i);
                gsize n = strlen(name);

                for (const char *p = strstr(line, name); p; p = strstr(p + 1, name)) {
                        char before = p == line ? ' ' : p[-1];
                        char after = p[n];
                        if (!g_ascii_isalnum(before) && before != '_' && before != '.' &&
                            !g_ascii_isalnum(after) && after != '_' && after != '.')
                                return TRUE;
                }
        }
        return FALSE;
}

static void
add_names(GPtrArray *names, const NetisoRecord *r)
{
        g_ptr_array_add(names, g_strdup_printf("'%s'", r->domain));
        g_ptr_array_add(names, g_strdup_printf("tenant-%s", r->tenant));
        g_ptr_array_add(names, g_strdup_printf("tenant %s", r->tenant));
        for (guint k = 0; k < r->ports->len; k++)
                g_ptr_array_add(
                        names, g_strdup(((NetisoRecordPort *)g_ptr_array_index(r->ports, k))->tap));
}

/* Keep the drift lines that concern the packet's guests: those naming one
 * of them (domain, tenant, tap) and those naming no guest at all (the
 * table, the shared chains). Lines about other guests alone are left out. */
static GPtrArray *
relevant_drift(GPtrArray *lines, GPtrArray *records, const NetisoPlace *const *places)
{
        g_autoptr(GPtrArray) ours = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) addrs = g_ptr_array_new_with_free_func(g_free);
        GPtrArray *kept = g_ptr_array_new_with_free_func(g_free);

        for (guint p = 0; p < 2; p++) {
                const NetisoRecord *r =
                        places[p]->domain ? netiso_records_find(records, places[p]->domain) : NULL;

                if (places[p]->iface)
                        g_ptr_array_add(ours, g_strdup(places[p]->iface));
                if (r)
                        add_names(ours, r);
        }
        for (guint i = 0; i < records->len; i++) {
                const NetisoRecord *r = g_ptr_array_index(records, i);
                if (g_strcmp0(r->domain, places[0]->domain) != 0 &&
                    g_strcmp0(r->domain, places[1]->domain) != 0)
                        add_names(others, r);
        }
        for (guint p = 0; p < 2; p++)
                g_ptr_array_add(addrs, netiso_cidr_to_string(&places[p]->address, FALSE));
        for (guint i = 0; i < lines->len; i++) {
                const char *line = g_ptr_array_index(lines, i);
                /* Guests of other hosts: only the lines about these two addresses. */
                if (g_str_has_prefix(line, "remote ")
                            ? mentions(line, addrs)
                            : mentions(line, ours) || !mentions(line, others))
                        g_ptr_array_add(kept, g_strdup(line));
        }
        return kept;
}

/* The backend's inspection (its check of the table against the records,
 * and warnings about other tables) of the moment the records were read. */
static void
check_kernel(const NetisoConfig *config, GPtrArray *records, NetisoWhyAnswer *a, char **ret_error)
{
        g_autoptr(NetisoFirewall) fw = netiso_firewall_new(NETISO_FIREWALL_APPLY);
        g_autoptr(NetisoInspection) in = NULL;
        g_autoptr(GError) error = NULL;
        const NetisoPlace *places[] = { a->from, a->to };

        if (!netiso_cli_has_net_admin()) {
                *ret_error = g_strdup("not privileged: need root or CAP_NET_ADMIN");
                return;
        }
        in = netiso_backend_inspect(config->backend)->inspect(fw, config, records, &error);
        if (!in) {
                *ret_error = g_strdup_printf("cannot read the firewall: %s", error->message);
                return;
        }
        a->kernel_checked = TRUE;
        g_ptr_array_extend_and_steal(a->drift, relevant_drift(in->problems, records, places));
        for (guint i = 0; i < in->warnings->len; i++)
                g_ptr_array_add(a->warnings, g_strdup(g_ptr_array_index(in->warnings, i)));
}

/* ---- the command ---- */

typedef struct {
        char *from, *to, *proto, *source;
        gboolean v4, v6, json, strict;
} WhyOptions;

static gboolean
build_packet(const WhyOptions *o, const Endpoint *from, const Endpoint *to,
             const NetisoPlace *from_place, const NetisoPlace *to_place, NetisoPacket *ret,
             GError **error)
{
        ret->source = from_place->address;
        ret->destination = to_place->address;
        if (from->port)
                return usage_error(error, "--from: a port belongs to --to");
        if (o->source) {
                if (from->is_address)
                        return usage_error(error, "--source goes with --from DOMAIN only");
                if (!netiso_addr_parse(o->source, &ret->source, NULL) ||
                    ret->source.family != to_place->address.family)
                        return usage_error(error, "--source: '%s' is not an IPv%u address",
                                           o->source, to_place->address.family);
        }
        ret->port = to->port;
        if (!o->proto)
                ret->proto = to->port ? NETISO_PACKET_TCP : NETISO_PACKET_ICMP;
        else if (!netiso_packet_proto_parse(o->proto, &ret->proto))
                return usage_error(error, "--proto: '%s' is not tcp, udp or icmp", o->proto);
        if (ret->proto == NETISO_PACKET_ICMP && to->port)
                return usage_error(error, "--proto icmp: the destination has no port");
        if (ret->proto != NETISO_PACKET_ICMP && !to->port)
                return usage_error(error, "--proto %s needs --to ADDRESS:PORT or DOMAIN:PORT",
                                   o->proto);
        return TRUE;
}

static int
answer(const NetisoConfig *config, const WhyOptions *o, GPtrArray *records,
       const NetisoRemote *remote, GError **error)
{
        g_autoptr(NetisoLocator) locator = netiso_locator_new();
        g_auto(Endpoint) from = { 0 };
        g_auto(Endpoint) to = { 0 };
        g_autoptr(NetisoPlace) from_place = NULL;
        g_autoptr(NetisoPlace) to_place = NULL;
        g_autoptr(NetisoVerdict) verdict = NULL;
        g_autoptr(GPtrArray) drift = g_ptr_array_new_with_free_func(g_free);
        g_autoptr(GPtrArray) warnings = g_ptr_array_new_with_free_func(g_free);
        g_autofree char *kernel_error = NULL;
        NetisoPacket packet = { 0 };
        NetisoWhyAnswer a = { 0 };
        int family = 0;

        netiso_locator_add_records(locator, records);
        if (remote)
                netiso_locator_add_remote(locator, remote);
        netiso_locator_add_kernel_routes(locator, config, records);
        if (!parse_endpoint(locator, "--from", o->from, &from, error) ||
            !parse_endpoint(locator, "--to", o->to, &to, error) ||
            !pick_family(locator, &from, &to,
                         o->v4   ? 4
                         : o->v6 ? 6
                                 : 0,
                         &family, error) ||
            !locate(locator, &from, family, &from_place, error) ||
            !locate(locator, &to, family, &to_place, error) ||
            !build_packet(o, &from, &to, from_place, to_place, &packet, error))
                return -1;
        verdict = netiso_verdict_decide(config, &packet, from_place, to_place, error);
        if (!verdict)
                return -1;
        if (g_str_equal(from_place->found_by, "records") &&
            !netiso_route_check_guest(from_place, error))
                return -1;
        if (g_str_equal(to_place->found_by, "records") &&
            !netiso_route_check_guest(to_place, error))
                return -1;
        a = (NetisoWhyAnswer){ config, &packet, from_place, to_place, verdict,
                               FALSE,  NULL,    drift,      warnings };
        check_kernel(config, records, &a, &kernel_error);
        a.kernel_error = kernel_error;
        if (o->json) {
                g_autofree char *text = netiso_why_to_json(&a);
                fputs(text, stdout);
        } else {
                netiso_why_print_text(&a);
        }
        if (o->strict && !netiso_why_answer_confirmed(&a))
                return NETISO_EXIT_WHY_UNCONFIRMED;
        return verdict->allowed ? 0 : 1;
}

int
netiso_cli_why(NetisoCliOptions *options, int argc, char **argv)
{
        WhyOptions o = { 0 };
        GOptionEntry entries[] = {
                { "from", 0, 0, G_OPTION_ARG_STRING, &o.from, "where the packet comes from",
                  "DOMAIN|ADDRESS" },
                { "to", 0, 0, G_OPTION_ARG_STRING, &o.to, "where it goes",
                  "DOMAIN|ADDRESS[:PORT]" },
                { "proto", 0, 0, G_OPTION_ARG_STRING, &o.proto,
                  "tcp, udp or icmp (default: tcp with a port, icmp without)", "PROTO" },
                { "source", 0, 0, G_OPTION_ARG_STRING, &o.source,
                  "with --from DOMAIN: the source address the guest writes (spoofing)", "ADDRESS" },
                { "ipv4", '4', 0, G_OPTION_ARG_NONE, &o.v4, "between two domains: IPv4", NULL },
                { "ipv6", '6', 0, G_OPTION_ARG_NONE, &o.v6, "between two domains: IPv6", NULL },
                { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, "machine-readable output", NULL },
                { "strict", 0, 0, G_OPTION_ARG_NONE, &o.strict,
                  "exit 3 when the firewall cannot confirm the answer", NULL },
                { NULL },
        };
        g_autoptr(NetisoConfig) config = NULL;
        g_autoptr(NetisoLock) lock = NULL;
        g_autoptr(GPtrArray) records = NULL;
        g_autoptr(NetisoRemote) remote = NULL;
        g_autoptr(GError) error = NULL;
        int status = 0;

        if (!netiso_cli_parse(options,
                              "--from DOMAIN|ADDRESS --to DOMAIN|ADDRESS[:PORT] [--proto PROTO]",
                              entries, &argc, &argv, &status))
                goto out;
        status = 2;
        if (argc > 1) {
                fprintf(stderr, "blixard-netiso why: unexpected argument '%s'\n", argv[1]);
                goto out;
        }
        if (!o.from || !o.to || (o.v4 && o.v6)) {
                fprintf(stderr, "blixard-netiso why: give --from and --to (and at most one of "
                                "-4 and -6)\n");
                goto out;
        }
        config = netiso_cli_load_config(options, &status);
        if (!config)
                goto out;
        if (!config->enabled) {
                fprintf(stderr,
                        "blixard-netiso why: isolation is disabled (enabled = false in "
                        "%s): nothing is filtered\n",
                        options->config_path);
                goto out;
        }
        /* Records and table read under the lock, so that no event falls
         * between them and shows up as drift. */
        lock = netiso_lock_acquire(config->state_dir, LOCK_TIMEOUT_MS, &error);
        records = lock ? netiso_state_list(config->state_dir, NULL, &error) : NULL;
        /* Guests of other hosts, as the watch daemon installed them. */
        if (records && config->cluster)
                remote = netiso_remote_load(config->state_dir, NULL, &error);
        status = records && (remote || !config->cluster)
                         ? answer(config, &o, records, remote, &error)
                         : -1;
        /* No answer at all: a runtime failure (1), or 3 with --strict, since
         * 1 also means dropped. */
        if (status < 0 && netiso_cli_fail(error) != NETISO_EXIT_USAGE)
                status = o.strict ? NETISO_EXIT_WHY_UNCONFIRMED : 1;
        else if (status < 0)
                status = NETISO_EXIT_USAGE;
out:
        g_free(o.from);
        g_free(o.to);
        g_free(o.proto);
        g_free(o.source);
        return status;
}
