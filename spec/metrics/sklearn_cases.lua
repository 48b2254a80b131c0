--- The cases on which lurn.metrics is checked against scikit-learn: each {name, fn, args, opts}
-- calls lurn.metrics[fn](args..., opts) and sklearn.metrics.<fn>(args..., **opts). The expected
-- numbers are held in sklearn_expected.lua (written by sklearn_reference.py from this file);
-- sklearn_spec.lua also recomputes them live when python3-sklearn is installed.
-- average = false is scikit-learn's average=None (a Lua table cannot hold nil).

-- A deterministic sequence (a linear congruential generator), so that Lua and Python read
-- the same larger data without a file.
local function lcg(seed)
  local state = seed
  return function(n)
    state = (state * 1103515245 + 12345) % 2147483648
    return (state // 65536) % n  -- the high bits: the low ones of this generator have short periods
  end
end

local function big_multiclass()
  local r = lcg(7)
  local yt, yp = {}, {}
  for i = 1, 500 do
    yt[i] = r(4)
    -- right 60% of the time, class 3 never predicted right
    yp[i] = (r(10) < 6 and yt[i] ~= 3) and yt[i] or r(3)
  end
  return yt, yp
end

local function big_scores()
  local r = lcg(11)
  local yt, s, w = {}, {}, {}
  for i = 1, 400 do
    yt[i] = r(2)
    -- scores on a grid of 0.05: many ties, higher for positives on average
    s[i] = math.min(20, r(15) + yt[i] * r(8)) / 20
    w[i] = (r(4) + 1) / 2
  end
  return yt, s, w
end

local yt3 = {0, 1, 2, 2, 1, 0, 2, 1}
local yp3 = {0, 2, 2, 2, 1, 0, 0, 1}
-- class 2 is never predicted; class 3 is predicted but never true
local ytz = {0, 1, 2, 2, 1, 0, 1}
local ypz = {0, 1, 1, 0, 1, 0, 3}
local ytb = {0, 1, 1, 0, 1, 1, 0, 0, 1}
local ypb = {0, 1, 0, 0, 1, 1, 1, 0, 0}
local wb = {1, 2, 0.5, 1, 1, 3, 1, 0.25, 1}
local ybig, pbig = big_multiclass()
local sbig_y, sbig_s, sbig_w = big_scores()
local ties_y = {0, 0, 1, 1, 0, 1, 1, 0}
local ties_s = {0.5, 0.5, 0.5, 0.8, 0.2, 0.2, 0.9, 0.1}
local probs = {{0.7, 0.2, 0.1}, {0.1, 0.6, 0.3}, {0.2, 0.3, 0.5}, {0.25, 0.25, 0.5}, {0.3, 0.4, 0.3},
               {0.5, 0.25, 0.25}, {0.1, 0.1, 0.8}, {0.2, 0.5, 0.3}}

return {
  {"cm_multiclass", "confusion_matrix", {yt3, yp3}},
  {"cm_labels_subset", "confusion_matrix", {yt3, yp3}, {labels = {2, 0}}},
  {"cm_labels_absent", "confusion_matrix", {yt3, yp3}, {labels = {0, 1, 2, 5}}},
  {"cm_weighted", "confusion_matrix", {ytb, ypb}, {sample_weight = wb}},
  {"cm_norm_true", "confusion_matrix", {yt3, yp3}, {normalize = "true", labels = {0, 1, 2, 5}}},
  {"cm_norm_pred", "confusion_matrix", {ytz, ypz}, {normalize = "pred"}},
  {"cm_norm_all", "confusion_matrix", {ytb, ypb}, {normalize = "all", sample_weight = wb}},
  {"cm_big", "confusion_matrix", {ybig, pbig}},
  {"acc", "accuracy_score", {yt3, yp3}},
  {"acc_count", "accuracy_score", {yt3, yp3}, {normalize = false}},
  {"acc_weighted", "accuracy_score", {ytb, ypb}, {sample_weight = wb}},
  {"bacc", "balanced_accuracy_score", {yt3, yp3}},
  {"bacc_only_predicted", "balanced_accuracy_score", {ytz, ypz}},
  {"bacc_adjusted_weighted", "balanced_accuracy_score", {ytb, ypb}, {adjusted = true, sample_weight = wb}},
  {"bacc_big", "balanced_accuracy_score", {ybig, pbig}},
  {"f1_binary", "f1_score", {ytb, ypb}},
  {"f1_binary_pos0", "f1_score", {ytb, ypb}, {pos_label = 0}},
  {"f1_binary_weighted", "f1_score", {ytb, ypb}, {sample_weight = wb}},
  {"f1_none", "f1_score", {yt3, yp3}, {average = false}},
  {"f1_macro", "f1_score", {yt3, yp3}, {average = "macro"}},
  {"f1_micro", "f1_score", {yt3, yp3}, {average = "micro"}},
  {"f1_weighted", "f1_score", {yt3, yp3}, {average = "weighted"}},
  {"f1_labels", "f1_score", {yt3, yp3}, {average = "macro", labels = {0, 2}}},
  {"f1_micro_labels", "f1_score", {yt3, yp3}, {average = "micro", labels = {1, 2}}},
  {"f1_zero_div", "f1_score", {ytz, ypz}, {average = false}},
  {"f1_zero_div_1", "f1_score", {ytz, ypz}, {average = false, zero_division = 1}},
  {"f1_zero_div_macro_1", "f1_score", {ytz, ypz}, {average = "macro", zero_division = 1}},
  {"f1_weighted_no_support", "f1_score", {ytz, ypz}, {average = "weighted", labels = {3}}},
  {"f1_weighted_no_support_1", "f1_score", {ytz, ypz}, {average = "weighted", labels = {4}, zero_division = 1}},
  {"f1_big_weighted", "f1_score", {ybig, pbig}, {average = "weighted"}},
  {"precision_none", "precision_score", {ytz, ypz}, {average = false}},
  {"precision_none_1", "precision_score", {ytz, ypz}, {average = false, zero_division = 1}},
  {"precision_binary", "precision_score", {ytb, ypb}},
  {"precision_macro_weighted", "precision_score", {ytb, ypb}, {average = "macro", sample_weight = wb}},
  {"recall_none", "recall_score", {ytz, ypz}, {average = false}},
  {"recall_none_1", "recall_score", {ytz, ypz}, {average = false, zero_division = 1}},
  {"recall_binary_pos0", "recall_score", {ytb, ypb}, {pos_label = 0}},
  {"prfs_none", "precision_recall_fscore_support", {yt3, yp3}},
  {"prfs_weighted", "precision_recall_fscore_support", {ybig, pbig}, {average = "weighted"}},
  {"report", "classification_report", {yt3, yp3}},
  {"report_names", "classification_report", {yt3, yp3}, {target_names = {"cat", "dog", "a long class name"}}},
  {"report_digits", "classification_report", {ytz, ypz}, {digits = 4}},
  {"report_zero_div_1", "classification_report", {ytz, ypz}, {zero_division = 1}},
  {"report_weighted", "classification_report", {ytb, ypb}, {sample_weight = wb}},
  {"report_labels_subset", "classification_report", {yt3, yp3}, {labels = {0, 2}}},
  {"report_big", "classification_report", {ybig, pbig}, {digits = 3}},
  {"report_dict", "classification_report", {ytz, ypz}, {output_dict = true}},
  {"report_dict_subset", "classification_report", {yt3, yp3}, {labels = {1, 2}, output_dict = true}},
  {"roc", "roc_curve", {{0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8}}},
  {"roc_ties", "roc_curve", {ties_y, ties_s}},
  {"roc_ties_all_points", "roc_curve", {ties_y, ties_s}, {drop_intermediate = false}},
  {"roc_collinear", "roc_curve", {{1, 1, 1, 0, 0, 0}, {0.9, 0.8, 0.7, 0.6, 0.5, 0.4}}},
  {"roc_pos_label", "roc_curve", {{1, 2, 2, 1, 2}, {0.3, 0.6, 0.6, 0.1, 0.9}}, {pos_label = 2}},
  {"roc_weighted_zero", "roc_curve", {ties_y, ties_s}, {sample_weight = {1, 0, 2, 1, 1, 0.5, 1, 3}}},
  {"roc_no_positive", "roc_curve", {{0, 0, 0}, {0.2, 0.5, 0.1}}},
  {"roc_big_weighted", "roc_curve", {sbig_y, sbig_s}, {sample_weight = sbig_w}},
  {"auc", "roc_auc_score", {{0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8}}},
  {"auc_ties", "roc_auc_score", {ties_y, ties_s}},
  {"auc_labels_1_3", "roc_auc_score", {{1, 3, 3, 1, 3}, {0.3, 0.6, 0.6, 0.1, 0.9}}},
  {"auc_big_weighted", "roc_auc_score", {sbig_y, sbig_s}, {sample_weight = sbig_w}},
  {"auc_ovr_macro", "roc_auc_score", {{0, 1, 2, 0, 1, 2, 2, 1}, probs}, {multi_class = "ovr"}},
  {"auc_ovr_weighted", "roc_auc_score", {{0, 1, 2, 0, 1, 2, 2, 2}, probs},
   {multi_class = "ovr", average = "weighted", sample_weight = {1, 2, 1, 1, 0.5, 1, 1, 2}}},
  {"auc_ovr_none", "roc_auc_score", {{0, 1, 2, 0, 1, 2, 2, 1}, probs}, {multi_class = "ovr", average = false}},
  {"pr", "precision_recall_curve", {{0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8}}},
  {"pr_ties", "precision_recall_curve", {ties_y, ties_s}},
  {"pr_pos_label", "precision_recall_curve", {{1, 2, 2, 1, 2}, {0.3, 0.6, 0.6, 0.1, 0.9}}, {pos_label = 1}},
  {"pr_weighted", "precision_recall_curve", {ties_y, ties_s}, {sample_weight = {1, 0, 2, 1, 1, 0.5, 1, 3}}},
  {"pr_no_positive", "precision_recall_curve", {{0, 0, 0}, {0.2, 0.5, 0.1}}},
  {"pr_big_weighted", "precision_recall_curve", {sbig_y, sbig_s}, {sample_weight = sbig_w}},
}
