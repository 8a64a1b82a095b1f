/* One nf_tables transaction of the event fast path: element changes and
 * deletions of chains and sets, bound to a ruleset generation, committed
 * or refused as a whole, with its outcome never left in doubt silently. */
#pragma once

#include <glib.h>
#include <linux/netlink.h>

#include "nft/nft-netlink.h"

/* One transaction: commands are numbered from 0 in the order added. */
typedef struct NetisoNlBatch NetisoNlBatch;

NetisoNlBatch *netiso_nl_batch_new(const char *table);
/* A bulk batch (a whole table's elements): the commands first, in the
 * order added, then every element added, set by set, many to a message;
 * an added element's number is meaningless (0), and a refused command's
 * number counts messages. */
NetisoNlBatch *netiso_nl_batch_new_bulk(const char *table);
void netiso_nl_batch_free(NetisoNlBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoNlBatch, netiso_nl_batch_free)
guint netiso_nl_batch_length(const NetisoNlBatch *batch);

/* The commands added from now on go to the table of that family
 * (NFPROTO_INET, the default, or NFPROTO_BRIDGE): one transaction may
 * change both tables. */
void netiso_nl_batch_family(NetisoNlBatch *batch, guint8 family);

/* Add (create if missing, never NLM_F_EXCL: an identical element is not an
 * error, a map element with other data is, EBUSY) or delete one element.
 * data is the map value (NULL for a set); jump makes it a verdict. */
guint netiso_nl_batch_element(NetisoNlBatch *batch, gboolean add, const char *set, const void *key,
                              gsize key_len, const void *data, gsize data_len, const char *jump);
/* Any other command: payload writes object into the message (libnftnl's
 * nftnl_*_nlmsg_build_payload), flags are its NLM_F_ flags beyond the
 * request's, free_object frees object with the batch. */
typedef void (*NetisoNlPayload)(struct nlmsghdr *h, gpointer object);
guint netiso_nl_batch_object(NetisoNlBatch *batch, guint16 type, guint16 flags, gpointer object,
                             NetisoNlPayload payload, GDestroyNotify free_object);
guint netiso_nl_batch_delete_chain(NetisoNlBatch *batch, const char *chain);
guint netiso_nl_batch_delete_set(NetisoNlBatch *batch, const char *set);
/* A bulk batch against the kernel, for set (of the family of the commands
 * added next; call after every element was added): the elements the set
 * holds already leave the batch, and those it holds that were not added,
 * or with other data, are deleted. Bind the batch to the generation read
 * before the first dump: the dumps and the commit are not one transaction. */
gboolean netiso_nl_batch_bulk_diff(NetisoNlBatch *batch, NetisoNl *nl, const char *set,
                                   GError **error);
/* The set or chain that message number message of a batch names (a
 * refused command's, as netiso_nl_batch_commit() numbers it), or NULL. */
const char *netiso_nl_batch_message_set(const NetisoNlBatch *batch, guint message);
/* Every element of the set deleted. */
guint netiso_nl_batch_flush_set(NetisoNlBatch *batch, const char *set);
/* Adds an existing device to a flowtable of the table (an update: one it
 * has already is not an error; one that does not exist is, ENOENT). */
guint netiso_nl_batch_flowtable_device(NetisoNlBatch *batch, const char *flowtable,
                                       const char *device);

typedef enum {
        NETISO_NL_COMMITTED, /* the kernel committed the whole batch */
        NETISO_NL_REFUSED,   /* the kernel aborted it: nothing changed */
        NETISO_NL_UNKNOWN,   /* no answer decided it: committed or not, nobody can say */
} NetisoNlOutcome;

/* Sends the batch and waits (boundedly) for the answer that decides it.
 * With generation non-zero the kernel refuses it (ERESTART) unless the
 * ruleset is still at that generation. COMMITTED sets *ret_generation to
 * the generation the batch left, or 0 when another commit may have come
 * in between; REFUSED sets *ret_errno (positive) and *ret_command (the
 * command refused, -1 for the batch as a whole). Error is set unless
 * COMMITTED. */
NetisoNlOutcome netiso_nl_batch_commit(NetisoNl *nl, const NetisoNlBatch *batch, guint32 generation,
                                       guint32 *ret_generation, int *ret_errno, int *ret_command,
                                       GError **error);
