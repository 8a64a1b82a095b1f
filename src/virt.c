/* libvirt API access (being written). */
#include "autoconfig.h"

#include "virt.h"
