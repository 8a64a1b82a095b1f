/* nft-monitor: follows nf_tables' change notifications (NFNLGRP_NFTABLES)
 * on a thread of its own, with libmnl and libnftnl, and hands the main loop
 * one summary per committed batch: which of the watched objects it touched
 * and which process committed it. CLI only (watch). */
#pragma once

#include <glib.h>

/* What a batch touched, as flags. */
typedef enum {
        NETISO_NFT_TOUCHED_BLIXARD = 1 << 0, /* table inet blixard */
        NETISO_NFT_TOUCHED_IPT = 1 << 1,     /* ip/ip6 filter: FORWARD, INPUT, OUTPUT or ours */
} NetisoNftTouched;

/* Which watched tables a batch deleted whole, as flags. */
typedef enum {
        NETISO_NFT_DELETED_BLIXARD = 1 << 0, /* table inet blixard */
        NETISO_NFT_DELETED_IP_FILTER = 1 << 1,
        NETISO_NFT_DELETED_IP6_FILTER = 1 << 2,
} NetisoNftDeleted;

/* One committed batch (or lost notifications) that touched a watched object. */
typedef struct {
        guint touched;     /* NetisoNftTouched flags */
        guint deleted;     /* NetisoNftDeleted flags */
        gboolean lost;     /* the socket overflowed (ENOBUFS): changes may be missing */
        guint32 gen;       /* ruleset generation the batch produced (0 when lost) */
        guint32 pid;       /* committing thread (NFTA_GEN_PROC_PID), 0 when unknown */
        char *comm;        /* its name (NFTA_GEN_PROC_NAME), may be NULL */
        guint32 ppid;      /* its parent, read from /proc at once; 0 when gone */
        char *parent_comm; /* the parent's name, may be NULL */
        char *what;        /* the first watched change, e.g. "deleted table inet blixard" */
        guint changes;     /* how many watched changes the batch made */
        gint64 received;   /* g_get_monotonic_time() when its end was read */
} NetisoNftCommit;

typedef void (*NetisoNftCommitFunc)(const NetisoNftCommit *commit, gpointer data);

typedef struct NetisoNftMonitor NetisoNftMonitor;

/* Subscribe and start the thread. func runs in the thread-default main
 * context of the caller, one call per batch that touched a watched object;
 * a batch that touched none is not reported. */
NetisoNftMonitor *netiso_nft_monitor_new(NetisoNftCommitFunc func, gpointer data, GError **error);
/* Stops the thread; summaries not yet delivered are dropped. NULL is fine. */
void netiso_nft_monitor_free(NetisoNftMonitor *monitor);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(NetisoNftMonitor, netiso_nft_monitor_free)

/* The kernel's current ruleset generation (NFT_MSG_GETGEN): every batch
 * committed before the call has a generation at most this. */
gboolean netiso_nft_current_generation(guint32 *ret_gen, GError **error);

/* The chain names of one table of family (NFPROTO_*), from one dump
 * (NFT_MSG_GETCHAIN), retried when the ruleset changed during it. */
GPtrArray *netiso_nft_list_chains(guint32 family, const char *table, GError **error);
