/* plastix/weights.h -- model weights to and from files.
 *
 * plastix's own results.h5 keeps /weights/<set>/<projection> (set = initial
 * or final), each an n_post × n_pre matrix.  The authors' trained network of
 * Bredenberg et al. (a JSON file with W, C, b, D and W_init, C_init, b_init,
 * D_init as lists of rows) loads by projection name as well. */
#ifndef PLASTIX_WEIGHTS_H
#define PLASTIX_WEIGHTS_H

#include "plastix/h5io.h"
#include "plastix/model.h"

/* Load every projection of m from path (HDF5 or JSON, told apart by the
 * file's first bytes); set is "final" or "initial".  Shape mismatches name
 * the projection, the file's shape and the model's. */
int plx_weights_load(plx_model *m, const char *path, const char *set,
                     plx_error *err);
/* Write every projection under /weights/<set>/ of an open HDF5 file. */
int plx_weights_save(const plx_model *m, plx_h5 *h, const char *set,
                     plx_error *err);

#endif
