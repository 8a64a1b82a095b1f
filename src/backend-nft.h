/* The nftables backend: everything in table inet blixard, one libnftables
 * batch per event. */
#pragma once

#include "backend.h"
