/* What nft-batch.c (commands, building, the commit) shares with
 * nft-batch-bulk.c (a bulk batch's elements grouped by set, and the diff
 * against the kernel's sets). */
#pragma once

#include <glib.h>
#include <libnftnl/batch.h>
#include <linux/netlink.h>

typedef struct {
        guint16 type;  /* NFT_MSG_NEWSETELEM, DELSETELEM, DELCHAIN, DELSET or NEWFLOWTABLE */
        guint8 family; /* of the table: NFPROTO_INET or NFPROTO_BRIDGE */
        /* Any other object (netiso_nl_batch_object): its payload and flags. */
        gpointer object;
        void (*payload)(struct nlmsghdr *h, gpointer object);
        GDestroyNotify free_object;
        guint16 flags;
        char *name; /* the set, chain or flowtable */
        GBytes *key, *data;
        char *jump;
        char *device; /* NEWFLOWTABLE: the device added */
} Command;

struct NetisoNlBatch {
        char *table;
        guint8 family;           /* of the commands added next */
        GArray *commands;        /* of Command */
        GPtrArray *groups;       /* of Group, in the order first added; NULL unless bulk */
        GHashTable *group_index; /* "family/set" -> Group */
};

/* A command added to b: its number. */
guint netiso_nl_batch_command(struct NetisoNlBatch *b, guint16 type, const char *name);

/* A bulk batch's groups: freed, their messages counted, an element added
 * to its set's group, and their messages written into nb after the
 * commands, numbered on from *k (n: every message of the batch). */
void netiso_nl_batch_groups_free(struct NetisoNlBatch *b);
guint netiso_nl_batch_group_messages(const struct NetisoNlBatch *b);
void netiso_nl_batch_group_add(struct NetisoNlBatch *b, const char *set, const void *key,
                               gsize key_len, const void *data, gsize data_len, const char *jump);
void netiso_nl_batch_put_groups(struct nftnl_batch *nb, const struct NetisoNlBatch *b,
                                guint32 begin, guint *k, guint n);
