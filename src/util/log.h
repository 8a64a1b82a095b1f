/* Logging for the mains: GLib structured logging to journald, with the
 * BLIXARD_* fields, and syslog when journald is not there. */
#pragma once

#include <glib.h>
#include <syslog.h>

typedef struct {
        const char *domain;  /* BLIXARD_DOMAIN= */
        const char *tenant;  /* BLIXARD_TENANT= */
        const char *event;   /* BLIXARD_EVENT=, e.g. "start begin" */
        const char *outcome; /* BLIXARD_OUTCOME=: installed, removed, refused, failed, ignored */
} NetisoLogFields;

/* Names the program (SYSLOG_IDENTIFIER=) and installs the log writer;
 * call once, before anything logs. */
void netiso_log_open(const char *identifier);
/* priority is syslog's (LOG_ERR ... LOG_DEBUG). */
void netiso_log(int priority, const NetisoLogFields *fields, const char *format, ...)
        G_GNUC_PRINTF(3, 4);
/* Also copy every message to stderr (CLI, tests). */
void netiso_log_set_stderr(gboolean on);
