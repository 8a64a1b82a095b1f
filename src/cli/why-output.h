/* What `why` prints: the verdict, its rule, the checks, the facts, and
 * whether the kernel's firewall agrees with the records it answered from,
 * for people and as JSON (json-glib). */
#pragma once

#include <glib.h>

#include "conf/config.h"
#include "core/verdict.h"

typedef struct {
        const NetisoConfig *config;
        const NetisoPacket *packet;
        const NetisoPlace *from;
        const NetisoPlace *to;
        const NetisoVerdict *verdict;
        gboolean kernel_checked;  /* the backend's check ran */
        const char *kernel_error; /* why it did not, or NULL */
        GPtrArray *drift;         /* of char*: differences that concern these guests */
        GPtrArray *warnings;      /* of char*: other tables or rules that also decide */
} NetisoWhyAnswer;

/* Does the answer stand for the kernel too (checked, no drift)? */
gboolean netiso_why_answer_confirmed(const NetisoWhyAnswer *answer);

void netiso_why_print_text(const NetisoWhyAnswer *answer);

/* One JSON object and a newline. Caller frees. */
char *netiso_why_to_json(const NetisoWhyAnswer *answer);
