# Shell helpers shared by the scripts (sourced, not run).

# wait_for_line PID OUT ERR PREFIX WHAT: waits up to 10 s for a line of file
# OUT starting with PREFIX (a process PID prints it once it is ready) and
# prints the rest of that line. If PID dies first, or never prints it, shows
# its stderr file ERR and fails, naming WHAT.
wait_for_line() {
  local pid=$1 out=$2 err=$3 prefix=$4 what=$5 rest _
  for _ in $(seq 1 100); do
    grep -q "^$prefix" "$out" 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || { cat "$err" >&2; echo "$what died" >&2; return 1; }
    sleep 0.1
  done
  rest=$(sed -n "s#^$prefix##p" "$out" | head -n1)
  [ -n "$rest" ] || { cat "$err" >&2; echo "$what did not start" >&2; return 1; }
  echo "$rest"
}
