/* Oracles shared by the libFuzzer harnesses: beyond "no crash", each input
 * must give a one-line error or a firewall transaction that only has the
 * shapes the nftables backend is meant to write (nothing injected). */
#pragma once

#include <glib.h>

#include "core/backend.h"

/* Makes GLib warnings and criticals abort, so that a g_return_if_fail()
 * tripped by some input counts as a crash. Call once per process. */
void fuzz_init(void);

/* Aborts unless the error is set, is one line and is valid UTF-8: the hook
 * prints it on stderr and in the journal as one line. */
void fuzz_check_error(const GError *error);

/* Aborts unless every line of a captured nftables batch is a header
 * ("# nft") or an add/flush/delete of an object of table inet blixard whose
 * names, strings and punctuation come from the backend's own alphabet. */
void fuzz_check_nft_text(const char *text);

/* Runs apply (fresh, then over the record it would leave), and remove, in
 * capture mode, and checks every batch. config must be enabled. */
void fuzz_render_policy(const NetisoConfig *config, const NetisoPolicy *policy);
