/* Running iptables-restore and iptables-save (and their IPv6 twins) for the
 * iptables backend, through the executor of firewall.h. */
#pragma once

#include <glib.h>

#include "core/firewall.h"

/* One iptables-restore batch (program: "iptables-restore" or
 * "ip6tables-restore", with --noflush --wait): all or nothing, or captured. */
gboolean netiso_ipt_restore(NetisoFirewall *fw, const char *program, const char *text,
                            GError **error);

/* One table as "PROGRAM -t TABLE -c" prints it (iptables-save,
 * ip6tables-save). Capture mode returns an empty string. */
char *netiso_ipt_save(NetisoFirewall *fw, const char *program, const char *table, GError **error);
