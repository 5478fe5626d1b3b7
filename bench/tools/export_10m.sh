#!/usr/bin/env bash
# Exports a 10 M-event trace to every format in one run and reports, per
# format, the wall time, the peak memory (max RSS, from /usr/bin/time -v; it
# includes the trace's read-only mapping, about the trace's size), the
# output size and the bytes per call; then chrome and perfetto again with
# --min-dur 10us. The trace is a generated program (bench/tracestore/export_bench.cc,
# 4 threads, 1000 functions), written to a temporary directory and removed.
#
#   bench/tools/export_10m.sh                 # build/, 10 M events
#   bench/tools/export_10m.sh /tmp/top_build 2000000
set -euo pipefail
build="${1:-build}"
events="${2:-10000000}"
cli="$build/bin/tracestore"
gen="$build/bin/export_bench"
for exe in "$cli" "$gen" /usr/bin/time; do
  [ -x "$exe" ] || { echo "export_10m: $exe is missing (build first)" >&2; exit 2; }
done

dir="$(mktemp -d "${TMPDIR:-/tmp}/export10m.XXXXXX")"
trap 'rm -rf "$dir"' EXIT
echo "writing $events events to $dir/t.trace ..." >&2
"$gen" --events="$events" --write_trace="$dir/t.trace"
"$cli" info "$dir/t.trace" | grep -E '^(threads|functions|events) '
calls="$("$cli" query "$dir/t.trace" --csv "SELECT count(*) FROM calls" | tail -1 | tr -d '\r')"
trace_bytes="$(du -sb "$dir/t.trace" | cut -f1)"
printf 'trace on disk: %s (%s bytes per call), %s calls\n\n' \
  "$(du -sh "$dir/t.trace" | cut -f1)" \
  "$(awk -v b="$trace_bytes" -v c="$calls" 'BEGIN { printf "%.1f", b / c }')" "$calls"

printf '%-17s %9s %12s %14s %10s\n' format 'wall (s)' 'peak RSS' 'output' 'B/call'
for spec in chrome perfetto speedscope collapsed html sqlite \
            chrome:10us perfetto:10us; do
  format="${spec%%:*}"
  extra=()
  label="$format"
  if [ "$spec" != "$format" ]; then
    extra=(--min-dur "${spec#*:}")
    label="$format --min-dur ${spec#*:}"
  fi
  out="$dir/out.$format"
  /usr/bin/time -v "$cli" export "$dir/t.trace" --format "$format" -o "$out" \
    --no-progress "${extra[@]}" >/dev/null 2>"$dir/time.txt"
  wall="$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$dir/time.txt")"
  rss_kb="$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$dir/time.txt")"
  secs="$(awk -v t="$wall" 'BEGIN { n = split(t, p, ":"); s = 0;
                                    for (i = 1; i <= n; i++) s = s * 60 + p[i];
                                    printf "%.2f", s }')"
  bytes="$(stat -c %s "$out")"
  printf '%-17s %9s %9d MB %11s MB %10s\n' "$label" "$secs" "$((rss_kb / 1024))" \
    "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')" \
    "$(awk -v b="$bytes" -v c="$calls" 'BEGIN { printf "%.1f", b / c }')"
  rm -f "$out"
done
