/* The libvirt API, for the command-line tool only (the hook never calls
 * libvirtd: that would deadlock). */
#pragma once

#include <glib.h>
