/* plastix/model.h -- the model interface: a circuit is a list of
 * projections (weight matrices a rule can train) plus dynamics.
 *
 * A plx_model is the generic handle the trainer, probes and writers use; a
 * model type fills it in `alloc`.  Buffers are column-major n × batch.  The
 * built-in table (plx_model_types) lists every model; plx_model_lookup finds
 * one by name and, on a miss, lists every valid name. */
#ifndef PLASTIX_MODEL_H
#define PLASTIX_MODEL_H

#include "plastix/config.h"
#include "plastix/rng.h"
#include "plastix/rule.h"

#define PLX_MODEL_ABI_VERSION 1u

typedef struct plx_model_type plx_model_type;

typedef struct plx_model {
  const plx_model_type *type;
  void *state;            /* owned by the type                              */
  const plx_params *params; /* the validated model section                  */
  size_t n_in, n_out;     /* input and readout sizes                        */
  size_t n_hidden;        /* size of `hidden` per batch column              */
  size_t max_batch, batch;
  double dt;              /* integration step (0 for a single pass)         */
  /* Valid after step(): */
  const double *out;      /* n_out × batch readout as recorded              */
  const double *out_learn;/* n_out × batch readout the learning signal uses */
  const double *hidden;   /* n_hidden × batch activity (r)                  */
  const double *input;    /* n_in × batch input the projections see now     */
  plx_projection *proj;   /* the model's projections (owned by the type)    */
  size_t n_proj;
  /* Optional (NULL / 0 when the type has none): the buffer for the next
   * step's input current that a rule may fill during its update, and the
   * flag saying it did (see plx_signal.drive).  The model clears the flag
   * when it consumes the buffer and in reset; anything else that writes the
   * weights between a rule update and the next step must clear it too. */
  double *drive;
  int drive_ready;
} plx_model;

struct plx_model_type {
  unsigned abi_version;
  const char *name;
  const char *summary;
  const plx_param_spec *params; /* keys of the model section besides `type` */
  /* Fill m (sizes n_in, n_out and max_batch are set by the caller). */
  int (*alloc)(plx_model *m, const plx_params *p, plx_error *err);
  /* Draw initial weights from the config's init section. */
  int (*init_weights)(plx_model *m, plx_rng *rng, plx_error *err);
  /* Start a trial: initial state for `batch` columns, first input x0. */
  int (*reset)(plx_model *m, const double *x0, size_t batch);
  /* Advance one step with input x (n_in × batch); rngs[b] drives column b's
   * noise (NULL entries: noise-free).  Non-finite state is PLX_EDIVERGE. */
  int (*step)(plx_model *m, const double *x, plx_rng *const *rngs,
              plx_error *err);
  /* Optional: energy of state r under input s (NULL if none). exact = 1
   * integrates f^-1 exactly; 0 uses the reference's r^2/2. */
  double (*energy)(const plx_model *m, const double *r, const double *s,
                   int exact);
  void (*free)(plx_model *m);

  /* ---- gradients (NULL when the model provides none) ---------------- */
  /* Keep the next `window` steps (states, inputs, clip masks, noise) for a
   * backward pass, starting from the current state; 0 stops recording.
   * Allocates: call at set-up or between trials, never inside a step. */
  int (*record)(plx_model *m, size_t window);
  /* Backpropagate through the `steps` recorded steps with the noise held
   * fixed.  dl_dz holds dLoss/d(out_learn) of each step, n_out × batch
   * per step, step-major.  Fills every projection's grad with the gradient
   * of the sum of those losses; recording then restarts from the current
   * state. */
  int (*backward)(plx_model *m, const double *dl_dz, size_t steps,
                  plx_error *err);
  /* Gradient at the noise-free fixed point for input x (n_in × batch):
   * the model finds r*, z* = D r*, asks dl(ctx, column, z*, g) for
   * dLoss/dz, and fills every projection's grad (summed over columns) by
   * implicit differentiation.  The model's state is left unchanged. */
  int (*steady_grad)(plx_model *m, const double *x,
                     void (*dl)(void *ctx, size_t col, const double *z,
                                double *g),
                     void *ctx, plx_error *err);
};

extern const plx_model_type *const plx_model_types[]; /* NULL-terminated */
/* Keys of every model section: type, weights, weights_set. */
extern const plx_param_spec plx_model_common_spec[];

/* Find a model type; on a miss, err lists every valid name. */
const plx_model_type *plx_model_lookup(const char *name, plx_error *err);

/* Allocate a model of the type named in section p (key `type`), validating
 * the section against the type's spec. */
int plx_model_create(plx_model **out, const plx_params *model_section_parent,
                     size_t n_in, size_t n_out, size_t max_batch,
                     plx_error *err);
void plx_model_free(plx_model *m);
/* A second model of the same type and section with a copy of m's weights
 * and room for max_batch columns (one per thread in frozen protocols). */
int plx_model_clone(const plx_model *m, size_t max_batch, plx_model **out,
                    plx_error *err);
plx_projection *plx_model_projection(plx_model *m, const char *name);

/* Copy every projection's weights to/from a flat buffer (checkpoints,
 * initial/final snapshots).  Size in doubles: */
size_t plx_model_weight_count(const plx_model *m);
void plx_model_get_weights(const plx_model *m, double *buf);
void plx_model_set_weights(plx_model *m, const double *buf);

/* A weight-init section: dist uniform (U(-a, a)) | normal (N(0, a^2)) |
 * constant (a), with a = scale, scale / sqrt(n_pre) or scale / n_pre as
 * fan = none | sqrt | linear.  Models declare one per projection with the
 * defaults of the reference code: */
#define PLX_INIT_SPEC(var, dist, scale, fan)                                  \
  static const plx_param_spec var[] = {                                      \
      PLX_P_STRING("dist", dist, "uniform|normal|constant",                  \
                   "uniform: U(-a, a); normal: N(0, a^2); constant: a"),     \
      PLX_P_FLOAT("scale", scale, "a before fan scaling"),                    \
      PLX_P_STRING("fan", fan, "none|sqrt|linear",                           \
                   "a = scale, scale/sqrt(n_pre) or scale/n_pre"),           \
      PLX_P_END}
/* Fill w (n_post × n_pre, leading dimension ld) from such a section. */
void plx_init_fill(const plx_params *init, double *w, size_t n_post,
                   size_t n_pre, size_t ld, plx_rng *rng);

#endif
