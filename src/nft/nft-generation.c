/* The generation record (nft-generation.h): STATE_DIR/nft-generation holds
 * one line, "BOOT-ID NETNS GENERATION MARK". Generations restart at boot
 * and are per network namespace, hence the first two fields. */
#include "autoconfig.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>

#include "nft/nft-generation.h"

#define RECORD "nft-generation"
#define BOOT_ID "/proc/sys/kernel/random/boot_id"

static const char *
boot_id(void)
{
        static char *boot; /* the same for the life of the process */

        if (!boot && g_file_get_contents(BOOT_ID, &boot, NULL, NULL))
                g_strstrip(boot);
        return boot;
}

/* This boot and network namespace, as the record's first two fields: the
 * socket's netns cookie, or on kernels before 5.14 the inode of our
 * namespace (which a later namespace may reuse). NULL when unknown. */
static char *
where(NetisoNl *nl)
{
        guint64 cookie = netiso_nl_netns(nl);
        GStatBuf st;

        if (!boot_id())
                return NULL;
        if (cookie)
                return g_strdup_printf("%s c%" G_GUINT64_FORMAT, boot_id(), cookie);
        if (g_stat("/proc/self/ns/net", &st) < 0)
                return NULL;
        return g_strdup_printf("%s i%" G_GUINT64_FORMAT, boot_id(), (guint64)st.st_ino);
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
                        *ret_reason = g_strdup_printf(
                                "the ruleset changed since our last commit (generation %u, ours %u)",
                                generation, (guint)ours);
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
        /* Written in place, neither atomic nor durable: readers hold the
         * lock, a torn or lost line is only a mismatch (the full path once),
         * and the record is good until reboot anyway. */
        if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_NONE, 0600, &error)) {
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
