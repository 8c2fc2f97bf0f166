#!/usr/bin/env bash
# Installs everything (Chromium and Graphviz included), then runs the checks and the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh test
echo "==> lint"
.venv/bin/ruff check .
.venv/bin/mypy dialogues storage safety
echo "==> dialogue scripts and safety rule files"
.venv/bin/coachbot check
echo "==> tests"
exec .venv/bin/python -m pytest "$@"
