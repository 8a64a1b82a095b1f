/* The generation record (nft-generation.h): STATE_DIR/nft-generation holds
 * one line, "BOOT-ID NETNS GENERATION KEY MARK" (the mark has spaces, the
 * rest none). Generations restart at boot and are per network namespace,
 * hence the first two fields. */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "nft/nft-generation.h"

#define RECORD "nft-generation"
#define BOOT_ID "/proc/sys/kernel/random/boot_id"

static const char *
boot_id(void)
{
        static char boot[64]; /* the same for the life of the process */
        ssize_t n = 0;
        int fd;

        if (boot[0])
                return boot;
        fd = open(BOOT_ID, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
                n = read(fd, boot, sizeof(boot) - 1);
                close(fd);
        }
        boot[MAX(n, 0)] = '\0';
        g_strstrip(boot);
        return boot[0] ? boot : NULL;
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

char *
netiso_nft_generation_key(const NetisoConfig *config)
{
        g_autofree char *digest = netiso_config_digest(config);

        return g_strdup_printf("%s/%s", PACKAGE_VERSION, digest);
}

gboolean
netiso_nft_generation_trusted(const char *state_dir, NetisoNl *nl, guint32 generation,
                              const char *key, char **ret_mark, char **ret_reason)
{
        g_autofree char *path = g_build_filename(state_dir, RECORD, NULL);
        g_autofree char *text = NULL;
        g_autofree char *here = where(nl);
        g_auto(GStrv) f = NULL;
        guint64 ours;
        char *end = NULL;

        if (!g_file_get_contents(path, &text, NULL, NULL)) {
                *ret_reason = g_strdup("no commit of ours is recorded");
                return FALSE;
        }
        /* BOOT-ID, NETNS, GENERATION, KEY, MARK */
        f = g_strsplit(g_strchomp(text), " ", 5);
        if (!here || g_strv_length(f) != 5 || strlen(here) != strlen(f[0]) + 1 + strlen(f[1]) ||
            !g_str_has_prefix(here, f[0]) || !g_str_equal(here + strlen(f[0]) + 1, f[1])) {
                *ret_reason = g_strdup(
                        "our last commit is recorded for another boot or network namespace");
                return FALSE;
        }
        ours = g_ascii_strtoull(f[2], &end, 10);
        if (end == f[2] || *end || ours != generation) {
                *ret_reason = g_strdup_printf(
                        "the ruleset changed since our last commit (generation %u, ours %u)",
                        generation, (guint)ours);
                return FALSE;
        }
        if (!g_str_equal(f[3], key)) {
                *ret_reason = g_strdup("the skeleton is not this configuration's");
                return FALSE;
        }
        *ret_mark = g_strdup(f[4]);
        return TRUE;
}

void
netiso_nft_generation_record(const char *state_dir, NetisoNl *nl, guint32 generation,
                             const char *key, const char *mark)
{
        g_autofree char *path = g_build_filename(state_dir, RECORD, NULL);
        g_autofree char *here = where(nl);
        g_autofree char *text = NULL;
        g_autoptr(GError) error = NULL;

        if (!here) {
                netiso_nft_generation_forget(state_dir);
                return;
        }
        text = g_strdup_printf("%s %u %s %s\n", here, generation, key, mark);
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
