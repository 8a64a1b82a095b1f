/* state (being written). */
#include "autoconfig.h"

#include "state.h"
