/* Where a backend's transactions go: to the kernel (each backend applies its
 * own kind), or into a capture buffer (golden tests, --dry-run); tests can
 * inject a failure. It also keeps the backends' open handles for its life. */
#pragma once

#include <glib.h>

typedef enum {
        NETISO_FIREWALL_APPLY,   /* talk to the kernel */
        NETISO_FIREWALL_CAPTURE, /* record transactions, apply nothing */
} NetisoFirewallMode;

typedef struct NetisoFirewall NetisoFirewall;

NetisoFirewall *netiso_firewall_new(NetisoFirewallMode mode);
void netiso_firewall_free(NetisoFirewall *fw);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoFirewall, netiso_firewall_free)

NetisoFirewallMode netiso_firewall_mode(const NetisoFirewall *fw);

/* Applies one all-or-nothing transaction to the kernel. */
typedef gboolean (*NetisoFirewallApplyFunc)(NetisoFirewall *fw, const char *target,
                                            const char *text, GError **error);

/* Run one transaction for target ("nft", "iptables-restore", ...). In capture
 * mode the text is appended to the capture buffer under a "# target" line and
 * TRUE is returned; in apply mode apply runs it. A failure injected with
 * netiso_firewall_fail_after() fails it first, in both modes. */
gboolean netiso_firewall_run(NetisoFirewall *fw, const char *target, const char *text,
                             NetisoFirewallApplyFunc apply, GError **error);

/* A backend's handle (a library context, a socket) kept under name and
 * released with destroy when fw is freed: closing a netlink socket waits
 * for the kernel to free the last transaction (an RCU grace period, 100 ms
 * on a busy host), so that happens when the caller frees fw, after it has
 * released the lock. */
gpointer netiso_firewall_handle(const NetisoFirewall *fw, const char *name);
void netiso_firewall_set_handle(NetisoFirewall *fw, const char *name, gpointer handle,
                                GDestroyNotify destroy);

/* Captured text so far ("" when nothing); owned by fw. */
const char *netiso_firewall_captured(const NetisoFirewall *fw);
/* Testing: the (n+1)-th run from now fails as the kernel would. */
void netiso_firewall_fail_after(NetisoFirewall *fw, int n);

/* The one-line summary of a tool's multi-line error output (its first
 * "Error:" line, else its first non-empty line). */
char *netiso_firewall_error_line(const char *text);
