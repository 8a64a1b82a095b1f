/* Ending tracked connections with libnetfilter-conntrack, loaded with
 * dlopen() by the first event that ends some (a re-install maps nothing
 * more): one dump of the table, the entries to end picked here, then one
 * delete per entry; nothing at all when the namespace tracks nothing. */
#include "autoconfig.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libnetfilter_conntrack/libnetfilter_conntrack.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "engine/conntrack.h"
#include "util/addr.h"
#include "util/error.h"
#include "util/release.h"

/* What this file calls, resolved once. */
static struct {
        struct nfct_handle *(*open)(uint8_t, unsigned);
        int (*close)(struct nfct_handle *);
        int (*callback_register)(struct nfct_handle *, enum nf_conntrack_msg_type,
                                 int (*)(enum nf_conntrack_msg_type, struct nf_conntrack *, void *),
                                 void *);
        int (*query)(struct nfct_handle *, const enum nf_conntrack_query, const void *);
        void (*destroy)(struct nf_conntrack *);
        int (*attr_is_set)(const struct nf_conntrack *, const enum nf_conntrack_attr);
        const void *(*get_attr)(const struct nf_conntrack *, const enum nf_conntrack_attr);
        uint8_t (*get_attr_u8)(const struct nf_conntrack *, const enum nf_conntrack_attr);
        uint16_t (*get_attr_u16)(const struct nf_conntrack *, const enum nf_conntrack_attr);
        uint32_t (*get_attr_u32)(const struct nf_conntrack *, const enum nf_conntrack_attr);
} nfct;

static gboolean
resolve(void *handle, const char *name, void *ret_fn, GError **error)
{
        void *sym = dlsym(handle, name);

        if (!sym) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "%s has no symbol %s: %s",
                            NETISO_LIBNETFILTER_CONNTRACK_SONAME, name, dlerror());
                return FALSE;
        }
        /* POSIX guarantees data and function pointers share a representation. */
        memcpy(ret_fn, &sym, sizeof sym);
        return TRUE;
}

static gboolean
load(GError **error)
{
        static gboolean loaded;
        void *handle;

        if (loaded)
                return TRUE;
        handle = dlopen(NETISO_LIBNETFILTER_CONNTRACK_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "cannot load %s: %s",
                            NETISO_LIBNETFILTER_CONNTRACK_SONAME, dlerror());
                return FALSE;
        }
        /* Never closed: the library lives as long as the process. */
        if (!resolve(handle, "nfct_open", &nfct.open, error) ||
            !resolve(handle, "nfct_close", &nfct.close, error) ||
            !resolve(handle, "nfct_callback_register", &nfct.callback_register, error) ||
            !resolve(handle, "nfct_query", &nfct.query, error) ||
            !resolve(handle, "nfct_destroy", &nfct.destroy, error) ||
            !resolve(handle, "nfct_attr_is_set", &nfct.attr_is_set, error) ||
            !resolve(handle, "nfct_get_attr", &nfct.get_attr, error) ||
            !resolve(handle, "nfct_get_attr_u8", &nfct.get_attr_u8, error) ||
            !resolve(handle, "nfct_get_attr_u16", &nfct.get_attr_u16, error) ||
            !resolve(handle, "nfct_get_attr_u32", &nfct.get_attr_u32, error))
                return FALSE;
        loaded = TRUE;
        return TRUE;
}

typedef struct {
        const GArray *addresses;
        GHashTable *address_set; /* of NetisoCidr*, when there are many addresses */
        guint16 flow_id;
        guint16 keep;
        GPtrArray *doomed; /* of struct nf_conntrack*, stolen from the dump */
} Pick;

static void
ct_free(gpointer ct)
{
        nfct.destroy(ct);
}

static gboolean
bound_to(const struct nf_conntrack *ct, guint16 id)
{
        guint32 mark;

        if (id == 0)
                return FALSE;
        /* ATTR_ZONE is a zone of both directions, ATTR_ORIG_ZONE one of the
         * original direction only (what table inet blixard sets). */
        if (nfct.attr_is_set(ct, ATTR_ORIG_ZONE) > 0 && nfct.get_attr_u16(ct, ATTR_ORIG_ZONE) == id)
                return TRUE;
        if (nfct.attr_is_set(ct, ATTR_ZONE) > 0 && nfct.get_attr_u16(ct, ATTR_ZONE) == id)
                return TRUE;
        if (nfct.attr_is_set(ct, ATTR_MARK) <= 0)
                return FALSE;
        mark = nfct.get_attr_u32(ct, ATTR_MARK);
        return (mark & 0xffff) == id || (mark >> 16) == id;
}

static guint
cidr_hash(gconstpointer key)
{
        const NetisoCidr *c = key;
        guint h = c->family;

        for (gsize i = 0; i < (c->family == NETISO_FAMILY_IPV4 ? 4u : 16u); i++)
                h = h * 31 + c->bytes[i];
        return h;
}

static gboolean
cidr_equal(gconstpointer a, gconstpointer b)
{
        return netiso_cidr_equal(a, b);
}

static gboolean
is_listed(const Pick *p, const NetisoCidr *c)
{
        if (p->address_set)
                return g_hash_table_contains(p->address_set, c);
        for (guint i = 0; p->addresses && i < p->addresses->len; i++)
                if (netiso_cidr_equal(&g_array_index(p->addresses, NetisoCidr, i), c))
                        return TRUE;
        return FALSE;
}

/* Either direction's source or destination is one of the addresses (the
 * reply direction holds the guest's address when a DNAT hid it). */
static gboolean
names_address(const struct nf_conntrack *ct, const Pick *p)
{
        static const enum nf_conntrack_attr v4[] = { ATTR_ORIG_IPV4_SRC, ATTR_ORIG_IPV4_DST,
                                                     ATTR_REPL_IPV4_SRC, ATTR_REPL_IPV4_DST };
        static const enum nf_conntrack_attr v6[] = { ATTR_ORIG_IPV6_SRC, ATTR_ORIG_IPV6_DST,
                                                     ATTR_REPL_IPV6_SRC, ATTR_REPL_IPV6_DST };
        guint8 l3 = nfct.get_attr_u8(ct, ATTR_ORIG_L3PROTO);
        gboolean is_v4 = l3 == AF_INET;

        if (!p->addresses || p->addresses->len == 0 || (l3 != AF_INET && l3 != AF_INET6))
                return FALSE;
        for (gsize k = 0; k < G_N_ELEMENTS(v4); k++) {
                enum nf_conntrack_attr attr = is_v4 ? v4[k] : v6[k];
                const void *have;
                NetisoCidr c = { .family = is_v4 ? NETISO_FAMILY_IPV4 : NETISO_FAMILY_IPV6 };

                if (nfct.attr_is_set(ct, attr) <= 0 || !(have = nfct.get_attr(ct, attr)))
                        continue;
                memcpy(c.bytes, have, is_v4 ? 4 : 16);
                c.prefix = netiso_family_bits(c.family);
                if (is_listed(p, &c))
                        return TRUE;
        }
        return FALSE;
}

static int
pick(enum nf_conntrack_msg_type type, struct nf_conntrack *ct, void *data)
{
        Pick *p = data;

        (void)type;
        if (bound_to(ct, p->flow_id) || (names_address(ct, p) && !bound_to(ct, p->keep))) {
                g_ptr_array_add(p->doomed, ct);
                return NFCT_CB_STOLEN;
        }
        return NFCT_CB_CONTINUE;
}

static struct nfct_handle *
open_handle(GError **error)
{
        struct nfct_handle *h = nfct.open(CONNTRACK, 0);

        if (!h) {
                int e = errno;
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "conntrack: cannot open a ctnetlink socket: %s", g_strerror(e));
        }
        return h;
}

/* Done with a socket. Its release waits for the nf_tables transactions
 * committed before to be freed (util/release.h); in the hook, which exits
 * soon, a child does that: the handle is kept (reachable) until then. */
static void
close_handle(struct nfct_handle *h)
{
        static GPtrArray *kept;

        if (!netiso_release_deferred()) {
                nfct.close(h);
                return;
        }
        if (!kept)
                kept = g_ptr_array_new();
        g_ptr_array_add(kept, h);
}

/* The dump and the deletes use one socket each: a socket busy with a dump
 * takes no other request, and deleting after the dump keeps the kernel's
 * walk of its table undisturbed. */
static gboolean
dump(Pick *p, GError **error)
{
        struct nfct_handle *h = open_handle(error);
        guint32 family = AF_UNSPEC;
        int r, e;

        if (!h)
                return FALSE;
        nfct.callback_register(h, NFCT_T_ALL, pick, p);
        r = nfct.query(h, NFCT_Q_DUMP, &family);
        e = errno;
        close_handle(h);
        if (r < 0) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "conntrack: cannot list tracked connections: %s", g_strerror(e));
                return FALSE;
        }
        return TRUE;
}

/* Whether the current network namespace tracks no connection at all. The
 * dump walks every bucket of the kernel's hash, which is global (262,144
 * buckets on a 23 GiB host, 3 to 4.5 ms of CPU) whatever the namespace holds;
 * the count is per namespace and costs one read. It counts entries from
 * their allocation, before they are confirmed, so an entry on its way in is
 * seen (and one created after this read would be after a dump too). Any
 * doubt answers FALSE. */
static gboolean
tracks_nothing(void)
{
        char buf[32];
        ssize_t n;
        int fd = open("/proc/sys/net/netfilter/nf_conntrack_count", O_RDONLY | O_CLOEXEC);

        if (fd < 0)
                return FALSE;
        n = read(fd, buf, sizeof buf - 1);
        close(fd);
        return n == 2 && buf[0] == '0' && buf[1] == '\n';
}

gboolean
netiso_conntrack_end(const GArray *addresses, guint16 flow_id, guint16 keep, guint *ret_ended,
                     GError **error)
{
        g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func(ct_free);
        g_autoptr(GHashTable) set = NULL;
        Pick p = { addresses, NULL, flow_id, keep, doomed };
        struct nfct_handle *h;
        guint ended = 0;

        *ret_ended = 0;
        if ((!addresses || addresses->len == 0) && flow_id == 0)
                return TRUE;
        if (tracks_nothing())
                return TRUE;
        if (!load(error))
                return FALSE;
        /* A backend switch ends the flows of every guest at once. */
        if (addresses && addresses->len > 16) {
                set = g_hash_table_new(cidr_hash, cidr_equal);
                for (guint i = 0; i < addresses->len; i++)
                        g_hash_table_add(set, &g_array_index(addresses, NetisoCidr, i));
                p.address_set = set;
        }
        if (!dump(&p, error))
                return FALSE;
        if (doomed->len == 0)
                return TRUE;
        h = open_handle(error);
        if (!h)
                return FALSE;
        for (guint i = 0; i < doomed->len; i++) {
                if (nfct.query(h, NFCT_Q_DESTROY, g_ptr_array_index(doomed, i)) == 0)
                        ended++;
                else if (errno != ENOENT) {
                        int e = errno;
                        close_handle(h);
                        g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                                    "conntrack: cannot delete a tracked connection: %s",
                                    g_strerror(e));
                        *ret_ended = ended;
                        return FALSE;
                }
        }
        close_handle(h);
        *ret_ended = ended;
        return TRUE;
}

gboolean
netiso_conntrack_flush(const GArray *addresses, guint *ret_deleted, GError **error)
{
        return netiso_conntrack_end(addresses, 0, 0, ret_deleted, error);
}
