#!/usr/bin/env bash
# Opens capsim's HTML pages in headless Chromium at a desktop and a phone width, saves a
# screenshot of each for people to look at, and fails when a page scrolls sideways.
#
#   bash .ci/page-check.sh [--shots DIR] [--full] PAGE.html...
#
# For every page and every width (1400x900 desktop, 390x844 phone):
#   1. a copy of the page gets a small script appended that, once the page has loaded, logs
#      `PAGE-CHECK width=W scroll=S ...`: the page's scrollWidth against its viewport
#      width, and the outermost elements reaching past the right (or left) edge that are not
#      inside a scrolling or clipping box (a wide table in an `overflow:auto` box is fine; a
#      page that scrolls sideways, or content clipped by `overflow:hidden` on body, is not);
#   2. the copy is shown in an iframe of exactly that width (Chromium's headless window is at
#      least 500 px wide, so a 390-px window would lay the page out at 500 px and crop it) and
#      `chromium --headless --screenshot` saves DIR/<folder>-<page>-<width>.png: what a reader
#      sees on opening the page; with --full, a second shot of the whole page (at most
#      PAGE_CHECK_MAX_HEIGHT px tall, default 16000) as <...>-<width>-full.png;
#   3. the check fails when the page is wider than the viewport, an element reaches past it, or
#      the probe never reported (the page did not load); and at desktop widths (from
#      PAGE_CHECK_DESKTOP px, default 1000) also when a box on the page scrolls sideways (a
#      table column cut off at the box's right edge). Content in a closed <details> is not
#      laid out, so it is not checked.
# About 3 s per page and width.
#
# Installs Debian's chromium (and fonts-liberation) with apt-get when no chromium is found
# (needs root; about a minute). Exit status: 0 when every page fits, or when the check was skipped (a line "page
# check skipped: REASON" says why: no chromium and it cannot be installed, or it does not
# start); 1 when a page overflows, a page is missing, or the probe did not report.
# Environment: PAGE_CHECK_STRICT=1 turns skips into failures; PAGE_CHECK_CHROMIUM=PATH picks
# the browser (and no other); PAGE_CHECK_INSTALL=0 never installs; PAGE_CHECK_WIDTHS="1400x900 390x844"
# changes the sizes.
set -euo pipefail

shots=target/page-check
full=0
pages=()
while (($#)); do
  case $1 in
    --shots) shots=${2:?--shots needs a folder}; shift 2 ;;
    --full) full=1; shift ;;
    -h | --help) sed -n '2,33p' "$0"; exit 0 ;;
    -*) echo "page-check: unknown option $1" >&2; exit 1 ;;
    *) pages+=("$1"); shift ;;
  esac
done
((${#pages[@]})) || { echo "usage: bash .ci/page-check.sh [--shots DIR] [--full] PAGE.html..." >&2; exit 1; }
read -r -a sizes <<<"${PAGE_CHECK_WIDTHS:-1400x900 390x844}"
max_height=${PAGE_CHECK_MAX_HEIGHT:-16000}
desktop=${PAGE_CHECK_DESKTOP:-1000} # from this width on, no box may scroll sideways either

skip() {
  if [[ ${PAGE_CHECK_STRICT:-0} == 1 ]]; then
    echo "page check FAILED (strict, would be skipped): $*" >&2
    exit 1
  fi
  echo "page check skipped: $*"
  exit 0
}

for p in "${pages[@]}"; do
  [[ -s $p ]] || { echo "page check FAILED: no such page: $p" >&2; exit 1; }
done

# ---- a browser
find_chromium() {
  local c
  for c in ${PAGE_CHECK_CHROMIUM:-chromium chromium-browser google-chrome-stable google-chrome}; do
    if command -v "$c" >/dev/null 2>&1; then command -v "$c"; return 0; fi
  done
  return 1
}
if ! browser=$(find_chromium); then
  [[ ${PAGE_CHECK_INSTALL:-1} == 1 ]] || skip "no chromium found and PAGE_CHECK_INSTALL=0"
  [[ $(id -u) == 0 ]] || skip "no chromium found, and installing it needs root (apt-get install chromium)"
  command -v apt-get >/dev/null 2>&1 || skip "no chromium found and no apt-get to install it"
  echo "page-check: installing Debian's chromium (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  # fonts-liberation is only a recommendation of chromium; without a font, text is boxes.
  if ! apt-get install -y --no-install-recommends chromium fonts-liberation >/tmp/page-check-apt.log 2>&1; then
    apt-get update >>/tmp/page-check-apt.log 2>&1 || true
    apt-get install -y --no-install-recommends chromium fonts-liberation >>/tmp/page-check-apt.log 2>&1 \
      || skip "apt-get install chromium failed (log: /tmp/page-check-apt.log)"
  fi
  browser=$(find_chromium) || skip "chromium installed but not found on PATH"
fi

T=$(mktemp -d /tmp/capsim-page-check.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkdir -p "$shots"

# Runs the browser on URL with a WxH window; stderr (where console messages go) to $T/log.
shoot() { # shoot URL W H PNG
  timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run \
    --user-data-dir="$T/profile" --enable-logging=stderr --v=0 --window-size="$2,$3" \
    --screenshot="$4" "$1" >"$T/log" 2>&1
}

# Does the browser start at all? (A container without the libraries it needs, say.)
echo '<!doctype html><title>t</title><p>t</p>' >"$T/hello.html"
shoot "file://$T/hello.html" 500 200 "$T/hello.png" && [[ -s $T/hello.png ]] \
  || skip "$browser does not start headless: $(grep -v -i dbus "$T/log" | tail -n 3 | tr '\n' ' ')"

cat >"$T/probe.html" <<'EOF'
<script>
addEventListener('load', function () {
  var d = document.documentElement, vw = d.clientWidth, sw = d.scrollWidth, bad = [];
  function clipped(el) { // inside a box that scrolls or clips its content (below body)
    for (var p = el.parentElement; p && p !== document.body && p !== d; p = p.parentElement) {
      var o = getComputedStyle(p).overflowX;
      if (o !== 'visible') return true;
    }
    return false;
  }
  function name(el) {
    var s = el.tagName.toLowerCase();
    if (el.id) s += '#' + el.id;
    if (el.className && typeof el.className === 'string') s += '.' + el.className.trim().split(/\s+/).join('.');
    var sec = el.closest('section[id]');
    return s + (sec ? ' in section#' + sec.id : '');
  }
  document.querySelectorAll('body *').forEach(function (el) {
    var r = el.getBoundingClientRect();
    if (r.width === 0 || (r.right <= vw + 1 && r.left >= -1) || clipped(el)) return;
    var q = el.parentElement.getBoundingClientRect();
    if (el.parentElement !== document.body && (q.right > vw + 1 || q.left < -1)) return; // its parent is reported
    bad.push(name(el) + ' [' + Math.round(r.left) + ', ' + Math.round(r.right) + ']');
  });
  var inner = []; // boxes that scroll sideways inside the page (fine on a phone, not on a desktop)
  document.querySelectorAll('body *').forEach(function (el) {
    var o = getComputedStyle(el).overflowX;
    if ((o === 'auto' || o === 'scroll') && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0 &&
        !el.closest('details:not([open])'))
      inner.push(name(el) + ' [' + el.clientWidth + ' of ' + el.scrollWidth + ' px shown]');
  });
  console.log('PAGE-CHECK width=' + vw + ' scroll=' + sw + ' height=' + d.scrollHeight +
    ' scrollers=' + inner.length + (inner.length ? ': ' + inner.slice(0, 6).join(' ; ') : '') +
    ' || offenders=' + bad.length + (bad.length ? ': ' + bad.slice(0, 6).join(' ; ') : ''));
});
</script>
EOF

failed=0
for page in "${pages[@]}"; do
  abs=$(cd "$(dirname "$page")" && pwd)/$(basename "$page")
  label=$(basename "$(dirname "$abs")")-$(basename "$abs" .html)
  # The copy sits beside the page so relative links still resolve; removed on exit.
  copy=$(dirname "$abs")/.page-check-$$.html
  cat "$abs" "$T/probe.html" >"$copy"
  trap 'rm -rf "$T" "$copy"' EXIT
  for size in "${sizes[@]}"; do
    w=${size%x*} h=${size#*x}
    host=$T/host-$w.html
    printf '<!doctype html><html><head><meta charset="utf-8"><style>html,body{margin:0;background:#fff}iframe{display:block;border:0}</style></head><body><iframe src="file://%s" width="%s" height="%s"></iframe></body></html>\n' \
      "$copy" "$w" "$h" >"$host"
    png=$shots/$label-$w.png
    start=$SECONDS
    if ! shoot "file://$host" "$w" "$h" "$png"; then
      echo "page check FAILED: $page at $w px: chromium failed" >&2
      grep -v -i dbus "$T/log" | tail -n 5 >&2
      failed=1
      continue
    fi
    line=$(grep -o 'PAGE-CHECK [^"]*' "$T/log" | head -n 1 || true)
    if [[ -z $line ]]; then
      echo "page check FAILED: $page at $w px: the probe did not report (did the page load?)" >&2
      failed=1
      continue
    fi
    read -r _ vw_kv sw_kv ht_kv _ <<<"$line"
    vw=${vw_kv#width=} sw=${sw_kv#scroll=} ht=${ht_kv#height=}
    offenders=${line#*offenders=}
    scrollers=${line#*scrollers=}
    scrollers=${scrollers%% || offenders=*}
    if [[ $vw != "$w" ]]; then
      echo "page check FAILED: $page at $w px: the page was laid out $vw px wide, not $w" >&2
      failed=1
    elif ((sw > vw)) || [[ $offenders != 0 ]]; then
      echo "page check FAILED: $page at $w px scrolls sideways: $sw px of content in a $vw px viewport; outermost offenders: $offenders" >&2
      failed=1
    elif ((w >= desktop)) && [[ $scrollers != 0 ]]; then
      echo "page check FAILED: $page at $w px: a box scrolls sideways on a desktop-wide screen (content cut off at its right edge): $scrollers" >&2
      failed=1
    else
      echo "page-check: $page at ${w}x$h: fits ($sw px, $ht px tall, $((SECONDS - start)) s); screenshot $png"
    fi
    if ((full)); then
      fh=$((ht < max_height ? ht : max_height))
      sed -e "s/height=\"$h\"/height=\"$fh\"/" "$host" >"$T/host-full.html"
      shoot "file://$T/host-full.html" "$w" "$fh" "$shots/$label-$w-full.png" \
        && echo "page-check: full page at $w px: $shots/$label-$w-full.png ($fh px tall)" \
        || echo "page-check: full-page screenshot at $w px failed (not a check)" >&2
    fi
  done
  rm -f "$copy"
done
if ((failed)); then
  echo "page check FAILED (screenshots in $shots)" >&2
  exit 1
fi
echo "page check passed: ${#pages[@]} page(s) at ${sizes[*]} (screenshots in $shots)"
