# Shared by spec/integration/report_browser.sh and doctor_browser.sh (sourced): headless
# Chromium (Debian's `chromium`) and check_page, which opens a test copy of a page carrying a
# check script and prints what that script found wrong. The caller sets $work (a scratch
# folder) and defines fail MESSAGE and check_script (the check: a <script> put first in
# <head>, which records errors from the start and, once the page has loaded, writes what is
# wrong between LURNCHECK-BEGIN and LURNCHECK-END in an element --dump-dom prints).

browser=$(command -v chromium || command -v chromium-browser) ||
  fail "chromium is not installed (scripts/setup installs Debian's chromium)"

# Chromium runs as root here and in a container without user namespaces, where its
# sandbox cannot start: --no-sandbox. Its own profile folder keeps parallel runs apart.
chrome() {
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --no-first-run --disable-dev-shm-usage \
    --user-data-dir="$work/profile" --enable-logging=stderr --v=0 "$@"
}

# check_page HTML -> the problems found, one a line, on stdout; status 1 when there are any
# (or when the check could not run).
check_page() {
  local page=$1 copy=$work/check-$RANDOM.html
  [[ -f $work/check.js.html ]] || check_script >"$work/check.js.html"
  awk -v script="$work/check.js.html" '
    !done && /<head>/ {
      i = index($0, "<head>"); print substr($0, 1, i + 5)
      while ((getline line < script) > 0) print line
      print substr($0, i + 6); done = 1; next
    }
    { print }' "$page" >"$copy"
  grep -q "lurnErrors" "$copy" || { echo "CHECK-NOT-INSERTED (no <head> in $page)"; return 1; }
  chrome --dump-dom "file://$copy" >"$copy.dom" 2>"$copy.log"
  if ! grep -q "LURNCHECK-END" "$copy.dom"; then
    echo "CHECK-DID-NOT-RUN (chromium: $(tail -3 "$copy.log" | tr '\n' ' '))"
    return 1
  fi
  local problems
  problems=$(sed -n '/LURNCHECK-BEGIN/,/LURNCHECK-END/p' "$copy.dom" | sed '1d;$d' | head -40)
  # console errors Chromium logs (uncaught exceptions) count as well
  problems+=$(grep -o 'Uncaught[^"]*' "$copy.log" | sed 's/^/CONSOLE /')
  [[ -z $problems ]] && return 0
  echo "$problems"
  return 1
}
