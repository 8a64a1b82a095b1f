/* Logging to journald (native protocol, structured fields) with a syslog
 * fallback. Used by the mains only. */
#pragma once

#include <glib.h>
#include <syslog.h>

typedef struct {
        const char *domain;  /* DOMAIN= */
        const char *tenant;  /* TENANT= */
        const char *event;   /* EVENT=, e.g. "start begin" */
        const char *outcome; /* OUTCOME=: installed, removed, refused, failed, ignored */
} NetisoLogFields;

void netiso_log_open(const char *identifier);
void netiso_log(int priority, const NetisoLogFields *fields, const char *format, ...)
        G_GNUC_PRINTF(3, 4);
/* Also copy every message to stderr (CLI, tests). */
void netiso_log_set_stderr(gboolean on);
