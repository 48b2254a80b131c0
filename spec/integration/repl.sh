#!/usr/bin/env bash
# The lurn REPL tested as a person uses it: lurn runs on a pseudo-terminal inside a
# private tmux server; we type with send-keys and read the screen with capture-pane.
# Usage: bash spec/integration/repl.sh BUILD_DIR SOURCE_DIR
set -u

lurn=$(cd "$1" && pwd)/lurn
wait_s=15 # per answer; generous for the sanitizer build on a loaded machine
server=lurn-test-$$
target=
work=$(mktemp -d)
mkdir "$work/home"
unset TMUX                # we may be run from inside someone's tmux
export TMUX_TMPDIR=$work  # so the server's socket goes away with $work

tm() { tmux -L "$server" "$@"; }
cleanup() {
  tm kill-server 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

[[ -x $lurn ]] || { echo "FAIL: no executable $lurn"; exit 1; }
command -v tmux >/dev/null || { echo "FAIL: tmux is not installed (scripts/setup installs it)"; exit 1; }

# Starts `lurn ARGS...` in tmux session $1, from $work with HOME=$work/home. The shell
# around it reports the exit status and keeps the pane open so the screen can be read.
start() {
  local session=$1
  shift
  local cmd
  cmd=$(printf '%q ' env "HOME=$work/home" "$lurn" "$@")
  tm -f /dev/null new-session -d -s "$session" -x 200 -y 50 -c "$work" \
    "$cmd; echo \"[lurn exited with status \$?]\"; exec sleep 600" ||
    { echo "FAIL: tmux cannot start a session"; exit 1; }
  target=$session
}

# The whole transcript of the current session, history included, wrapped lines joined.
transcript() { tm capture-pane -p -J -S - -t "$target"; }
# Number of the last non-blank line: where the prompt is once lurn waits for input.
last_line() { transcript | awk 'NF { n = NR } END { print n + 0 }'; }

fail() {
  echo "FAIL: $*"
  echo "---- screen of session '$target' ----"
  transcript | awk 'NF { n = NR } { l[NR] = $0 } END { for (i = 1; i <= n; i++) print l[i] }'
  echo "-------------------------------------"
  exit 1
}

# Polls (never a fixed long sleep) until `$@` succeeds or wait_s seconds have passed.
poll() {
  local deadline=$((SECONDS + wait_s))
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}

at_prompt() { transcript | awk -v p="$1" 'NF { l = $0 } END { exit !(l ~ "^" p "[[:space:]]*$") }'; }
wait_prompt() { poll at_prompt "${1:->}" || fail "no '${1:->}' prompt after ${wait_s}s"; }

# Types text at the prompt (literally: "end" must not become the End key), no Enter.
type_text() { tm send-keys -t "$target" -l -- "$1"; }
# Waits for the prompt ($2, default ">"), notes where the screen is, then types a
# line and Enter.
enter() {
  wait_prompt "${2:->}"
  mark=$(last_line)
  type_text "$1"
  tm send-keys -t "$target" Enter
}
# The same with Tab pressed between $1 and $2.
enter_with_tab() {
  wait_prompt
  mark=$(last_line)
  type_text "$1"
  tm send-keys -t "$target" Tab
  type_text "$2"
  tm send-keys -t "$target" Enter
}

# Output since the last enter (the echoed input line starts with the prompt, so
# whole-line patterns never match it).
shown_since_mark() { transcript | tail -n +"$mark" | grep -Eq -x -- "$1"; }
expect() {
  poll shown_since_mark "$2" || fail "$1: no line matching /$2/ within ${wait_s}s"
  echo "ok - $1"
}

# ---- the REPL on a terminal ---------------------------------------------------------
# A file in the working directory: Tab on an unknown name must not complete file names.
touch "$work/zzqfile.txt"
start repl

enter '1 + 2'
expect "an expression is printed without return" '3'

enter 'lurn.tensor{{1,2},{3,4}}'
expect "a tensor is printed" 'tensor\(\[\[1\., 2\.\],'
expect "a tensor is printed (second row)" ' *\[3\., 4\.\]\], shape=\(2, 2\), dtype=float32\)'

enter '{1, 2, a = {x = 1}, s = "hi"}'
expect "a table is pretty-printed" '\{1, 2, a = \{x = 1\}, s = "hi"\}'

enter 'function f(x)'
enter 'return x * 2' '>>'
enter 'end' '>>'
enter 'f(21)'
expect "an incomplete chunk continues on the next lines" '42'

enter 'error("boom")'
expect "an error shows its message" '.*stdin:1: boom'
expect "an error shows a traceback" 'stack traceback:'
enter 'string.rep("ok", 2)'
expect "the session survives an error" '"okok"'

# The completed line is checked by running it: only lurn.zeros gives this answer.
enter_with_tab 'lurn.ze' '{2, 3}:shape()'
expect "Tab completes lurn.ze to lurn.zeros" '\{2, 3\}'

enter 't = lurn.ones{4, 5}'
enter_with_tab 't:sh' '()'
expect "Tab completes a method after ':'" '\{4, 5\}'

enter_with_tab 'zzq' ''
expect "Tab on an unknown name leaves it alone" 'nil'

enter_with_tab 'io.open("zzq' '):read("a")'
expect "Tab in a string completes a file name" '""'

# Ctrl-C during fit stops it at the end of a batch and brings the prompt back, the
# model intact; Ctrl-C in a Lua loop interrupts it (as lua5.4 does).
enter 'm = lurn.Sequential{lurn.layers.Dense(1, {input_shape = {4}})}; m:compile{optimizer = "sgd", loss = "mse"}'
enter 'x, y = lurn.randn{64, 4}, lurn.randn{64, 1}'
enter 'slow = {on_train_batch_end = function(_, b) if b == 0 then print("training") end local t = os.clock() + 0.01 while os.clock() < t do end end}'
enter 'm:fit(x, y, {epochs = 1000000, batch_size = 8, verbose = 0, callbacks = {slow}})'
expect "fit runs" 'training'
tm send-keys -t "$target" C-c
expect "Ctrl-C stops fit at the end of a batch" \
  '.*interrupted \(Ctrl-C\): training stopped after epoch [0-9]+, batch [0-9]+; the model keeps the weights of the last finished batch'
enter 'm:predict(x):size(1)'
expect "the prompt comes back and the model predicts" '64'
enter 'print("looping") while true do end'
expect "the loop runs" 'looping'
tm send-keys -t "$target" C-c
expect "Ctrl-C interrupts a Lua loop" '.*interrupted!'
enter 'm:fit(x, y, {epochs = 2, verbose = 0}).history.loss[2] > 0'
expect "the model trains again" 'true'

# Ctrl-C at the prompt drops the line being typed, or the chunk being continued, and the
# session goes on (a second Ctrl-C meant for fit must not end it).
prompts() { transcript | grep -c '^>'; }
more_prompts_than() { (($(prompts) > $1)); }
# Ctrl-C, then waits for the prompt that follows it.
interrupt_prompt() {
  local before
  before=$(prompts)
  tm send-keys -t "$target" C-c
  poll more_prompts_than "$before" || fail "no new prompt after Ctrl-C within ${wait_s}s"
}
wait_prompt
type_text 'error("not run")'
interrupt_prompt
enter 'function g()'
wait_prompt '>>'
interrupt_prompt
enter 'g == nil'
expect "Ctrl-C at the prompt drops the line and the unfinished chunk" 'true'
transcript | grep -q 'not run$' && fail "the line interrupted by Ctrl-C ran"

enter '"last" .. "line"'
expect "the last line runs" '"lastline"'

wait_prompt
tm send-keys -t "$target" C-d
expect "Ctrl-D quits with status 0" '\[lurn exited with status 0\]'

history=$work/home/.lurn_history
[[ -f $history ]] || fail "no history file $history"
for line in '1 + 2' 'function f(x)' 'f(21)' 'error("boom")' '"last" .. "line"'; do
  grep -qxF -- "$line" "$history" || fail "history file lacks the line '$line'; it holds:
$(cat "$history")"
done
echo "ok - history is saved in \$HOME/.lurn_history"

# ---- lurn -i script.lua: run the script, then the REPL ----------------------------------
cat >"$work/script.lua" <<'EOF'
answer = 6 * 7
print("script ran with " .. arg[1])
EOF
start script -i script.lua hello
mark=1
expect "lurn -i runs the script" 'script ran with hello'
# Up recalls the last line of the previous session: the history persists.
wait_prompt
mark=$(last_line)
tm send-keys -t "$target" Up Enter
expect "lurn -i then opens the REPL, with the saved history" '"lastline"'
enter 'answer'
expect "the REPL sees the script's globals" '42'

# ---- help(obj): the entry of docs/api.md --------------------------------------------------
start help
enter 'help(lurn.layers.Dense)'
expect "help(lurn.layers.Dense) prints its entry" '`Input\{shape =\}`, `Dense\(units, \{activation, use_bias, kernel_initializer,'
enter 'help(lurn.Sequential().fit)'
expect "help(model.fit) prints the entry of model:fit" '`model:fit\(x, y, \{epochs = 1, batch_size = 32, validation_data = \{xv, yv\},'

echo "all REPL checks passed"
