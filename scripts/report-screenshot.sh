#!/usr/bin/env bash
# Redraw the README pictures of the reports, each made by the real gateway in its test and rendered
# by poppler's pdftoppm:
#  - docs/report-page1.png: first page of the batch record PDF of the report test's batch (real OPC
#    UA line and TCP printer);
#  - docs/report-labels.png: the page of that PDF with the label pictures (rendered from the stored ZPL);
#  - docs/weekly-review-signed.png: the last page of a weekly review signed by QA (signature manifestation).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pdftoppm >/dev/null || { echo "needs pdftoppm (Debian: apt-get install poppler-utils)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
LINEGATE_REPORT_PDF_OUT="$tmp/report.pdf" npx vitest run test/integration/core/report.test.ts -t "the PDF holds the batch" >/dev/null
LINEGATE_WEEKLY_PDF_OUT="$tmp/weekly.pdf" npx vitest run test/integration/core/weekly-review.test.ts >/dev/null
mkdir -p docs
pdftoppm -png -r 60 -f 1 -l 1 -singlefile "$tmp/report.pdf" docs/report-page1
pages="$(pdfinfo "$tmp/report.pdf" | awk '/^Pages/ {print $2}')"
labels=""
for p in $(seq 1 "$pages"); do
  if pdftotext -f "$p" -l "$p" "$tmp/report.pdf" - | tr -s ' \n' '  ' | grep -q 'rendered from the stored ZPL'; then labels="$p"; break; fi
done
[ -n "$labels" ] || { echo "no page with a label picture in the report" >&2; exit 1; }
pdftoppm -png -r 60 -f "$labels" -l "$labels" -singlefile "$tmp/report.pdf" docs/report-labels
wpages="$(pdfinfo "$tmp/weekly.pdf" | awk '/^Pages/ {print $2}')"
pdftoppm -png -r 60 -f "$wpages" -l "$wpages" -singlefile "$tmp/weekly.pdf" docs/weekly-review-signed
echo "docs/report-page1.png, docs/report-labels.png (page $labels of $pages), docs/weekly-review-signed.png (page $wpages of $wpages)"
