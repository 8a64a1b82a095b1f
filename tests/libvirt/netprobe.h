/* netprobe's parts (tests/libvirt): netprobe.c is the TCP/UDP half and main(),
 * netprobe-l2.c crafts and observes raw frames. */
#pragma once

/* netprobe frame IFACE KIND ARGS... */
int netprobe_frame(int argc, char **argv);
/* netprobe sniff IFACE */
int netprobe_sniff(int argc, char **argv);
