/* cli virt (being written). */
#include "autoconfig.h"

#include "cli.h"
