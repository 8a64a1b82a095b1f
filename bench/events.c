/* Times a libvirt qemu hook the way libvirtd runs it, spawn to exit, for
 * "start begin" then "stopped end", over several targets in interleaved
 * rounds (bench/event-latency.sh). */
#include "autoconfig.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <sched.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static const char *const operations[][2] = {
        { "start", "begin" },
        { "stopped", "end" },
};
#define N_EVENTS G_N_ELEMENTS(operations)

typedef struct {
        double wall_ms, cpu_ms;
        long maxrss_kb;
} Sample;

typedef struct {
        char *label;
        int netns_fd;
        char *hook, *config, *domain, *xml;
        GArray *samples[N_EVENTS]; /* of Sample, measured runs only */
        int failures[N_EVENTS];
} Target;

static double
now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double
tv_ms(const struct timeval *tv)
{
        return (double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3;
}

/* One hook process in the target's namespace; returns its exit status. */
static int
run_once(const Target *t, gsize event, Sample *ret)
{
        const char *op = operations[event][0], *sub = operations[event][1];
        char *argv[] = { t->hook, t->domain, (char *)op, (char *)sub, (char *)"-", NULL };
        posix_spawn_file_actions_t actions;
        struct rusage usage;
        double start;
        pid_t pid;
        int status = 0, rc;

        /* The child inherits the namespace and the environment at spawn. */
        if (setns(t->netns_fd, CLONE_NEWNET) < 0) {
                fprintf(stderr, "%s: setns: %s\n", t->label, strerror(errno));
                return -1;
        }
        g_setenv("BLIXARD_NETISO_CONFIG", t->config, /* overwrite */ TRUE);
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, 0, t->xml, O_RDONLY, 0);
        start = now_ms();
        rc = posix_spawn(&pid, t->hook, &actions, NULL, argv, environ);
        posix_spawn_file_actions_destroy(&actions);
        if (rc != 0) {
                fprintf(stderr, "%s: %s: %s\n", t->label, t->hook, strerror(rc));
                return -1;
        }
        while (wait4(pid, &status, 0, &usage) < 0)
                if (errno != EINTR)
                        return -1;
        ret->wall_ms = now_ms() - start;
        ret->cpu_ms = tv_ms(&usage.ru_utime) + tv_ms(&usage.ru_stime);
        ret->maxrss_kb = usage.ru_maxrss;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int
compare_double(gconstpointer a, gconstpointer b)
{
        double x = *(const double *)a, y = *(const double *)b;

        return (x > y) - (x < y);
}

/* Sorted copy of one field of the samples. */
static GArray *
sorted_field(const GArray *samples, gboolean cpu)
{
        GArray *v = g_array_sized_new(/* zero_terminated */ FALSE, /* clear */ FALSE,
                                      sizeof(double), samples->len);

        for (guint i = 0; i < samples->len; i++) {
                const Sample *s = &g_array_index(samples, Sample, i);
                double x = cpu ? s->cpu_ms : s->wall_ms;
                g_array_append_val(v, x);
        }
        g_array_sort(v, compare_double);
        return v;
}

static double
median(const GArray *v)
{
        guint n = v->len;

        if (n == 0)
                return 0;
        return n % 2 ? g_array_index(v, double, n / 2)
                     : (g_array_index(v, double, n / 2 - 1) + g_array_index(v, double, n / 2)) / 2;
}

/* Nearest-rank percentile of sorted values. */
static double
percentile(const GArray *v, double q)
{
        guint rank = (guint)(q * v->len + 0.999999);

        if (v->len == 0)
                return 0;
        return g_array_index(v, double, CLAMP(rank, 1, v->len) - 1);
}

static void
report(const Target *t, gsize event, FILE *samples_file)
{
        const GArray *samples = t->samples[event];
        g_autoptr(GArray) wall = sorted_field(samples, /* cpu */ FALSE);
        g_autoptr(GArray) cpu = sorted_field(samples, /* cpu */ TRUE);
        long maxrss = 0;

        for (guint i = 0; i < samples->len; i++) {
                const Sample *s = &g_array_index(samples, Sample, i);
                maxrss = MAX(maxrss, s->maxrss_kb);
                if (samples_file)
                        fprintf(samples_file, "%s %s %.3f %.3f %ld\n", t->label,
                                operations[event][0], s->wall_ms, s->cpu_ms, s->maxrss_kb);
        }
        printf("%s %s runs %u median_ms %.1f p10_ms %.1f p90_ms %.1f cpu_median_ms %.1f "
               "maxrss_kb %ld failures %d\n",
               t->label, operations[event][0], samples->len, median(wall), percentile(wall, 0.1),
               percentile(wall, 0.9), median(cpu), maxrss, t->failures[event]);
}

/* LABEL,NETNS,HOOK,CONFIG,DOMAIN,XMLFILE */
static gboolean
parse_target(const char *spec, Target *t)
{
        g_auto(GStrv) f = g_strsplit(spec, ",", -1);
        g_autofree char *path = NULL;

        if (g_strv_length(f) != 6) {
                fprintf(stderr, "target '%s': want LABEL,NETNS,HOOK,CONFIG,DOMAIN,XMLFILE\n", spec);
                return FALSE;
        }
        path = g_build_filename("/run/netns", f[1], NULL);
        t->netns_fd = open(path, O_RDONLY | O_CLOEXEC);
        if (t->netns_fd < 0) {
                fprintf(stderr, "%s: %s\n", path, strerror(errno));
                return FALSE;
        }
        t->label = g_strdup(f[0]);
        t->hook = g_strdup(f[2]);
        t->config = g_strdup(f[3]);
        t->domain = g_strdup(f[4]);
        t->xml = g_strdup(f[5]);
        for (gsize e = 0; e < N_EVENTS; e++)
                t->samples[e] =
                        g_array_new(/* zero_terminated */ FALSE, /* clear */ FALSE, sizeof(Sample));
        return TRUE;
}

int
main(int argc, char **argv)
{
        g_autofree Target *targets = NULL;
        FILE *samples_file = NULL;
        int runs, rounds, n, failed = 0;
        /* The first runs fill the page cache and the dynamic linker's
         * caches; libvirtd's hooks run warm too. */
        const int warmup = 2;

        if (argc < 5) {
                fprintf(stderr,
                        "usage: %s RUNS ROUNDS SAMPLES-FILE TARGET...\n"
                        "  TARGET: LABEL,NETNS,HOOK,CONFIG,DOMAIN,XMLFILE\n"
                        "  each round runs start and stop RUNS times per target\n",
                        argv[0]);
                return 2;
        }
        runs = atoi(argv[1]);
        rounds = atoi(argv[2]);
        if (runs < 1 || rounds < 1) {
                fprintf(stderr, "%s: RUNS and ROUNDS must be at least 1\n", argv[0]);
                return 2;
        }
        if (!(samples_file = fopen(argv[3], "a"))) {
                fprintf(stderr, "%s: %s\n", argv[3], strerror(errno));
                return 1;
        }
        n = argc - 4;
        targets = g_new0(Target, n);
        for (int i = 0; i < n; i++)
                if (!parse_target(argv[4 + i], &targets[i]))
                        return 2;
        for (int i = 0; i < n; i++)
                for (int r = 0; r < warmup; r++)
                        for (gsize e = 0; e < N_EVENTS; e++) {
                                Sample s;
                                run_once(&targets[i], e, &s);
                        }
        for (int round = 0; round < rounds; round++)
                for (int i = 0; i < n; i++)
                        for (int r = 0; r < runs; r++)
                                for (gsize e = 0; e < N_EVENTS; e++) {
                                        Sample s = { 0 };
                                        int status = run_once(&targets[i], e, &s);

                                        if (status != 0) {
                                                targets[i].failures[e]++;
                                                fprintf(stderr, "%s %s: exit status %d\n",
                                                        targets[i].label, operations[e][0], status);
                                                continue;
                                        }
                                        g_array_append_val(targets[i].samples[e], s);
                                }
        for (int i = 0; i < n; i++)
                for (gsize e = 0; e < N_EVENTS; e++) {
                        report(&targets[i], e, samples_file);
                        failed += targets[i].failures[e];
                }
        fclose(samples_file);
        return failed ? 1 : 0;
}
