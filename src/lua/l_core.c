/* luaopen_lurn_core: the C module "lurn.core", assembled from the binding files. */
#include "l_tensor.h"
#include "lurn_lua.h"

int luaopen_lurn_core(lua_State *L) {
  lua_newtable(L);
  l_tensor_register(L);
  l_tensor_math_register(L);
  l_settings_register(L);
  l_npy_register(L);
  l_file_register(L);
  l_layer_register(L);
  l_lambda_register(L);
  l_graph_register(L);
  l_model_register(L);
  l_data_parallel_register(L);
  l_idx_register(L);
  l_csv_register(L);
  l_preprocessing_register(L);
  l_sampling_register(L);
  l_augment_register(L);
  l_interrupt_register(L);
  l_metrics_register(L);
  l_model_file_register(L);
  l_distributed_register(L);
  return 1;
}
