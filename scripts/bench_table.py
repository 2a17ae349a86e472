#!/usr/bin/env python3
"""The table of one scripts/bench.sh run (its JSON lines) as Markdown, with the ratios the
benchmark is read by: each workload against its raw-HTTP floor, and the targets of issue 11.

    python3 scripts/bench_table.py results.jsonl
"""
import json
import sys

BLOB = {"blob-push", "blob-pull", "copy"}


def metric(line):
    """(value, unit) a workload is compared by: MiB/s for blobs, ops/s otherwise."""
    if line["workload"] in BLOB:
        return line["mib_per_s"], "MiB/s"
    return line["ops_per_s"], "ops/s"


def main(path):
    lines = [json.loads(l) for l in open(path) if l.strip().startswith("{")]
    failed = [l for l in lines if not l.get("ok")]
    by = {}
    for l in lines:
        if l.get("ok"):
            rtt = l.get("params", {}).get("rtt_ms", 0)
            by[(rtt, l["workload"], l["tool"])] = l
    rtts = sorted({k[0] for k in by})
    workloads = []
    for k in by:
        if k[1] not in workloads:
            workloads.append(k[1])

    print("| RTT | workload | tool | result | floor (ureq-raw) | ratio to floor | p50 ms | peak RSS KiB |")
    print("|---|---|---|---|---|---|---|---|")
    for rtt in rtts:
        for w in workloads:
            floor = by.get((rtt, w if w != "c-resolve" else "resolve", "ureq-raw"))
            for (r, ww, tool), l in sorted(by.items(), key=lambda kv: kv[0][2]):
                if r != rtt or ww != w or tool == "ureq-raw":
                    continue
                v, unit = metric(l)
                fv = metric(floor)[0] if floor else None
                ratio = f"{v / fv:.2f}x" if fv else "-"
                p50 = l.get("p50_ms", "-")
                fcell = f"{fv:.1f} {unit}" if fv else "-"
                print(f"| {rtt} ms | {w} | {tool} | {v:.1f} {unit} | {fcell} | {ratio} | {p50} | {l['rss_peak_kb']} |")

    def get(rtt, w, tool="dockreg"):
        return by.get((rtt, w, tool))

    print()
    print("| target | RTT | figures | reached |")
    print("|---|---|---|---|")

    def ratio_row(name, rtt, a, b, need, fmt):
        if a and b:
            x = metric(a)[0] / metric(b)[0]
            print(f"| {name} | {rtt} ms | {fmt(a, b)} = {x:.2f}x | {'yes' if x >= need else 'NO'} (>= {need}x) |")

    for rtt in rtts:
        inst = get(rtt, "instances")
        if inst and rtt > 0:
            per = inst["wall_s"] / inst["ops"]
            print(f"| instances over {inst['params']['tags']} tags < 0.35 s | {rtt} ms | {per:.3f} s per listing (mean of {inst['ops']}; p50 {inst.get('p50_ms')} ms) | {'yes' if per < 0.35 else 'NO'} |")
        ops = lambda a, b: f"{metric(a)[0]:.1f} / {metric(b)[0]:.1f}"
        if rtt > 0:
            ratio_row("resolve-many vs resolve", rtt, get(rtt, "resolve-many"), get(rtt, "resolve"), 10, ops)
            ratio_row("copy 16 layers vs one at a time (--jobs 1)", rtt, get(rtt, "copy"), get(rtt, "copy", "dockreg-jobs1"), 4, ops)
            ratio_row("resolve-parallel vs resolve", rtt, get(rtt, "resolve-parallel"), get(rtt, "resolve"), 6, ops)
        else:
            ratio_row("resolve-parallel vs resolve", rtt, get(rtt, "resolve-parallel"), get(rtt, "resolve"), 1.6, ops)
            ratio_row("c-resolve vs resolve", rtt, get(rtt, "c-resolve"), get(rtt, "resolve"), 0.95, ops)
            for w in workloads:
                floor = by.get((rtt, w if w != "c-resolve" else "resolve", "ureq-raw"))
                ratio_row(f"{w} vs its floor", rtt, get(rtt, w), floor, 0.95, ops)
    if failed:
        print()
        for l in failed:
            print(f"FAILED: {l.get('tool')} {l.get('workload')}: {l.get('error')}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
