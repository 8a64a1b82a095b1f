/* "Where is this address, and which guest is that domain?", asked of
 * sources in turn: the records of this host's installed guests first, the
 * guests of other hosts of the cluster as installed here, then what the
 * caller adds (the command line adds the kernel's routes). Bridged guests
 * are meant to be one more source, added before the kernel's routes. */
#pragma once

#include <glib.h>

#include "core/remote.h"
#include "core/state.h"
#include "core/verdict.h"

typedef struct {
        const char *name;
        /* TRUE with *ret_place set when the source knows the address, TRUE
         * with NULL when it does not, FALSE on failure. */
        gboolean (*address)(gpointer data, const NetisoCidr *address, NetisoPlace **ret_place,
                            GError **error);
        /* The same for a domain name; family 0 takes the first address of
         * any family. NULL when the source knows no domains. */
        gboolean (*domain)(gpointer data, const char *domain, int family, NetisoPlace **ret_place,
                           GError **error);
} NetisoLocatorSource;

typedef struct NetisoLocator NetisoLocator;

NetisoLocator *netiso_locator_new(void);
void netiso_locator_free(NetisoLocator *locator);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoLocator, netiso_locator_free)

/* Sources are asked in the order they were added; data is freed with destroy. */
void netiso_locator_add(NetisoLocator *locator, const NetisoLocatorSource *source, gpointer data,
                        GDestroyNotify destroy);

/* This host's installed guests, from their records (of NetisoRecord*,
 * borrowed: they must outlive the locator). */
void netiso_locator_add_records(NetisoLocator *locator, GPtrArray *records);

/* Guests of other hosts of the cluster, as the watch daemon installed them
 * (remote is borrowed: it must outlive the locator). A domain name is
 * looked up among them too (the first host that has it). */
void netiso_locator_add_remote(NetisoLocator *locator, const NetisoRemote *remote);

/* Where the address is: the first source that knows it, else outside. */
gboolean netiso_locator_address(const NetisoLocator *locator, const NetisoCidr *address,
                                NetisoPlace **ret_place, GError **error);

/* The guest of that name, at its first address of that family (0: any);
 * *ret_place is NULL when no source knows the domain. A known domain
 * without such an address is an error (NETISO_ERROR_USAGE). */
gboolean netiso_locator_domain(const NetisoLocator *locator, const char *domain, int family,
                               NetisoPlace **ret_place, GError **error);

/* A guest place for one port of a record, found for address. */
NetisoPlace *netiso_place_new_for_record(const NetisoRecord *record, const NetisoRecordPort *port,
                                         const NetisoCidr *address, const char *found_by);

/* The record and port that hold this tap, or FALSE. */
gboolean netiso_records_find_tap(GPtrArray *records, const char *tap,
                                 const NetisoRecord **ret_record,
                                 const NetisoRecordPort **ret_port);
