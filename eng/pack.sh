#!/usr/bin/env bash
# Packs the four library projects (lib/Core, lib/Embedding, lib/Service, lib/Studies) into the local feed (feed/), all with one
# version. The notebooks reference the top one with `#r "nuget: LabelAssignment.Studies, *-*"`, which brings the other two.
# Every pack gets a new version 0.1.0-dev.<UTC yyyyMMddHHmmss>: re-packing one version would serve stale code from
# the NuGet cache, and a version without a suffix would sort above every dev build. Prints the version last.
# Extra arguments go to `dotnet pack` (the notebook tests pass --no-build after their own build).
# The feed keeps only this pack (LABELASSIGNMENT_FEED_KEEP=n keeps the newest n), and feed/LATEST names its version:
# a notebook's `*-*` then resolves to exactly the last pack, and its provenance cell warns when the kernel still
# holds an older one. build-info.json in the package records the git commit and whether the tree was dirty.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
feed="$root/feed"
mkdir -p "$feed"
# A version must never be reused: not in this feed, and not in the machine's package cache either (another clone
# may have packed the same second, and NuGet would serve that clone's cached copy). Wait for the clock if taken.
cache="${NUGET_PACKAGES:-$HOME/.nuget/packages}/labelassignment.studies"
while :; do
  version="0.1.0-dev.$(date -u +%Y%m%d%H%M%S)"
  [ -e "$feed/LabelAssignment.Studies.$version.nupkg" ] || [ -e "$cache/$version" ] || break
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
info_dir=$(mktemp -d)
trap 'rm -rf "$info_dir"' EXIT
commit=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo "")
changed=$(git -C "$root" status --porcelain 2>/dev/null | wc -l | tr -d ' ')
dirty=false; [ "$changed" -eq 0 ] || dirty=true
[ -n "$commit" ] || dirty=null
printf '{"version":"%s","commit":%s,"dirty":%s,"changedFiles":%s,"packedUtc":"%s"}\n' "$version" \
  "$([ -n "$commit" ] && echo "\"$commit\"" || echo null)" "$dirty" "$changed" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$info_dir/build-info.json"
packages=(Core Embedding Service Studies)
for p in "${packages[@]}"; do
  dotnet pack "$root/lib/$p/LabelAssignment.$p.csproj" -c "$config" --nologo -v quiet -o "$feed" \
    -p:PackageVersion="$version" -p:LabelAssignmentBuildInfo="$info_dir/build-info.json" ${args[@]+"${args[@]}"} >&2
  [ -f "$feed/LabelAssignment.$p.$version.nupkg" ] || { echo "pack did not write LabelAssignment.$p.$version.nupkg" >&2; exit 1; }
done
keep="${LABELASSIGNMENT_FEED_KEEP:-1}"
# Timestamped names sort by time; remove all but the newest $keep.
for p in "${packages[@]}"; do
  ls -1 "$feed"/LabelAssignment.$p.0.1.0-dev.*.nupkg 2>/dev/null | sort | head -n -"$keep" | xargs -r rm -f
done
# Packs of the single-assembly layout (before lib/ was split into three projects) are no longer loadable.
rm -f "$feed"/LabelAssignment.0.1.0-dev.*.nupkg
printf '%s\n' "$version" > "$feed/LATEST.tmp" && mv -f "$feed/LATEST.tmp" "$feed/LATEST"
echo "$version"
