/* plastix/linearnet.h -- the linear-net path (paper Fig. 4-5): a config
 * with model.type = "linear_deep" is loaded and validated against
 * plx_linearnet_spec, natural-image patches are cut (or read from the
 * cache), their PCA is written out, the deep linear network is trained by
 * gradient descent (minibatch SGD as in the reference code, or exact
 * full-batch steps through the covariance), and the probes logged over
 * training -- u_k^T W u_k and ||W u_k||^2 for the first K principal
 * components, grating sensitivity, thresholds and acuity -- go to a run
 * directory like `plastix run` writes (manifest.json, config.cfg,
 * config.resolved.cfg, results.h5, tables/, figures/). */
#ifndef PLASTIX_LINEARNET_H
#define PLASTIX_LINEARNET_H

#include "plastix/protocol.h" /* plx_progress */
#include "plastix/rundir.h"

typedef struct plx_linearnet_opts {
  const char *config;
  const char *const *overrides; /* "key.path=value" (--set)               */
  size_t n_overrides;
  const char *out;              /* run directory (NULL: runs/<name>)       */
  const plx_progress *prog;     /* stages: images, patches, covariance,
                                   train                                    */
  const char *command;          /* for the manifest (NULL: "run")          */
  int threads;                  /* recorded only: training is sequential  */
  /* While the run directory is being written, *watch holds its handle (so
   * a signal handler can plx_rundir_abort it); NULL otherwise.  Optional. */
  plx_rundir *volatile *watch;
  /* out */
  char out_used[1200];          /* the run directory written               */
  char summary[512];            /* one line: final loss, acuity, times     */
} plx_linearnet_opts;

/* Load, validate, cut, train, probe and write the run directory.  Bad
 * input (config keys, image files, folders, patch sizes) is PLX_EINVAL or
 * PLX_ENOTFOUND with one line "file:line: section.key: ...". */
int plx_linearnet_run(plx_linearnet_opts *o, plx_error *err);

/* Validate a config (every key, the image list) without cutting or
 * training; `summary` (may be NULL) receives one line. */
int plx_linearnet_check(const char *config, const char *const *overrides,
                        size_t n_overrides, char *summary, size_t n,
                        plx_error *err);

/* 1 when `config` (after overrides) parses and has model.type =
 * "linear_deep", else 0 (errors are left for the caller's own loader). */
int plx_linearnet_wants(const char *config, const char *const *overrides,
                        size_t n_overrides);

/* The config reference (for `plastix list keys`). */
extern const plx_param_spec plx_linearnet_spec[];

#endif
