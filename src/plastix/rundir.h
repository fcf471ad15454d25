/* plastix/rundir.h -- the run directory every command writes:
 *
 *   DIR/manifest.json   config as run, seeds, versions, host, timings,
 *                       "complete": true (written last)
 *   DIR/config.cfg      the config file exactly as given
 *   DIR/config.resolved.cfg   after --set overrides
 *   DIR/results.h5      arrays (weights, probes, training curves)
 *   DIR/tables/NAME.csv tidy tables
 *   DIR/figures/NAME.png and .svg
 *
 * Everything is written into DIR.partial-<pid>; only a complete run is
 * renamed to DIR, so a failed run never leaves output that looks like a
 * result.  An existing DIR is replaced only if it is a plastix run
 * directory (it has a manifest.json). */
#ifndef PLASTIX_RUNDIR_H
#define PLASTIX_RUNDIR_H

#include "plastix/config.h"
#include "plastix/h5io.h"
#include "plastix/json.h"
#include "plastix/plot.h"
#include "plastix/table.h"

typedef struct plx_rundir plx_rundir;

/* The figure formats an experiment's `output.figures` list asks for
 * (PLX_FIG_PNG | PLX_FIG_SVG; PNG when the key is absent, none for []).
 * `output` is the validated output group (the values are "png" or "svg"). */
unsigned plx_rundir_figure_formats(const plx_params *output);

int plx_rundir_open(plx_rundir **out, const char *path, unsigned fig_formats,
                    plx_error *err);
/* Full path of a file inside the (temporary) directory. */
const char *plx_rundir_file(plx_rundir *rd, const char *rel, char *buf,
                            size_t n);
plx_h5 *plx_rundir_h5(plx_rundir *rd);
unsigned plx_rundir_formats(const plx_rundir *rd);
/* tables/<name>.csv */
int plx_rundir_table(plx_rundir *rd, const char *name, const plx_table *t,
                     plx_error *err);
/* figures/<name>.<png|svg>; a no-op when no formats were asked for */
int plx_rundir_figure(plx_rundir *rd, const char *name, plx_figure *fig,
                      plx_error *err);
/* Copy a file (the config) into the directory under `rel`. */
int plx_rundir_copy(plx_rundir *rd, const char *src, const char *rel,
                    plx_error *err);
/* Write manifest.json: the callback writes the body's fields inside the
 * top-level object; "complete": true is appended; then the directory is
 * renamed into place.  The handle is freed either way. */
int plx_rundir_commit(plx_rundir *rd, void (*body)(plx_jw *w, void *ctx),
                      void *ctx, plx_error *err);
/* Remove the temporary directory (failed run); frees the handle. */
void plx_rundir_abort(plx_rundir *rd);
/* The final path. */
const char *plx_rundir_path(const plx_rundir *rd);
/* A command's output directory `out` must not be, nor contain, any of the
 * n files or directories it reads (committing the new run directory would
 * replace them): PLX_EINVAL naming the input when it does, else PLX_OK
 * (also when `out` does not exist yet).  Empty or NULL inputs are skipped. */
int plx_rundir_not_input(const char *out, const char *const *inputs, size_t n,
                         plx_error *err);
/* The n run directories a report reads are n different directories (by
 * their real paths): PLX_EINVAL naming the one given twice, else PLX_OK.
 * A run counted twice would pass for two independent samples. */
int plx_rundir_distinct(const char *const *runs, size_t n, plx_error *err);

/* Facts for manifests: versions of plastix and every library, host, CPU. */
void plx_manifest_environment(plx_jw *w);

/* The end of a manifest whose only timing is the whole run's:
 * "timings_seconds": {"total": seconds}, then plx_manifest_environment. */
void plx_manifest_total_and_environment(plx_jw *w, double seconds);

/* How a run was asked for, for manifests: "command", "config" and the
 * --set "overrides" in order. */
void plx_manifest_invocation(plx_jw *w, const char *command, const char *config,
                             const char *const *overrides, size_t n_overrides);

#endif
