-- Bad input to lurn.metrics' scikit-learn functions: a clear error that names the function
-- and the problem, raised at the caller's line (not inside lurn), never a wrong number.
local lurn = require "lurn"

local M = lurn.metrics
local THIS = "metrics_errors_spec.lua"

-- The message of f(...), which must fail, checked to point at the line of the call here.
local function error_of(f, ...)
  local ok, err = pcall(f, ...)
  assert.is_false(ok, "expected an error")
  err = tostring(err)
  assert.truthy(err:find(THIS .. ":%d+: "), "the error must point at the caller's line: " .. err)
  return err
end

describe("lurn.metrics refuses bad input", function()
  local yt = {0, 1, 2, 2, 1}

  it("points at the line of the call, a tail call included", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() local r = M.f1_score({0, 1}, {0}); return r end)
    assert.is_false(ok)
    assert.matches(THIS .. ":" .. line .. ": f1_score: y_pred has 1 entries but y_true has 2", err, 1, true)
    line = debug.getinfo(1, "l").currentline + 1
    ok, err = pcall(function() return M.roc_curve({0, 1}, {0.5, 0 / 0}) end)
    assert.matches(THIS .. ":" .. line .. ": roc_curve: y_score[2] is NaN", err, 1, true)
  end)

  it("names a length mismatch", function()
    assert.matches("confusion_matrix: y_pred has 4 entries but y_true has 5",
      error_of(M.confusion_matrix, yt, {0, 1, 2, 2}), 1, true)
    assert.matches("roc_curve: y_score has 3 entries but y_true has 4",
      error_of(M.roc_curve, {0, 1, 0, 1}, {0.1, 0.2, 0.3}), 1, true)
    assert.matches("f1_score: sample_weight has 2 entries but y_true has 5",
      error_of(M.f1_score, yt, yt, {average = "macro", sample_weight = {1, 2}}), 1, true)
  end)

  it("refuses empty inputs", function()
    assert.matches("accuracy_score: y_true and y_pred are empty", error_of(M.accuracy_score, {}, {}), 1, true)
    assert.matches("roc_auc_score: y_true is empty", error_of(M.roc_auc_score, {}, {}), 1, true)
    assert.matches("precision_recall_curve: y_true and y_score are empty",
      error_of(M.precision_recall_curve, {}, {}), 1, true)
  end)

  it("refuses labels that are not whole numbers from 0, and says to take the argmax of probabilities", function()
    assert.matches("f1_score: y_pred[2] = 0.7 is not a class label",
      error_of(M.f1_score, {0, 1}, {1, 0.7}), 1, true)
    assert.matches("y_true[1] = -1 is not a class label", error_of(M.accuracy_score, {-1, 1}, {1, 1}), 1, true)
    assert.matches("y_true[2] is NaN, not a class label", error_of(M.accuracy_score, {1, 0 / 0}, {1, 1}), 1, true)
    local probs = lurn.tensor{{0.9, 0.1}, {0.2, 0.8}}
    local err = error_of(M.confusion_matrix, {0, 1}, probs)
    assert.matches("confusion_matrix: y_pred must be a list or a tensor of shape (N) or (N, 1), got a tensor of "
      .. "shape (2, 2)", err, 1, true)
    assert.matches("argmax", err, 1, true)
    assert.matches("y_pred[1] is a table, not a number", error_of(M.f1_score, {0, 1}, {{0.9, 0.1}, {0.2, 0.8}}), 1, true)
    assert.matches("y_true must be a list or a tensor, got string", error_of(M.accuracy_score, "01", {0, 1}), 1, true)
  end)

  it("refuses a confusion matrix too large to count (values that are not class labels)", function()
    local many = lurn.arange(9000)
    assert.matches("confusion_matrix: 9000 distinct labels (at most 8192): are these class labels?",
      error_of(M.confusion_matrix, many, many), 1, true)
    -- the scores themselves need no matrix
    assert.equal(1, M.accuracy_score(many, many))
  end)

  it("refuses NaN and infinite scores and weights", function()
    assert.matches("roc_curve: y_score[2] is NaN: scores must be finite",
      error_of(M.roc_curve, {0, 1}, {0.1, 0 / 0}), 1, true)
    assert.matches("y_score[1] is infinite", error_of(M.roc_auc_score, {0, 1}, {math.huge, 0.5}), 1, true)
    assert.matches("sample_weight[1] is not finite", error_of(M.accuracy_score, {0, 1}, {0, 1}, {sample_weight = {0 / 0, 1}}), 1,
      true)
  end)

  it("refuses unknown options and bad option values", function()
    assert.matches("f1_score: unknown option 'avrage'", error_of(M.f1_score, yt, yt, {avrage = "macro"}), 1, true)
    assert.matches("f1_score: option 'beta' is not supported by lurn", error_of(M.f1_score, yt, yt, {beta = 2}), 1, true)
    assert.matches("average must be", error_of(M.f1_score, yt, yt, {average = "mean"}), 1, true)
    assert.matches("zero_division must be", error_of(M.recall_score, yt, yt, {average = "macro", zero_division = 2}), 1,
      true)
    assert.matches("normalize must be", error_of(M.confusion_matrix, yt, yt, {normalize = "rows"}), 1, true)
    assert.matches("digits must be", error_of(M.classification_report, yt, yt, {digits = 1.5}), 1, true)
  end)

  it("follows scikit-learn's refusals", function()
    assert.matches("multiclass (3 classes) but average = \"binary\"", error_of(M.f1_score, yt, yt), 1, true)
    assert.matches("pos_label = 2 is not a label", error_of(M.precision_score, {0, 1}, {1, 1}, {pos_label = 2}), 1, true)
    assert.matches("at least one label of `labels` must be in y_true",
      error_of(M.confusion_matrix, {0, 1}, {0, 1}, {labels = {4}}), 1, true)
    assert.matches("3 classes but 2 target_names",
      error_of(M.classification_report, yt, yt, {target_names = {"a", "b"}}), 1, true)
    assert.matches("only one class (1) is present in y_true", error_of(M.roc_auc_score, {1, 1}, {0.2, 0.3}), 1, true)
    assert.matches("pass multi_class = \"ovr\"",
      error_of(M.roc_auc_score, {0, 1, 2}, {{0.8, 0.1, 0.1}, {0.1, 0.8, 0.1}, {0.1, 0.1, 0.8}}), 1, true)
    assert.matches("\"ovo\" is not supported by lurn",
      error_of(M.roc_auc_score, {0, 1, 2}, {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}, {multi_class = "ovo"}), 1, true)
    assert.matches("sums to 1.5", error_of(M.roc_auc_score, {0, 1, 2}, {{1, 0, 0.5}, {0, 1, 0}, {0, 0, 1}},
      {multi_class = "ovr"}), 1, true)
    assert.matches("y_true has 3 classes but y_score has 4 columns",
      error_of(M.roc_auc_score, {0, 1, 2}, {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}}, {multi_class = "ovr"}), 1, true)
    assert.matches("y_true is binary but y_score has 2 columns",
      error_of(M.roc_auc_score, {0, 1}, lurn.tensor{{0.9, 0.1}, {0.2, 0.8}}), 1, true)
    assert.matches("roc_curve: y_true has more than two classes", error_of(M.roc_curve, yt, {1, 2, 3, 4, 5}), 1, true)
    assert.matches("y_true takes the value 2 and pos_label is not given",
      error_of(M.roc_curve, {1, 2}, {0.1, 0.2}), 1, true)
    assert.matches("every sample_weight is 0",
      error_of(M.roc_curve, {0, 1}, {0.1, 0.2}, {sample_weight = {0, 0}}), 1, true)
  end)

  it("refuses weights that sum to zero where scikit-learn cannot normalize (not -nan)", function()
    -- scikit-learn: accuracy_score raises "Weights sum to zero, can't be normalized"
    assert.matches("accuracy_score: sample_weight sums to zero",
      error_of(M.accuracy_score, {0, 1, 1}, {0, 1, 0}, {sample_weight = {0, 0, 0}}), 1, true)
    assert.matches("accuracy_score: sample_weight sums to zero",
      error_of(M.accuracy_score, {0, 1}, {0, 1}, {sample_weight = {1, -1}}), 1, true)
    -- the weighted count is defined: 0, as scikit-learn
    assert.equal(0, M.accuracy_score({0, 1, 1}, {0, 1, 0}, {normalize = false, sample_weight = {0, 0, 0}}))
    -- scikit-learn: NaN, the mean of no recall (with warnings lurn does not print)
    assert.matches("balanced_accuracy_score: sample_weight sums to zero in every class",
      error_of(M.balanced_accuracy_score, {0, 1, 1}, {0, 1, 0}, {sample_weight = {0, 0, 0}}), 1, true)
    assert.matches("balanced_accuracy_score: sample_weight sums to zero in every class",
      error_of(M.balanced_accuracy_score, {0, 1}, {0, 1}, {sample_weight = {0, 0}, adjusted = true}), 1, true)
    -- a class of weight zero alone is left out, as scikit-learn
    assert.equal(1, M.balanced_accuracy_score({0, 1, 1}, {0, 1, 0}, {sample_weight = {0, 1, 0}}))
  end)

  it("refuses labels that are not whole numbers from 0 in `labels`, at the caller's line", function()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() return M.classification_report({0, 1}, {0, 1}, {labels = {0.5, 1}}) end)
    assert.is_false(ok)
    assert.matches(THIS .. ":" .. line .. ": classification_report: labels[1] = 0.5 is not a class label", err, 1, true)
    assert.matches("classification_report: labels[2] = -1 is not a class label",
      error_of(M.classification_report, {0, 1}, {0, 1}, {labels = lurn.tensor{1, -1}}), 1, true)
    assert.matches("classification_report: labels[1] is a string, not a class label",
      error_of(M.classification_report, {0, 1}, {0, 1}, {labels = {"cat"}}), 1, true)
    assert.matches("f1_score: labels[2] = 1.5 is not a class label",
      error_of(M.f1_score, {0, 1}, {0, 1}, {average = "macro", labels = {0, 1.5}}), 1, true)
    assert.matches("precision_recall_fscore_support: labels[1] = NaN is not a class label",
      error_of(M.precision_recall_fscore_support, {0, 1}, {0, 1}, {labels = {0 / 0}}), 1, true)
    assert.matches("confusion_matrix: labels[1] = 0.5 is not a class label",
      error_of(M.confusion_matrix, {0, 1}, {0, 1}, {labels = {0.5}}), 1, true)
    -- whole numbers written as floats are labels
    assert.equal(M.classification_report({0, 1}, {0, 1}, {labels = {0, 1}}),
      M.classification_report({0, 1}, {0, 1}, {labels = {0.0, 1.0}}))
    assert.is_nil(M._label_list)
  end)
end)
