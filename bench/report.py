#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""report: the growth table (one column per CRL size) from the JSON lines the benchmarks append.

    /usr/bin/python3 bench/report.py results.jsonl
"""

import json
import sys
from collections import defaultdict


def ns(v):
    if v is None:
        return "-"
    if v >= 1e9:
        return f"{v / 1e9:.2f} s"
    if v >= 1e6:
        return f"{v / 1e6:.1f} ms"
    if v >= 1e4:
        return f"{v / 1e3:.0f} us"
    if v >= 1e3:
        return f"{v / 1e3:.2f} us"
    return f"{v:.0f} ns"


def sec(v):
    return "-" if v is None else ns(v * 1e9)


def mib(v):
    return "-" if v is None else f"{v / 1048576:.1f} MiB"


def per(v):
    return "-" if v is None else f"{v:.1f} B"


def ratio(v):
    return "-" if v is None else f"{v:.1f}x"


def size_label(n):
    return f"{n // 1000000}M" if n >= 1000000 else (f"{n // 1000}k" if n >= 1000 else str(n))


def main() -> int:
    rows = [json.loads(ln) for ln in open(sys.argv[1]) if ln.strip()]
    by = defaultdict(dict)  # entries -> {key: value}
    for r in rows:
        n = r.get("entries", 0)
        d = by[n]
        if r["bench"] == "crl":
            o, c = r["openssl"], r["crlsync"]
            d["file"] = r["file_bytes"]
            d["loader"] = r["loader"]
            if o["ok"]:
                d.update(o_total=o["total_ns"], o_parse=o["parse_ns"], o_verify=o["verify_ns"], o_first=o["first_ns"],
                         o_peak=o["peak_bytes"], o_lookup=o["lookup_median_ns"], o_per=o["steady_bytes"] / max(n, 1))
            if c["ok"]:
                d.update(c_total=c["total_ns"], c_peak=c["peak_bytes"], c_per=c["steady_bytes"] / max(n, 1),
                         c_index=c["index_bytes"] / max(n, 1), c_lookup=c["lookup_median_ns"],
                         c_call99=c["lookup_call_p99_ns"])
            if o["ok"] and c["ok"]:
                d["load_x"] = o["total_ns"] / c["total_ns"]
                d["lookup_x"] = o["lookup_median_ns"] / c["lookup_median_ns"]
            if r.get("crlsync_no_index", {}).get("ok"):
                d["c_noindex"] = r["crlsync_no_index"]["total_ns"]
        elif r["bench"] == "reload":
            d.update(r_idle_max=r.get("idle_max_ns"), r_max=r["max_ns"], r_p999=r["p999_ns"], r_slow=r["above_1ms"], r_enforce=r["enforce_ns"],
                     r_per=r["bytes_per_entry"], r_steady=r["rss_steady"], r_extra=r["hwm_during"] - r["rss_steady"],
                     r_reload=r["reload_ms"] * 1e6)
        elif r["bench"] == "openvpn":
            k = {"no CRL": "none", "crl-verify": "cv", "plugin": "pl"}[r["config"]]
            d[f"v_{k}_conn"] = r.get("connect_median_s")
            d[f"v_{k}_rss"] = r.get("rss_steady")
            d[f"v_{k}_hwm"] = r.get("hwm_since_start")
            d[f"v_{k}_stall"] = r.get("stall_s")
            d[f"v_{k}_after"] = r.get("connect_after_change_median_s")
        elif r["bench"] == "fetch":
            d.update(f_first=r["first_seconds"], f_first_rss=r["first_maxrss"], f_second=r["second_seconds"],
                     f_second_rss=r["second_maxrss"], f_status=r["second_status"])
    for n, d in by.items():
        if d.get("v_none_conn") and d.get("v_pl_conn"):
            d["v_pl_x"] = d["v_pl_conn"] / d["v_none_conn"]
        if d.get("v_none_conn") and d.get("v_cv_conn"):
            d["v_cv_x"] = d["v_cv_conn"] / d["v_none_conn"]
    sizes = sorted(by)
    figs = [
        ("CRL size (DER)", "file", mib, ""),
        ("OpenSSL: d2i_X509_CRL", "o_parse", ns, ""),
        ("OpenSSL: X509_CRL_verify", "o_verify", ns, ""),
        ("OpenSSL: first lookup (sort)", "o_first", ns, ""),
        ("OpenSSL: read+parse+verify+sort", "o_total", ns, ""),
        ("crlsync: read+load+verify+index", "c_total", ns, ""),
        ("crlsync: check only, no index", "c_noindex", ns, ""),
        ("load speed-up over OpenSSL", "load_x", ratio, ">= 5x"),
        ("OpenSSL: peak RSS of the load", "o_peak", mib, ""),
        ("crlsync: peak RSS of the load", "c_peak", mib, ""),
        ("OpenSSL: steady RSS per entry", "o_per", per, ""),
        ("crlsync: steady RSS per entry (after malloc_trim)", "c_per", per, "<= 32 B"),
        ("crlsync: index heap per entry", "c_index", per, "<= 32 B"),
        ("OpenSSL: lookup median", "o_lookup", ns, ""),
        ("crlsync: lookup median", "c_lookup", ns, "<= 150 ns"),
        ("crlsync: lookup per-call p99", "c_call99", ns, ""),
        ("lookup speed-up over OpenSSL", "lookup_x", ratio, ">= 15x"),
        ("plugin: TLS_VERIFY max during a reload", "r_max", ns, "<= 1 ms"),
        ("plugin: TLS_VERIFY p99.9 during a reload", "r_p999", ns, ""),
        ("plugin: TLS_VERIFY max with no reload (machine noise)", "r_idle_max", ns, ""),
        ("plugin: TLS_VERIFY calls > 1 ms during a reload", "r_slow", lambda v: "-" if v is None else str(v), "0"),
        ("plugin: reload (its log line)", "r_reload", ns, ""),
        ("plugin: rename -> first REJECT", "r_enforce", ns, "<= 0.5 s"),
        ("plugin: resident bytes per entry", "r_per", per, "<= 32 B"),
        ("plugin: RSS steady", "r_steady", mib, ""),
        ("plugin: peak over steady during a reload", "r_extra", mib, "<= 64 MiB (any size)"),
        ("OpenVPN connect, no CRL", "v_none_conn", sec, ""),
        ("OpenVPN connect, crl-verify", "v_cv_conn", sec, ""),
        ("OpenVPN connect, crl-verify after a CRL change", "v_cv_after", sec, ""),
        ("OpenVPN connect, plugin", "v_pl_conn", sec, ""),
        ("OpenVPN connect, plugin after a CRL change", "v_pl_after", sec, ""),
        ("connect plugin / no CRL", "v_pl_x", lambda v: "-" if v is None else f"{v:.2f}x", "<= 1.1x"),
        ("connect crl-verify / no CRL", "v_cv_x", lambda v: "-" if v is None else f"{v:.2f}x", ""),
        ("server stall on CRL change, crl-verify", "v_cv_stall", sec, ""),
        ("server stall on CRL change, plugin", "v_pl_stall", sec, "none"),
        ("server RSS, no CRL", "v_none_rss", mib, ""),
        ("server RSS, crl-verify", "v_cv_rss", mib, ""),
        ("server RSS, plugin", "v_pl_rss", mib, ""),
        ("server peak RSS, crl-verify", "v_cv_hwm", mib, ""),
        ("server peak RSS, plugin", "v_pl_hwm", mib, ""),
        ("fetch: first (download+verify+install)", "f_first", sec, "<= 1 s"),
        ("fetch: first, peak RSS", "f_first_rss", mib, "<= 64 MiB (any size)"),
        ("fetch: second (HTTP status)", "f_status", lambda v: "-" if v is None else str(v), "304"),
        ("fetch: second, time", "f_second", sec, ""),
        ("fetch: second, peak RSS", "f_second_rss", mib, ""),
    ]
    loaders = sorted({d["loader"] for d in by.values() if "loader" in d})
    print("\n### Growth: every figure by CRL size\n")
    if loaders:
        print(f"crlsync loader: {', '.join(loaders)}.\n")
    print("| figure | " + " | ".join(size_label(n) for n in sizes) + " | target (1M) |")
    print("|---|" + "---:|" * len(sizes) + "---|")
    for label, key, fmt, target in figs:
        if not any(key in by[n] for n in sizes):
            continue
        print(f"| {label} | " + " | ".join(fmt(by[n].get(key)) for n in sizes) + f" | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
