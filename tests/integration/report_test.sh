#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main job and its report in a real browser: `gaincell flow` on the default cell,
# then headless Chromium loads report.html, takes a screenshot, and the page's own
# check says every plot decoded and is not blank and no link is broken or external.
# --reuse reruns nothing; a missing input shows as a notice, not a blank plot.
# ctest `report`. Usage: report_test.sh GAINCELL BUILD_DIR
set -euo pipefail
gaincell="$1"
build="$2"
work="$(mktemp -d /tmp/gaincell-report.XXXXXX)"
trap 'rm -rf "$work"' EXIT
browser="$(command -v chromium || command -v chromium-browser || true)"
[ -n "$browser" ] || { echo "FAIL: chromium is not installed (tools/install-deps.sh installs it)"; exit 1; }

"$gaincell" flow -o "$work/flow" | tee "$work/flow.txt"
report="$work/flow/report.html"
[ -s "$report" ] || { echo "FAIL: no report"; exit 1; }
# Self-contained: no external scripts, styles, images or links.
if grep -Eq '(src|href)="(https?:|//|file:)' "$report" || grep -q '<link' "$report"; then
  echo "FAIL: the report refers to external resources"; exit 1
fi

browse() {  # file -> the <body ...> tag after the page's own check ran
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --virtual-time-budget=10000 \
    --dump-dom "file://$1" 2>/dev/null | grep -o '<body[^>]*>'
}
body="$(browse "$report")"
echo "$body"
attr() { echo "$body" | sed -n "s/.*data-$1=\"\([0-9]*\)\".*/\1/p"; }
images="$(attr images)"; decoded="$(attr images-decoded)"; nonblank="$(attr images-nonblank)"; bad="$(attr bad-links)"
[ -n "$images" ] || { echo "FAIL: the page's check did not run"; exit 1; }
[ "$images" -ge 9 ] || { echo "FAIL: $images plots, expected 9"; exit 1; }
[ "$decoded" = "$images" ] || { echo "FAIL: $decoded of $images images decoded"; exit 1; }
[ "$nonblank" = "$images" ] || { echo "FAIL: $nonblank of $images images are not blank"; exit 1; }
[ "$bad" = "0" ] || { echo "FAIL: $bad broken or external links"; exit 1; }

shot="$build/report_screenshot.png"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,6000 \
  --screenshot="$shot" "file://$report" >/dev/null 2>&1
/usr/bin/python3 - "$shot" <<'PY'
import sys
from PIL import Image, ImageStat
im = Image.open(sys.argv[1]).convert("L")
std = ImageStat.Stat(im).stddev[0]
assert im.size[0] >= 1000 and std > 10, (im.size, std)
print(f"screenshot {sys.argv[1]}: {im.size[0]} x {im.size[1]}, pixel std {std:.1f}")
PY

# --reuse: nothing is recomputed.
"$gaincell" flow -o "$work/flow" --reuse | tee "$work/reuse.txt"
reused="$(grep -c ' reused$' "$work/reuse.txt")"
stages="$(sed -n 's|^\[ *1/\([0-9]*\)\].*|\1|p' "$work/reuse.txt")"
# Every stage but two: derive (checks the card each time) and the report (always rebuilt).
[ -n "$stages" ] && [ "$reused" -eq $((stages - 2)) ] || { echo "FAIL: --reuse reused $reused of ${stages:-?} stages"; exit 1; }

# A missing input: a visible notice, no blank image, and the command names it.
rm "$work/flow/eval/energy.json"
"$gaincell" report "$work/flow" -o "$work/partial.html" 2> "$work/report.err"
grep -q "energy.json is missing" "$work/report.err"
grep -q 'class="missing"' "$work/partial.html"
body="$(browse "$work/partial.html")"
images="$(attr images)"; nonblank="$(attr images-nonblank)"
[ "$nonblank" = "$images" ] && [ "$images" -ge 7 ] || { echo "FAIL: partial report: $body"; exit 1; }
echo "report test: passed"
