/* Shared by the binding files: the lurn.Tensor userdata. */
#ifndef LURN_L_TENSOR_H
#define LURN_L_TENSOR_H

#include <lauxlib.h>
#include <limits.h>
#include <lua.h>

#include "lurn.h"

#define LURN_TENSOR_MT "lurn.Tensor"

lurn_tensor *l_checktensor(lua_State *L, int idx);
lurn_tensor *l_totensor(lua_State *L, int idx);  /* NULL if not a tensor */
/* A new handle on t's storage, pushed as a userdata, for a C call that may run Lua (a
 * Lambda layer): closing the caller's tensor during the call then frees only its handle. */
lurn_tensor *l_pin(lua_State *L, const lurn_tensor *t);
/* Pushes t as a new userdata that owns it. A NULL t raises lurn_last_error(). */
void l_pushtensor(lua_State *L, lurn_tensor *t);
/* Raises lurn_last_error() unless st is LURN_OK. */
void l_check(lua_State *L, lurn_status st);
/* Reads a shape from a table {2, 3} at idx, or from the integers idx..top. */
int l_checkshape(lua_State *L, int idx, int64_t *shape);
/* The same for a table in which one size may be -1 (reshape targets). */
int l_checkshape_signed(lua_State *L, int idx, int64_t *shape);
/* Lists read from Lua (positions, texts, rows of nested tables) hold at most this many
 * entries: a plain table that long already takes 32 GiB, and a __len that claims more is
 * refused before anything is read or allocated. */
#define LURN_MAX_LIST ((lua_Integer)INT_MAX)
/* Tensors joined by one cat or stack. */
#define LURN_MAX_TENSOR_LIST ((lua_Integer)1 << 24)
/* Sample positions held in float32 tensors are exact up to 2^24, past which a float32
 * no longer holds every whole number: functions that return positions as tensors refuse
 * more rows than this rather than give repeated positions. */
#define LURN_MAX_FLOAT_POSITION ((lua_Integer)1 << 24)
/* The length of the list at idx (its __len included), raising an argument error naming
 * `what` unless it is 0..max. Check it before copying or allocating. */
lua_Integer l_checklen(lua_State *L, int idx, lua_Integer max, const char *what);
/* A 1-based Lua dimension argument turned into a 0-based C one (negative counts from the end). */
int l_checkdim(lua_State *L, int idx, const lurn_tensor *t);

void l_tensor_register(lua_State *L);      /* metatable and constructors */
void l_tensor_math_register(lua_State *L); /* math methods and functions */
void l_settings_register(lua_State *L);    /* seed, threads, clock */
void l_npy_register(lua_State *L);
void l_file_register(lua_State *L);        /* write_file: a Lua string saved atomically */
void l_layer_register(lua_State *L);       /* lurn.Layer */
void l_model_register(lua_State *L);       /* lurn.Model, lurn.Optimizer, losses, metrics */
void l_data_parallel_register(lua_State *L); /* sums over the processes of a job for fit */
void l_optimizer_register(lua_State *L);

lurn_layer *l_checklayer(lua_State *L, int idx);
/* Pushes a new lurn.Layer userdata owning l (with nuvalue user values); NULL raises. */
int l_pushlayer(lua_State *L, lurn_layer *l, int nuvalue);
/* Lambda callbacks run on the Lua state that last entered the C core (l_active_state.c). */
void l_set_active_state(lua_State *L);
lua_State *l_active_state(void);
void l_lambda_register(lua_State *L);
void l_graph_register(lua_State *L);   /* merge layers and the graph container */
void l_idx_register(lua_State *L);
void l_csv_register(lua_State *L);     /* read_csv */
void l_preprocessing_register(lua_State *L); /* scalers, encoders, splits */
void l_sampling_register(lua_State *L);      /* SMOTE, random samplers, k nearest neighbours */
void l_augment_register(lua_State *L);  /* image augmentation */
void l_interrupt_register(lua_State *L); /* Ctrl-C during fit, evaluate, predict */
void l_metrics_register(lua_State *L);   /* scikit-learn's classification metrics */
void l_model_file_register(lua_State *L); /* model files: sections and tensor lists */
void l_distributed_register(lua_State *L); /* processes of one job over MPI (src/dist/) */

#endif
