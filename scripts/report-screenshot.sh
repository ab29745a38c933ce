#!/usr/bin/env bash
# Redraw docs/report-page1.png (README): the batch record PDF of the report test's batch — made by
# the real gateway with a real OPC UA line and TCP printer — first page rendered by poppler's pdftoppm.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v pdftoppm >/dev/null || { echo "needs pdftoppm (Debian: apt-get install poppler-utils)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
LINEGATE_REPORT_PDF_OUT="$tmp/report.pdf" npx vitest run test/integration/core/report.test.ts -t "the PDF holds the batch" >/dev/null
mkdir -p docs
pdftoppm -png -r 60 -f 1 -l 1 -singlefile "$tmp/report.pdf" docs/report-page1
echo "docs/report-page1.png ($(pdfinfo "$tmp/report.pdf" | awk '/^Pages/ {print $2}') pages in the PDF)"
