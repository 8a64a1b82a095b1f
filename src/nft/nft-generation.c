/* The generation record (nft-generation.h): STATE_DIR/nft-generation holds
 * one line, "BOOT-ID NETNS-COOKIE GENERATION MARK". Generations restart at
 * boot and are per network namespace, hence the other two fields. */
#include "autoconfig.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "nft/nft-generation.h"

#define RECORD "nft-generation"
#define BOOT_ID "/proc/sys/kernel/random/boot_id"

/* This boot and network namespace, as the record's first two fields. */
static char *
where(NetisoNl *nl)
{
        g_autofree char *boot = NULL;

        if (!g_file_get_contents(BOOT_ID, &boot, NULL, NULL))
                return NULL;
        return g_strdup_printf("%s %" G_GUINT64_FORMAT, g_strstrip(boot), netiso_nl_netns(nl));
}

gboolean
netiso_nft_generation_trusted(const char *state_dir, NetisoNl *nl, guint32 generation,
                              const char *mark, char **ret_reason)
{
        g_autofree char *path = g_build_filename(state_dir, RECORD, NULL);
        g_autofree char *text = NULL;
        g_autofree char *here = where(nl);
        g_autofree char *want = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL)) {
                *ret_reason = g_strdup("no commit of ours is recorded");
                return FALSE;
        }
        want = g_strdup_printf("%s %u %s\n", here ? here : "?", generation, mark);
        if (here && g_str_equal(text, want))
                return TRUE;
        if (here && g_str_has_prefix(text, here) && text[strlen(here)] == ' ') {
                const char *rest = text + strlen(here) + 1;
                char *end = NULL;
                guint64 ours = g_ascii_strtoull(rest, &end, 10);

                if (end != rest && *end == ' ' && ours != generation) {
                        *ret_reason = g_strdup_printf("the ruleset changed since our last commit "
                                                      "(generation %u, ours %" G_GUINT64_FORMAT ")",
                                                      generation, ours);
                        return FALSE;
                }
                if (end != rest && *end == ' ') {
                        *ret_reason = g_strdup("the skeleton is not this configuration's");
                        return FALSE;
                }
        }
        *ret_reason = g_strdup("our last commit is recorded for another boot or network namespace");
        return FALSE;
}

void
netiso_nft_generation_record(const char *state_dir, NetisoNl *nl, guint32 generation,
                             const char *mark)
{
        g_autofree char *path = g_build_filename(state_dir, RECORD, NULL);
        g_autofree char *here = where(nl);
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;

        if (!here) {
                netiso_nft_generation_forget(state_dir);
                return;
        }
        text = g_strdup_printf("%s %u %s\n", here, generation, mark);
        /* Atomic (a new file renamed over the old), not durable: it is only
         * good until reboot anyway. */
        if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                      &error)) {
                g_warning("%s", error->message);
                netiso_nft_generation_forget(state_dir);
        }
}

void
netiso_nft_generation_forget(const char *state_dir)
{
        g_autofree char *path = g_build_filename(state_dir, RECORD, NULL);

        if (g_unlink(path) < 0 && errno != ENOENT)
                g_warning("%s: cannot remove: %s", path, g_strerror(errno));
}
