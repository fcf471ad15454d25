/* plastix/images2d.h -- oriented 2-D stimuli with exact derivatives with
 * respect to their orientation, for the deep-net path: masked sinusoidal
 * gratings (the supervised orientation task of Benjamin et al. 2022,
 * Fig. 6) and Gabor patches (their Fig. 2 sensitivity analysis).
 *
 * Images are size × size, row-major, pixel (i, j) at coordinates
 * x = j - (size - 1)/2, y = (size - 1)/2 - i (y up).  Orientation theta is
 * the direction of the stripes: theta = 0 gives horizontal stripes (the
 * wave vector points along y), theta = pi/2 vertical ones, so cardinal
 * orientations are 0 and pi/2 and obliques pi/4, 3pi/4. */
#ifndef PLASTIX_IMAGES2D_H
#define PLASTIX_IMAGES2D_H

#include <stddef.h>

typedef struct plx_grating2d {
  size_t size;         /* pixels per side                                   */
  double period;       /* pixels per cycle                                  */
  double contrast;     /* amplitude of the sinusoid                         */
  double mask_radius;  /* pixels; <= 0 for no mask                          */
  double mask_blur;    /* s.d. of the Gaussian that softens the mask edge   */
  double envelope;     /* Gabor: s.d. of the isotropic Gaussian envelope, 0 = none */
  double offset;       /* added to every pixel (e.g. 0.5 for [0, 1] images)  */
} plx_grating2d;

/* img = offset + mask * contrast * cos(2 pi u / period + phase) * env, with
 * u = x sin(theta) - y cos(theta) the coordinate across the stripes;
 * dimg (may be NULL) receives d img / d theta. */
void plx_grating2d_render(const plx_grating2d *g, double theta, double phase,
                          float *img, float *dimg);

/* A size x size crop of a greyscale photograph `grey` (w x h floats,
 * row-major, pixel (r, c) at column c, row r) centred on (cx, cy) in pixel
 * coordinates and rotated by theta: the crop shows the photograph turned
 * counterclockwise by theta (an edge at orientation phi appears at
 * phi + theta, in the orientation convention above).  Sampled by bicubic
 * (Keys, a = -1/2) interpolation, which is continuously differentiable, so
 * dimg (may be NULL) receives the exact d img / d theta of the
 * interpolated image.  The caller keeps the rotated square inside the
 * photograph: every source point needs 2 pixels of margin,
 * plx_rotated_crop_radius gives the distance from the centre. */
void plx_rotated_crop(const float *grey, size_t w, size_t h, double cx, double cy,
                      size_t size, double theta, float *img, float *dimg);
/* Largest distance of a crop's sample point from its centre, plus the
 * interpolation margin: crops are valid when the centre is at least this
 * far from every edge. */
double plx_rotated_crop_radius(size_t size);

/* Orientation statistics of a grey image: the energy of its gradient
 * (central differences, over the interior pixels of columns [0, x_end) and
 * rows [0, h)) whose direction lies within window_deg degrees of a
 * cardinal orientation (0 or 90) into *cardinal, within window_deg of an
 * oblique one (45 or 135) into *oblique.  A gradient is perpendicular to
 * the stripes it crosses, and the perpendicular of a cardinal is cardinal,
 * so this is also the energy of cardinal and oblique structure.  For a
 * grating at 0 or 90 degrees *oblique is 0, at 45 or 135 *cardinal is 0. */
void plx_orientation_energy(const float *grey, size_t w, size_t h, size_t x_end,
                            double window_deg, double *cardinal, double *oblique);

/* Inverse binary entropy on the branch sigma >= 1/2: H_b(sigma) = h, h in
 * [0, 1] bits (bisection to machine precision). */
double plx_inverse_binary_entropy(double h);

#endif
