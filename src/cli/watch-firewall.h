/* watch-firewall: the firewall side of watch. It follows nf_tables'
 * notifications and restores the records' state as soon as anyone but our
 * own tools changes our objects (a flushed ruleset, a deleted table, chain,
 * set or element, a rule replaced); iptables-legacy has no notifications and
 * is checked on a timer. Restores need the records alone, not libvirtd. */
#pragma once

#include <glib.h>

#include "conf/config.h"

typedef struct NetisoWatchFirewall NetisoWatchFirewall;

/* Start following the firewall. config is borrowed and must outlive the
 * watcher or be replaced with netiso_watch_firewall_set_config(). Every
 * interval_seconds (0: never) a check runs as a safety net: the constant-
 * cost probe for nftables, the full check for iptables-legacy. FALSE when
 * nf_tables' notifications cannot be followed. */
NetisoWatchFirewall *netiso_watch_firewall_new(const NetisoConfig *config, guint interval_seconds,
                                               GError **error);
void netiso_watch_firewall_free(NetisoWatchFirewall *wf);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoWatchFirewall, netiso_watch_firewall_free)

/* After a configuration reload (a backend switch changes what is followed). */
void netiso_watch_firewall_set_config(NetisoWatchFirewall *wf, const NetisoConfig *config);

/* Compare the firewall with the records and restore them on any drift, in
 * one transaction (at start, before libvirtd is asked anything). */
void netiso_watch_firewall_verify(NetisoWatchFirewall *wf, const char *event);

/* Restore the records' state now (a probe or someone else saw damage). */
void netiso_watch_firewall_restore(NetisoWatchFirewall *wf, const char *event);
