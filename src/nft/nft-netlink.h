/* A minimal nf_tables netlink client for the event fast path: a few
 * constant-cost queries (one chain's rules, one chain, one set) and one
 * batch of element changes and deletions, all in family inet. */
#pragma once

#include <glib.h>

typedef struct NetisoNl NetisoNl;

NetisoNl *netiso_nl_open(GError **error);
void netiso_nl_close(NetisoNl *nl);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoNl, netiso_nl_close)

/* The rules of one chain (a dump filtered by table and chain): how many,
 * and the comment of the first one (NULL when it has none). A missing
 * table or chain has no rules. */
gboolean netiso_nl_chain_rules(NetisoNl *nl, const char *table, const char *chain, guint *ret_count,
                               char **ret_first_comment, GError **error);

/* The kernel's use count of a chain (its rules plus the jumps to it);
 * *ret_found is FALSE when the chain or table does not exist. */
gboolean netiso_nl_chain_use(NetisoNl *nl, const char *table, const char *chain,
                             gboolean *ret_found, guint32 *ret_use, GError **error);

gboolean netiso_nl_set_exists(NetisoNl *nl, const char *table, const char *set, gboolean *ret_found,
                              GError **error);

/* One transaction: commands are numbered from 0 in the order added. */
typedef struct NetisoNlBatch NetisoNlBatch;

NetisoNlBatch *netiso_nl_batch_new(const char *table);
void netiso_nl_batch_free(NetisoNlBatch *batch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoNlBatch, netiso_nl_batch_free)
guint netiso_nl_batch_length(const NetisoNlBatch *batch);

/* Add (create if missing, never NLM_F_EXCL: an identical element is not an
 * error, a map element with other data is, EBUSY) or delete one element.
 * data is the map value (NULL for a set); jump makes it a verdict. */
guint netiso_nl_batch_element(NetisoNlBatch *batch, gboolean add, const char *set, const void *key,
                              gsize key_len, const void *data, gsize data_len, const char *jump);
guint netiso_nl_batch_delete_chain(NetisoNlBatch *batch, const char *chain);
guint netiso_nl_batch_delete_set(NetisoNlBatch *batch, const char *set);

/* Send the batch and read every acknowledgement. FALSE with *ret_errno
 * (positive) and *ret_command (the refused command, -1 when the batch was
 * refused as a whole) when the kernel aborted it; error is set too. */
gboolean netiso_nl_batch_commit(NetisoNl *nl, const NetisoNlBatch *batch, int *ret_errno,
                                int *ret_command, GError **error);
