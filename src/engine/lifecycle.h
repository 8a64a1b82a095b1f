/* What each libvirt hook event means for isolation, and the locked
 * read-apply-record sequence shared by the hook and `apply`/`remove`. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "conf/domain.h"
#include "core/backend.h"
#include "core/policy.h"

typedef enum {
        NETISO_ACTION_IGNORE,   /* events that need nothing */
        NETISO_ACTION_VALIDATE, /* prepare, restore, migrate: refuse bad guests early */
        NETISO_ACTION_INSTALL,  /* start, started, reconnect: install (idempotent) */
        NETISO_ACTION_REMOVE,   /* stopped, release: remove, never fail */
        _NETISO_ACTION_MAX,
} NetisoAction;

/* Map libvirt's "OPERATION SUB-OPERATION" of the qemu hook to an action. */
NetisoAction netiso_action_for_hook(const char *operation, const char *sub_operation);
const char *netiso_action_to_string(NetisoAction action);

/* Does a failure of this action refuse the guest? (validate, install) */
gboolean netiso_action_fails_closed(NetisoAction action);

/* Validate: parse-level checks plus policy computation, no firewall. */
gboolean netiso_lifecycle_validate(const NetisoConfig *config, const NetisoDomain *domain,
                                   GError **error);

/* Install or replace one domain's isolation: lock, load the old record,
 * compute the policy, one transaction, save the new record. */
gboolean netiso_lifecycle_install(const NetisoConfig *config, const NetisoDomain *domain,
                                  NetisoFirewall *fw, GError **error);

/* In a cluster, an install first claims the guest's addresses cluster-wide
 * (before the state lock: whoever answers may need it). By default the
 * claim is asked of the watch daemon (engine/cluster-ask.h); the daemon
 * itself claims in process. NULL restores the default. */
typedef gboolean (*NetisoClaimFunc)(const NetisoConfig *config, const NetisoPolicy *policy,
                                    gpointer data, GError **error);
void netiso_lifecycle_set_claimer(NetisoClaimFunc func, gpointer data);

/* Remove one domain's isolation by name using its record. A domain with no
 * record is not an error. */
gboolean netiso_lifecycle_remove(const NetisoConfig *config, const char *domain_name,
                                 NetisoFirewall *fw, GError **error);

/* The same, unless the record was written at or after before_usec: a
 * watcher that saw the domain stopped must not remove what a hook installed
 * for its next start in the meantime. */
gboolean netiso_lifecycle_remove_older(const NetisoConfig *config, const char *domain_name,
                                       gint64 before_usec, NetisoFirewall *fw, GError **error);
