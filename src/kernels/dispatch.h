/* Hot loops of lurn's own compiled for the CPU they run on (issue 20: the portable build
 * within 5% of -march=native). LURN_CLONES on a function makes GCC compile it for AVX-512,
 * AVX2 and the baseline, and pick one when the library loads (an ifunc resolver on the CPU's
 * features, as OpenBLAS and oneDNN pick theirs); an OpenMP loop inside is cloned with it.
 * Measured on the seeds' MLP (docs/benchmarks.md, "Portable builds"): Adam's update was the
 * gap between the default build and the native one.
 *
 * Only where it helps and works: GCC on x86-64, a build not already for a CPU with AVX2
 * (-march=native), and not the sanitizer or fuzz builds' clang. The clones compute what the
 * baseline does, rounding for rounding: elementwise operations round alike at any vector
 * width, and the build contracts no multiply-adds (-ffp-contract=off, CMakeLists.txt). */
#ifndef LURN_KERNELS_DISPATCH_H
#define LURN_KERNELS_DISPATCH_H

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(__AVX2__) && \
    !defined(LURN_NO_CLONES)
#define LURN_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define LURN_CLONES
#endif

#endif
