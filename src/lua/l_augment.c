/* Image augmentation (src/preprocessing/augment.c) for lurn.preprocessing.image:
 *   core.augmenter(config, seed) -> a lurn.Augmenter: a lurn_augment_config and its own
 *       generator; aug:augment(x, out), aug:draw(h, w), aug:randperm(n), aug:seed(s)
 *   core.image_apply_transform(x, params, fill_mode, cval, order) -> a new image
 *   core.image_standardize(x, {rescale =, samplewise_center =, ..., mean =, std =}) -> x
 * Option names and Keras' meaning of them are checked in lua/lurn/preprocessing/image.lua;
 * here only types, and ranges again through lurn_augment_check. */
#include <stdlib.h>
#include <string.h>

#include "core/checked.h"
#include "l_tensor.h"

#define LURN_AUGMENTER_MT "lurn.Augmenter"

typedef struct {
  lurn_augment_config c;
  lurn_rng rng;
  double *values[2]; /* the height and width shift lists, owned */
  int closed;        /* __gc ran: c points at freed lists */
} augmenter_box;

static augmenter_box *check_augmenter(lua_State *L, int idx) {
  augmenter_box *b = luaL_checkudata(L, idx, LURN_AUGMENTER_MT);
  if (b->closed) luaL_argerror(L, idx, "attempt to use a closed augmenter");
  return b;
}

static double number_field(lua_State *L, int idx, const char *name, double dflt) {
  int ok;
  lua_getfield(L, idx, name);
  double v = lua_isnil(L, -1) ? dflt : lua_tonumberx(L, -1, &ok);
  if (!lua_isnil(L, -1) && !ok) luaL_error(L, "%s must be a number, got %s", name, luaL_typename(L, -1));
  lua_pop(L, 1);
  return v;
}

/* A flag given as a boolean or as a number (Keras' 0/1 products). */
static int flag_field(lua_State *L, int idx, const char *name) {
  lua_getfield(L, idx, name);
  int v = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) != 0 : lua_toboolean(L, -1);
  lua_pop(L, 1);
  return v;
}

/* {lower, upper}; returns 0 when the field is nil. */
static int pair_field(lua_State *L, int idx, const char *name, double *p) {
  lua_getfield(L, idx, name);
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    return 0;
  }
  if (!lua_istable(L, -1) || luaL_len(L, -1) != 2)
    luaL_error(L, "augmenter: %s must be {lower, upper}", name);
  for (int i = 0; i < 2; i++) {
    lua_geti(L, -1, i + 1);
    int ok;
    p[i] = lua_tonumberx(L, -1, &ok);
    if (!ok) luaL_error(L, "augmenter: %s must hold two numbers", name);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return 1;
}

/* A shift range: a number, or a list of values stored in b->values[k]. */
static void shift_field(lua_State *L, int idx, const char *name, augmenter_box *b, int k, double *range,
                        const double **values, int *n) {
  lua_getfield(L, idx, name);
  if (lua_istable(L, -1)) {
    lua_Integer len = luaL_len(L, -1);
    if (len < 1 || len > (1 << 24)) luaL_error(L, "augmenter: %s must be a non-empty list", name);
    b->values[k] = malloc(sizeof(double) * (size_t)len);
    if (!b->values[k]) luaL_error(L, "augmenter: out of memory");
    for (lua_Integer i = 0; i < len; i++) {
      lua_geti(L, -1, i + 1);
      int ok;
      b->values[k][i] = lua_tonumberx(L, -1, &ok);
      if (!ok) luaL_error(L, "augmenter: %s must hold numbers", name);
      lua_pop(L, 1);
    }
    *values = b->values[k];
    *n = (int)len;
  } else if (!lua_isnil(L, -1)) {
    int ok;
    *range = lua_tonumberx(L, -1, &ok);
    if (!ok) luaL_error(L, "augmenter: %s must be a number or a list", name);
  }
  lua_pop(L, 1);
}

static lurn_fill_mode check_fill_mode(lua_State *L, int idx) {
  lurn_fill_mode mode;
  if (!lurn_fill_mode_from_name(luaL_checkstring(L, idx), &mode)) luaL_error(L, "%s", lurn_last_error());
  return mode;
}

/* An interpolation order, checked before the cast to int (lurn_augment_check names the
 * orders supported): NaN, fractions and 2^32 + 1 would otherwise become some int. */
static int check_order(lua_State *L, double v) {
  int64_t order = 0;
  if (!lurn_i64_from_double(v, &order) || order < 0 || order > 5)
    luaL_error(L, "interpolation_order must be a whole number from 0 to 5, got %f", (lua_Number)v);
  return (int)order;
}

static uint64_t check_seed(lua_State *L, int idx) {
  /* No seed: the process generator picks one, so lurn.manual_seed still repeats a run. */
  if (lua_isnoneornil(L, idx)) return lurn_rng_next(lurn_rng_global());
  return (uint64_t)luaL_checkinteger(L, idx);
}

/* Frees the shift lists and closes the augmenter; a second call does nothing. */
static int l_augmenter_gc(lua_State *L) {
  augmenter_box *b = luaL_checkudata(L, 1, LURN_AUGMENTER_MT);
  b->closed = 1;
  for (int k = 0; k < 2; k++) {
    free(b->values[k]);
    b->values[k] = NULL;
  }
  return 0;
}

/* core.augmenter(config, seed) */
static int l_augmenter_new(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  uint64_t seed = check_seed(L, 2);
  augmenter_box *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  luaL_setmetatable(L, LURN_AUGMENTER_MT);
  lurn_augment_config *c = &b->c;
  lurn_augment_config_init(c);
  c->rotation_range = number_field(L, 1, "rotation_range", 0);
  shift_field(L, 1, "height_shift_range", b, 0, &c->height_shift_range, &c->height_shift_values,
              &c->n_height_shift_values);
  shift_field(L, 1, "width_shift_range", b, 1, &c->width_shift_range, &c->width_shift_values,
              &c->n_width_shift_values);
  c->shear_range = number_field(L, 1, "shear_range", 0);
  pair_field(L, 1, "zoom_range", c->zoom_range);
  c->horizontal_flip = flag_field(L, 1, "horizontal_flip");
  c->vertical_flip = flag_field(L, 1, "vertical_flip");
  c->channel_shift_range = number_field(L, 1, "channel_shift_range", 0);
  c->brightness = pair_field(L, 1, "brightness_range", c->brightness_range);
  lua_getfield(L, 1, "fill_mode");
  if (!lua_isnil(L, -1)) c->fill_mode = check_fill_mode(L, -1);
  lua_pop(L, 1);
  c->cval = (float)number_field(L, 1, "cval", 0);
  c->interpolation_order = check_order(L, number_field(L, 1, "interpolation_order", 1));
  l_check(L, lurn_augment_check(c));
  lurn_rng_seed(&b->rng, seed);
  return 1;
}

static lurn_tensor *check_packed(lua_State *L, int idx) {
  lurn_tensor *t = l_checktensor(L, idx);
  if (!lurn_tensor_is_contiguous(t)) luaL_argerror(L, idx, "expected a packed tensor (call contiguous())");
  return t;
}

/* aug:augment(x, out) -> out: each image of x (N, H, W, C) randomly transformed. */
static int l_augment(lua_State *L) {
  augmenter_box *b = check_augmenter(L, 1);
  lurn_tensor *x = check_packed(L, 2), *out = check_packed(L, 3);
  l_check(L, lurn_augment_batch(&b->c, x, &b->rng, out));
  lua_settop(L, 3);
  return 1;
}

static void push_transform(lua_State *L, const lurn_image_transform *t) {
  lua_createtable(L, 0, 10);
  lua_pushnumber(L, t->theta);
  lua_setfield(L, -2, "theta");
  lua_pushnumber(L, t->tx);
  lua_setfield(L, -2, "tx");
  lua_pushnumber(L, t->ty);
  lua_setfield(L, -2, "ty");
  lua_pushnumber(L, t->shear);
  lua_setfield(L, -2, "shear");
  lua_pushnumber(L, t->zx);
  lua_setfield(L, -2, "zx");
  lua_pushnumber(L, t->zy);
  lua_setfield(L, -2, "zy");
  lua_pushboolean(L, t->flip_horizontal);
  lua_setfield(L, -2, "flip_horizontal");
  lua_pushboolean(L, t->flip_vertical);
  lua_setfield(L, -2, "flip_vertical");
  lua_pushnumber(L, t->channel_shift_intensity);
  lua_setfield(L, -2, "channel_shift_intensity");
  lua_pushnumber(L, t->brightness);
  lua_setfield(L, -2, "brightness");
}

/* aug:draw(h, w) -> the parameters of one random transform, Keras' names. */
static int l_draw(lua_State *L) {
  augmenter_box *b = check_augmenter(L, 1);
  lua_Integer h = luaL_checkinteger(L, 2), w = luaL_checkinteger(L, 3);
  luaL_argcheck(L, h >= 1, 2, "height must be >= 1");
  luaL_argcheck(L, w >= 1, 3, "width must be >= 1");
  lurn_image_transform t;
  lurn_augment_draw(&b->c, h, w, &b->rng, &t);
  push_transform(L, &t);
  return 1;
}

/* aug:randperm(n) -> the positions 1..n in an order drawn from the augmenter's generator. */
static int l_randperm(lua_State *L) {
  augmenter_box *b = check_augmenter(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 0, 2, "n must be >= 0");
  if (n > LURN_MAX_FLOAT_POSITION)
    luaL_argerror(L, 2,
                  lua_pushfstring(L,
                                  "n = %I is past 2^24, beyond which a float32 tensor cannot hold every "
                                  "position",
                                  n));
  int64_t len = n;
  lurn_tensor *t = lurn_tensor_empty(1, &len);
  l_pushtensor(L, t);
  int64_t *index = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)(n ? n : 1), 0);
  lurn_randperm(index, n, &b->rng);
  float *d = lurn_tensor_data(t);
  for (int64_t i = 0; i < n; i++) d[i] = (float)(index[i] + 1);
  lua_pop(L, 1);
  return 1;
}

static int l_seed(lua_State *L) {
  augmenter_box *b = check_augmenter(L, 1);
  lurn_rng_seed(&b->rng, check_seed(L, 2));
  return 0;
}

/* core.image_apply_transform(x, params, fill_mode, cval, order) */
static int l_apply_transform(lua_State *L) {
  check_packed(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lurn_fill_mode mode = check_fill_mode(L, 3);
  float cval = (float)luaL_optnumber(L, 4, 0);
  int order = check_order(L, luaL_optnumber(L, 5, 1));
  lurn_image_transform t;
  lurn_image_transform_identity(&t);
  t.theta = number_field(L, 2, "theta", 0);
  t.tx = number_field(L, 2, "tx", 0);
  t.ty = number_field(L, 2, "ty", 0);
  t.shear = number_field(L, 2, "shear", 0);
  t.zx = number_field(L, 2, "zx", 1);
  t.zy = number_field(L, 2, "zy", 1);
  t.flip_horizontal = flag_field(L, 2, "flip_horizontal");
  t.flip_vertical = flag_field(L, 2, "flip_vertical");
  t.channel_shift_intensity = number_field(L, 2, "channel_shift_intensity", 0);
  t.brightness = number_field(L, 2, "brightness", 1);
  /* taken after the fields (a metamethod may run) and pinned (the next allocation may
   * run a finalizer): nothing can close it under the transform */
  lurn_tensor *x = l_pin(L, check_packed(L, 1));
  lurn_tensor *out = lurn_tensor_empty(x->ndim, x->shape);
  l_pushtensor(L, out);
  l_check(L, lurn_image_apply_transform(x, &t, order, mode, cval, out));
  return 1;
}

/* Per-channel statistics: a tensor of `channels` values, or NULL for nil. */
static const float *channel_field(lua_State *L, int idx, const char *name, int64_t channels) {
  lua_pushstring(L, name);
  if (lua_rawget(L, idx) == LUA_TNIL) { /* raw: no metamethod may close the other statistic */
    lua_pop(L, 1);
    return NULL;
  }
  lurn_tensor *t = l_totensor(L, -1);
  if (!t && luaL_testudata(L, -1, LURN_TENSOR_MT)) luaL_error(L, "standardize: %s is a closed tensor", name);
  if (!t) luaL_error(L, "standardize: %s must be a tensor, got %s", name, luaL_typename(L, -1));
  lua_pop(L, 1); /* the table keeps it alive */
  if (lurn_tensor_numel(t) != channels || !lurn_tensor_is_contiguous(t)) {
    luaL_error(L, "standardize: %s must be a packed tensor of %I values, one per channel", name,
               (lua_Integer)channels);
  }
  return lurn_tensor_data(t);
}

/* core.image_standardize(x, config) -> x, changed in place. */
static int l_standardize(lua_State *L) {
  check_packed(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lurn_standardize_config c = {0};
  c.rescale = (float)number_field(L, 2, "rescale", 0);
  c.samplewise_center = flag_field(L, 2, "samplewise_center");
  c.samplewise_std_normalization = flag_field(L, 2, "samplewise_std_normalization");
  lurn_tensor *x = check_packed(L, 1); /* after the fields: a metamethod may run there */
  luaL_argcheck(L, x->ndim == 3 || x->ndim == 4, 1, "expected (H, W, C) or (N, H, W, C) images");
  int64_t channels = x->shape[x->ndim - 1];
  c.mean = channel_field(L, 2, "mean", channels);
  c.std = channel_field(L, 2, "std", channels);
  l_check(L, lurn_image_standardize(x, &c));
  lua_settop(L, 1);
  return 1;
}

static const luaL_Reg augmenter_methods[] = {
    {"augment", l_augment}, {"draw", l_draw}, {"randperm", l_randperm}, {"seed", l_seed}, {NULL, NULL},
};

static const luaL_Reg augment_functions[] = {
    {"augmenter", l_augmenter_new},
    {"image_apply_transform", l_apply_transform},
    {"image_standardize", l_standardize},
    {NULL, NULL},
};

void l_augment_register(lua_State *L) {
  luaL_newmetatable(L, LURN_AUGMENTER_MT);
  lua_pushcfunction(L, l_augmenter_gc);
  lua_setfield(L, -2, "__gc");
  luaL_newlib(L, augmenter_methods);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, augment_functions, 0);
}
