#!/usr/bin/env bash
# Proves that the project's own scripts install everything it needs: builds
# an empty Debian 12 root (debootstrap --variant=minbase bookworm), gives it
# the host's network setup and nothing else, puts the committed project into
# it and runs, as root with a clean environment and no standard input:
#
#   readme-1, readme-2  exactly the two commands of the README's "Two
#                       commands" block, in order (read from README.md)
#   aarch64             tools/cross_aarch64.sh test (cross build, QEMU)
#   asan                tools/dev.sh asan (the whole suite, ASan + UBSan)
#   tsan                tools/dev.sh tsan (the Session concurrency test)
#   fuzz                tools/dev.sh fuzz (the clang libFuzzer build,
#                       replaying the checked-in corpus)
#
# Each stage runs in the same root, so a later stage may only rely on what
# the earlier stages' scripts installed. .ci/run is this script.
#
#   tools/fresh_root.sh [--worktree] [--keep] [--stages a,b,...]
#
#   --worktree  copy the working tree (tracked and untracked, not ignored
#               files) instead of HEAD: for trying a change before committing
#   --keep      leave the root in place afterwards (its path is printed)
#   --stages    run only these stages (the README's two always come first
#               when named: readme-1,readme-2,aarch64,...)
#
# FRESH_ROOT_CACHE (default /var/cache/foldrt-fresh-root) holds the
# debootstrap result as a tarball, so a second run on the same machine does
# not download the base system again (rebuilt when older than 30 days);
# FRESH_ROOT_WORK (default /var/tmp) is where the root is made. Needs root
# and the debootstrap package on the host; nothing else of the host goes in.
#
# On failure it prints the failing stage and the last lines of its log and
# exits non-zero. It always unmounts what it mounted and ends whatever still
# runs inside the root (on failure and on Ctrl-C too).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache_dir="${FRESH_ROOT_CACHE:-/var/cache/foldrt-fresh-root}"
work_parent="${FRESH_ROOT_WORK:-/var/tmp}"
suite=bookworm
all_stages=(readme-1 readme-2 aarch64 asan tsan fuzz)

source_kind=committed
keep=0
stages=("${all_stages[@]}")
while [ $# -gt 0 ]; do
  case "$1" in
    --worktree) source_kind=worktree ;;
    --keep) keep=1 ;;
    --stages)
      [ $# -ge 2 ] || { echo "fresh_root: --stages needs a list" >&2; exit 2; }
      IFS=, read -r -a stages <<<"$2"
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "fresh_root: unknown argument '$1' (see tools/fresh_root.sh --help)" >&2
      exit 2
      ;;
  esac
  shift
done
for s in "${stages[@]}"; do
  case " ${all_stages[*]} " in
    *" $s "*) ;;
    *) echo "fresh_root: unknown stage '$s' (${all_stages[*]})" >&2; exit 2 ;;
  esac
done

[ "$(id -u)" -eq 0 ] || { echo "fresh_root: run as root (chroot, mount)" >&2; exit 1; }
command -v debootstrap >/dev/null || {
  echo "fresh_root: debootstrap not found (Debian: apt-get install -y debootstrap)" >&2
  exit 1
}

t0=$SECONDS
log() { echo "fresh_root: [$((SECONDS - t0))s] $*"; }

# The README's two commands: the first fenced block after the heading
# "## Two commands", without comments. Anything else is an error, so the
# README and CI cannot drift apart.
readme_commands=()
while IFS= read -r line; do
  readme_commands+=("$line")
done < <(awk '
  /^## Two commands/ { in_section = 1; next }
  in_section && /^```/ { if (in_block) exit; in_block = 1; next }
  in_block { sub(/[ \t]+#.*$/, ""); if ($0 != "") print }
' "$repo/README.md")
if [ ${#readme_commands[@]} -ne 2 ]; then
  echo "fresh_root: README.md's \"## Two commands\" block holds ${#readme_commands[@]}" \
    "commands, expected 2" >&2
  exit 1
fi
declare -A stage_command=(
  [readme-1]="${readme_commands[0]}"
  [readme-2]="${readme_commands[1]}"
  [aarch64]="tools/cross_aarch64.sh test"
  [asan]="tools/dev.sh asan"
  [tsan]="tools/dev.sh tsan"
  [fuzz]="tools/dev.sh fuzz"
)

# The host's Debian mirror: the first URI of a source that serves $suite.
mirror="$(
  {
    cat /etc/apt/sources.list.d/*.sources 2>/dev/null |
      awk '/^URIs:/ { uri = $2 } /^Suites:/ && / '"$suite"'( |$)/ { print uri; exit }'
    grep -hE "^deb\s+(\[[^]]*\]\s+)?\S+\s+$suite(\s|$)" \
      /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -E 's/^deb\s+(\[[^]]*\]\s+)?(\S+).*/\2/' || true
  } | head -n 1
)" || true
mirror="${mirror:-http://deb.debian.org/debian}"

root=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  [ -z "$root" ] || rm -rf "$root.logs" "$root.debootstrap.log"
  if [ -n "$root" ] && [ -d "$root" ]; then
    # Whatever still runs inside the root (a service a package started in
    # spite of policy-rc.d, a test left behind by an interrupted stage).
    local pid r
    for pid in /proc/[0-9]*; do
      r="$(readlink "$pid/root" 2>/dev/null)" || continue
      case "$r" in
        "$root" | "$root"/*) kill -KILL "${pid#/proc/}" 2>/dev/null || true ;;
      esac
    done
    local m
    for m in dev sys proc; do
      if mountpoint -q "$root/$m"; then
        umount -R "$root/$m" 2>/dev/null || umount -R -l "$root/$m" || true
      fi
    done
    if grep -qF " $root/" /proc/self/mounts; then
      echo "fresh_root: still mounted under $root; left in place" >&2
      status=1
    elif [ $keep -eq 1 ]; then
      echo "fresh_root: root kept at $root"
    else
      rm -rf --one-file-system "$root"
    fi
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'echo "fresh_root: interrupted" >&2; exit 130' INT
trap 'echo "fresh_root: terminated" >&2; exit 143' TERM

# 1. The base system, from the cache when it is there and recent.
cache_key="$suite-minbase-$(dpkg --print-architecture)-$(echo "$mirror" | md5sum | cut -c1-8)"
tarball="$cache_dir/$cache_key.tar.gz"
mkdir -p "$cache_dir" "$work_parent"
root="$(mktemp -d "$work_parent/foldrt-fresh-root.XXXXXX")"
chmod 755 "$root"
if [ -f "$tarball" ] && [ -z "$(find "$tarball" -mtime +30)" ]; then
  log "base system from the cache $tarball"
  tar --numeric-owner -xpzf "$tarball" -C "$root"
else
  log "debootstrap --variant=minbase $suite from $mirror"
  if ! debootstrap --variant=minbase "$suite" "$root" "$mirror" >"$root.debootstrap.log" 2>&1; then
    echo "fresh_root: debootstrap failed; its last lines:" >&2
    tail -n 30 "$root.debootstrap.log" >&2
    rm -f "$root.debootstrap.log"
    exit 1
  fi
  rm -f "$root.debootstrap.log"
  # Cached before anything of the host is copied in.
  tar --numeric-owner -czpf "$tarball.tmp.$$" -C "$root" .
  mv -f "$tarball.tmp.$$" "$tarball"
  log "cached the base system in $tarball"
fi

# 2. The host's network setup, and nothing else: apt's sources and
#    configuration (with its keyrings), DNS, CA certificates, npm's
#    registry/CA configuration. Contents are copied, never printed.
copy_in() {
  local path
  for path in "$@"; do
    [ -e "$path" ] || continue
    mkdir -p "$root$(dirname "$path")"
    cp -a -L -T "$path" "$root$path"
  done
}
# The host's apt sources replace the root's own (debootstrap's one-line
# sources.list would name the same archive twice).
rm -f "$root/etc/resolv.conf" "$root/etc/apt/sources.list"
copy_in /etc/apt/sources.list /etc/apt/sources.list.d /etc/apt/apt.conf \
  /etc/apt/apt.conf.d /etc/apt/auth.conf.d /etc/apt/preferences.d \
  /etc/apt/trusted.gpg /etc/apt/trusted.gpg.d /etc/apt/keyrings \
  /etc/resolv.conf /etc/hosts \
  /etc/ssl/certs/ca-certificates.crt /usr/local/share/ca-certificates \
  /etc/npmrc /usr/etc/npmrc /root/.npmrc
# No package may start a service in the root.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --make-rslave "$root/sys"
mount --rbind /dev "$root/dev"
mount --make-rslave "$root/dev"

# 3. The project.
src=/src/foldrt
mkdir -p "$root$src"
if [ "$source_kind" = committed ]; then
  log "project: HEAD $(git -C "$repo" rev-parse --short HEAD) (git archive)"
  git -C "$repo" archive --format=tar HEAD | tar -x -C "$root$src"
else
  log "project: the working tree of $repo"
  (cd "$repo" && git ls-files -z -c -o --exclude-standard |
    tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -x -C "$root$src"
fi

# A test that skips because something is not installed proves nothing: a
# stage fails when CTest reports a skipped test that is not listed here.
allowed_skips=(
  # GTEST_SKIP where oneDNN 2.6 breaks foldrt's NaN contract; the contract
  # and tests that assert it on every path are open work (BN lifecycle issue).
  OneDnnBatchNormNanTest.ReluNanContract
  OneDnnBatchNormNanTest.ClipNanContract
)
unexpected_skips() {  # $1: a stage's log
  local name
  # CTest's summary: "  123 - some_test (Skipped)".
  sed -nE 's/^[[:space:]]*[0-9]+ - (.+) \(Skipped\)[[:space:]]*$/\1/p' "$1" |
    while IFS= read -r name; do
      case " ${allowed_skips[*]} " in
        *" $name "*) ;;
        *) echo "$name" ;;
      esac
    done
}

# 4. The stages, each as root with a clean environment and no stdin.
logs="$root.logs"
mkdir -p "$logs"
summary=()
for stage in "${stages[@]}"; do
  command="${stage_command[$stage]}"
  log "stage $stage: $command"
  start=$SECONDS
  # In the background and waited for, so that a TERM or INT reaches the
  # traps at once (bash runs no trap while a foreground job runs); cleanup
  # then ends what runs in the root.
  (
    set -o pipefail
    chroot "$root" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb CI=true \
      PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
      /bin/bash -c "cd $src && $command" </dev/null 2>&1 | tee "$logs/$stage.log"
  ) &
  status=0
  wait $! || status=$?
  elapsed=$((SECONDS - start))
  summary+=("$(printf '%-9s %5ds  %s' "$stage" "$elapsed" "$command")")
  if [ "$status" -eq 0 ]; then
    skipped="$(unexpected_skips "$logs/$stage.log")"
    if [ -n "$skipped" ]; then
      echo "fresh_root: stage $stage skipped tests (a missing package?):" $skipped \
        >>"$logs/$stage.log"
      status=1
    fi
  fi
  if [ "$status" -ne 0 ]; then
    {
      echo
      echo "fresh_root: stage $stage FAILED (exit $status after ${elapsed}s): $command"
      echo "fresh_root: its last lines:"
      tail -n 40 "$logs/$stage.log" | sed 's/^/  | /'
    } >&2
    rm -rf "$logs"
    exit 1
  fi
done
rm -rf "$logs"

log "all stages passed in a fresh Debian 12 root; wall time per stage:"
printf '  %s\n' "${summary[@]}"
