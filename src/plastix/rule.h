/* plastix/rule.h -- the one header a learning-rule plugin needs.
 *
 * A learning rule is a function of (pre, post, noise, third factor, gradient)
 * on a projection (one weight matrix of a model).  The trainer owns the loop;
 * a rule only says how a projection changes this step.  A rule module (in-tree
 * or out-of-tree) exports one symbol, `plx_rule_entry`, of type
 * `const plx_rule_type *`, whose `abi_version` must equal PLX_RULE_ABI_VERSION.
 *
 * Everything here is C99 and stable within one ABI version.  Plugins link
 * against libplastix (pkg-config --libs plastix) for the plx_params_* and
 * plx_error_set functions declared below.
 */
#ifndef PLASTIX_RULE_H
#define PLASTIX_RULE_H

#include <stddef.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bump when any struct below changes layout or meaning. */
#define PLX_RULE_ABI_VERSION 3u

/* ---------------------------------------------------------------- errors */

/* Return codes: 0 ok, negative on failure. */
enum plx_status {
  PLX_OK = 0,
  PLX_EINVAL = -1,      /* bad input: config key, value, file content      */
  PLX_ENOMEM = -2,      /* allocation failed                               */
  PLX_EIO = -3,         /* file could not be read or written               */
  PLX_ENOTFOUND = -4,   /* named thing (rule, model, file, dataset) absent */
  PLX_EDIVERGE = -5,    /* dynamics produced a non-finite value            */
  PLX_EPLUGIN = -6,     /* plugin missing symbol / ABI mismatch            */
  PLX_EUNSUPPORTED = -7 /* combination that cannot work (rule vs model)    */
};

/* Caller-supplied error slot: the library never prints. */
typedef struct plx_error {
  int code;
  char msg[1024];
} plx_error;

/* Fill `err` (if non-NULL) with code and a printf-style one-line message;
 * returns `code` so callers can `return plx_error_set(...)`.  Every error in
 * plastix goes through this one function: break on it in a debugger. */
int plx_error_set(plx_error *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ----------------------------------------------------------- parameters */

/* Declarative description of one config key.  Tables end with {NULL}.
 * The core validates a section against its table before anything runs:
 * unknown keys, wrong types and out-of-range values are reported with
 * file:line and the key's path, so modules may trust what they read. */
typedef enum plx_param_kind {
  PLX_PARAM_FLOAT = 1,    /* number (integers accepted)                     */
  PLX_PARAM_INT,          /* integer                                        */
  PLX_PARAM_BOOL,         /* true / false                                   */
  PLX_PARAM_STRING,       /* string; `choices` = "a|b|c" restricts it        */
  PLX_PARAM_FLOAT_ARRAY,  /* [1.0, 2.0, ...]; min/max apply to each element  */
  PLX_PARAM_STRING_ARRAY, /* ["a", "b"]; `choices` applies to each element   */
  PLX_PARAM_GROUP,        /* { ... } validated against `children`            */
  PLX_PARAM_MAP,          /* { name = {...}; ... }: any key, each validated
                             against `children` (e.g. per-projection rates) */
  PLX_PARAM_ANY,          /* not validated here (dispatched elsewhere)      */
  PLX_PARAM_LIST          /* ( {...}, {...} ): each element a group validated
                             against `children` (e.g. network layers);
                             read with plx_params_count / plx_params_at   */
} plx_param_kind;

enum plx_param_flags {
  PLX_PARAM_REQUIRED = 1u << 0,
  PLX_PARAM_HAS_MIN = 1u << 1,
  PLX_PARAM_HAS_MAX = 1u << 2,
  PLX_PARAM_MIN_EXCL = 1u << 3, /* value must be > min (not >=) */
  PLX_PARAM_MAX_EXCL = 1u << 4  /* value must be < max (not <=) */
};

typedef struct plx_param_spec {
  const char *name;
  plx_param_kind kind;
  unsigned flags;
  double def;          /* default for numbers and bools                  */
  const char *def_str; /* default for strings                            */
  double min, max;     /* range, when the HAS_MIN / HAS_MAX flags are set */
  const char *choices; /* "a|b|c" for strings, or NULL                   */
  const struct plx_param_spec *children; /* for GROUP and MAP            */
  const char *help;    /* one line, shown by `plastix list keys`         */
} plx_param_spec;

/* A validated config section.  Opaque; owned by the experiment that
 * loaded it and valid for its lifetime.  Getters return the spec default
 * when a key is absent (they cannot fail: validation already ran). */
typedef struct plx_params plx_params;

double plx_params_float(const plx_params *p, const char *key);
long plx_params_int(const plx_params *p, const char *key);
int plx_params_bool(const plx_params *p, const char *key);
const char *plx_params_string(const plx_params *p, const char *key);
int plx_params_has(const plx_params *p, const char *key);
/* Array elements into out[0..max); returns the element count (may exceed max). */
size_t plx_params_float_array(const plx_params *p, const char *key,
                              double *out, size_t max);
/* Sub-section (GROUP or MAP entry); never NULL for a GROUP key in the spec,
 * NULL for an absent MAP entry. */
const plx_params *plx_params_group(const plx_params *p, const char *key);
/* Entries of a MAP section, in file order. */
size_t plx_params_count(const plx_params *p);
const char *plx_params_key(const plx_params *p, size_t i);
const plx_params *plx_params_at(const plx_params *p, size_t i);
/* Report a semantic error about `key` (or the section itself when key is
 * NULL) as "file:line: path.key: message"; returns PLX_EINVAL. */
int plx_params_error(const plx_params *p, const char *key, plx_error *err,
                     const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---------------------------------------------------------- projections */

enum plx_projection_flags {
  PLX_PROJ_PLASTIC = 1u << 0, /* set by a rule's init on the projections it trains */
  PLX_PROJ_READOUT = 1u << 1, /* the linear readout (post = model output)       */
  PLX_PROJ_BIAS = 1u << 2,    /* pre is a row of ones                          */
  PLX_PROJ_RECURRENT = 1u << 3,
  PLX_PROJ_DRIVE = 1u << 4    /* w pre (w for a bias) is a term of the model's
                                 next input current, with this step's pre:
                                 see plx_signal.drive                        */
};

/* One weight matrix and what a rule sees around it this step.
 * Matrices are column-major: w[i + j*ld] is the weight from pre j onto
 * post i.  Activity buffers are n × batch, column b at offset b*n. */
typedef struct plx_projection {
  const char *name;       /* "W", "C", "b", "D", "conv2", ...            */
  double *w;
  size_t n_post, n_pre, ld;
  const double *pre;      /* n_pre  × batch (NULL for a bias: ones)      */
  const double *post;     /* n_post × batch                              */
  const double *noise;    /* n_post × batch injected noise, or NULL      */
  const double *grad;     /* n_post × n_pre dLoss/dw, or NULL; valid when
                             plx_signal.grad_ready is set                */
  unsigned flags;
  const double *pre_drive;/* n_pre × batch presynaptic activity that drove
                             this step's dynamics (the previous step's, for
                             an SDE), or NULL when it is `pre`: the score
                             of w_ij is noise_i pre_drive_j / noise_var  */
  double noise_var;       /* variance of `noise` per unit of the time step
                             (sigma^2 for both an SDE step, where noise =
                             sigma sqrt(dt) xi, and a noisy pass, where
                             noise = sigma xi)                          */
} plx_projection;

/* Per-step signals from the task and trainer. */
typedef struct plx_signal {
  size_t batch;
  const double *reward;  /* [batch] third factor (task reward), or NULL   */
  const double *dl_dout; /* n_out × batch dLoss/d(output), or NULL        */
  int learn;             /* 0 during warm-up: update traces, not weights  */
  double lr_scale;       /* learning-rate schedule factor (1 = as set)    */
  double dt;             /* integration step of the model                 */
  unsigned long step;    /* step index within the trial                   */
  int grad_ready;        /* projection grads hold a fresh gradient        */
  /* Optional fusion of the update with the next step's input current (NULL
   * when the model or the trainer does not offer it).  The model's next
   * current, n_post × batch, is the sum of w pre over the projections
   * flagged PLX_PROJ_DRIVE, summed as a column-major gemv: the bias first,
   * then the others in projection order, column by column, one multiply-add
   * per term.  A rule that has just written every such projection's new
   * weights may accumulate that sum into `drive` as it writes them (the same
   * terms in the same order, so the result is bit for bit the model's own)
   * and set *drive_ready = 1; the model then skips its own pass over the
   * weights.  A rule that does not fill it completely leaves drive_ready
   * alone. */
  double *drive;
  int *drive_ready;
} plx_signal;

/* ---------------------------------------------------------------- rules */

/* How a PLX_NEEDS_BACKWARD rule wants its gradients. */
typedef enum plx_grad_mode {
  PLX_GRAD_BPTT = 1,     /* backpropagation through the last `window` steps
                            with the noise held fixed (pathwise gradient)   */
  PLX_GRAD_STEADY = 2    /* noise-free fixed point for the current input,
                            implicit differentiation, every `window` steps  */
} plx_grad_mode;

typedef struct plx_grad_request {
  plx_grad_mode mode;
  unsigned long window;  /* steps per gradient (and per update)           */
} plx_grad_request;

enum plx_rule_needs {
  PLX_NEEDS_BACKWARD = 1u << 0, /* model must fill projection grads    */
  PLX_NEEDS_NOISE = 1u << 1,    /* model must expose injected noise    */
  PLX_NEEDS_REWARD = 1u << 2,   /* task must provide a scalar reward   */
  PLX_NEEDS_OUTPUT_GRAD = 1u << 3 /* task must provide dLoss/d(output) */
};

typedef struct plx_rule_type {
  unsigned abi_version;         /* PLX_RULE_ABI_VERSION                 */
  const char *name;             /* as written in configs: rule.name
                                   (every rule section also has the
                                   reserved keys `name` and `path`)     */
  const char *summary;          /* one line for `plastix list rules`    */
  unsigned needs;               /* PLX_NEEDS_* flags                    */
  const plx_param_spec *params; /* keys of the rule's config section    */
  /* Create state for the n projections (the model's full list; the rule
   * decides which it trains from its params and returns PLX_EINVAL via
   * plx_params_error for a projection name the model does not have).
   * Marks trained projections with PLX_PROJ_PLASTIC.  max_batch bounds
   * sig->batch in apply. */
  int (*init)(void **state, plx_projection *proj, size_t n, size_t max_batch,
              const plx_params *p, plx_error *err);
  /* One step: update traces and, when sig->learn, the weights. Must not
   * allocate. */
  int (*apply)(void *state, plx_projection *proj, size_t n,
               const plx_signal *sig);
  /* New trial: clear traces and running averages. */
  void (*reset)(void *state);   /* may be NULL                          */
  void (*free)(void *state);    /* required                             */
  /* PLX_NEEDS_BACKWARD rules: how the trainer must compute gradients
   * (called once after init).  NULL for other rules. */
  int (*grad_request)(void *state, plx_grad_request *req);
} plx_rule_type;

/* The symbol a rule module exports (lt_dlsym looks it up by this name). */
#define PLX_RULE_ENTRY_SYMBOL "plx_rule_entry"

/* End a rule module's source with PLX_RULE_EXPORT(my_rule_type); */
#define PLX_RULE_EXPORT(type) const plx_rule_type *plx_rule_entry = &(type)

/* Shorthand initialisers for parameter tables. */
#define PLX_P_FLOAT(name, def, help) \
  { name, PLX_PARAM_FLOAT, 0, def, NULL, 0, 0, NULL, NULL, help }
#define PLX_P_FLOAT_RANGE(name, def, lo, hi, fl, help)                       \
  { name, PLX_PARAM_FLOAT, PLX_PARAM_HAS_MIN | PLX_PARAM_HAS_MAX | (fl), def, \
    NULL, lo, hi, NULL, NULL, help }
#define PLX_P_FLOAT_MIN(name, def, lo, fl, help) \
  { name, PLX_PARAM_FLOAT, PLX_PARAM_HAS_MIN | (fl), def, NULL, lo, 0, NULL, NULL, help }
#define PLX_P_INT_RANGE(name, def, lo, hi, help)                               \
  { name, PLX_PARAM_INT, PLX_PARAM_HAS_MIN | PLX_PARAM_HAS_MAX, def, NULL, lo, \
    hi, NULL, NULL, help }
#define PLX_P_INT_MIN(name, def, lo, help) \
  { name, PLX_PARAM_INT, PLX_PARAM_HAS_MIN, def, NULL, lo, 0, NULL, NULL, help }
#define PLX_P_BOOL(name, def, help) \
  { name, PLX_PARAM_BOOL, 0, def, NULL, 0, 0, NULL, NULL, help }
#define PLX_P_STRING(name, def, choices, help) \
  { name, PLX_PARAM_STRING, 0, 0, def, 0, 0, choices, NULL, help }
#define PLX_P_GROUP(name, children, help) \
  { name, PLX_PARAM_GROUP, 0, 0, NULL, 0, 0, NULL, children, help }
#define PLX_P_MAP(name, children, help) \
  { name, PLX_PARAM_MAP, 0, 0, NULL, 0, 0, NULL, children, help }
#define PLX_P_LIST(name, children, help) \
  { name, PLX_PARAM_LIST, 0, 0, NULL, 0, 0, NULL, children, help }
#define PLX_P_END { NULL, (plx_param_kind)0, 0, 0, NULL, 0, 0, NULL, NULL, NULL }

#ifdef __cplusplus
}
#endif
#endif /* PLASTIX_RULE_H */
