/* Which of the copies in src/kernels/isa/ this CPU runs (src/kernels/cpu.h). */
#include "kernels/cpu.h"

#include <stdatomic.h>

#include "lurn.h"

lurn_isa lurn_cpu_isa(void) {
#ifdef LURN_ISA_DISPATCH
  /* libgcc's check reads CPUID and, for AVX and AVX-512, that the operating system saves
   * the wide registers (XGETBV); its answer is fixed when the program starts. */
  static atomic_int known = -1;  /* threads may ask at once; each finds the same answer */
  int isa = atomic_load_explicit(&known, memory_order_relaxed);
  if (isa < 0) {
    __builtin_cpu_init();
    isa = __builtin_cpu_supports("avx512f") ? LURN_ISA_AVX512
          : __builtin_cpu_supports("avx2")  ? LURN_ISA_AVX2
                                            : LURN_ISA_BASELINE;
    atomic_store_explicit(&known, isa, memory_order_relaxed);
  }
  return (lurn_isa)isa;
#else
  return LURN_ISA_BASELINE;
#endif
}

const char *lurn_cpu_isa_name(lurn_isa isa) {
  return isa == LURN_ISA_AVX512 ? "avx512" : isa == LURN_ISA_AVX2 ? "avx2" : "baseline";
}

const char *lurn_cpu_kernels(void) {
  return lurn_cpu_isa_name(lurn_cpu_isa());
}
