/* cli apply (being written). */
#include "autoconfig.h"

#include "cli.h"
