#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# chain.sh: DMA map/unmap cost for the assigned edu in L2 of the nested chain
# (scripts/chain/bench.sh has the details).
exec bash "$(dirname "$0")/../chain/bench.sh"
