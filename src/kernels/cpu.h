/* The instruction sets lurn's own hot kernels are compiled for, and the one this CPU runs
 * (issue 20: the portable build within 5% of -march=native). A kernel that gains from wider
 * vectors lives in src/kernels/isa/ and is compiled once per instruction set there
 * (CMakeLists.txt: -mavx2, -mavx512f), each copy named with its set's suffix; its caller
 * takes the copy lurn_cpu_isa() names, as OpenBLAS and oneDNN pick their kernels. Whole
 * translation units, not GCC's target_clones: measured (docs/benchmarks.md, "Portable
 * builds"), a clone lowers generic vector extensions (max pooling's f32x16 compares and
 * blends) element by element, and its ifunc cannot be steered by a test.
 *
 * The copies compute the same numbers: compares, blends and elementwise operations round
 * alike at every width, and the build contracts no multiply-add (-ffp-contract=off). */
#ifndef LURN_KERNELS_CPU_H
#define LURN_KERNELS_CPU_H

typedef enum { LURN_ISA_BASELINE, LURN_ISA_AVX2, LURN_ISA_AVX512 } lurn_isa;

/* The widest set compiled in that this CPU and its operating system support. A build with
 * -march=native, on another processor than x86-64, or by another compiler than GCC or
 * Clang compiles the baseline copy alone (for the CPU it was built for) and returns it. */
lurn_isa lurn_cpu_isa(void);

/* "avx512", "avx2" or "baseline": for `lurn --version` and bug reports. */
const char *lurn_cpu_isa_name(lurn_isa isa);

/* Names a kernel's copy for the set being compiled: LURN_ISA_NAME(f) is f_avx2 in the
 * copy compiled with -DLURN_ISA=avx2. */
#define LURN_ISA_CAT2(f, isa) f##_##isa
#define LURN_ISA_CAT(f, isa) LURN_ISA_CAT2(f, isa)
#define LURN_ISA_NAME(f) LURN_ISA_CAT(f, LURN_ISA)

/* Declares the copies of kernel f of type `type`, and chooses one: LURN_ISA_PICK(f) is the
 * copy for this CPU. LURN_ISA_DISPATCH is defined by CMakeLists.txt where the wide copies
 * are compiled. */
#ifdef LURN_ISA_DISPATCH
#define LURN_ISA_DECLARE(type, f) type f##_baseline, f##_avx2, f##_avx512
#define LURN_ISA_PICK(f) \
  (lurn_cpu_isa() == LURN_ISA_AVX512 ? f##_avx512 : lurn_cpu_isa() == LURN_ISA_AVX2 ? f##_avx2 : f##_baseline)
#else
#define LURN_ISA_DECLARE(type, f) type f##_baseline
#define LURN_ISA_PICK(f) f##_baseline
#endif

#endif
