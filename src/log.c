/* log (being written). */
#include "autoconfig.h"

#include "log.h"
