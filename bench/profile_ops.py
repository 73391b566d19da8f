#!/usr/bin/env python3
"""Sums a LibTorch chrome trace (bench/peer_bench --profile FILE) per op: self time would need nesting, so this
prints inclusive time per op name, count and mean, top N. Usage: profile_ops.py TRACE.json [N]"""
import collections
import json
import sys

events = json.load(open(sys.argv[1]))
if isinstance(events, dict):
    events = events.get("traceEvents", [])
top = int(sys.argv[2]) if len(sys.argv) > 2 else 30
total = collections.Counter()
count = collections.Counter()
for e in events:
    if e.get("ph") == "X" and "dur" in e:
        total[e["name"]] += e["dur"]
        count[e["name"]] += 1
print(f"{'op':40s} {'ms':>9s} {'calls':>7s} {'us/call':>8s}")
for name, us in total.most_common(top):
    print(f"{name[:40]:40s} {us / 1000:9.1f} {count[name]:7d} {us / count[name]:8.1f}")
