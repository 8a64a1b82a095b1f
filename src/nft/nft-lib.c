/* Loads libnftables with dlopen() the first time the full nftables path
 * runs (nft-lib.h). The soname is the one configure linked against in its
 * check, so a mismatch shows at build time, not in the hook. */
#include "autoconfig.h"

#include <dlfcn.h>
#include <string.h>

#include "nft/nft-lib.h"
#include "util/error.h"

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

#define CTX_HANDLE "libnftables"

typedef struct {
        const NetisoNftLib *lib;
        struct nft_ctx *nft;
} Context;

static void
context_free(gpointer data)
{
        Context *c = data;

        c->lib->ctx_free(c->nft);
        g_free(c);
}

/* One context for the firewall's life: see netiso_firewall_set_handle(). */
static Context *
context(NetisoFirewall *fw, GError **error)
{
        Context *c = netiso_firewall_handle(fw, CTX_HANDLE);
        const NetisoNftLib *lib;
        struct nft_ctx *nft;

        if (c)
                return c;
        lib = netiso_nft_lib(error);
        if (!lib)
                return NULL;
        nft = lib->ctx_new(NFT_CTX_DEFAULT);
        if (!nft) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL,
                            "nftables: cannot create a libnftables context");
                return NULL;
        }
        lib->buffer_output(nft);
        lib->buffer_error(nft);
        c = g_new0(Context, 1);
        c->lib = lib;
        c->nft = nft;
        netiso_firewall_set_handle(fw, CTX_HANDLE, c, context_free);
        return c;
}

/* The buffers are rewound by each read, so a context serves many commands. */
static char *
run_text(NetisoFirewall *fw, const char *text, gboolean json, GError **error)
{
        Context *c = context(fw, error);
        int rc;

        if (!c)
                return NULL;
        c->lib->output_set_flags(c->nft, json ? NFT_CTX_OUTPUT_JSON : 0);
        rc = c->lib->run_cmd_from_buffer(c->nft, text);
        if (rc != 0) {
                g_autofree char *line =
                        netiso_firewall_error_line(c->lib->get_error_buffer(c->nft));
                c->lib->get_output_buffer(c->nft);
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_FIREWALL, "nftables: %s", line);
                return NULL;
        }
        c->lib->get_error_buffer(c->nft);
        return g_strdup(c->lib->get_output_buffer(c->nft));
}

static gboolean
apply(NetisoFirewall *fw, const char *target, const char *text, GError **error)
{
        g_autofree char *output = run_text(fw, text, /* json */ FALSE, error);

        (void)target;
        return output != NULL;
}

gboolean
netiso_nft_run(NetisoFirewall *fw, const char *text, GError **error)
{
        return netiso_firewall_run(fw, "nft", text, apply, error);
}

char *
netiso_nft_query(NetisoFirewall *fw, const char *command, gboolean json, GError **error)
{
        if (netiso_firewall_mode(fw) == NETISO_FIREWALL_CAPTURE)
                return g_strdup("");
        return run_text(fw, command, json, error);
}
