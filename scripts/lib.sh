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

# multi_missing: what the multi-instance tests need that is not installed
# (where testkit looks for it), space-separated; empty when all is there.
multi_missing() {
  local m=()
  [ -x /usr/lib/postgresql/15/bin/postgres ] || m+=(postgresql)
  [ -x /usr/bin/redis-server ] || [ -x /usr/local/bin/redis-server ] || m+=(redis-server)
  [ -x /usr/sbin/nginx ] || [ -x /usr/bin/nginx ] || m+=(nginx)
  echo "${m[*]}"
}

# multi_skip: succeeds (after saying so) when the multi-instance tests must be
# skipped: something is missing and there is no apt-get to install it. Where
# apt-get exists a missing tool is an error (scripts/setup.sh installs them).
multi_skip() {
  local missing
  missing=$(multi_missing)
  [ -z "$missing" ] && return 1
  if command -v apt-get >/dev/null; then
    echo "multi-instance tests need $missing, which is not installed: run scripts/setup.sh (it installs it)" >&2
    exit 1
  fi
  echo "SKIPPED multi-instance tests: $missing and no apt-get to install it"
}

# without_firefox_unless_installable BROWSER...: the browsers given, minus
# firefox when Firefox ESR is missing and there is no apt-get to install it
# (saying so); anywhere else a missing browser fails its suite.
without_firefox_unless_installable() {
  local b
  for b in "$@"; do
    if [ "$b" = firefox ] && [ ! -x /usr/bin/firefox-esr ] && ! command -v apt-get >/dev/null; then
      echo "SKIPPED browser tests in firefox: firefox-esr and no apt-get to install it" >&2
      continue
    fi
    echo "$b"
  done
}
