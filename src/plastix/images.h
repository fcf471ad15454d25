/* plastix/images.h -- greyscale images for the linear-net path: JPEG and
 * PNG photographs read from files, folders or glob patterns, and synthetic
 * images with a power-law (1/f^alpha amplitude) spectrum.
 *
 * Grey is the mean of R, G and B in [0, 1], as the authors computed it for
 * their ImageNet32 crops.  Pixels are held exactly as integer sums: a pixel
 * of an image read with downsampling k (k x k box filter) is the sum of
 * R + G + B over its k x k block, grey = sum * scale with scale =
 * 1 / (765 k^2); k <= 9 keeps every sum inside 16 bits.  Synthetic images
 * are quantised the same way (765 levels, scale 1/765), like an 8-bit RGB
 * photograph with R = G = B. */
#ifndef PLASTIX_IMAGES_H
#define PLASTIX_IMAGES_H

#include "plastix/rng.h"
#include "plastix/rule.h"

#include <stddef.h>
#include <stdint.h>

/* Largest box-filter factor (765 * 9^2 < 65536). */
#define PLX_IMAGE_MAX_DOWNSAMPLE 9u

typedef struct plx_image {
  size_t w, h;     /* after downsampling                                  */
  uint16_t *sum;   /* [h * w] row-major: sum[y * w + x]                    */
  double scale;    /* grey = sum * scale, in [0, 1]                        */
} plx_image;

/* Read a JPEG or PNG file (told apart by their signatures, whatever the
 * name), average R, G, B and box-filter by `downsample` (1 = none; a
 * trailing partial block is dropped).  Errors name the file: PLX_ENOTFOUND
 * when it cannot be opened, PLX_EINVAL when it is not a readable JPEG/PNG
 * or is smaller than one block.  The library never prints: libjpeg's and
 * libpng's warnings are swallowed. */
int plx_image_read(plx_image *img, const char *path, unsigned downsample,
                   plx_error *err);

/* A side x side image (side a power of two, 8..8192) of a Gaussian random
 * field with amplitude spectrum |k|^-alpha (zero mean luminance removed,
 * periodic), mapped to grey = 0.5 + z / 8 for z in units of its standard
 * deviation, clipped to [0, 1] and quantised to 765 levels.  Drawn from
 * `rng` only: deterministic given the stream. */
int plx_image_synthetic(plx_image *img, size_t side, double alpha,
                        plx_rng *rng, plx_error *err);

/* Free the pixels and zero the struct; NULL-safe. */
void plx_image_release(plx_image *img);

/* Expand `pattern` into image files, sorted by name: an existing directory
 * gives every *.jpg, *.jpeg and *.png in it (any case, not recursive); an
 * existing file gives itself; anything else is a glob(3) pattern.
 * Appends malloc'd paths to (*paths, *n) (growing the array).  Errors:
 * PLX_ENOTFOUND when a directory cannot be opened or a pattern matches no
 * file, PLX_EINVAL when a directory holds no JPEG/PNG file. */
int plx_images_expand(const char *pattern, char ***paths, size_t *n,
                      plx_error *err);
/* Free a list from plx_images_expand; NULL-safe. */
void plx_images_free_list(char **paths, size_t n);

/* The default photographs: natural scenes from the Debian packages
 * mate-backgrounds (nature/) and lomiri-wallpapers-16.04, by name
 * (NULL-terminated; scripts/setup.sh installs both packages). */
extern const char *const plx_images_default_photos[];

#endif
