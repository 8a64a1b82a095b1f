/* Shared by the iptables backend's unit tests: a configuration, tap sets
 * (fixed and random, with names that share prefixes in every way), and
 * batches applied to the in-memory table of ipt-sim.c. */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "ipt-sim.h"
#include "ipt/ipt-render.h"

#define IPT_TEST_HOST4 "10.0.255.254"

/* Cluster 127.0.0.0/8, 172.16.0.0/12, fd00:172::/64; VM networks
 * 10.0.0.0/16, fd00:10::/64; UDP 53 out, TCP 2222 in; extra TOML lines. */
NetisoConfig *ipt_test_config_new(const char *extra);
/* The tap's flow id is ipt_test_flow_id(tap). */
void ipt_test_add_port(NetisoIptSet *set, const char *tap, const char *tenant, const char *v4,
                       const char *v6);
/* vnetN: N + 1 (under 65 535); other names: a digest of the name. */
guint16 ipt_test_flow_id(const char *tap);
void ipt_test_finish(NetisoIptSet *set);
/* Aborts the test with the batch when the table refuses it. */
void ipt_test_restore_ok(IptSim *sim, const char *batch);
void ipt_test_rebuild(IptSim *sim, const NetisoConfig *config, const NetisoIptSet *set,
                      NetisoFamily family);
char *ipt_test_random_tap(void);
void ipt_test_random_port(NetisoIptSet *set, const char *tap, guint serial);
NetisoIptSet *ipt_test_random_set(guint n, guint *serial);
