/* plastix/probe.h -- probes of a frozen network: each turns the test
 * protocols' statistics into HDF5 arrays (/probes/<name>/...), a tidy CSV
 * table (tables/<name>.csv) and a figure (figures/<name>.png).  The table
 * plx_probes lists them all (plastix list probes). */
#ifndef PLASTIX_PROBE_H
#define PLASTIX_PROBE_H

#include "plastix/protocol.h"
#include "plastix/rundir.h"
#include "plastix/trainer.h"

typedef struct plx_probe_ctx {
  plx_experiment *e;
  const plx_grid_stats *grid;       /* grid protocol (may be NULL)        */
  const plx_prior_stats *prior;     /* prior protocol (may be NULL)       */
  const plx_learning_curve *lc;     /* training curve (NULL for analyze)  */
  plx_rundir *rd;
} plx_probe_ctx;

typedef struct plx_probe {
  const char *name;
  const char *summary;
  /* Returns PLX_OK, or PLX_EUNSUPPORTED when the probe does not apply
   * (e.g. d' for an estimation task): that is skipped, not an error. */
  int (*run)(const plx_probe_ctx *ctx, plx_error *err);
} plx_probe;

extern const plx_probe plx_probes[]; /* terminated by {NULL} */

/* Run every probe; records which ran in `ran` (NULL allowed). */
int plx_probes_run_all(const plx_probe_ctx *ctx, plx_error *err);

#endif
