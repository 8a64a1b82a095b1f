/* The iptables backend: chains BLIXARD_VM_FWD/IN/OUT for iptables and
 * ip6tables, applied per event with iptables-restore --noflush. */
#pragma once

#include "backend.h"
