/* Strict TOML subset reader (to be written). */
#include "autoconfig.h"

#include "toml.h"
