/* The firewall backends of this build, by kind (backend.h's interface). */
#pragma once

#include "core/backend.h"

const NetisoBackendOps *netiso_backend_ops(NetisoBackend kind);
