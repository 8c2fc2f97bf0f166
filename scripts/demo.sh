#!/usr/bin/env bash
# Installs everything, then runs the bot: against Telegram when a token is configured
# (COACHBOT_TOKEN, or config.toml), otherwise the demo with a local Telegram in your browser.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh runtime
if [ -n "${COACHBOT_TOKEN:-}" ] || { [ -f "${COACHBOT_CONFIG:-config.toml}" ] && grep -Eq '^\s*token\s*=\s*"[0-9]+:' "${COACHBOT_CONFIG:-config.toml}"; }; then
  exec .venv/bin/coachbot run "$@"
fi
exec .venv/bin/coachbot demo "$@"
