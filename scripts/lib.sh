# Shared helpers for scripts/test and scripts/keycloak: paths, step output, timing, apt installs.
# Sourced, not run. Output goes to log files under .cache/logs; the console gets one line a step.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE="$ROOT/.cache"
LOGS="$CACHE/logs"
mkdir -p "$LOGS"

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
die() { printf 'ERROR: %s\n' "$*" >&2; exit 1; }

# Seconds since the epoch with a fraction, and the time elapsed since such a stamp.
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f s", b - a }'; }

# Prints the last lines of a log file, indented, to stderr.
tail_log() {
  local file=$1 lines=${2:-40}
  [ -f "$file" ] || return 0
  printf -- '---- last %s lines of %s ----\n' "$lines" "$file" >&2
  tail -n "$lines" "$file" | sed 's/^/    /' >&2
  printf -- '---- end of %s ----\n' "$file" >&2
}

# Installs the Debian packages that are missing; runs apt-get update at most once per run.
apt_install() {
  local missing=() pkg
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' \
      || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  [ "$(id -u)" -eq 0 ] || die "missing Debian packages: ${missing[*]} (install them as root)"
  note "installing Debian packages: ${missing[*]} (log: $LOGS/apt.log)"
  if [ -z "${GATEHOUSE_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update >>"$LOGS/apt.log" 2>&1 \
      || { tail_log "$LOGS/apt.log"; die "apt-get update failed"; }
    export GATEHOUSE_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >>"$LOGS/apt.log" 2>&1 \
    || { tail_log "$LOGS/apt.log"; die "could not install Debian packages: ${missing[*]}"; }
}
