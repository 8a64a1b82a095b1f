/* The hook's side of cluster claims: before a guest's isolation is installed
 * its addresses are claimed cluster-wide by asking the local watch daemon
 * over its unix socket, one line each way, under a deadline. The hook never
 * links the etcd client (libsoup and its thirty libraries). */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "core/policy.h"

#define NETISO_CLUSTER_LINE_MAX 65536 /* bytes of one request or answer line */

/* The claim request for a guest: "claim UUID TENANT ADDR,ADDR|- NAME". */
char *netiso_cluster_claim_request(const NetisoPolicy *policy);

/* Send one request line to the daemon of state_dir and read its one-line
 * answer (without the newline), all within timeout_ms. Errors
 * (NETISO_ERROR_CLUSTER) say why no answer came: no daemon, no answer in time. */
gboolean netiso_cluster_ask(const char *state_dir, const char *request, guint timeout_ms,
                            char **ret_answer, GError **error);

/* Claim policy's addresses for its domain UUID on this host (config->cluster
 * set). An unchanged re-install (the record already holds this UUID,
 * tenant and these addresses) asks nothing. When the daemon or etcd cannot
 * be reached, a guest whose record shows that this host already owns every
 * address goes on (a libvirtd restart, a reconnect); a new claim fails
 * closed. Another guest owning an address is NETISO_ERROR_CONFLICT. */
gboolean netiso_cluster_claim_for_install(const NetisoConfig *config, const NetisoPolicy *policy,
                                          GError **error);
