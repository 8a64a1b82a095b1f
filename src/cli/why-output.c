/* The two forms of a `why` answer: lines for people (the verdict and its
 * rule first, so `head -1` is a summary) and one JSON object for scripts. */
#include "autoconfig.h"

#include <json-glib/json-glib.h>
#include <stdio.h>

#include "cli/why-output.h"

gboolean
netiso_why_answer_confirmed(const NetisoWhyAnswer *a)
{
        return a->kernel_checked && a->drift->len == 0;
}

static char *
cidrs_text(const GArray *cidrs)
{
        g_autoptr(GString) out = g_string_new(NULL);

        for (guint i = 0; cidrs && i < cidrs->len; i++) {
                g_autofree char *s =
                        netiso_cidr_to_string(&g_array_index(cidrs, NetisoCidr, i), TRUE);
                g_string_append_printf(out, "%s%s", i ? ", " : "", s);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

static char *
port_text(const NetisoPort *p)
{
        return g_strdup_printf("%s %u %s", netiso_proto_to_string(p->protocol), p->port,
                               netiso_direction_to_string(p->direction));
}

static char *
ports_text(const GArray *ports)
{
        g_autoptr(GString) out = g_string_new(NULL);

        for (guint i = 0; ports && i < ports->len; i++) {
                g_autofree char *s = port_text(&g_array_index(ports, NetisoPort, i));
                g_string_append_printf(out, "%s%s", i ? ", " : "", s);
        }
        return g_string_free(g_steal_pointer(&out), FALSE);
}

/* "key = value" of a consulted option, lists in brackets. */
static char *
option_text(const NetisoConfig *config, const char *key)
{
        g_autofree char *value = NULL;

        if (g_str_equal(key, "cluster_networks"))
                value = cidrs_text(config->cluster_networks);
        else if (g_str_equal(key, "vm_network"))
                value = cidrs_text(config->vm_networks);
        else if (g_str_equal(key, "allowed_ports"))
                value = ports_text(config->allowed_ports);
        else if (g_str_equal(key, "guest_interface_patterns"))
                value = netiso_verdict_option_value(config, key);
        else
                return g_strdup_printf("%s = %s", key,
                                       (value = netiso_verdict_option_value(config, key)));
        return g_strdup_printf("%s = [%s]", key, value);
}

static void
print_place(const char *label, const NetisoPlace *place)
{
        g_autofree char *what = netiso_place_describe(place);
        g_autofree char *addr = netiso_cidr_to_string(&place->address, FALSE);

        printf("  %-8s %s, address %s (%s)\n", label, what, addr, place->found_by);
        for (guint i = 0; i < place->notes->len; i++)
                printf("  note:    %s\n", (const char *)g_ptr_array_index(place->notes, i));
}

void
netiso_why_print_text(const NetisoWhyAnswer *a)
{
        const NetisoVerdict *v = a->verdict;
        g_autofree char *src = netiso_cidr_to_string(&a->packet->source, FALSE);
        g_autofree char *dst = netiso_cidr_to_string(&a->packet->destination, FALSE);

        printf("%s by rule %d of TRAFFIC SEMANTICS: %s\n", v->allowed ? "allowed" : "dropped",
               v->rule, v->because);
        printf("  rule %-3d %s\n", v->rule, netiso_rule_summary(v->rule));
        if (a->packet->proto == NETISO_PACKET_ICMP)
                printf("  packet:  icmp echo %s -> %s\n", src, dst);
        else
                printf("  packet:  %s %s -> %s port %u\n",
                       netiso_packet_proto_to_string(a->packet->proto), src, dst, a->packet->port);
        print_place("from:", a->from);
        print_place("to:", a->to);
        printf("  checks:\n");
        for (guint i = 0; i < v->steps->len; i++) {
                const NetisoVerdictStep *s = &g_array_index(v->steps, NetisoVerdictStep, i);
                printf("    rule %d: %s\n", s->rule, s->text);
        }
        for (guint i = 0; i < v->options->len; i++) {
                g_autofree char *o = option_text(a->config, g_ptr_array_index(v->options, i));
                printf("  %-8s %s\n", i ? "" : "config:", o);
        }
        if (!a->kernel_checked)
                printf("  kernel:  NOT CHECKED (%s): the answer is the records' alone\n",
                       a->kernel_error);
        else if (a->drift->len == 0)
                printf("  kernel:  the %s firewall agrees with the records of these guests\n",
                       netiso_backend_to_string(a->config->backend));
        else
                printf("  kernel:  DRIFT: the %s firewall differs from the records, so the "
                       "kernel may decide otherwise (blixard-netiso reconcile repairs it):\n",
                       netiso_backend_to_string(a->config->backend));
        for (guint i = 0; i < a->drift->len; i++)
                printf("    %s\n", (const char *)g_ptr_array_index(a->drift, i));
        for (guint i = 0; i < a->warnings->len; i++)
                printf("  warning: %s\n", (const char *)g_ptr_array_index(a->warnings, i));
}

/* ---- JSON ---- */

static void
json_string_or_null(JsonBuilder *b, const char *key, const char *value)
{
        json_builder_set_member_name(b, key);
        if (value)
                json_builder_add_string_value(b, value);
        else
                json_builder_add_null_value(b);
}

static void
json_strings(JsonBuilder *b, const char *key, GPtrArray *items)
{
        json_builder_set_member_name(b, key);
        json_builder_begin_array(b);
        for (guint i = 0; items && i < items->len; i++)
                json_builder_add_string_value(b, g_ptr_array_index(items, i));
        json_builder_end_array(b);
}

static void
json_cidr(JsonBuilder *b, const char *key, const NetisoCidr *cidr, gboolean prefix)
{
        g_autofree char *s = cidr ? netiso_cidr_to_string(cidr, prefix) : NULL;

        json_string_or_null(b, key, s);
}

static void
json_cidrs(JsonBuilder *b, const GArray *cidrs)
{
        json_builder_begin_array(b);
        for (guint i = 0; cidrs && i < cidrs->len; i++) {
                g_autofree char *s =
                        netiso_cidr_to_string(&g_array_index(cidrs, NetisoCidr, i), TRUE);
                json_builder_add_string_value(b, s);
        }
        json_builder_end_array(b);
}

static void
json_port(JsonBuilder *b, const NetisoPort *p)
{
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "protocol");
        json_builder_add_string_value(b, netiso_proto_to_string(p->protocol));
        json_builder_set_member_name(b, "port");
        json_builder_add_int_value(b, p->port);
        json_builder_set_member_name(b, "direction");
        json_builder_add_string_value(b, netiso_direction_to_string(p->direction));
        json_builder_end_object(b);
}

static void
json_place(JsonBuilder *b, const char *key, const NetisoPlace *p)
{
        json_builder_set_member_name(b, key);
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "kind");
        json_builder_add_string_value(b, netiso_place_kind_to_string(p->kind));
        json_cidr(b, "address", &p->address, FALSE);
        json_string_or_null(b, "domain", p->domain);
        json_string_or_null(b, "tenant", p->tenant);
        json_string_or_null(b, "node", p->node);
        json_string_or_null(b, "interface", p->iface);
        json_string_or_null(b, "found_by", p->found_by);
        json_strings(b, "notes", p->notes);
        json_builder_end_object(b);
}

static void
json_option(JsonBuilder *b, const NetisoConfig *config, const char *key)
{
        json_builder_set_member_name(b, key);
        if (g_str_equal(key, "cluster_networks")) {
                json_cidrs(b, config->cluster_networks);
        } else if (g_str_equal(key, "vm_network")) {
                json_cidrs(b, config->vm_networks);
        } else if (g_str_equal(key, "allowed_ports")) {
                json_builder_begin_array(b);
                for (guint i = 0; i < config->allowed_ports->len; i++)
                        json_port(b, &g_array_index(config->allowed_ports, NetisoPort, i));
                json_builder_end_array(b);
        } else if (g_str_equal(key, "guest_interface_patterns")) {
                json_builder_begin_array(b);
                for (guint i = 0; i < config->guest_interface_patterns->len; i++)
                        json_builder_add_string_value(
                                b, g_ptr_array_index(config->guest_interface_patterns, i));
                json_builder_end_array(b);
        } else {
                g_autofree char *value = netiso_verdict_option_value(config, key);
                json_builder_add_boolean_value(b, g_strcmp0(value, "true") == 0);
        }
}

static void
json_packet(JsonBuilder *b, const NetisoPacket *packet)
{
        json_builder_set_member_name(b, "packet");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "family");
        json_builder_add_int_value(b, packet->source.family);
        json_builder_set_member_name(b, "protocol");
        json_builder_add_string_value(b, netiso_packet_proto_to_string(packet->proto));
        json_cidr(b, "source", &packet->source, FALSE);
        json_cidr(b, "destination", &packet->destination, FALSE);
        json_builder_set_member_name(b, "port");
        if (packet->proto == NETISO_PACKET_ICMP)
                json_builder_add_null_value(b);
        else
                json_builder_add_int_value(b, packet->port);
        json_builder_end_object(b);
}

static void
json_kernel(JsonBuilder *b, const NetisoWhyAnswer *a)
{
        json_builder_set_member_name(b, "kernel");
        json_builder_begin_object(b);
        json_builder_set_member_name(b, "backend");
        json_builder_add_string_value(b, netiso_backend_to_string(a->config->backend));
        json_builder_set_member_name(b, "checked");
        json_builder_add_boolean_value(b, a->kernel_checked);
        json_builder_set_member_name(b, "agrees");
        json_builder_add_boolean_value(b, netiso_why_answer_confirmed(a));
        json_string_or_null(b, "error", a->kernel_error);
        json_strings(b, "drift", a->drift);
        json_strings(b, "warnings", a->warnings);
        json_builder_end_object(b);
}

char *
netiso_why_to_json(const NetisoWhyAnswer *a)
{
        const NetisoVerdict *v = a->verdict;
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) gen = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        g_autofree char *text = NULL;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "schema");
        json_builder_add_int_value(b, 1);
        json_builder_set_member_name(b, "verdict");
        json_builder_add_string_value(b, v->allowed ? "allowed" : "dropped");
        json_builder_set_member_name(b, "rule");
        json_builder_add_int_value(b, v->rule);
        json_builder_set_member_name(b, "rule_text");
        json_builder_add_string_value(b, netiso_rule_summary(v->rule));
        json_builder_set_member_name(b, "because");
        json_builder_add_string_value(b, v->because);
        json_packet(b, a->packet);
        json_place(b, "from", a->from);
        json_place(b, "to", a->to);
        json_builder_set_member_name(b, "checks");
        json_builder_begin_array(b);
        for (guint i = 0; i < v->steps->len; i++) {
                const NetisoVerdictStep *s = &g_array_index(v->steps, NetisoVerdictStep, i);
                json_builder_begin_object(b);
                json_builder_set_member_name(b, "rule");
                json_builder_add_int_value(b, s->rule);
                json_builder_set_member_name(b, "text");
                json_builder_add_string_value(b, s->text);
                json_builder_end_object(b);
        }
        json_builder_end_array(b);
        json_builder_set_member_name(b, "facts");
        json_builder_begin_object(b);
        json_cidr(b, "cluster_network", v->cluster_network, TRUE);
        json_cidr(b, "vm_network", v->vm_network, TRUE);
        json_builder_set_member_name(b, "allowed_port");
        if (v->port)
                json_port(b, v->port);
        else
                json_builder_add_null_value(b);
        json_builder_end_object(b);
        json_builder_set_member_name(b, "config");
        json_builder_begin_object(b);
        for (guint i = 0; i < v->options->len; i++)
                json_option(b, a->config, g_ptr_array_index(v->options, i));
        json_builder_end_object(b);
        json_kernel(b, a);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        json_generator_set_root(gen, root);
        text = json_generator_to_data(gen, NULL);
        return g_strconcat(text, "\n", NULL);
}
