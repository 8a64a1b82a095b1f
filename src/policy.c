/* policy (being written). */
#include "autoconfig.h"

#include "policy.h"
