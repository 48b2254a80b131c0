/* lurn.core functions behind lurn.metrics' scikit-learn functions: confusion counts and the
 * curves of scores. Arguments arrive as Lua lists or tensors of shape (N) or (N, 1); each is
 * copied into doubles (a scratch userdata left on the stack), so that scores keep their
 * precision and the C core sees one kind of input. The first argument of each names the
 * calling function for messages. */
#include <math.h>
#include <string.h>

#include "core/checked.h"
#include "l_tensor.h"

/* The numbers at idx, a list or a tensor of shape (N) or (N, 1), as *n doubles. */
static double *check_values(lua_State *L, int idx, const char *who, const char *what, int64_t *n) {
  lurn_tensor *t = l_totensor(L, idx);
  if (t) {
    if (!(t->ndim == 1 || (t->ndim == 2 && t->shape[1] == 1))) {
      char s[LURN_SHAPE_STR_MAX];
      luaL_error(L, "%s: %s must be a list or a tensor of shape (N) or (N, 1), got a tensor of shape %s%s",
                 who, what, lurn_shape_str(t, s, sizeof s),
                 t->ndim == 2 ? " (for probabilities of shape (N, C), take the predicted classes first: "
                                "p:argmax(2) - 1)"
                              : "");
    }
    *n = t->shape[0];
    double *v = lua_newuserdatauv(L, sizeof(double) * ((size_t)*n + 1), 0);
    const float *d = lurn_tensor_data(t);
    for (int64_t i = 0; i < *n; i++) v[i] = d[i * t->stride[0]];
    return v;
  }
  if (!lua_istable(L, idx))
    luaL_error(L, "%s: %s must be a list or a tensor, got %s", who, what, luaL_typename(L, idx));
  lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
  if (len > LURN_MAX_LIST) luaL_error(L, "%s: %s has too many entries", who, what);
  *n = len;
  double *v = lua_newuserdatauv(L, sizeof(double) * ((size_t)len + 1), 0);
  for (lua_Integer i = 1; i <= len; i++) {
    int type = lua_rawgeti(L, idx, i);
    if (type != LUA_TNUMBER)
      luaL_error(
          L, "%s: %s[%I] is a %s, not a number%s", who, what, i, lua_typename(L, type),
          type == LUA_TTABLE ? " (a list of rows of probabilities? take the predicted classes first)" : "");
    v[i - 1] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  return v;
}

/* Labels at idx: whole numbers from 0, as many as `expected` unless it is < 0. */
static double *check_labels(lua_State *L, int idx, const char *who, const char *what, int64_t expected,
                            int64_t *n) {
  double *v = check_values(L, idx, who, what, n);
  if (expected >= 0 && *n != expected)
    luaL_error(L, "%s: %s has %I entries but y_true has %I", who, what, (lua_Integer)*n,
               (lua_Integer)expected);
  l_check(L, lurn_check_labels(v, *n, who, what));
  return v;
}

/* Optional sample weights at idx: n finite numbers, or NULL. */
static double *opt_weights(lua_State *L, int idx, const char *who, int64_t n) {
  if (lua_isnoneornil(L, idx)) return NULL;
  int64_t m;
  double *w = check_values(L, idx, who, "sample_weight", &m);
  if (m != n)
    luaL_error(L, "%s: sample_weight has %I entries but y_true has %I", who, (lua_Integer)m, (lua_Integer)n);
  for (int64_t i = 0; i < n; i++)
    if (!isfinite(w[i])) luaL_error(L, "%s: sample_weight[%I] is not finite", who, (lua_Integer)i + 1);
  return w;
}

static void push_list(lua_State *L, const double *v, int64_t n) {
  lua_createtable(L, n < INT_MAX ? (int)n : 0, 0);
  for (int64_t i = 0; i < n; i++) {
    lua_pushnumber(L, v[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* Labels (checked whole numbers) as Lua integers, so that they print as 0, 1, 2. */
static void push_labels(lua_State *L, const double *v, int64_t n) {
  lua_createtable(L, n < INT_MAX ? (int)n : 0, 0);
  for (int64_t i = 0; i < n; i++) {
    lua_pushinteger(L, (lua_Integer)v[i]);
    lua_rawseti(L, -2, i + 1);
  }
}

/* Rates (fpr, tpr, precision, recall) as a float32 tensor, as lurn's curves are plotted and
 * computed on; thresholds go out with push_list, being the input scores themselves. */
static void push_tensor(lua_State *L, const double *v, int64_t n) {
  int64_t shape[1] = {n};
  lurn_tensor *t = lurn_tensor_empty(1, shape);
  if (!t) l_check(L, LURN_ENOMEM);
  float *d = lurn_tensor_data(t);
  for (int64_t i = 0; i < n; i++) d[i] = (float)v[i];
  l_pushtensor(L, t);
}

static double *scratch(lua_State *L, int64_t n, const char *who) {
  size_t bytes = 0;
  if (!lurn_array_bytes(n + 1, sizeof(double), &bytes))
    luaL_error(L, "%s: %I entries are too many", who, (lua_Integer)n);
  return lua_newuserdatauv(L, bytes, 0);
}

/* labels_present(who, y_true[, y_pred]) -> the distinct labels, ascending (a list). */
static int l_labels_present(lua_State *L) {
  lua_settop(L, 3); /* scratch buffers go above the arguments */
  const char *who = luaL_checkstring(L, 1);
  int64_t n, m;
  double *a = check_labels(L, 2, who, "y_true", -1, &n);
  double *b = lua_isnoneornil(L, 3) ? NULL : check_labels(L, 3, who, "y_pred", n, &m);
  if (n == 0) luaL_error(L, "%s: y_true is empty", who);
  double *labels = scratch(L, 2 * n, who);
  int64_t k;
  l_check(L, lurn_labels_present(a, b, n, labels, &k));
  push_labels(L, labels, k);
  return 1;
}

/* label_sums(who, y_true, y_pred[, sample_weight]) -> the labels present in either (a list,
 * ascending), and for each the weighted sums tp, predicted, true (three lists). */
static int l_label_sums(lua_State *L) {
  lua_settop(L, 4); /* scratch buffers go above the arguments */
  const char *who = luaL_checkstring(L, 1);
  int64_t n, m, k;
  double *t = check_labels(L, 2, who, "y_true", -1, &n);
  double *p = check_labels(L, 3, who, "y_pred", n, &m);
  if (n == 0) luaL_error(L, "%s: y_true and y_pred are empty", who);
  double *w = opt_weights(L, 4, who, n);
  double *labels = scratch(L, 2 * n, who);
  l_check(L, lurn_labels_present(t, p, n, labels, &k));
  double *tp = scratch(L, k, who), *pred = scratch(L, k, who), *truth = scratch(L, k, who);
  l_check(L, lurn_label_sums(t, p, w, n, labels, k, tp, pred, truth));
  push_labels(L, labels, k);
  push_list(L, tp, k);
  push_list(L, pred, k);
  push_list(L, truth, k);
  return 4;
}

/* A confusion matrix of this many labels takes 8 bytes a cell while it is counted: 512 MiB. */
#define MAX_MATRIX_LABELS 8192

static const char *const normalize_names[] = {"none", "true", "pred", "all", NULL};

/* confusion_matrix(who, y_true, y_pred, sample_weight, labels, normalize) -> a tensor (k, k),
 * row = true label, in the order of labels (or of the labels present, ascending);
 * normalize: "none", "true", "pred" or "all". */
static int l_confusion_matrix(lua_State *L) {
  lua_settop(L, 6); /* scratch buffers go above the arguments */
  const char *who = luaL_checkstring(L, 1);
  lurn_confusion_norm how = (lurn_confusion_norm)luaL_checkoption(L, 6, "none", normalize_names);
  int64_t n, m, k;
  double *t = check_labels(L, 2, who, "y_true", -1, &n);
  double *p = check_labels(L, 3, who, "y_pred", n, &m);
  if (n == 0) luaL_error(L, "%s: y_true and y_pred are empty", who);
  double *w = opt_weights(L, 4, who, n);
  double *labels;
  if (lua_isnil(L, 5)) {
    labels = scratch(L, 2 * n, who);
    l_check(L, lurn_labels_present(t, p, n, labels, &k));
  } else {
    labels = check_labels(L, 5, who, "labels", -1, &k);
    if (k == 0) luaL_error(L, "%s: labels must list at least one label", who);
  }
  if (k > MAX_MATRIX_LABELS)
    luaL_error(L, "%s: %I distinct labels (at most %d): are these class labels?", who, (lua_Integer)k,
               MAX_MATRIX_LABELS);
  double *cm = scratch(L, k * k, who);
  l_check(L, lurn_confusion_counts(t, p, w, n, labels, k, cm));
  l_check(L, lurn_confusion_normalize(cm, k, how));
  int64_t shape[2] = {k, k};
  lurn_tensor *out = lurn_tensor_empty(2, shape);
  if (!out) l_check(L, LURN_ENOMEM);
  float *d = lurn_tensor_data(out);
  for (int64_t i = 0; i < k * k; i++) d[i] = (float)cm[i];
  l_pushtensor(L, out);
  return 1;
}

/* The counts of _binary_clf_curve for (who, y_true, y_score, sample_weight, pos_label) at
 * 1..5: *m points in fps, tps, thr (scratch userdata on the stack). */
static void clf_curve(lua_State *L, const char *who, double **fps, double **tps, double **thr, int64_t *m) {
  int64_t n, ns;
  double *score = check_values(L, 3, who, "y_score", &ns);
  double *t = check_labels(L, 2, who, "y_true", -1, &n);
  if (ns != n)
    luaL_error(L, "%s: y_score has %I entries but y_true has %I", who, (lua_Integer)ns, (lua_Integer)n);
  if (n == 0) luaL_error(L, "%s: y_true and y_score are empty", who);
  double *w = opt_weights(L, 4, who, n);
  double pos, *pos_label = NULL;
  if (!lua_isnoneornil(L, 5)) {
    pos = luaL_checknumber(L, 5);
    pos_label = &pos;
  }
  *fps = scratch(L, n, who);
  *tps = scratch(L, n, who);
  *thr = scratch(L, n, who);
  l_check(L, lurn_binary_clf_curve(t, score, w, n, pos_label, who, *fps, *tps, *thr, m));
  if (*m == 0) luaL_error(L, "%s: every sample_weight is 0", who);
}

/* roc_curve(who, y_true, y_score, sample_weight, pos_label, drop_intermediate) -> fpr, tpr
 * (float32 tensors), thresholds (a list of the scores as given, doubles: `score >= threshold`
 * picks exactly the samples of each point, which a float32 rounding of a list's score would not). */
static int l_roc_curve(lua_State *L) {
  lua_settop(L, 6); /* scratch buffers go above the arguments */
  const char *who = luaL_checkstring(L, 1);
  int drop = lua_toboolean(L, 6);
  double *fps, *tps, *thr;
  int64_t m, k;
  clf_curve(L, who, &fps, &tps, &thr, &m);
  double *fpr = scratch(L, m + 1, who), *tpr = scratch(L, m + 1, who), *th = scratch(L, m + 1, who);
  l_check(L, lurn_roc_curve(fps, tps, thr, m, drop, fpr, tpr, th, &k));
  push_tensor(L, fpr, k);
  push_tensor(L, tpr, k);
  push_list(L, th, k);
  return 3;
}

/* roc_auc(who, y_true, y_score, sample_weight, pos_label) -> the area under the ROC curve
 * (NaN where a class is absent: the caller refuses that first). */
static int l_roc_auc(lua_State *L) {
  lua_settop(L, 5); /* scratch buffers go above the arguments */
  const char *who = luaL_checkstring(L, 1);
  double *fps, *tps, *thr;
  int64_t m, k;
  clf_curve(L, who, &fps, &tps, &thr, &m);
  double *fpr = scratch(L, m + 1, who), *tpr = scratch(L, m + 1, who), *th = scratch(L, m + 1, who);
  l_check(L, lurn_roc_curve(fps, tps, thr, m, 1, fpr, tpr, th, &k));
  lua_pushnumber(L, lurn_trapezoid_area(fpr, tpr, k));
  return 1;
}

/* precision_recall_curve(who, y_true, y_score, sample_weight, pos_label) -> precision,
 * recall (float32 tensors), thresholds (a list of the scores as given, as roc_curve's). */
static int l_precision_recall_curve(lua_State *L) {
  lua_settop(L, 5); /* scratch buffers go above the arguments */
  const char *who = luaL_checkstring(L, 1);
  double *fps, *tps, *thr;
  int64_t m;
  clf_curve(L, who, &fps, &tps, &thr, &m);
  double *precision = scratch(L, m + 1, who), *recall = scratch(L, m + 1, who), *th = scratch(L, m + 1, who);
  l_check(L, lurn_precision_recall_curve(fps, tps, thr, m, precision, recall, th));
  push_tensor(L, precision, m + 1);
  push_tensor(L, recall, m + 1);
  push_list(L, th, m);
  return 3;
}

static const luaL_Reg metric_functions[] = {
    {"labels_present", l_labels_present},
    {"label_sums", l_label_sums},
    {"confusion_matrix", l_confusion_matrix},
    {"roc_curve", l_roc_curve},
    {"roc_auc", l_roc_auc},
    {"precision_recall_curve", l_precision_recall_curve},
    {NULL, NULL},
};

void l_metrics_register(lua_State *L) {
  luaL_setfuncs(L, metric_functions, 0);
}
