/* weights.c -- loading and saving model weights by projection name. */
#include "config.h"
#include "plastix/weights.h"
#include "plastix/error.h"
#include "plastix/json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int set_projection(plx_projection *p, const double *a, size_t rows,
                          size_t cols, const char *path, const char *what,
                          plx_error *err)
{
  size_t i, j;
  /* a bias vector may come as n × 1 or 1 × n */
  if ((p->flags & PLX_PROJ_BIAS) && rows == 1 && cols == p->n_post) {
    rows = p->n_post;
    cols = 1;
  }
  if (rows != p->n_post || cols != p->n_pre)
    return plx_error_set(err, PLX_EINVAL,
                         "%s: %s is %zux%zu but the model's projection %s is "
                         "%zux%zu (check model.n and the input population)",
                         path, what, rows, cols, p->name, p->n_post, p->n_pre);
  for (j = 0; j < cols; j++)
    for (i = 0; i < rows; i++)
      p->w[i + j * p->ld] = a[i + j * rows];
  return PLX_OK;
}

static int load_json(plx_model *m, const char *path, const char *set,
                     plx_error *err)
{
  plx_json *doc;
  size_t k;
  int rc = plx_json_parse_file(&doc, path, err);
  if (rc)
    return rc == PLX_EIO ? PLX_EINVAL : rc;
  for (k = 0; k < m->n_proj && !rc; k++) {
    plx_projection *p = &m->proj[k];
    char key[128];
    const plx_json *v;
    double *a = NULL;
    size_t rows = 0, cols = 0;
    snprintf(key, sizeof key, "%s%s", p->name,
             strcmp(set, "initial") == 0 ? "_init" : "");
    v = plx_json_get(doc, key);
    if (!v) {
      rc = plx_error_set(err, PLX_EINVAL, "%s: no key \"%s\" for projection %s",
                         path, key, p->name);
      break;
    }
    if (plx_json_type(v) == PLX_JSON_ARRAY && plx_json_len(v) > 0 &&
        plx_json_type(plx_json_at(v, 0)) == PLX_JSON_NUMBER) {
      rc = plx_json_vector(v, key, &a, &rows, err);
      cols = 1;
    } else {
      rc = plx_json_matrix(v, key, &a, &rows, &cols, err);
    }
    if (!rc)
      rc = set_projection(p, a, rows, cols, path, key, err);
    free(a);
  }
  plx_json_free(doc);
  return rc;
}

static int load_h5(plx_model *m, const char *path, const char *set,
                   plx_error *err)
{
  plx_h5 *h;
  size_t k;
  int rc = plx_h5_open(&h, path, 0, err);
  if (rc)
    return rc == PLX_EIO ? PLX_EINVAL : rc;
  for (k = 0; k < m->n_proj && !rc; k++) {
    plx_projection *p = &m->proj[k];
    char ds[256];
    double *a = NULL;
    size_t rows, cols;
    snprintf(ds, sizeof ds, "/weights/%s/%s", set, p->name);
    rc = plx_h5_read_matrix(h, ds, &a, &rows, &cols, err);
    if (rc == PLX_ENOTFOUND)
      rc = PLX_EINVAL;
    if (!rc)
      rc = set_projection(p, a, rows, cols, path, ds, err);
    free(a);
  }
  plx_h5_close(h);
  return rc;
}

int plx_weights_load(plx_model *m, const char *path, const char *set,
                     plx_error *err)
{
  static const unsigned char h5sig[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};
  unsigned char head[8] = {0};
  FILE *f = fopen(path, "rb");
  size_t n;
  if (!f)
    return plx_error_set(err, PLX_EINVAL, "%s: cannot open weights file: %s",
                         path, strerror(errno));
  n = fread(head, 1, sizeof head, f);
  fclose(f);
  if (n == sizeof head && memcmp(head, h5sig, sizeof head) == 0)
    return load_h5(m, path, set, err);
  return load_json(m, path, set, err);
}

int plx_weights_save(const plx_model *m, plx_h5 *h, const char *set,
                     plx_error *err)
{
  size_t k;
  int rc;
  for (k = 0; k < m->n_proj; k++) {
    const plx_projection *p = &m->proj[k];
    char ds[256];
    snprintf(ds, sizeof ds, "/weights/%s/%s", set, p->name);
    if ((rc = plx_h5_write_matrix(h, ds, p->w, p->n_post, p->n_pre, p->ld, err)))
      return rc;
  }
  return PLX_OK;
}
