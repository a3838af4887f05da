# SPDX-License-Identifier: Apache-2.0
"""The parts of bench/compare.py: servers, transfers, clients, machine limits and the report."""
