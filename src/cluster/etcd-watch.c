/* The etcd watch on the caller's GLib main loop: a stream (the gateway sends
 * one JSON object per line) that resumes from the next unseen revision on
 * another endpoint after a disconnect, and reports a compaction. */
#include "autoconfig.h"

#include <string.h>

#include "cluster/etcd-private.h"
#include "util/quote.h"

#define WATCH_READ_SIZE 65536
#define WATCH_BACKOFF_MIN_MS 100
#define WATCH_BACKOFF_MAX_MS 5000

/* One HTTP stream; outlives its watch when a callback is still pending. */
typedef struct {
        gint ref;
        NetisoEtcdWatch *watch; /* NULL once the watch let go of it */
        guint endpoint;
        GCancellable *cancellable;
        GInputStream *input;
        GByteArray *buffer;
        GSource *connect_timer;
} Stream;

struct NetisoEtcdWatch {
        NetisoEtcd *etcd;
        SoupSession *session;
        GMainContext *context;
        char *key;
        char *range_end;
        gint64 next_revision; /* 0: from now */
        NetisoEtcdWatchFunc func;
        gpointer user_data;
        Stream *stream;
        guint endpoint;
        guint backoff_ms;
        GSource *retry;
        GSource *idle;
        guint idle_timeout_s;
        gboolean stopped; /* compacted: waits for restart */
        gboolean dispatching;
        gboolean free_pending;
};

static void
stream_unref(Stream *stream)
{
        if (!g_atomic_int_dec_and_test(&stream->ref))
                return;
        if (stream->connect_timer)
                g_source_destroy(stream->connect_timer);
        g_clear_pointer(&stream->connect_timer, g_source_unref);
        g_clear_object(&stream->cancellable);
        g_clear_object(&stream->input);
        g_byte_array_unref(stream->buffer);
        g_free(stream);
}

static Stream *
stream_ref(Stream *stream)
{
        g_atomic_int_inc(&stream->ref);
        return stream;
}

static void
source_clear(GSource **source)
{
        if (*source)
                g_source_destroy(*source);
        g_clear_pointer(source, g_source_unref);
}

static void
watch_drop_stream(NetisoEtcdWatch *watch)
{
        Stream *stream = g_steal_pointer(&watch->stream);

        source_clear(&watch->idle);
        if (!stream)
                return;
        stream->watch = NULL;
        source_clear(&stream->connect_timer);
        g_cancellable_cancel(stream->cancellable);
        stream_unref(stream);
}

static void
watch_destroy(NetisoEtcdWatch *watch)
{
        watch_drop_stream(watch);
        source_clear(&watch->retry);
        g_clear_object(&watch->session);
        g_clear_pointer(&watch->context, g_main_context_unref);
        g_free(watch->key);
        g_free(watch->range_end);
        g_free(watch);
}

/* Calls the owner, who may free or restart the watch from the callback:
 * FALSE when the watch is gone. */
static gboolean
watch_emit(NetisoEtcdWatch *watch, const NetisoEtcdWatchUpdate *update)
{
        watch->dispatching = TRUE;
        watch->func(watch, update, watch->user_data);
        watch->dispatching = FALSE;
        if (watch->free_pending) {
                watch_destroy(watch);
                return FALSE;
        }
        return TRUE;
}

static void watch_connect(NetisoEtcdWatch *watch);

static gboolean
on_retry(gpointer data)
{
        NetisoEtcdWatch *watch = data;

        g_clear_pointer(&watch->retry, g_source_unref);
        watch_connect(watch);
        return G_SOURCE_REMOVE;
}

static void
watch_schedule(NetisoEtcdWatch *watch, guint delay_ms)
{
        source_clear(&watch->retry);
        watch->retry = g_timeout_source_new(delay_ms);
        g_source_set_callback(watch->retry, on_retry, watch, NULL);
        g_source_attach(watch->retry, watch->context);
}

/* The stream failed: tell the owner, then try the next endpoint after a backoff. */
static void
stream_fail(Stream *stream, GError *error)
{
        NetisoEtcdWatch *watch = stream->watch;
        const char *endpoint = g_ptr_array_index(watch->etcd->endpoints, stream->endpoint);
        NetisoEtcdWatchUpdate update = {
                .status = NETISO_ETCD_WATCH_DISCONNECTED,
                .revision = watch->next_revision,
                .error = error,
                .endpoint = endpoint,
        };

        watch_drop_stream(watch);
        watch->endpoint = (stream->endpoint + 1) % watch->etcd->endpoints->len;
        if (!watch_emit(watch, &update))
                goto out;
        if (!watch->stream && !watch->retry && !watch->stopped) {
                watch_schedule(watch, watch->backoff_ms);
                watch->backoff_ms = MIN(watch->backoff_ms * 2, WATCH_BACKOFF_MAX_MS);
        }
out:
        g_error_free(error);
}

static gboolean
on_idle_timeout(gpointer data)
{
        NetisoEtcdWatch *watch = data;
        Stream *stream = watch->stream;

        g_clear_pointer(&watch->idle, g_source_unref);
        stream_fail(stream,
                    g_error_new(NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_UNAVAILABLE,
                                "etcd %s: watch silent for %u s",
                                (char *)g_ptr_array_index(watch->etcd->endpoints, stream->endpoint),
                                watch->idle_timeout_s));
        return G_SOURCE_REMOVE;
}

static void
watch_arm_idle(NetisoEtcdWatch *watch)
{
        source_clear(&watch->idle);
        if (!watch->idle_timeout_s || !watch->stream)
                return;
        watch->idle = g_timeout_source_new_seconds(watch->idle_timeout_s);
        g_source_set_callback(watch->idle, on_idle_timeout, watch, NULL);
        g_source_attach(watch->idle, watch->context);
}

static gboolean
decode_events(JsonObject *result, GPtrArray *events, GError **error)
{
        JsonNode *list = json_object_get_member(result, "events");
        JsonArray *array;

        if (!list || JSON_NODE_HOLDS_NULL(list))
                return TRUE;
        if (!JSON_NODE_HOLDS_ARRAY(list)) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                            "etcd answer: member 'events' is not an array");
                return FALSE;
        }
        array = json_node_get_array(list);
        for (guint i = 0; i < json_array_get_length(array); i++) {
                JsonNode *node = json_array_get_element(array, i);
                JsonObject *object =
                        JSON_NODE_HOLDS_OBJECT(node) ? json_node_get_object(node) : NULL;
                const char *type = NULL;
                NetisoEtcdEvent *event;
                NetisoEtcdKv *kv;

                if (!object) {
                        g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                                    "etcd answer: event %u is not an object", i);
                        return FALSE;
                }
                if (json_object_has_member(object, "type"))
                        type = json_object_get_string_member_with_default(object, "type", "?");
                if (type && strcmp(type, "PUT") != 0 && strcmp(type, "DELETE") != 0) {
                        g_autofree char *quoted = netiso_quote(type);
                        g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                                    "etcd answer: event %u has type '%s'", i, quoted);
                        return FALSE;
                }
                kv = netiso_etcd_kv_from_json(json_object_get_member(object, "kv"), error);
                if (!kv)
                        return FALSE;
                event = g_new0(NetisoEtcdEvent, 1);
                event->type = type && strcmp(type, "DELETE") == 0 ? NETISO_ETCD_EVENT_DELETE
                                                                  : NETISO_ETCD_EVENT_PUT;
                event->kv = kv;
                g_ptr_array_add(events, event);
        }
        return TRUE;
}

static void
event_free(NetisoEtcdEvent *event)
{
        netiso_etcd_kv_free(event->kv);
        g_free(event);
}

/* One line of the stream. FALSE when the stream ended (failed, compacted,
 * or the watch was freed or restarted by the owner). */
static gboolean
stream_line(Stream *stream, const char *line, gsize len)
{
        NetisoEtcdWatch *watch = stream->watch;
        const char *endpoint = g_ptr_array_index(watch->etcd->endpoints, stream->endpoint);
        g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func((GDestroyNotify)event_free);
        g_autoptr(JsonNode) root = NULL;
        GError *error = NULL;
        JsonObject *result;
        JsonNode *node;
        gboolean created, canceled;
        gint64 revision, compact;
        NetisoEtcdWatchUpdate update = { .endpoint = endpoint };

        root = netiso_etcd_parse_object(endpoint, line, len, &error);
        if (!root) {
                stream_fail(stream, error);
                return FALSE;
        }
        if ((error = netiso_etcd_error_from_json(endpoint, json_node_get_object(root), 0))) {
                stream_fail(stream, error);
                return FALSE;
        }
        node = json_object_get_member(json_node_get_object(root), "result");
        if (!node || !JSON_NODE_HOLDS_OBJECT(node)) {
                stream_fail(stream,
                            g_error_new(NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                                        "etcd %s: watch answer without a result", endpoint));
                return FALSE;
        }
        result = json_node_get_object(node);
        if (!netiso_etcd_header_revision(result, &revision, &error) ||
            !netiso_etcd_json_bool(result, "created", &created, &error) ||
            !netiso_etcd_json_bool(result, "canceled", &canceled, &error) ||
            !netiso_etcd_json_int64(result, "compact_revision", &compact, &error) ||
            !decode_events(result, events, &error)) {
                stream_fail(stream, error);
                return FALSE;
        }
        if (canceled && compact > 0) {
                /* Our revision is gone: the owner must read everything again. */
                watch_drop_stream(watch);
                watch->stopped = TRUE;
                update.status = NETISO_ETCD_WATCH_COMPACTED;
                update.revision = compact;
                watch_emit(watch, &update);
                return FALSE;
        }
        if (canceled) {
                const char *why = json_object_get_string_member_with_default(
                        result, "cancel_reason", "canceled by etcd");
                g_autofree char *quoted = netiso_quote(why);
                stream_fail(stream,
                            g_error_new(NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_UNAVAILABLE,
                                        "etcd %s: watch canceled: %s", endpoint, quoted));
                return FALSE;
        }
        if (created) {
                watch->backoff_ms = WATCH_BACKOFF_MIN_MS;
                watch->etcd->preferred = stream->endpoint;
                update.status = NETISO_ETCD_WATCH_CONNECTED;
                update.revision = revision;
        } else if (events->len > 0) {
                NetisoEtcdEvent *last = g_ptr_array_index(events, events->len - 1);
                watch->next_revision = MAX(watch->next_revision, last->kv->mod_revision + 1);
                update.status = NETISO_ETCD_WATCH_EVENTS;
                update.revision = revision;
                update.events = events;
        } else {
                watch->next_revision = MAX(watch->next_revision, revision + 1);
                update.status = NETISO_ETCD_WATCH_PROGRESS;
                update.revision = revision;
        }
        return watch_emit(watch, &update) && watch->stream == stream;
}

static void on_read(GObject *source, GAsyncResult *result, gpointer data);

static void
stream_read(Stream *stream)
{
        g_input_stream_read_bytes_async(stream->input, WATCH_READ_SIZE, G_PRIORITY_DEFAULT,
                                        stream->cancellable, on_read, stream_ref(stream));
}

static void
on_read(GObject *source, GAsyncResult *result, gpointer data)
{
        Stream *stream = data;
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) bytes =
                g_input_stream_read_bytes_finish(G_INPUT_STREAM(source), result, &error);
        NetisoEtcdWatch *watch = stream->watch;
        const char *endpoint;
        guint8 *nl;

        if (!watch)
                goto out;
        endpoint = g_ptr_array_index(watch->etcd->endpoints, stream->endpoint);
        if (!bytes) {
                stream_fail(stream,
                            g_error_new(NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_UNAVAILABLE,
                                        "etcd %s: watch stream: %s", endpoint, error->message));
                goto out;
        }
        if (g_bytes_get_size(bytes) == 0) {
                stream_fail(stream,
                            g_error_new(NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_UNAVAILABLE,
                                        "etcd %s: watch stream ended", endpoint));
                goto out;
        }
        watch_arm_idle(watch);
        g_byte_array_append(stream->buffer, g_bytes_get_data(bytes, NULL),
                            (guint)g_bytes_get_size(bytes));
        while ((nl = memchr(stream->buffer->data, '\n', stream->buffer->len))) {
                gsize len = (gsize)(nl - stream->buffer->data);
                g_autofree char *line = g_strndup((char *)stream->buffer->data, len);
                g_byte_array_remove_range(stream->buffer, 0, (guint)len + 1);
                if (len == 0 || (len == 1 && line[0] == '\r'))
                        continue;
                if (!stream_line(stream, line, len))
                        goto out;
        }
        if (stream->buffer->len > NETISO_ETCD_RESPONSE_MAX) {
                stream_fail(stream, g_error_new(NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_PROTOCOL,
                                                "etcd %s: watch answer over %d bytes", endpoint,
                                                NETISO_ETCD_RESPONSE_MAX));
                goto out;
        }
        stream_read(stream);
out:
        stream_unref(stream);
}

static void
on_sent(GObject *source, GAsyncResult *result, gpointer data)
{
        Stream *stream = data;
        SoupSession *session = SOUP_SESSION(source);
        SoupMessage *msg = soup_session_get_async_result_message(session, result);
        g_autoptr(GError) error = NULL;
        GInputStream *input = soup_session_send_finish(session, result, &error);
        NetisoEtcdWatch *watch = stream->watch;
        const char *endpoint;
        guint status;

        if (!watch) {
                g_clear_object(&input);
                goto out;
        }
        source_clear(&stream->connect_timer);
        endpoint = g_ptr_array_index(watch->etcd->endpoints, stream->endpoint);
        if (!input) {
                stream_fail(stream,
                            g_error_new(NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_UNAVAILABLE,
                                        "etcd %s: %s", endpoint,
                                        g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)
                                                ? "no answer in time"
                                                : error->message));
                goto out;
        }
        stream->input = input;
        status = soup_message_get_status(msg);
        if (!SOUP_STATUS_IS_SUCCESSFUL(status)) {
                stream_fail(stream, netiso_etcd_error_from_answer(endpoint, status, "", 0));
                goto out;
        }
        watch_arm_idle(watch);
        stream_read(stream);
out:
        stream_unref(stream);
}

/* Fail the stream ourselves: a cancelled request does not always end (etcd-client.c). */
static gboolean
on_connect_timeout(gpointer data)
{
        Stream *stream = data;
        NetisoEtcdWatch *watch = stream->watch;

        g_clear_pointer(&stream->connect_timer, g_source_unref);
        stream_fail(stream,
                    g_error_new(NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_UNAVAILABLE,
                                "etcd %s: no answer within %u ms",
                                (char *)g_ptr_array_index(watch->etcd->endpoints, stream->endpoint),
                                watch->etcd->timeout_ms));
        return G_SOURCE_REMOVE;
}

static GBytes *
watch_request(const NetisoEtcdWatch *watch)
{
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autoptr(JsonGenerator) generator = json_generator_new();
        g_autoptr(JsonNode) root = NULL;
        gsize len = 0;
        char *text;

        json_builder_begin_object(b);
        json_builder_set_member_name(b, "create_request");
        json_builder_begin_object(b);
        netiso_etcd_json_add_bytes(b, "key", watch->key, strlen(watch->key));
        if (watch->range_end)
                netiso_etcd_json_add_bytes(b, "range_end",
                                           *watch->range_end ? watch->range_end : "\0",
                                           *watch->range_end ? strlen(watch->range_end) : 1);
        if (watch->next_revision)
                netiso_etcd_json_add_int64(b, "start_revision", watch->next_revision);
        json_builder_set_member_name(b, "progress_notify");
        json_builder_add_boolean_value(b, TRUE);
        json_builder_end_object(b);
        json_builder_end_object(b);
        root = json_builder_get_root(b);
        json_generator_set_root(generator, root);
        text = json_generator_to_data(generator, &len);
        return g_bytes_new_take(text, len);
}

static void
watch_connect(NetisoEtcdWatch *watch)
{
        g_autoptr(GBytes) body = watch_request(watch);
        g_autoptr(SoupMessage) msg = NULL;
        Stream *stream = g_new0(Stream, 1);

        watch_drop_stream(watch);
        stream->ref = 1;
        stream->watch = watch;
        stream->endpoint = watch->endpoint;
        stream->cancellable = g_cancellable_new();
        stream->buffer = g_byte_array_new();
        watch->stream = stream;
        /* Until etcd answers the request, the call deadline applies. */
        stream->connect_timer = g_timeout_source_new(watch->etcd->timeout_ms);
        g_source_set_callback(stream->connect_timer, on_connect_timeout, stream, NULL);
        g_source_attach(stream->connect_timer, watch->context);
        msg = netiso_etcd_message_new(watch->etcd, stream->endpoint, "/v3/watch", body);
        soup_session_send_async(watch->session, msg, G_PRIORITY_DEFAULT, stream->cancellable,
                                on_sent, stream_ref(stream));
}

NetisoEtcdWatch *
netiso_etcd_watch_new(NetisoEtcd *etcd, const char *key, const char *range_end,
                      gint64 start_revision, NetisoEtcdWatchFunc func, gpointer user_data)
{
        NetisoEtcdWatch *watch = g_new0(NetisoEtcdWatch, 1);

        watch->etcd = etcd;
        watch->session = g_object_ref(netiso_etcd_async_session(etcd));
        watch->context = g_main_context_ref_thread_default();
        watch->key = g_strdup(key);
        watch->range_end = g_strdup(range_end);
        watch->next_revision = start_revision;
        watch->func = func;
        watch->user_data = user_data;
        watch->endpoint = etcd->preferred;
        watch->backoff_ms = WATCH_BACKOFF_MIN_MS;
        watch_schedule(watch, 0);
        return watch;
}

gint64
netiso_etcd_watch_get_next_revision(const NetisoEtcdWatch *watch)
{
        return watch->next_revision;
}

void
netiso_etcd_watch_restart(NetisoEtcdWatch *watch, gint64 start_revision)
{
        watch_drop_stream(watch);
        watch->stopped = FALSE;
        watch->next_revision = start_revision;
        watch->backoff_ms = WATCH_BACKOFF_MIN_MS;
        watch_schedule(watch, 0);
}

void
netiso_etcd_watch_reconnect(NetisoEtcdWatch *watch)
{
        if (watch->stopped)
                return;
        if (watch->stream)
                watch->endpoint = (watch->stream->endpoint + 1) % watch->etcd->endpoints->len;
        watch_drop_stream(watch);
        watch_schedule(watch, 0);
}

void
netiso_etcd_watch_set_idle_timeout(NetisoEtcdWatch *watch, guint seconds)
{
        watch->idle_timeout_s = seconds;
        watch_arm_idle(watch);
}

void
netiso_etcd_watch_free(NetisoEtcdWatch *watch)
{
        if (!watch)
                return;
        if (watch->dispatching) {
                watch->free_pending = TRUE;
                watch_drop_stream(watch);
                source_clear(&watch->retry);
                return;
        }
        watch_destroy(watch);
}
