# Sourced by the command-line tests: expect and check count passes and failures.
passed=0
failed=0

# expect CODE FRAGMENT -- command...: runs it, checks the exit code and that stdout+stderr hold FRAGMENT.
expect() {
  local code=$1 fragment=$2
  shift 3
  local output status
  output=$("$@" 2>&1)
  status=$?
  if [ "$status" -eq "$code" ] && grep -qF -- "$fragment" <<<"$output"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    echo "FAILED: $* -> exit $status (expected $code), output must contain: $fragment"
    echo "$output" | tail -5 | sed 's/^/    /'
  fi
}

# check DESCRIPTION -- test-command...
check() {
  local what=$1
  shift 2
  if "$@"; then passed=$((passed + 1)); else failed=$((failed + 1)); echo "FAILED: $what"; fi
}
