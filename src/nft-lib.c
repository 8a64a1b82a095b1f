/* Loads libnftables with dlopen() the first time the full nftables path
 * runs (nft-lib.h). The soname is the one configure linked against in its
 * check, so a mismatch shows at build time, not in the hook. */
#include "autoconfig.h"

#include <dlfcn.h>
#include <string.h>

#include "error.h"
#include "nft-lib.h"

static gboolean
resolve(void *handle, const char *name, void *ret_fn, GError **error)
{
        void *sym = dlsym(handle, name);

        if (!sym) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "%s has no symbol %s: %s",
                            NETISO_LIBNFTABLES_SONAME, name, dlerror());
                return FALSE;
        }
        /* POSIX guarantees data and function pointers share a representation. */
        memcpy(ret_fn, &sym, sizeof sym);
        return TRUE;
}

const NetisoNftLib *
netiso_nft_lib(GError **error)
{
        static NetisoNftLib lib;
        static gboolean loaded;
        void *handle;

        if (loaded)
                return &lib;
        handle = dlopen(NETISO_LIBNFTABLES_SONAME, RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "cannot load %s: %s",
                            NETISO_LIBNFTABLES_SONAME, dlerror());
                return NULL;
        }
        /* Never closed: the library lives as long as the process. */
        if (!resolve(handle, "nft_ctx_new", &lib.ctx_new, error) ||
            !resolve(handle, "nft_ctx_free", &lib.ctx_free, error) ||
            !resolve(handle, "nft_ctx_buffer_output", &lib.buffer_output, error) ||
            !resolve(handle, "nft_ctx_buffer_error", &lib.buffer_error, error) ||
            !resolve(handle, "nft_ctx_output_set_flags", &lib.output_set_flags, error) ||
            !resolve(handle, "nft_run_cmd_from_buffer", &lib.run_cmd_from_buffer, error) ||
            !resolve(handle, "nft_ctx_get_output_buffer", &lib.get_output_buffer, error) ||
            !resolve(handle, "nft_ctx_get_error_buffer", &lib.get_error_buffer, error))
                return NULL;
        loaded = TRUE;
        return &lib;
}
