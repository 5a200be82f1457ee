# shellcheck shell=bash
# Shared by scripts/demo, scripts/test and .ci/run; sourced from the repository root, where
# .python-version makes pyenv's python3 the project's Python 3.12.

say() { printf '\n==> %s\n' "$*"; }
fail() {
  printf '\nERROR: %s\n' "$*" >&2
  exit 1
}

# uv may be a pyenv shim that exists for another Python version only, so ask it for its
# version instead of trusting `command -v`. `python3 -m uv` always works after a pip install,
# even where pip put the script outside PATH (--user) or pyenv has not rehashed yet.
ensure_uv() {
  if command uv --version >/dev/null 2>&1; then
    UV=(uv)
    return
  fi
  if ! python3 -m uv --version >/dev/null 2>&1; then
    say "Installing uv with pip for $(python3 --version 2>&1)"
    python3 -m pip install --quiet uv ||
      python3 -m pip install --quiet --user uv ||
      python3 -m pip install --quiet --user --break-system-packages uv ||
      fail "could not install uv; install it (https://docs.astral.sh/uv/) and run this again."
  fi
  UV=(python3 -m uv)
}

# `command` skips this function, so UV=(uv) means the real program.
uv() { command "${UV[@]}" "$@"; }

# The lock file's Python is 3.12; uv must find it on this machine, never download one.
export UV_PYTHON_DOWNLOADS=never

# True when something accepts TCP connections on host $1, port $2.
answers() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# Prints "host port" of a URL ($1), with $2 as the default port; nothing for a socket path.
url_host_port() {
  python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
if p.hostname:
    print(p.hostname, p.port or sys.argv[2])' "$1" "$2"
}

# Compiles the .po catalogues when gettext is installed and there are any. The .mo files are
# committed, so this only refreshes them; .venv holds Django's own catalogues, left alone.
compile_translations() {
  command -v msgfmt >/dev/null 2>&1 || return 0
  [ -n "$(find . -path ./.venv -prune -o -name '*.po' -print -quit)" ] || return 0
  DEBUG=1 uv run python manage.py compilemessages --ignore=.venv -v 0
}
