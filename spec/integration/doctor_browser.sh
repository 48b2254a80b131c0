#!/usr/bin/env bash
# The doctor's page (docs/doctor.md, "The page") opened in a real browser: `lurn doctor
# --html` runs a newcomer's script of two fits (wine unscaled at too high a rate, then
# scaled at a sound one) and headless Chromium (Debian's `chromium`) dumps the DOM of a
# test copy that carries a small check script. The test fails on a broken image (an <img>
# that did not decode: naturalWidth 0), a finding of a plotted code without its plot, a fit
# without its heading ("fit N at FILE:LINE"), or a script error. So that a check that always
# passes cannot hide, it is then run on two broken copies (an image of bad bytes, a finding's
# plot removed), each of which must be caught. As spec/integration/report_browser.sh.
# Usage: bash spec/integration/doctor_browser.sh BUILD_DIR SOURCE_DIR
set -u

lurn=$(cd "$1" && pwd)/lurn
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

[[ -x $lurn ]] || fail "no executable $lurn"
# chrome and check_page (the caller defines check_script, below)
source "$src/spec/helpers/browser_check.bash"

cat >"$work/wine.lua" <<EOF
local lurn = require "lurn"
local L = lurn.layers
local df = lurn.data.read_csv("$src/examples/data/wine.csv")
local cols = {}
for _, c in ipairs(df.columns) do if c ~= "target" then cols[#cols + 1] = c end end
local x, y = df:to_tensor{columns = cols}, df:column("target")
local xt, xv, yt, yv = lurn.model_selection.train_test_split(x, y, {test_size = 0.25, random_state = 7, stratify = y})
local function model(lr)
  lurn.manual_seed(7)
  local m = lurn.Sequential{L.Dense(32, {activation = "relu", input_shape = {#cols}}),
                            L.Dense(32, {activation = "relu"}), L.Dense(3, {activation = "softmax"})}
  return m:compile{optimizer = lurn.optimizers.Adam{learning_rate = lr}, loss = "sparse_categorical_crossentropy"}
end
model(0.5):fit(xt, yt, {epochs = 20, batch_size = 16, validation_data = {xv, yv}, verbose = 0})
local s = lurn.preprocessing.StandardScaler()
model(1e-3):fit(s:fit_transform(xt), yt, {epochs = 20, batch_size = 16, validation_data = {s:transform(xv), yv},
                                          verbose = 0})
EOF
page=$work/page.html
"$lurn" doctor --html "$page" "$work/wine.lua" >"$work/run.log" 2>&1 || {
  tail -40 "$work/run.log"
  fail "lurn doctor --html failed"
}
[[ -s $page ]] || fail "no page written"
grep -q "^-- fit 2 at .*wine.lua:" "$work/run.log" || fail "the printed report has no heading for fit 2"

# the codes whose findings carry plottable evidence (docs/doctor.md, "Plottable evidence")
plotted="lr_too_high lr_too_low nan_loss overfitting underfitting exploding_gradients vanishing_gradients dead_relu"
plotted+=" saturation unscaled_features outliers missing_values constant_feature class_imbalance split_missing_class"
plotted+=" label_noise"

check_script() {
  cat <<EOF
<script>
window.__lurnErrors = [];
window.addEventListener("error", function (e) {
  if (e instanceof ErrorEvent) window.__lurnErrors.push("JS-ERROR " + e.message);
  else if (e.target && e.target.tagName) window.__lurnErrors.push("LOAD-ERROR " + e.target.tagName);
}, true);
window.addEventListener("load", function () {
  var out = [], i, plotted = "$plotted".split(" ");
  for (i = 0; i < document.images.length; i++) {
    var img = document.images[i];
    if (!img.complete || img.naturalWidth === 0) out.push("BROKEN-IMAGE " + (img.alt || img.src.slice(0, 60)));
  }
  var sections = document.querySelectorAll("section[data-code]");
  if (sections.length === 0) out.push("NO-FINDING");
  for (i = 0; i < sections.length; i++) {
    var code = sections[i].getAttribute("data-code");
    if (plotted.indexOf(code) >= 0 && sections[i].querySelectorAll("img").length === 0) out.push("NO-PLOT " + code);
  }
  var heads = document.querySelectorAll("h2.group");
  if (heads.length !== 2) out.push("FIT-HEADINGS " + heads.length + " (expected 2)");
  for (i = 0; i < heads.length; i++) {
    if (!/^fit \d+ at .+:\d+/.test(heads[i].textContent)) out.push("FIT-HEADING " + heads[i].textContent);
  }
  out = out.concat(window.__lurnErrors);
  var pre = document.createElement("pre");
  pre.id = "lurn-check";
  var mark = "LURN" + "CHECK";
  pre.textContent = mark + "-BEGIN\n" + out.join("\n") + (out.length ? "\n" : "") + mark + "-END " + document.images.length + " images";
  document.body.appendChild(pre);
});
</script>
EOF
}

problems=$(check_page "$page") || fail "the page has problems:
$problems"
echo "page: $(grep -c '<section ' "$page") finding(s), every plotted one with its plot, every image decoded," \
  "a heading per fit ($(grep -ho 'LURNCHECK-END [0-9]* images' "$work"/check-*.dom | head -1 | cut -d' ' -f2) images)"

# the check catches what it is for
sed '0,/<img alt="\([^"]*\)" src="data:image\/svg+xml;base64,[^"]*"/s//<img alt="\1" src="data:image\/svg+xml;base64,bm90IGFuIHN2Zwo="/' \
  "$page" >"$work/broken-image.html"
sed '0,/<figure><img [^>]*><\/figure>/s///' "$page" >"$work/missing-plot.html"
for broken in broken-image:BROKEN-IMAGE missing-plot:NO-PLOT; do
  file=${broken%%:*} want=${broken#*:}
  if found=$(check_page "$work/$file.html"); then
    fail "the check passed $file.html, which it should have failed"
  fi
  grep -q "^$want" <<<"$found" || fail "$file.html: expected $want, the check found: $found"
  echo "$file.html: caught ($want)"
done
echo "PASS"
