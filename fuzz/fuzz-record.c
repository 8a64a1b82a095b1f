/* libFuzzer harness for state records (state.c): a damaged record gives a
 * one-line error; one that loads writes back to text that loads to the same
 * text, and its removal renders with nothing injected into the batch. */
#include "autoconfig.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "core/backend.h"
#include "core/state.h"
#include "fuzz-common.h"
#include "nft/nft-backend.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static NetisoConfig *config;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
        fuzz_init();
        config = netiso_config_new_default();
        config->enabled = TRUE;
        return 0;
}

static void
check_roundtrip(const NetisoRecord *record)
{
        g_autoptr(NetisoRecord) again = NULL;
        g_autoptr(GError) error = NULL;
        g_autofree char *text = NULL;
        g_autofree char *text2 = NULL;
        gsize len = 0, len2 = 0;

        text = netiso_record_to_data(record, &len);
        again = netiso_record_new_from_data("fuzz.state", text, len, &error);
        if (!again) {
                fprintf(stderr, "written record does not load again: %s\n", error->message);
                abort();
        }
        text2 = netiso_record_to_data(again, &len2);
        if (len != len2 || memcmp(text, text2, len) != 0) {
                fprintf(stderr, "record changes on a round trip:\n%s\n---\n%s\n", text, text2);
                abort();
        }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        g_autoptr(GError) error = NULL;
        g_autoptr(NetisoRecord) record =
                netiso_record_new_from_data("fuzz.state", (const char *)data, size, &error);
        g_autoptr(NetisoFirewall) fw = NULL;

        if (!record) {
                fuzz_check_error(error);
                return 0;
        }
        check_roundtrip(record);
        /* Teardown renders straight from the record. */
        fw = netiso_firewall_new(NETISO_FIREWALL_CAPTURE);
        g_clear_error(&error);
        if (!netiso_backend_nft.remove(fw, config, record, &error))
                fuzz_check_error(error);
        fuzz_check_nft_text(netiso_firewall_captured(fw));
        return 0;
}
