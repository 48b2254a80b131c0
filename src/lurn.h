/*
 * lurn.h — the public C API of lurn, a neural-network runtime driven from Lua 5.4.
 *
 * The C core (liblurn) knows nothing about Lua: tensors, kernels and file formats
 * are plain C. Functions that can fail on user input return a lurn_status and
 * leave a message in lurn_last_error(); they never print, exit or abort.
 *
 * A host application embeds the whole library, Lua half included, through lurn_lua.h
 * (lurn_open), which is where everything of Lua is declared.
 */
#ifndef LURN_H
#define LURN_H

/* One header a concern, under src/lurn/. A layer's insides are not part of it: a layer
 * author includes lurn/layer_impl.h. */
#include "lurn/core.h"
#include "lurn/tensor.h"
#include "lurn/nn.h"
#include "lurn/layers.h"
#include "lurn/model.h"
#include "lurn/io.h"
#include "lurn/preprocessing.h"
#include "lurn/sampling.h"

#endif
