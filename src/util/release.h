/* Handing the last reference to the process's netfilter netlink sockets to
 * a child, so that the kernel's wait on their release is not the hook's. */
#pragma once

#include <glib.h>

/* Releasing a netfilter netlink socket waits in the kernel until the
 * nf_tables transactions committed before have been freed, one RCU grace
 * period (nft_rcv_nl_event() flushes that work on every release since
 * 2024's kernels; 5 to 15 ms on a shared 2-core VM). When the process has
 * nothing left to do on them: a child takes them over, replaces them in
 * this process with /dev/null (later closes release nothing), waits for
 * this process to let go, then releases them and exits; it keeps no other
 * file open (not the state lock, not libvirtd's pipes). Does nothing when
 * no such socket is open or a step fails (the release then happens here). */
void netiso_release_netlink_in_child(void);

/* From now on, code that is done with a netfilter netlink socket may keep
 * it open for netiso_release_netlink_in_child() instead of closing it (the
 * hook calls this first; long-lived processes never do). */
void netiso_release_defer(void);
gboolean netiso_release_deferred(void);
