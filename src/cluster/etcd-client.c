/* The etcd client's transport: endpoints and TLS checked once, then each call
 * is one JSON POST tried on the endpoints in turn under one deadline, so a
 * caller (the hook) is never held longer than it asked for. */
#include "autoconfig.h"

#include <string.h>

#include "cluster/etcd-private.h"
#include "util/endpoint.h"
#include "util/quote.h"

G_DEFINE_QUARK(blixard - netiso - cluster - error - quark, netiso_cluster_error)

gboolean
netiso_etcd_endpoint_check(const char *text, char **ret_endpoint, GError **error)
{
        const char *problem = netiso_endpoint_problem(text);
        g_autofree char *quoted = NULL;
        gsize len = strlen(text);

        if (problem) {
                quoted = netiso_quote(text);
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_OPTIONS,
                            "etcd endpoint '%s' %s", quoted, problem);
                return FALSE;
        }
        if (ret_endpoint)
                *ret_endpoint = g_strndup(text, len - (len && text[len - 1] == '/' ? 1 : 0));
        return TRUE;
}

static SoupSession *
session_new(const NetisoEtcd *etcd)
{
        /* The watch stream holds one connection; calls and keep-alives need others. */
        SoupSession *session =
                soup_session_new_with_options("max-conns-per-host", 8, "max-conns", 64, NULL);

        /* Never through a proxy from the environment: etcd is on the cluster network. */
        soup_session_set_proxy_resolver(session, NULL);
        soup_session_set_user_agent(session, PACKAGE_NAME "/" PACKAGE_VERSION);
        if (etcd->tls_database)
                soup_session_set_tls_database(session, etcd->tls_database);
        return session;
}

static gboolean
load_tls(NetisoEtcd *etcd, const NetisoEtcdOptions *options, GError **error)
{
        g_autoptr(GError) local = NULL;

        if (!options->cert_file != !options->key_file) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_OPTIONS,
                            "etcd client certificate needs both cert_file and key_file");
                return FALSE;
        }
        if (options->ca_file) {
                etcd->tls_database = g_tls_file_database_new(options->ca_file, &local);
                if (!etcd->tls_database) {
                        g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_OPTIONS,
                                    "etcd ca_file %s: %s", options->ca_file, local->message);
                        return FALSE;
                }
        }
        if (options->cert_file) {
                etcd->client_cert = g_tls_certificate_new_from_files(options->cert_file,
                                                                     options->key_file, &local);
                if (!etcd->client_cert) {
                        g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_OPTIONS,
                                    "etcd cert_file %s or key_file %s: %s", options->cert_file,
                                    options->key_file, local->message);
                        return FALSE;
                }
        }
        return TRUE;
}

NetisoEtcd *
netiso_etcd_new(const NetisoEtcdOptions *options, GError **error)
{
        g_autoptr(NetisoEtcd) etcd = g_new0(NetisoEtcd, 1);

        etcd->endpoints = g_ptr_array_new_with_free_func(g_free);
        etcd->timeout_ms =
                options->timeout_ms ? options->timeout_ms : NETISO_ETCD_DEFAULT_TIMEOUT_MS;
        for (guint i = 0; options->endpoints && options->endpoints[i]; i++) {
                char *endpoint;
                if (i == NETISO_ETCD_ENDPOINTS_MAX) {
                        g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_OPTIONS,
                                    "more than %d etcd endpoints", NETISO_ETCD_ENDPOINTS_MAX);
                        return NULL;
                }
                if (!netiso_etcd_endpoint_check(options->endpoints[i], &endpoint, error))
                        return NULL;
                g_ptr_array_add(etcd->endpoints, endpoint);
        }
        if (etcd->endpoints->len == 0) {
                g_set_error(error, NETISO_CLUSTER_ERROR, NETISO_CLUSTER_ERROR_OPTIONS,
                            "no etcd endpoints");
                return NULL;
        }
        if (!load_tls(etcd, options, error))
                return NULL;
        etcd->sync_context = g_main_context_new();
        g_main_context_push_thread_default(etcd->sync_context);
        etcd->sync_session = session_new(etcd);
        g_main_context_pop_thread_default(etcd->sync_context);
        return g_steal_pointer(&etcd);
}

void
netiso_etcd_free(NetisoEtcd *etcd)
{
        if (!etcd)
                return;
        if (etcd->sync_session) {
                /* Its connections' sources belong to the private context. */
                g_main_context_push_thread_default(etcd->sync_context);
                soup_session_abort(etcd->sync_session);
                g_clear_object(&etcd->sync_session);
                while (g_main_context_iteration(etcd->sync_context, FALSE))
                        ;
                g_main_context_pop_thread_default(etcd->sync_context);
        }
        if (etcd->async_session)
                soup_session_abort(etcd->async_session);
        g_clear_object(&etcd->async_session);
        g_clear_pointer(&etcd->async_context, g_main_context_unref);
        g_clear_pointer(&etcd->sync_context, g_main_context_unref);
        g_clear_object(&etcd->tls_database);
        g_clear_object(&etcd->client_cert);
        g_clear_pointer(&etcd->endpoints, g_ptr_array_unref);
        g_free(etcd);
}

void
netiso_etcd_set_timeout(NetisoEtcd *etcd, guint timeout_ms)
{
        etcd->timeout_ms = timeout_ms ? timeout_ms : NETISO_ETCD_DEFAULT_TIMEOUT_MS;
}

guint
netiso_etcd_get_timeout(const NetisoEtcd *etcd)
{
        return etcd->timeout_ms;
}

const char *
netiso_etcd_get_endpoint(const NetisoEtcd *etcd)
{
        return g_ptr_array_index(etcd->endpoints, etcd->preferred);
}

SoupMessage *
netiso_etcd_message_new(const NetisoEtcd *etcd, guint endpoint, const char *path, GBytes *body)
{
        g_autofree char *url =
                g_strconcat(g_ptr_array_index(etcd->endpoints, endpoint), path, NULL);
        SoupMessage *msg = soup_message_new(SOUP_METHOD_POST, url);

        g_assert(msg); /* the endpoint was checked, the path is ours */
        soup_message_set_request_body_from_bytes(msg, "application/json", body);
        /* etcd's gRPC "hasleader" metadata: a member cut off from its leader
         * answers (and ends a watch) at once instead of serving stale data. */
        soup_message_headers_append(soup_message_get_request_headers(msg),
                                    "Grpc-Metadata-hasleader", "true");
        if (etcd->client_cert)
                soup_message_set_tls_client_certificate(msg, etcd->client_cert);
        return msg;
}

SoupSession *
netiso_etcd_async_session(NetisoEtcd *etcd)
{
        g_autoptr(GMainContext) context = g_main_context_ref_thread_default();

        if (!etcd->async_session) {
                etcd->async_context = g_main_context_ref(context);
                etcd->async_session = session_new(etcd);
        }
        /* libsoup dispatches a session's I/O on the context it was made in. */
        g_assert(context == etcd->async_context);
        return etcd->async_session;
}

#define PASS_PAUSE_MS 100 /* between two rounds over the endpoints */

/* One call: the endpoints in turn, each given an even share of the time left.
 * The deadline is ours, not libsoup's: an attempt whose time is up is given up
 * at once (its late callback finds itself stale), so a call returns on time
 * even when a connection hangs in a way cancelling does not end (libsoup
 * 3.2.3 never completes a request that a TLS server refused for want of a
 * client certificate, cancelled or not). */
typedef struct {
        NetisoEtcd *etcd;
        GTask *task; /* not a reference: the task owns the call */
        SoupSession *session;
        char *path;
        GBytes *body;
        guint timeout_ms;
        gint64 deadline; /* monotonic, microseconds */
        guint tried;     /* endpoints tried in this round */
        guint passes;    /* rounds over all endpoints before this one */
        gboolean busy;   /* a member of this round answered 5xx */
        guint index;
        GString *failures;     /* "; endpoint: why" of each endpoint in this round */
        guint attempt_id;      /* bumped when an attempt ends or is given up */
        GCancellable *attempt; /* the current endpoint's */
        GSource *timer;
        guint share_ms; /* the current endpoint's time */
        gboolean returned;
        GCancellable *caller; /* the caller's, or NULL */
        gulong cancel_id;
        GSource *cancel_idle;
} Call;

/* What an attempt's callback gets: a reference to the task, and which attempt. */
typedef struct {
        GTask *task;
        guint id;
} Pending;

static void
source_clear(GSource **source)
{
        if (*source)
                g_source_destroy(*source);
        g_clear_pointer(source, g_source_unref);
}

static void
call_free(Call *call)
{
        source_clear(&call->timer);
        source_clear(&call->cancel_idle);
        g_clear_object(&call->caller);
        g_clear_object(&call->attempt);
        g_clear_object(&call->session);
        g_free(call->path);
        g_bytes_unref(call->body);
        g_string_free(call->failures, TRUE);
        g_free(call);
}

/* End the current attempt, whatever state libsoup is in. */
static void
attempt_drop(Call *call)
{
        call->attempt_id++;
        source_clear(&call->timer);
        if (call->attempt)
                g_cancellable_cancel(call->attempt);
        g_clear_object(&call->attempt);
}

/* Return once (node, or else error), then drop the driving reference. */
static void
call_return(Call *call, JsonNode *node, GError *error)
{
        GTask *task = call->task;

        g_assert(!call->returned);
        call->returned = TRUE;
        attempt_drop(call);
        source_clear(&call->cancel_idle);
        if (call->caller && call->cancel_id)
                g_cancellable_disconnect(call->caller, call->cancel_id);
        call->cancel_id = 0;
        if (node)
                g_task_return_pointer(task, node, (GDestroyNotify)json_node_unref);
        else
                g_task_return_error(task, error);
        g_object_unref(task);
}

static void
call_fail(Call *call, int code)
{
        /* failures starts with "; " */
        call_return(call, NULL,
                    g_error_new(NETISO_CLUSTER_ERROR, code, "etcd %s: %s", call->path,
                                call->failures->str + 2));
}

static void attempt_next(Call *call);

static gboolean
on_pass_pause(gpointer data)
{
        Call *call = data;

        g_clear_pointer(&call->timer, g_source_unref);
        attempt_next(call);
        return G_SOURCE_REMOVE;
}

static gboolean
on_attempt_timeout(gpointer data)
{
        Call *call = data;
        const char *endpoint = g_ptr_array_index(call->etcd->endpoints, call->index);

        g_string_append_printf(call->failures, "; %s: no answer within %u ms", endpoint,
                               call->share_ms);
        attempt_drop(call);
        attempt_next(call);
        return G_SOURCE_REMOVE;
}

static gboolean
on_cancel_idle(gpointer data)
{
        Call *call = data;
        GError *error = NULL;

        g_clear_pointer(&call->cancel_idle, g_source_unref);
        g_cancellable_set_error_if_cancelled(call->caller, &error);
        call_return(call, NULL, error);
        return G_SOURCE_REMOVE;
}

/* Runs inside g_cancellable_cancel(): return from an idle, where
 * disconnecting this handler is allowed. */
static void
on_caller_cancelled(GCancellable *cancellable, gpointer data)
{
        Call *call = data;

        if (call->returned || call->cancel_idle)
                return;
        call->cancel_idle = g_idle_source_new();
        g_source_set_callback(call->cancel_idle, on_cancel_idle, call, NULL);
        g_source_attach(call->cancel_idle, g_task_get_context(call->task));
}

/* An attempt's answer: the next endpoint, an error, or the answer. */
static void
attempt_finish(Call *call, SoupMessage *msg, GBytes *body, const GError *error)
{
        const char *endpoint = g_ptr_array_index(call->etcd->endpoints, call->index);
        g_autoptr(GError) local = NULL;
        const char *data_ptr;
        gsize len = 0;
        guint status;
        JsonNode *node;

        attempt_drop(call);
        if (!body) {
                g_string_append_printf(call->failures, "; %s: %s", endpoint, error->message);
                attempt_next(call);
                return;
        }
        status = soup_message_get_status(msg);
        data_ptr = g_bytes_get_data(body, &len);
        if (!SOUP_STATUS_IS_SUCCESSFUL(status)) {
                GError *answer = netiso_etcd_error_from_answer(endpoint, status, data_ptr, len);
                if (answer->code != NETISO_CLUSTER_ERROR_UNAVAILABLE) {
                        call_return(call, NULL, answer);
                        return;
                }
                call->busy = TRUE;
                /* answer->message is "etcd ENDPOINT: why" */
                g_string_append_printf(call->failures, "; %s", answer->message + strlen("etcd "));
                g_error_free(answer);
                attempt_next(call);
                return;
        }
        node = netiso_etcd_parse_object(endpoint, data_ptr, len, &local);
        if (!node) {
                call_return(call, NULL, g_steal_pointer(&local));
                return;
        }
        call->etcd->preferred = call->index;
        call_return(call, node, NULL);
}

static void
on_attempt_done(GObject *source, GAsyncResult *result, gpointer data)
{
        Pending *pending = data;
        g_autoptr(GTask) task = pending->task;
        Call *call = g_task_get_task_data(task);
        SoupMessage *msg = soup_session_get_async_result_message(SOUP_SESSION(source), result);
        g_autoptr(GError) error = NULL;
        g_autoptr(GBytes) body =
                soup_session_send_and_read_finish(SOUP_SESSION(source), result, &error);
        guint id = pending->id;

        g_free(pending);
        /* Given up (deadline, or the call already returned): nothing to do. */
        if (call->returned || id != call->attempt_id)
                return;
        attempt_finish(call, msg, body, error);
}

static void
attempt_next(Call *call)
{
        guint n = call->etcd->endpoints->len;
        gint64 left_us = call->deadline - g_get_monotonic_time();
        g_autoptr(SoupMessage) msg = NULL;
        Pending *pending;

        if (call->returned)
                return;
        if (call->tried == n) {
                /* A member answered that it cannot serve now ("no leader"
                 * during an election): go round again while the deadline
                 * allows. Members that do not answer at all fail at once. */
                if (!call->busy || left_us < 2 * PASS_PAUSE_MS * 1000) {
                        if (call->passes)
                                g_string_append_printf(call->failures, "; %u rounds",
                                                       call->passes + 1);
                        call_fail(call, NETISO_CLUSTER_ERROR_UNAVAILABLE);
                        return;
                }
                call->tried = 0;
                call->busy = FALSE;
                call->passes++;
                g_string_truncate(call->failures, 0);
                call->timer = g_timeout_source_new(PASS_PAUSE_MS);
                g_source_set_callback(call->timer, on_pass_pause, call, NULL);
                g_source_attach(call->timer, g_task_get_context(call->task));
                return;
        }
        if (left_us <= 0) {
                g_string_append_printf(call->failures, "; deadline of %u ms passed",
                                       call->timeout_ms);
                call_fail(call, NETISO_CLUSTER_ERROR_UNAVAILABLE);
                return;
        }
        call->index = (call->etcd->preferred + call->tried) % n;
        call->share_ms = MAX(1, (guint)(left_us / 1000 / (n - call->tried)));
        call->tried++;
        call->attempt = g_cancellable_new();
        call->timer = g_timeout_source_new(call->share_ms);
        g_source_set_callback(call->timer, on_attempt_timeout, call, NULL);
        g_source_attach(call->timer, g_task_get_context(call->task));
        msg = netiso_etcd_message_new(call->etcd, call->index, call->path, call->body);
        pending = g_new0(Pending, 1);
        pending->task = g_object_ref(call->task);
        pending->id = call->attempt_id;
        soup_session_send_and_read_async(call->session, msg, G_PRIORITY_DEFAULT, call->attempt,
                                         on_attempt_done, pending);
}

static void
call_start(NetisoEtcd *etcd, SoupSession *session, const char *path, JsonNode *request,
           guint timeout_ms, GCancellable *cancellable, GAsyncReadyCallback callback,
           gpointer user_data)
{
        GTask *task = g_task_new(NULL, cancellable, callback, user_data);
        Call *call = g_new0(Call, 1);
        g_autoptr(JsonGenerator) generator = json_generator_new();
        gsize len = 0;
        char *text;

        json_generator_set_root(generator, request);
        text = json_generator_to_data(generator, &len);
        call->etcd = etcd;
        call->task = task; /* the driving reference, dropped by call_return() */
        call->session = g_object_ref(session);
        call->path = g_strdup(path);
        call->body = g_bytes_new_take(text, len);
        call->timeout_ms = timeout_ms ? timeout_ms : etcd->timeout_ms;
        call->deadline = g_get_monotonic_time() + (gint64)call->timeout_ms * 1000;
        call->failures = g_string_new(NULL);
        g_task_set_task_data(task, call, (GDestroyNotify)call_free);
        g_task_set_source_tag(task, call_start);
        if (cancellable) {
                GError *error = NULL;
                if (g_cancellable_set_error_if_cancelled(cancellable, &error)) {
                        call_return(call, NULL, error);
                        return;
                }
                call->caller = g_object_ref(cancellable);
                call->cancel_id = g_cancellable_connect(
                        cancellable, G_CALLBACK(on_caller_cancelled), call, NULL);
        }
        attempt_next(call);
}

void
netiso_etcd_call_async(NetisoEtcd *etcd, const char *path, JsonNode *request, guint timeout_ms,
                       GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
        call_start(etcd, netiso_etcd_async_session(etcd), path, request, timeout_ms, cancellable,
                   callback, user_data);
}

JsonNode *
netiso_etcd_call_finish(GAsyncResult *result, GError **error)
{
        return g_task_propagate_pointer(G_TASK(result), error);
}

static void
on_sync_done(GObject *source, GAsyncResult *result, gpointer data)
{
        GAsyncResult **ret = data;

        *ret = g_object_ref(result);
}

JsonNode *
netiso_etcd_call_sync(NetisoEtcd *etcd, const char *path, JsonNode *request, GError **error)
{
        g_autoptr(GAsyncResult) result = NULL;
        JsonNode *answer;

        g_main_context_push_thread_default(etcd->sync_context);
        call_start(etcd, etcd->sync_session, path, request, 0, NULL, on_sync_done, &result);
        /* Returns by the deadline at the latest: call_start's timers see to it. */
        while (!result)
                g_main_context_iteration(etcd->sync_context, TRUE);
        answer = netiso_etcd_call_finish(result, error);
        g_main_context_pop_thread_default(etcd->sync_context);
        return answer;
}

GError *
netiso_etcd_error_from_json(const char *endpoint, JsonObject *object, guint status)
{
        JsonNode *node = json_object_get_member(object, "error");
        const char *message = NULL;
        gint64 code = -1;
        g_autofree char *quoted = NULL;
        int kind = NETISO_CLUSTER_ERROR_REFUSED;

        if (!node)
                return NULL;
        if (JSON_NODE_HOLDS_OBJECT(node)) {
                /* A streaming call's error: {"error": {"grpc_code": N, "message": M}}. */
                JsonObject *inner = json_node_get_object(node);
                object = inner;
                if (json_object_has_member(inner, "grpc_code"))
                        code = json_object_get_int_member(inner, "grpc_code");
        } else if (json_object_has_member(object, "code")) {
                code = json_object_get_int_member(object, "code");
        }
        if (json_object_has_member(object, "message") &&
            JSON_NODE_HOLDS_VALUE(json_object_get_member(object, "message")))
                message = json_object_get_string_member(object, "message");
        quoted = netiso_quote(message ? message : "(no message)");
        /* gRPC codes: 5 NOT_FOUND (lease), 11 OUT_OF_RANGE (compacted),
         * 14 UNAVAILABLE and 4 DEADLINE_EXCEEDED (try another member). */
        if (message && strstr(message, "compacted"))
                kind = NETISO_CLUSTER_ERROR_COMPACTED;
        else if (message && strstr(message, "lease not found"))
                kind = NETISO_CLUSTER_ERROR_LEASE_LOST;
        else if (code == 14 || code == 4 || status >= 500)
                kind = NETISO_CLUSTER_ERROR_UNAVAILABLE;
        if (status)
                return g_error_new(NETISO_CLUSTER_ERROR, kind, "etcd %s: %s (http %u)", endpoint,
                                   quoted, status);
        return g_error_new(NETISO_CLUSTER_ERROR, kind, "etcd %s: %s", endpoint, quoted);
}

GError *
netiso_etcd_error_from_answer(const char *endpoint, guint status, const char *body, gsize len)
{
        g_autoptr(JsonParser) parser = json_parser_new();
        JsonNode *root;
        GError *error;

        if (len < NETISO_ETCD_RESPONSE_MAX && json_parser_load_from_data(parser, body, len, NULL) &&
            (root = json_parser_get_root(parser)) && JSON_NODE_HOLDS_OBJECT(root) &&
            (error = netiso_etcd_error_from_json(endpoint, json_node_get_object(root), status)))
                return error;
        return g_error_new(NETISO_CLUSTER_ERROR,
                           status >= 500 ? NETISO_CLUSTER_ERROR_UNAVAILABLE
                                         : NETISO_CLUSTER_ERROR_REFUSED,
                           "etcd %s: http %u %s", endpoint, status,
                           soup_status_get_phrase(status) ? soup_status_get_phrase(status) : "");
}
