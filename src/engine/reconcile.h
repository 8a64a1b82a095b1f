/* reconcile: make the records and the firewall hold exactly what the
 * running domains need, in one transaction. The caller supplies the running
 * domains (the CLI asks libvirtd); this module never talks to libvirt. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "conf/domain.h"
#include "core/firewall.h"
#include "core/state.h"

/* What the running domains should have installed. */
typedef struct {
        GPtrArray *records; /* of NetisoRecord*, sorted by domain, all of config->backend */
        GPtrArray *refused; /* of char*: "domain 'x' cannot be isolated: why" */
        GPtrArray *notes;   /* of char*: domains left alone and why (starting, newer record) */
} NetisoDesired;

/* The record a running domain should have (pure). NULL with *ret_refusal
 * set when it cannot be isolated, or *ret_note when it has no tap yet
 * (starting: its hook installs it). */
NetisoRecord *netiso_desired_record(const NetisoConfig *config, const NetisoDomain *domain,
                                    char **ret_refusal, char **ret_note);

/* Pure. installed are the records on disk. A domain whose XML or policy is
 * refused keeps its installed record (its previous, valid isolation) and is
 * listed in refused; without a record its taps stay blocked (fail closed).
 * A domain without taps yet is starting: its hook owns it. A record written
 * after running->listed_usec is newer than the listing and is kept as it is.
 * Two domains claiming one tap or address: the one already installed wins. */
NetisoDesired *netiso_desired_new(const NetisoConfig *config, const NetisoRunning *running,
                                  GPtrArray *installed);
void netiso_desired_free(NetisoDesired *desired);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoDesired, netiso_desired_free)

/* One committed change, for the log. */
typedef struct {
        char *domain;
        char *tenant;
        const char *outcome; /* "installed", "updated", "removed" */
} NetisoReconcileChange;

typedef struct {
        GPtrArray *drift;    /* of char*: every difference found, before any repair */
        guint repairable;    /* how many of them a transaction can repair */
        GPtrArray *refused;  /* of char*: domains that cannot be isolated (also in drift) */
        GPtrArray *notes;    /* of char* */
        GPtrArray *warnings; /* of char*: repairs that did not fully succeed */
        GPtrArray *changes;  /* of NetisoReconcileChange*, when committed */
        GArray *revoked;     /* of NetisoCidr: addresses whose reach shrank or moved tenant */
        char *transaction;   /* what would be committed, when not committing; else NULL */
        gboolean committed;  /* a transaction was committed */
} NetisoReconcileReport;

void netiso_reconcile_report_free(NetisoReconcileReport *report);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoReconcileReport, netiso_reconcile_report_free)

/* Under the state lock: compare the records with the running domains and
 * the kernel with the records (the backend's check), then, if anything
 * differs and commit is TRUE, rebuild the configured backend's state from
 * the desired records in one transaction, purge the other backend's
 * leftovers, and rewrite the records to exactly the desired set. With
 * commit FALSE nothing changes and report->transaction holds the text.
 * fw is used for reading (and for the commit). FALSE only when the check
 * or the commit failed; refused domains are in the report, not errors. */
gboolean netiso_reconcile(const NetisoConfig *config, const NetisoRunning *running,
                          NetisoFirewall *fw, gboolean commit, NetisoReconcileReport **ret_report,
                          GError **error);

/* Without libvirt (watch, when libvirtd is away and the table was flushed):
 * rebuild the backend's state from the records on disk, in one transaction. */
gboolean netiso_reconcile_from_records(const NetisoConfig *config, NetisoFirewall *fw,
                                       GError **error);
