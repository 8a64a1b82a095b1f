/* Reading untrusted input (configuration, domain XML) with a size limit. */
#pragma once

#include <glib.h>

/* Reads fd to its end into out, keeping at most limit + 1 bytes: one byte
 * past the limit tells the caller that the input is too large. With drain,
 * the rest is read and dropped (so that a writer such as libvirtd never
 * sees EPIPE); without, reading stops there. Returns 0, or the errno of
 * the read that failed. */
int netiso_read_bounded(int fd, gsize limit, gboolean drain, GString *out);
