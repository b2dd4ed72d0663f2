#!/usr/bin/env bash
# Long fuzz runs of the reliability suite: the undo/redo state machine with many
# more examples than CI (default 10,000; first argument overrides), then the
# project-file mutation fuzz. Prints hypothesis statistics and the wall time.
#   bench/fuzz_long.sh            # 10,000 examples
#   bench/fuzz_long.sh 50000
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-.venv/bin/python}
export QT_QPA_PLATFORM=offscreen STUDIO_FUZZ_EXAMPLES="${1:-10000}"
start=$(date +%s)
"$PY" -X faulthandler -m pytest -q -p no:cacheprovider --hypothesis-show-statistics \
    tests/reliability/test_undo_state_machine.py tests/reliability/test_project_mutation_fuzz.py
echo "fuzz_long: ${STUDIO_FUZZ_EXAMPLES} state-machine examples in $(( $(date +%s) - start )) s"
