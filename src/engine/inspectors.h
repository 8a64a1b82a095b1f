/* The inspection operations of this build's backends, by kind
 * (core/inspect.h); in libnetiso-inspect.la, never in the hook. */
#pragma once

#include "core/inspect.h"

const NetisoBackendInspect *netiso_backend_inspect(NetisoBackend kind);
