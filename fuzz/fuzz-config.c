/* libFuzzer harness for the configuration reader (toml.c, toml-tree.c,
 * config.c): any bytes give a configuration or a one-line error, and a
 * configuration renders a table skeleton with nothing injected into it. */
#include "autoconfig.h"

#include <stdint.h>

#include "conf/config.h"
#include "fuzz-common.h"
#include "nft/nft-backend.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_init();
        return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoConfig) config =
                netiso_config_new_from_data("fuzz.toml", (const char *)data, size, &error);
        g_autoptr(GString) skeleton = g_string_new(NULL);
        g_autofree char *digest = NULL;

        if (!config) {
                fuzz_check_error(error);
                return 0;
        }
        /* The skeleton pastes the configuration's networks, ports and
         * interface patterns; the digest reads every field. */
        netiso_nft_render_skeleton(skeleton, config, /* stateful */ TRUE);
        fuzz_check_nft_text(skeleton->str);
        digest = netiso_config_digest(config);
        return 0;
}
