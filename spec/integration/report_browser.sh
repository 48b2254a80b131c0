#!/usr/bin/env bash
# The lessons' report (issue 18) opened in a real browser: a tiny-mode run of every lesson
# (scripts/experiments/run_all.lua --tiny) writes report.html; headless Chromium (Debian's
# `chromium`) takes a screenshot of it and dumps the DOM of a test copy that carries a
# small check script, and the test fails on a broken image (an <img> that did not decode:
# naturalWidth 0), a missing section (every lesson has a <section id=NAME>, "ok" where its
# file exists, "missing" where it does not), a table-of-contents link to nowhere, or a
# script error. So that a check that always passes cannot hide, the same check is then run
# on three broken copies (an image of bad bytes, a section removed, a script that throws),
# each of which must be caught.
# Usage: bash spec/integration/report_browser.sh BUILD_DIR SOURCE_DIR
set -u

lurn=$(cd "$1" && pwd)/lurn
src=$(cd "$2" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

[[ -x $lurn ]] || fail "no executable $lurn"
# chrome and check_page (the caller defines check_script, below)
source "$src/spec/helpers/browser_check.bash"

cd "$src" || fail "no $src"
started=$SECONDS
"$lurn" scripts/experiments/run_all.lua --tiny --out "$work/out" 2>"$work/run.log" || {
  tail -40 "$work/run.log"
  fail "run_all.lua --tiny failed (a lesson failed, or the runner did)"
}
echo "run_all.lua --tiny: $((SECONDS - started)) s"
[[ -s $work/out/report.html && -s $work/out/report.md ]] || fail "no report.html or report.md in $work/out"
mapfile -t lessons < <("$lurn" scripts/experiments/run_all.lua --list)
[[ ${#lessons[@]} -eq 18 ]] || fail "run_all.lua --list names ${#lessons[@]} lessons, not 18"
expected=""
for name in "${lessons[@]}"; do
  status=missing
  [[ -f scripts/experiments/$name.lua ]] && status=ok
  expected+="$name:$status,"
done

# The check, put first in <head> of a test copy: it records script errors and resources
# that fail to load from the start, and once the page has loaded lists what is wrong in a
# <pre id="lurn-check"> that --dump-dom prints.
check_script() {
  cat <<EOF
<script>
window.__lurnErrors = [];
window.addEventListener("error", function (e) {
  if (e instanceof ErrorEvent) window.__lurnErrors.push("JS-ERROR " + e.message);
  else if (e.target && e.target.tagName) window.__lurnErrors.push("LOAD-ERROR " + e.target.tagName);
}, true);
window.addEventListener("load", function () {
  var out = [], i;
  for (i = 0; i < document.images.length; i++) {
    var img = document.images[i];
    if (!img.complete || img.naturalWidth === 0) out.push("BROKEN-IMAGE " + (img.alt || img.src.slice(0, 60)));
  }
  "$expected".split(",").forEach(function (pair) {
    if (!pair) return;
    var name = pair.split(":")[0], want = pair.split(":")[1], s = document.getElementById(name);
    if (!s || s.tagName !== "SECTION") { out.push("MISSING-SECTION " + name); return; }
    var status = s.getAttribute("data-status");
    if (status !== want) out.push("SECTION-STATUS " + name + " " + status + " (expected " + want + ")");
    if (want === "ok" && s.querySelectorAll("img").length === 0) out.push("NO-PLOT " + name);
    if (want === "ok" && !s.querySelector(".conclusion")) out.push("NO-CONCLUSION " + name);
  });
  var links = document.querySelectorAll('#toc a[href^="#"]');
  if (links.length === 0) out.push("NO-CONTENTS");
  for (i = 0; i < links.length; i++) {
    if (!document.getElementById(links[i].getAttribute("href").slice(1))) out.push("BROKEN-LINK " + links[i].getAttribute("href"));
  }
  out = out.concat(window.__lurnErrors);
  var pre = document.createElement("pre");
  pre.id = "lurn-check";
  // the markers are put together here, so that the script's own text never matches them
  var mark = "LURN" + "CHECK";
  pre.textContent = mark + "-BEGIN\n" + out.join("\n") + (out.length ? "\n" : "") + mark + "-END " + document.images.length + " images";
  document.body.appendChild(pre);
});
</script>
EOF
}

# 1. the report as written
problems=$(check_page "$work/out/report.html") || fail "the report has problems:
$problems"
echo "report.html: every section present, every image decoded, no script error ($(grep -ho 'LURNCHECK-END [0-9]* images' "$work"/check-*.dom | head -1 | cut -d' ' -f2) images)"

# 2. the screenshot, of the page itself
chrome --hide-scrollbars --window-size=1200,3000 --screenshot="$work/shot.png" "file://$work/out/report.html" \
  >/dev/null 2>"$work/shot.log"
[[ -s $work/shot.png ]] || fail "no screenshot: $(tail -3 "$work/shot.log")"
[[ $(head -c 8 "$work/shot.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] || fail "the screenshot is not a PNG"
size=$(stat -c %s "$work/shot.png")
# a blank page compresses to a few kB; the report's text, tables and plots do not
((size > 20000)) || fail "the screenshot is $size bytes: a blank page?"
echo "screenshot: $size bytes"

# 3. the check catches what it is for
page=$work/out/report.html
sed '0,/<img src="data:image\/png;base64,[^"]*"/s//<img src="data:image\/png;base64,iVBORw0KGgoAAAAJUNLRUFO"/' \
  "$page" >"$work/broken-image.html"
first=$(sed -n 's/.*<section id="\([a-z_]*\)".*/\1/p' "$page" | head -1)
sed "s/<section id=\"$first\"/<section id=\"gone\"/" "$page" >"$work/missing-section.html"
sed 's|</body>|<script>undefinedFunctionOfTheReport();</script></body>|' "$page" >"$work/script-error.html"
for broken in broken-image:BROKEN-IMAGE missing-section:MISSING-SECTION script-error:JS-ERROR; do
  file=${broken%%:*} want=${broken#*:}
  if found=$(check_page "$work/$file.html"); then
    fail "the check passed $file.html, which it should have failed"
  fi
  grep -q "^$want" <<<"$found" || fail "$file.html: expected $want, the check found: $found"
  echo "$file.html: caught ($want)"
done
echo "PASS"
