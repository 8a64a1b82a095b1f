/* Drift between two sets of per-domain records: what is installed (the
 * records on disk) and what should be (computed from the running domains).
 * Pure: no files, no kernel, no libvirt, so every case is a unit test. */
#pragma once

#include <glib.h>

#include "core/state.h"

/* Does installed hold what wanted asks for, as far as the firewall and a
 * later teardown are concerned: same domain uuid, tenant, backend,
 * configuration digest, taps and addresses per tap? Order does not count. */
gboolean netiso_record_same_state(const NetisoRecord *installed, const NetisoRecord *wanted);

/* Append one line per difference to ret_lines (char*, caller's free
 * function), domain by domain in name order. Records are matched by domain
 * name; neither array needs to be sorted. Returns the number of lines. */
guint netiso_drift_records(GPtrArray *installed, GPtrArray *wanted, GPtrArray *ret_lines);

/* Addresses of from (may be NULL) that to (may be NULL) does not give the
 * same tap under the same tenant, appended to ret_addresses (of NetisoCidr)
 * unless already there: their established flows must end, or they outlive
 * the rules that allowed them. Call it both ways for a change. */
void netiso_drift_revoked(const NetisoRecord *from, const NetisoRecord *to, GArray *ret_addresses);

/* The record in records (of NetisoRecord*) for this domain name, or NULL. */
NetisoRecord *netiso_records_find(GPtrArray *records, const char *domain);
