/* libFuzzer harness for what a tenant controls: domain XML through the
 * domain reader, the policy (with a fixed configuration), `explain`, and
 * the nftables backend's batches rendered in capture mode, no kernel. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "conf/domain.h"
#include "core/policy.h"
#include "engine/lifecycle.h"
#include "fuzz-common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Logging on and two address families, so that every branch of the
 * skeleton and of the per-guest elements renders. */
static const char config_text[] =
        "[vm.network_isolation]\n"
        "enabled = true\n"
        "cluster_networks = [\"127.0.0.0/8\", \"169.254.0.0/16\", \"172.16.0.0/12\", "
        "\"fd00:172::/64\", \"fe80::/10\"]\n"
        "vm_network = [\"10.0.0.0/16\", \"192.0.2.0/24\", \"fd00:10::/64\"]\n"
        "guest_interface_patterns = [\"vnet*\", \"vm7-routed\"]\n"
        "log_drops = true\n"
        "[[vm.network_isolation.allowed_ports]]\n"
        "protocol = \"udp\"\nport = 53\n"
        "[[vm.network_isolation.allowed_ports]]\n"
        "protocol = \"tcp\"\nport = 2222\ndirection = \"inbound\"\n";

static NetisoConfig *config;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        g_autoptr(GError) error = NULL;

        fuzz_init();
        config = netiso_config_new_from_data("fuzz.toml", config_text, strlen(config_text), &error);
        if (!config) {
                fprintf(stderr, "fuzz-domain: built-in configuration: %s\n", error->message);
                abort();
        }
        return 0;
}

static void
check_describe(const NetisoPolicy *policy)
{
        g_autofree char *text = netiso_policy_describe(policy);

        if (!g_utf8_validate(text, -1, NULL)) {
                fprintf(stderr, "explain's text is not UTF-8\n");
                abort();
        }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoDomain) domain =
                netiso_domain_new_from_xml("fuzz.xml", (const char *)data, size, &error);
        g_autoptr(NetisoPolicy) policy = NULL;

        if (!domain) {
                fuzz_check_error(error);
                return 0;
        }
        /* What the hook does at prepare: validation alone. */
        if (!netiso_lifecycle_validate(config, domain, &error)) {
                fuzz_check_error(error);
                g_clear_error(&error);
        }
        policy = netiso_policy_new_for_domain(config, domain, &error);
        if (!policy) {
                fuzz_check_error(error);
                return 0;
        }
        check_describe(policy);
        fuzz_render_policy(config, policy);
        return 0;
}
