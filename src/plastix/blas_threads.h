/* blas_threads.h -- keep OpenBLAS single-threaded while plastix computes.
 *
 * OpenBLAS's sgemm/dgemm split their work differently with 1 and with 2 or
 * more threads, and the sums then round differently (measured with
 * OpenBLAS 0.3.21 on the convolutional layers' shapes: six of seven
 * products, all but an 11 x 64 x 256 one, differed in their last bits
 * between 1 and 2 threads).  plastix parallelises over trials, seeds and
 * conditions instead, so its results do not depend on any thread count.
 * The CLI pins OpenBLAS to one thread at start-up; every library entry
 * point that runs an experiment brackets its work with these two calls, so
 * a program that links libplastix gets the same bits as the CLI whatever
 * OPENBLAS_NUM_THREADS says, and gets its own BLAS thread count back after
 * the call.  Nested and concurrent calls are counted: the count is
 * restored when the last of them leaves. */
#ifndef PLASTIX_BLAS_THREADS_H
#define PLASTIX_BLAS_THREADS_H

/* Set OpenBLAS to one thread (remembering the caller's count on the first
 * of nested or concurrent entries). */
void plx_blas_serial_enter(void);
/* Undo one plx_blas_serial_enter; the last one restores the caller's
 * count. */
void plx_blas_serial_leave(void);

#endif
