/* cli config (being written). */
#include "autoconfig.h"

#include "cli.h"
