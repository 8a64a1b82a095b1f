/* lifecycle (being written). */
#include "autoconfig.h"

#include "lifecycle.h"
