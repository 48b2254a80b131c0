--- How callbacks that watch a logged value read mode = "auto" (EarlyStopping,
-- ModelCheckpoint): "max" for the values that grow as a model gets better (accuracies,
-- AUC, precision, recall, F1, Keras' fmeasure), else "min". ReduceLROnPlateau keeps Keras
-- 2's own narrower rule (only names with "acc").
local monitor = {}

function monitor.auto_mode(name)
  for _, word in ipairs{"acc", "auc", "precision", "recall", "f1", "fmeasure"} do
    if name:find(word, 1, true) then return "max" end
  end
  return "min"
end

return monitor
