/* A bulk batch (nft-batch.h): a whole table's elements grouped by set and
 * written many to a message, and brought down to what differs from the
 * kernel's sets. */
#include "autoconfig.h"

#include <libnftnl/set.h>
#include <linux/netfilter/nf_tables.h>
#include <string.h>

#include "nft/nft-batch-internal.h"
#include "nft/nft-batch.h"
#include "nft/nft-netlink-internal.h"

/* A bulk batch's added elements of one set, packed: per element its key,
 * data and jump, each as a length byte and the bytes. */
typedef struct {
        guint8 family;
        char *name;
        GByteArray *packed;
        guint count;
} Group;

static void
group_free(gpointer p)
{
        Group *g = p;

        g_free(g->name);
        g_byte_array_unref(g->packed);
        g_free(g);
}

NetisoNlBatch *
netiso_nl_batch_new_bulk(const char *table)
{
        NetisoNlBatch *b = netiso_nl_batch_new(table);

        b->groups = g_ptr_array_new_with_free_func(group_free);
        b->group_index = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
        return b;
}

void
netiso_nl_batch_groups_free(NetisoNlBatch *b)
{
        if (!b->groups)
                return;
        g_ptr_array_unref(b->groups);
        g_hash_table_unref(b->group_index);
}

/* Elements per message of a bulk batch: an element is at most about 200
 * bytes of attributes, and the message's element list is one attribute,
 * whose length is 16 bits. */
#define BULK_CHUNK 128

guint
netiso_nl_batch_group_messages(const NetisoNlBatch *batch)
{
        guint n = 0;

        for (guint i = 0; batch->groups && i < batch->groups->len; i++) {
                const Group *g = g_ptr_array_index(batch->groups, i);
                n += (g->count + BULK_CHUNK - 1) / BULK_CHUNK;
        }
        return n;
}

static void
pack(GByteArray *packed, const void *bytes, gsize len)
{
        guint8 l = (guint8)len;

        g_byte_array_append(packed, &l, 1);
        if (len)
                g_byte_array_append(packed, bytes, (guint)len);
}

/* The first field of a packed element: its bytes and length. */
static const guint8 *
unpack_const(const guint8 *p, gsize *ret_len)
{
        *ret_len = p[0];
        return p + 1;
}

void
netiso_nl_batch_group_add(NetisoNlBatch *b, const char *set, const void *key, gsize key_len,
                          const void *data, gsize data_len, const char *jump)
{
        g_autofree char *id = g_strdup_printf("%u/%s", b->family, set);
        Group *g = g_hash_table_lookup(b->group_index, id);

        if (!g) {
                g = g_new0(Group, 1);
                g->family = b->family;
                g->name = g_strdup(set);
                g->packed = g_byte_array_new();
                g_ptr_array_add(b->groups, g);
                g_hash_table_insert(b->group_index, g_steal_pointer(&id), g);
        }
        pack(g->packed, key, key_len);
        pack(g->packed, jump ? NULL : data, jump || !data ? 0 : data_len);
        pack(g->packed, jump, jump ? strlen(jump) + 1 : 0);
        g->count++;
}

/* The length of the packed element at p: three length-prefixed fields. */
static gsize
packed_length(const guint8 *p)
{
        gsize n = 0;

        for (int i = 0; i < 3; i++)
                n += 1 + p[n];
        return n;
}

static void
collect_element(const void *key, gsize key_len, const void *data, gsize data_len, const char *jump,
                gpointer user_data)
{
        GHashTable *present = user_data;
        g_autoptr(GByteArray) packed = g_byte_array_new();

        if (key_len > G_MAXUINT8 || data_len > G_MAXUINT8 || (jump && strlen(jump) >= G_MAXUINT8))
                return; /* not ours: never matches, so it is deleted */
        pack(packed, key, key_len);
        pack(packed, jump ? NULL : data, jump ? 0 : data_len);
        pack(packed, jump, jump ? strlen(jump) + 1 : 0);
        g_hash_table_add(present, g_byte_array_free_to_bytes(g_steal_pointer(&packed)));
}

gboolean
netiso_nl_batch_bulk_diff(NetisoNlBatch *b, NetisoNl *nl, const char *set, GError **error)
{
        g_autoptr(GHashTable) present = g_hash_table_new_full(g_bytes_hash, g_bytes_equal,
                                                              (GDestroyNotify)g_bytes_unref, NULL);
        g_autofree char *id = g_strdup_printf("%u/%s", b->family, set);
        Group *g = b->groups ? g_hash_table_lookup(b->group_index, id) : NULL;
        GHashTableIter it;
        gpointer key;

        g_return_val_if_fail(b->groups, FALSE);
        if (!netiso_nl_set_elements(nl, b->family, b->table, set, collect_element, present, error))
                return FALSE;
        if (g) {
                GByteArray *kept = g_byte_array_new();
                const guint8 *p = g->packed->data, *end = p + g->packed->len;
                guint count = 0;

                /* What the kernel holds already leaves the batch; an element
                 * listed twice is added once more (a no-op). */
                while (p < end) {
                        gsize len = packed_length(p);
                        g_autoptr(GBytes) entry = g_bytes_new_static(p, len);

                        if (!g_hash_table_remove(present, entry)) {
                                g_byte_array_append(kept, p, (guint)len);
                                count++;
                        }
                        p += len;
                }
                g_byte_array_unref(g->packed);
                g->packed = kept;
                g->count = count;
        }
        /* The rest is not wanted, or wanted with other data: deleted by its
         * key, before the additions (commands come first). */
        g_hash_table_iter_init(&it, present);
        while (g_hash_table_iter_next(&it, &key, NULL)) {
                gsize key_len = 0;
                const guint8 *k = unpack_const(g_bytes_get_data(key, NULL), &key_len);
                guint i = netiso_nl_batch_command(b, NFT_MSG_DELSETELEM, set);

                g_array_index(b->commands, Command, i).key = g_bytes_new(k, key_len);
        }
        return TRUE;
}

/* Unpacks the next field of a group's element: its bytes and length. */
static const guint8 *
unpack(const guint8 **at, gsize *ret_len)
{
        const guint8 *bytes = *at + 1;

        *ret_len = **at;
        *at = bytes + *ret_len;
        return bytes;
}

/* Up to BULK_CHUNK of group g's elements from *at on, as one message. */
static void
put_group_chunk(struct nftnl_batch *nb, const char *table, const Group *g, const guint8 **at,
                guint count, guint16 flags, guint32 seq)
{
        struct nlmsghdr *h = nftnl_nlmsg_build_hdr(nftnl_batch_buffer(nb), NFT_MSG_NEWSETELEM,
                                                   g->family, flags, seq);
        struct nftnl_set *s = netiso_nl_set_named(table, g->name);

        for (guint i = 0; i < count; i++) {
                struct nftnl_set_elem *e = nftnl_set_elem_alloc();
                gsize key_len, data_len, jump_len;
                const guint8 *key = unpack(at, &key_len);
                const guint8 *data = unpack(at, &data_len);
                const guint8 *jump = unpack(at, &jump_len);

                nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, key, key_len);
                if (jump_len) {
                        nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_VERDICT, (guint32)NFT_JUMP);
                        nftnl_set_elem_set_str(e, NFTNL_SET_ELEM_CHAIN, (const char *)jump);
                } else if (data_len) {
                        nftnl_set_elem_set(e, NFTNL_SET_ELEM_DATA, data, data_len);
                }
                nftnl_set_elem_add(s, e);
        }
        nftnl_set_elems_nlmsg_build_payload(h, s);
        nftnl_set_free(s);
}

void
netiso_nl_batch_put_groups(struct nftnl_batch *nb, const NetisoNlBatch *b, guint32 begin,
                           guint *ret_k, guint n)
{
        guint k = *ret_k;

        for (guint i = 0; b->groups && i < b->groups->len; i++) {
                const Group *g = g_ptr_array_index(b->groups, i);
                const guint8 *at = g->packed->data;

                for (guint done = 0; done < g->count; done += BULK_CHUNK, k++) {
                        guint16 flags = NLM_F_CREATE;

                        if (k == 0)
                                flags |= NLM_F_ECHO;
                        if (k == n - 1)
                                flags |= NLM_F_ACK;
                        put_group_chunk(nb, b->table, g, &at, MIN(BULK_CHUNK, g->count - done),
                                        flags, begin + 1 + k);
                        if (nftnl_batch_update(nb) < 0)
                                g_error("out of memory for an nf_tables batch");
                }
        }
        *ret_k = k;
}

const char *
netiso_nl_batch_message_set(const NetisoNlBatch *b, guint message)
{
        if (message < b->commands->len)
                return g_array_index(b->commands, Command, message).name;
        message -= b->commands->len;
        for (guint i = 0; b->groups && i < b->groups->len; i++) {
                const Group *g = g_ptr_array_index(b->groups, i);
                guint n = (g->count + BULK_CHUNK - 1) / BULK_CHUNK;

                if (message < n)
                        return g->name;
                message -= n;
        }
        return NULL;
}
