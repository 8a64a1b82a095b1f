/* libnftables, loaded on first use: most hook events take the netlink fast
 * path and never need it, and loading it (with libnftnl, libmnl, libxtables,
 * libjansson and libgmp) is a large part of a short process's life. */
#pragma once

#include <glib.h>
#include <nftables/libnftables.h>

#include "core/firewall.h"

typedef struct {
        __typeof__(&nft_ctx_new) ctx_new;
        __typeof__(&nft_ctx_free) ctx_free;
        __typeof__(&nft_ctx_buffer_output) buffer_output;
        __typeof__(&nft_ctx_buffer_error) buffer_error;
        __typeof__(&nft_ctx_output_set_flags) output_set_flags;
        __typeof__(&nft_run_cmd_from_buffer) run_cmd_from_buffer;
        __typeof__(&nft_ctx_get_output_buffer) get_output_buffer;
        __typeof__(&nft_ctx_get_error_buffer) get_error_buffer;
} NetisoNftLib;

/* The library's entry points, loaded once per process; NULL with an error
 * naming the library when it cannot be loaded. */
const NetisoNftLib *netiso_nft_lib(GError **error);

/* Run one libnftables batch through fw (firewall.h): all or nothing, or
 * captured. The context is opened on first use and closed with fw. */
gboolean netiso_nft_run(NetisoFirewall *fw, const char *text, GError **error);

/* Run a read-only nft command and return its output (JSON when json is TRUE).
 * Capture mode returns an empty string. */
char *netiso_nft_query(NetisoFirewall *fw, const char *command, gboolean json, GError **error);
