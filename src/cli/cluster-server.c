/* The hook's socket, STATE_DIR/cluster/watch.sock (a 0700 directory): one
 * request line, one answer line, then the connection closes.
 *   claim UUID TENANT ADDR,ADDR|- NAME  ->  ok created=N moved=N kept=N
 *                                            conflict WHY | unavailable WHY
 *   status                              ->  ok {JSON}
 * anything else                         ->  invalid WHY */
#include "autoconfig.h"

#include <gio/gunixsocketaddress.h>
#include <string.h>

#include "cli/cluster-private.h"
#include "engine/cluster-ask.h"
#include "util/error.h"
#include "util/names.h"
#include "util/quote.h"

#define CLIENT_TIMEOUT_S 5

typedef struct {
        NetisoClusterDaemon *d;
        GSocketConnection *conn;
        GCancellable *cancel;
        GString *line;
        guint timeout;
        char buf[4096];
} Client;

static void
client_free(Client *c)
{
        if (c->d)
                g_hash_table_remove(c->d->clients, c);
        if (c->timeout)
                g_source_remove(c->timeout);
        g_io_stream_close(G_IO_STREAM(c->conn), NULL, NULL);
        g_object_unref(c->conn);
        g_object_unref(c->cancel);
        g_string_free(c->line, TRUE);
        g_free(c);
}

static char *invalid(const char *format, ...) G_GNUC_PRINTF(1, 2);

static char *
invalid(const char *format, ...)
{
        g_autofree char *text = NULL;
        va_list ap;

        va_start(ap, format);
        text = g_strdup_vprintf(format, ap);
        va_end(ap);
        return g_strconcat("invalid ", text, NULL);
}

static char *
handle_claim(NetisoClusterDaemon *d, char **f)
{
        g_autofree char *uuid = netiso_uuid_canonical(f[1]);
        g_autofree char *tenant_problem = netiso_tenant_name_problem(f[2]);
        g_autoptr(GArray) addresses = g_array_new(FALSE, FALSE, sizeof(NetisoCidr));
        g_autoptr(NetisoClusterGuest) guest = NULL;
        g_auto(GStrv) addrs = NULL;

        if (!uuid || !g_str_equal(uuid, f[1]))
                return invalid("uuid is not canonical");
        if (tenant_problem)
                return invalid("tenant: %s", tenant_problem);
        if (netiso_domain_name_problem(f[4]))
                return invalid("name: %s", netiso_domain_name_problem(f[4]));
        addrs = g_strsplit(f[3], ",", -1);
        for (guint i = 0; !g_str_equal(f[3], "-") && addrs[i]; i++) {
                NetisoCidr a;
                if (!netiso_addr_parse(addrs[i], &a, NULL) || netiso_addr_guest_refusal(&a))
                        return invalid("not a guest address: %s", addrs[i]);
                g_array_append_val(addresses, a);
        }
        guest = netiso_cluster_guest_for(d, uuid, f[4], f[2], addresses);
        return netiso_cluster_claim_for_hook(d, guest);
}

static char *
handle_line(NetisoClusterDaemon *d, const char *line)
{
        g_auto(GStrv) f = g_strsplit(line, " ", 5);

        if (g_str_equal(line, "status")) {
                g_autofree char *json = netiso_cluster_status_json(d);
                return g_strconcat("ok ", json, NULL);
        }
        if (g_strv_length(f) == 5 && g_str_equal(f[0], "claim"))
                return handle_claim(d, f);
        return invalid("unknown request");
}

static void on_read(GObject *source, GAsyncResult *result, gpointer data);

static void
read_more(Client *c)
{
        GInputStream *in = g_io_stream_get_input_stream(G_IO_STREAM(c->conn));

        g_input_stream_read_async(in, c->buf, sizeof(c->buf), G_PRIORITY_DEFAULT, c->cancel,
                                  on_read, c);
}

static void
on_read(GObject *source, GAsyncResult *result, gpointer data)
{
        Client *c = data;
        g_autoptr(GError) error = NULL;
        gssize n = g_input_stream_read_finish(G_INPUT_STREAM(source), result, &error);
        g_autofree char *answer = NULL;
        g_autofree char *text = NULL;
        const char *end;

        if (n <= 0 || !c->d) {
                client_free(c);
                return;
        }
        g_string_append_len(c->line, c->buf, n);
        end = memchr(c->line->str, '\n', c->line->len);
        if (!end && c->line->len <= NETISO_CLUSTER_LINE_MAX) {
                read_more(c);
                return;
        }
        if (!end) {
                answer = invalid("request longer than %d bytes", NETISO_CLUSTER_LINE_MAX);
        } else {
                g_string_truncate(c->line, end - c->line->str);
                answer = g_utf8_validate(c->line->str, -1, NULL) ? handle_line(c->d, c->line->str)
                                                                 : invalid("request is not UTF-8");
        }
        text = g_strconcat(answer, "\n", NULL);
        /* A few hundred bytes into a fresh socket buffer: never blocks long. */
        g_output_stream_write_all(g_io_stream_get_output_stream(G_IO_STREAM(c->conn)), text,
                                  strlen(text), NULL, NULL, NULL);
        client_free(c);
}

static gboolean
on_client_timeout(gpointer data)
{
        Client *c = data;

        c->timeout = 0;
        g_cancellable_cancel(c->cancel);
        return G_SOURCE_REMOVE;
}

static gboolean
on_incoming(GSocketService *service, GSocketConnection *conn, GObject *source, gpointer data)
{
        Client *c = g_new0(Client, 1);

        c->d = data;
        c->conn = g_object_ref(conn);
        c->cancel = g_cancellable_new();
        c->line = g_string_new(NULL);
        c->timeout = g_timeout_add_seconds(CLIENT_TIMEOUT_S, on_client_timeout, c);
        g_hash_table_add(c->d->clients, c);
        read_more(c);
        return TRUE;
}

/* Another watch already answers on path (the same state directory twice). */
static gboolean
someone_listens(const char *path)
{
        g_autoptr(GSocketClient) client = g_socket_client_new();
        g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(path);
        g_autoptr(GSocketConnection) conn =
                g_socket_client_connect(client, G_SOCKET_CONNECTABLE(addr), NULL, NULL);

        return conn != NULL;
}

gboolean
netiso_cluster_server_start(NetisoClusterDaemon *d, GError **error)
{
        g_autofree char *path = netiso_cluster_socket_path(d->config->state_dir);
        g_autoptr(GSocketAddress) addr = NULL;
        g_autoptr(GError) local = NULL;

        if (someone_listens(path)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE,
                            "%s: another blixard-netiso watch answers there (one per state "
                            "directory)",
                            path);
                return FALSE;
        }
        unlink(path);
        addr = g_unix_socket_address_new(path);
        d->service = g_socket_service_new();
        if (!g_socket_listener_add_address(G_SOCKET_LISTENER(d->service), addr,
                                           G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL,
                                           NULL, &local)) {
                g_set_error(error, NETISO_ERROR, NETISO_ERROR_STATE, "%s: cannot listen: %s", path,
                            local->message);
                g_clear_object(&d->service);
                return FALSE;
        }
        d->clients = g_hash_table_new(NULL, NULL);
        g_signal_connect(d->service, "incoming", G_CALLBACK(on_incoming), d);
        g_socket_service_start(d->service);
        d->socket_path = g_steal_pointer(&path);
        return TRUE;
}

void
netiso_cluster_server_stop(NetisoClusterDaemon *d)
{
        GHashTableIter it;
        gpointer c;

        if (d->clients) {
                /* Their reads end cancelled and free them, without us. */
                g_hash_table_iter_init(&it, d->clients);
                while (g_hash_table_iter_next(&it, &c, NULL)) {
                        ((Client *)c)->d = NULL;
                        g_cancellable_cancel(((Client *)c)->cancel);
                }
                g_clear_pointer(&d->clients, g_hash_table_unref);
        }
        if (d->service) {
                g_socket_service_stop(d->service);
                g_socket_listener_close(G_SOCKET_LISTENER(d->service));
                g_clear_object(&d->service);
        }
        if (d->socket_path)
                unlink(d->socket_path);
        g_clear_pointer(&d->socket_path, g_free);
}
