/* backend (being written). */
#include "autoconfig.h"

#include "backend.h"
