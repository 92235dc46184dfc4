# Shared by scripts/serve and scripts/test: one .venv, reinstalled when pyproject.toml changes.
pip_quietly() {
  # This machine's pip config names local mirrors that may not exist; their warnings are
  # noise, so pip's output is shown only when it fails.
  if ! .venv/bin/python -m pip install --quiet "$@" >.venv/pip.log 2>&1; then
    grep -v "^WARNING: Location" .venv/pip.log >&2
    return 1
  fi
}

ensure_venv() {
  local extras="$1" python="${PYTHON:-}"
  if [ -z "$python" ]; then
    for candidate in python3.11 python3.12 python3.13 python3; do
      if command -v "$candidate" >/dev/null 2>&1; then python="$candidate"; break; fi
    done
  fi
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  local stamp=".venv/.installed${extras:+-$extras}"
  if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "Installing Visage${extras:+ with [$extras]} into .venv ..."
    pip_quietly --upgrade pip
    pip_quietly -e ".${extras:+[$extras]}"
    if [ "$extras" = dev ]; then
      # The benchmarks' peer; --no-deps because its `dlib` requirement would compile dlib from
      # source, while dlib-bin already provides `import dlib`.
      pip_quietly --no-deps face_recognition==1.3.0
    fi
    touch "$stamp"
  fi
}
