/* Handing out flow ids (flow-ids.h): a counter in the state directory, and
 * the links of state.c to tell which ids records still hold. */
#include "autoconfig.h"

#include <stdlib.h>

#include "core/flow-ids.h"
#include "core/state.h"
#include "util/error.h"

static char *
counter_path(const char *state_dir)
{
        return g_build_filename(state_dir, "flow-id", NULL);
}

/* Held when the link names a domain whose record has that id. A record
 * that cannot be read counts as holding it: never hand out an id twice. */
static gboolean
is_held(const char *state_dir, guint16 id)
{
        g_autofree char *path = netiso_state_flow_path(state_dir, id);
        g_autofree char *target = g_file_read_link(path, NULL);
        g_autofree char *domain = NULL;
        g_autoptr(NetisoRecord) record = NULL;

        if (!target)
                return FALSE;
        domain = g_uri_unescape_string(target, NULL);
        if (!domain || !netiso_state_load(state_dir, domain, &record, NULL))
                return TRUE;
        return record && record->flow_id == id;
}

static gboolean
find_free(const char *state_dir, guint16 *ret_id, GError **error)
{
        g_autofree char *path = counter_path(state_dir);
        g_autofree char *text = NULL;
        guint last = 0;

        /* Missing or damaged: start anywhere, the links still tell what is held. */
        if (g_file_get_contents(path, &text, NULL, NULL))
                last = (guint)strtoul(text, NULL, 10) % NETISO_FLOW_ID_MAX;
        for (guint n = 0; n < NETISO_FLOW_ID_MAX; n++) {
                guint16 id = (guint16)(last % NETISO_FLOW_ID_MAX + 1);

                last = id;
                if (!is_held(state_dir, id)) {
                        *ret_id = id;
                        return TRUE;
                }
        }
        g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE,
                    "%s: no flow id is free: records hold all %u", state_dir, NETISO_FLOW_ID_MAX);
        return FALSE;
}

gboolean
netiso_flow_id_next(const char *state_dir, guint16 *ret_id, GError **error)
{
        return find_free(state_dir, ret_id, error);
}

gboolean
netiso_flow_id_hand_out(const char *state_dir, guint16 id, GError **error)
{
        g_autofree char *path = counter_path(state_dir);
        g_autoptr(GError) local = NULL;
        char text[8];

        g_snprintf(text, sizeof(text), "%u\n", id);
        if (!g_file_set_contents_full(path, text, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                      &local)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s", local->message);
                return FALSE;
        }
        return TRUE;
}

gboolean
netiso_flow_id_new(const char *state_dir, guint16 *ret_id, GError **error)
{
        guint16 id = 0;

        if (!find_free(state_dir, &id, error) || !netiso_flow_id_hand_out(state_dir, id, error))
                return FALSE;
        *ret_id = id;
        return TRUE;
}
