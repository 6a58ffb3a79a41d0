#!/usr/bin/env bash
# Cargo runner for x86_64-pc-windows-gnu: runs a test or example .exe under Wine.
# .ci/cross sets WINEPREFIX, WINEDEBUG and WINEPATH (where bcryptprimitives.dll
# and the MinGW runtime DLLs are found) before cargo calls this.
#
# A program that fails gets one more line on its standard error, naming it and
# its exit status: rustdoc shows a failed doc test's output only when there is
# some, and a program that Wine itself could not run may print nothing at all.
# A program still running after 10 minutes is stopped and fails (status 124),
# so that a hang under Wine ends the run with its name instead of holding CI.
set -uo pipefail
status=0
timeout --kill-after=10 600 wine "$@" </dev/null || status=$?
if [ "$status" -eq 124 ]; then
  echo ".ci/wine/run.sh: ${1##*/} did not end within 10 minutes under Wine; stopped" >&2
elif [ "$status" -ne 0 ]; then
  echo ".ci/wine/run.sh: ${1##*/} exited with status $status under Wine" >&2
fi
exit "$status"
