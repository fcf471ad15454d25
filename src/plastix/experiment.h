/* plastix/experiment.h -- a circuit experiment loaded from one config file:
 * prior, stimulus process and encoder, model, task, learning rule, training
 * schedule, test protocol.  plx_experiment_load validates every section
 * (unknown keys anywhere are errors) before anything runs. */
#ifndef PLASTIX_EXPERIMENT_H
#define PLASTIX_EXPERIMENT_H

#include "plastix/config.h"
#include "plastix/model.h"
#include "plastix/prior.h"
#include "plastix/rule.h"
#include "plastix/stimulus.h"
#include "plastix/task.h"

#include <stdint.h>

typedef struct plx_train_opts {
  long trials;           /* training trials                                 */
  double duration;       /* time units per trial                            */
  double warmup;         /* no weight changes while t <= warmup             */
  double record_every;   /* time units per learning-curve block             */
  int schedule_exp;      /* 1: lr_scale = a exp(-trial / tau) + 1           */
  double schedule_a, schedule_tau;
  long eval_every;       /* frozen evaluation every this many trials (0 off)*/
  long eval_trials;
  double eval_duration, eval_transient;
} plx_train_opts;

typedef struct plx_test_opts {
  long trials;           /* grid-protocol test trials                       */
  double duration;
  long stimuli_per_trial;/* grid angles per trial, each held duration/k     */
  long record_every;     /* Euler steps between recorded samples (from the
                            config's test.record_every in time units)      */
  long prior_trials;     /* frozen trials with process-distributed theta   */
  double prior_duration, prior_transient;
  long batch;            /* trials integrated together (N × batch state)    */
  long record_trials;    /* grid trials whose every sample is kept          */
  long angles;           /* grid angles (0: the input population's grid)    */
  int energy_exact;      /* also integrate f^-1 exactly in the energy probe */
} plx_test_opts;

#define PLX_MAX_RULES 16

/* Options of plx_experiment_load_opts. */
typedef struct plx_load_opts {
  const char *rule;      /* choose rules.<rule> (or check rule.name)      */
  int allow_many_rules;  /* a `rules` map without a choice is fine        */
  int seed_set;          /* replace experiment.seed by `seed`             */
  uint64_t seed;
} plx_load_opts;

typedef struct plx_experiment {
  plx_config *cfg;
  const plx_params *root;
  const plx_params *sec_model, *sec_rule, *sec_output;
  char name[128];
  uint64_t seed;
  plx_prior *prior;
  plx_process process;
  plx_encoder encoder;
  plx_task task;
  plx_model *model;
  const plx_rule_type *rule; /* NULL when rule.name = "none"              */
  const plx_params *rule_params;
  plx_train_opts train;
  plx_test_opts test;
  unsigned figure_formats;   /* PLX_FIG_PNG | PLX_FIG_SVG                 */
  char weights_file[1024];   /* model.weights: initial weights to load    */
  char weights_set[32];      /* "final" | "initial"                       */
  /* entries of a `rules` map, in file order (compare) */
  char rule_names[PLX_MAX_RULES][64];
  size_t n_rule_names;
} plx_experiment;

/* Load and validate.  overrides: "key.path=value" strings (--set). */
int plx_experiment_load(plx_experiment **out, const char *path,
                        const char *const *overrides, size_t n_overrides,
                        plx_error *err);
/* Same from already-loaded config (tests); takes ownership of cfg. */
int plx_experiment_from_config(plx_experiment **out, plx_config *cfg,
                               plx_error *err);
/* With options: the rule to use from a `rules` map, a seed. */
int plx_experiment_load_opts(plx_experiment **out, const char *path,
                             const char *const *overrides, size_t n_overrides,
                             const plx_load_opts *opts, plx_error *err);
int plx_experiment_from_config_opts(plx_experiment **out, plx_config *cfg,
                                    const plx_load_opts *opts, plx_error *err);
void plx_experiment_free(plx_experiment *e);

/* Initial weights: from model.weights when set, else drawn from the init
 * stream (seed, 0, PLX_POP_INIT). */
int plx_experiment_init_weights(plx_experiment *e, plx_error *err);

/* Number of Euler steps in a trial of `duration` time units. */
unsigned long plx_experiment_steps(const plx_experiment *e, double duration);

/* Rewrite a PLX_EDIVERGE error from the model as a bad-input error that
 * names the config file, line and key: "file:line: model.dt: dynamics
 * diverged in <where> at t = <t>: <model's reason>".  Returns PLX_EDIVERGE. */
int plx_experiment_diverged(const plx_experiment *e, plx_error *err,
                            const char *where, double t);

/* The top-level spec and the keys every rule section has (name, path),
 * for `plastix list keys`. */
extern const plx_param_spec plx_experiment_spec[];
extern const plx_param_spec plx_compare_spec[];
extern const plx_param_spec plx_rule_head_spec[];

#endif
