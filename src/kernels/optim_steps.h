/* Optimizers' elementwise updates compiled once per instruction set (src/kernels/isa/,
 * chosen at run time: src/kernels/cpu.h). Not part of the public API. */
#ifndef LURN_KERNELS_OPTIM_STEPS_H
#define LURN_KERNELS_OPTIM_STEPS_H

#include <stdint.h>

#include "kernels/cpu.h"

/* Adam with step size alpha (bias correction folded in): m and v move toward g and g^2,
 * w -= alpha * m / (sqrt(v) + eps); with vhat (AMSGrad) v's running maximum is kept there
 * and divides instead. n elements, run on lurn's threads when there are many. */
typedef void lurn_adam_step_fn(float *restrict w, const float *restrict g, float *restrict m, float *restrict v,
                               float *restrict vhat, int64_t n, float b1, float b2, float alpha, float eps);
LURN_ISA_DECLARE(lurn_adam_step_fn, lurn_adam_step);

#endif
