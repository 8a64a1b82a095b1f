/* A bridged guest port's elements in table bridge blixard and table inet
 * blixard, listed once and read three ways: as libnftables text (the full
 * path), as the bytes nft encodes (the fast path's netlink batch), and as
 * nft's JSON listing prints them (reconcile --check). */
#pragma once

#include <glib.h>

#include "core/state.h"

#define NETISO_NFT_KEY_MAX 64 /* nf_tables' 16 registers of 32 bits */

typedef struct {
        gboolean bridge;  /* table bridge blixard; else table inet blixard */
        char *set;        /* "guest_mac", "tenant-NAME-v4", ... */
        char *text;       /* the element as nft's syntax writes it, data included */
        char *text_key;   /* its key alone (what a delete names) */
        char *listed;     /* as the JSON listing reads back (nft-listing.c): integers
                           * of raw payload fields in decimal when they fit 64 bits */
        gboolean counter; /* guest_drops*: kept when the tap stays (a retag) */
        guint8 key[NETISO_NFT_KEY_MAX];
        gsize key_len;
        guint8 data[16]; /* a map's value, data_len bytes (0 in a set) */
        gsize data_len;
        char *jump;        /* a verdict map's chain, else NULL */
        gboolean has_addr; /* a counter of one of the port's addresses: */
        NetisoCidr addr;   /* that address */
} NetisoNftElement;

/* Every element of one bridged port (p->bridge != NULL) installed for
 * tenant with flow_id (0: none), in the order the batches write them. */
/* Whether removing port p's counter element e leaves it in place: keep
 * (the policy that replaces p's record) has p's tap and, for an address's
 * counter, the address on it too. */
gboolean netiso_nft_counter_kept(const NetisoNftElement *e, const NetisoRecordPort *p,
                                 const NetisoPolicy *keep);

GPtrArray *netiso_nft_bridged_elements(const NetisoRecordPort *p, const char *tenant,
                                       guint16 flow_id);
