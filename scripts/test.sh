#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The README's second command and what CI runs: set up, fetch the module corpora and Debian's
# objtool (cached outside the repo), then the whole test suite with the corpus required.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/corpus.sh
ORCTOOL_REQUIRE_CORPUS=1 npm test --silent
