#!/usr/bin/env bash
# Packs lib/ into the local feed (feed/) that the notebooks reference with `#r "nuget: LabelAssignment, *-*"`.
# Every pack gets a new version 0.1.0-dev.<UTC yyyyMMddHHmmss>: re-packing one version would serve stale code from
# the NuGet cache, and a version without a suffix would sort above every dev build. Prints the version last.
# Extra arguments go to `dotnet pack` (the notebook tests pass --no-build after their own build).
# Keeps the newest $LABELASSIGNMENT_FEED_KEEP packages (default 5) in the feed.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
feed="$root/feed"
mkdir -p "$feed"
# A version must never be reused: not in this feed, and not in the machine's package cache either (another clone
# may have packed the same second, and NuGet would serve that clone's cached copy). Wait for the clock if taken.
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}/labelassignment"
while :; do
  version="0.1.0-dev.$(date -u +%Y%m%d%H%M%S)"
  [ -e "$feed/LabelAssignment.$version.nupkg" ] || [ -e "$cache/$version" ] || break
  sleep 1
done
config=Release
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -c|--configuration) config="$2"; shift 2 ;;
    *) args+=("$1"); shift ;;
  esac
done
dotnet pack "$root/lib/LabelAssignment.csproj" -c "$config" --nologo -v quiet -o "$feed" \
  -p:PackageVersion="$version" "${args[@]}" >&2
[ -f "$feed/LabelAssignment.$version.nupkg" ] || { echo "pack did not write LabelAssignment.$version.nupkg" >&2; exit 1; }
keep="${LABELASSIGNMENT_FEED_KEEP:-5}"
# Timestamped names sort by time; remove all but the newest $keep.
ls -1 "$feed"/LabelAssignment.0.1.0-dev.*.nupkg | sort | head -n -"$keep" | xargs -r rm -f
echo "$version"
