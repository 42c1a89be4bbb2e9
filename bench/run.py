#!/usr/bin/env python3
"""`make bench`: one table, each figure next to its reference measured in the
same run, also written as JSON to build/bench/<UTC timestamp>.json.

Rows:
  size     measured bytes of skl.bin (and skl-debug.bin), footprint, room
           before the tables; reference: the C SKL `slrt` branch's 11,278 bytes;
           and where skl.bin's code comes from, by source file, inlining
           included (bench/size_by_source.py); reference: its whole .text
  hash     the payload's one-pass multi-bank hashing (skl/benches/hash.rs: the
           block functions of the release payload, best of 300 runs over
           256 KiB); reference: `openssl speed -evp` on this machine (best of 3),
           combined for several banks as 1 / sum(1 / rate). The software path
           is compared with OpenSSL without SHA-NI (SIMD allowed) and with
           OpenSSL's integer-only code; the SHA-NI path with OpenSSL's SHA-NI
  qemu     TPM commands per launch and instructions entry -> hand-off, when the
           QEMU bench (qemu-tests `bench` binary) is available
  profile  where the instructions of one DLME-mode launch go, by group of
           payload symbols (bench/profile.py over QEMU's execution log of
           `skl-profile`); reference: the whole launch
  model    a modelled launch time for a reference machine (bench/model.py:
           SKINIT's locality-4 hashing + TPM commands + software hashing),
           beside the C SKL under the same model
"""
import datetime
import tempfile
import json
import os
import re
import struct
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.environ.get("SKL_BUILD_DIR", os.path.join(ROOT, "build"))
C_SKL_MEASURED = 11278  # TrenchBoot secure-kernel-loader `slrt` branch, users.md §0


def sh(cmd, env=None, cwd=ROOT):
    return subprocess.run(cmd, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def size_rows():
    rows = []
    for name in ("skl.bin", "skl-debug.bin", "skl-amdsl.bin", "skl-amdsl-debug.bin"):
        path = os.path.join(BUILD, name)
        if not os.path.exists(path):
            continue
        data = open(path, "rb").read()
        measured = struct.unpack_from("<H", data, 2)[0]
        rows.append({"row": f"measured bytes, {name}", "value": measured, "unit": "B",
                     "reference": C_SKL_MEASURED, "ref_name": "C SKL slrt",
                     "ratio": round(measured / C_SKL_MEASURED, 2)})
    for name, elf in (("skl.bin", "payload/skl"), ("skl-debug.bin", "slb-debug/skl")):
        if not os.path.exists(os.path.join(BUILD, name)):
            continue
        out = sh(["python3", "skl/check-image.py", f"target/x86_64-unknown-none/{elf}", os.path.join(BUILD, name)])
        m = re.search(r"footprint (\d+) of 65536 B.*free (\d+) B, room before the tables (\d+) B", out)
        if not m:
            continue
        if name == "skl.bin":
            rows.append({"row": "SLB footprint, skl.bin", "value": int(m.group(1)), "unit": "B",
                         "reference": 65536, "ref_name": "SLB size", "ratio": round(int(m.group(1)) / 65536, 2)})
        # What the image may still grow by before the page-aligned tables
        # move up a page and the link fails (issue 20: >= 4 KiB for debug).
        rows.append({"row": f"room before the tables, {name}", "value": int(m.group(3)), "unit": "B",
                     "reference": 4096, "ref_name": "issue 20's goal for the debug build", "ratio": None})
    return rows


# OpenSSL's code paths, chosen through OPENSSL_ia32cap (the capability
# vector is CPUID.1:EDX|ECX, then CPUID.7:EBX; "~" clears bits):
#   sha-ni:  everything this CPU has (the SHA-NI path for SHA-1/SHA-256);
#   no-sha:  SHA-NI masked (CPUID.7:EBX bit 29), SSSE3/AVX/AVX2 code allowed:
#            the reference for the software path;
#   integer: SHA-NI, SSSE3 (ECX 9), AVX (ECX 28), AVX2/BMI1/BMI2 (EBX 5, 3, 8)
#            masked: OpenSSL's general-purpose-register code, the like of the
#            payload's soft-float code.
OPENSSL_CAPS = {
    "sha-ni": None,
    "no-sha": ":~0x20000000",
    "integer": "~0x1000020000000000:~0x20000128",
}


def openssl_rate(alg, cap, runs=3):
    """MB/s of `openssl speed -evp`, best of `runs` (the machine is shared)."""
    env = dict(os.environ)
    env.pop("OPENSSL_ia32cap", None)
    if cap:
        env["OPENSSL_ia32cap"] = cap
    best = 0.0
    for _ in range(runs):
        out = sh(["openssl", "speed", "-evp", alg, "-bytes", "16384", "-seconds", "1"], env=env)
        last = [l for l in out.splitlines() if l.startswith(alg)][-1]
        best = max(best, float(last.split()[-1].rstrip("k")) * 1000 / 1e6)
    return best


SOFT_RATES = {}  # MB/s of the payload's software hashing, one bank, this run


def hash_rows():
    out = sh(["cargo", "bench", "-q", "-p", "skl", "--bench", "hash"])
    algs = ("sha1", "sha256", "sha384")
    ref = {cap: {a: openssl_rate(a, mask) for a in algs} for cap, mask in OPENSSL_CAPS.items()}
    rows = []
    for cap in OPENSSL_CAPS:
        for a in algs:
            rows.append({"row": f"openssl speed -evp {a}, {cap}", "value": round(ref[cap][a]), "unit": "MB/s",
                         "reference": None, "ref_name": "", "ratio": None})
    for line in out.splitlines():
        m = re.match(r"hash (\S+) (\S+) (\d+)", line)
        if not m:
            continue
        backend, banks, rate = m.group(1), m.group(2).split("+"), float(m.group(3))
        if backend == "soft" and len(banks) == 1:
            SOFT_RATES[banks[0]] = rate
        # Soft against OpenSSL without SHA-NI (and, second row, OpenSSL's
        # integer-only code); auto (SHA-NI) against OpenSSL with it.
        for cap in ("no-sha", "integer") if backend == "soft" else ("sha-ni",):
            combined = 1 / sum(1 / ref[cap][b] for b in banks)
            rows.append({"row": f"hash, {backend}, {'+'.join(banks)}", "value": rate, "unit": "MB/s",
                         "reference": round(combined), "ref_name": f"openssl {cap} (same banks, one each)",
                         "ratio": round(rate / combined, 2)})
    return rows


def qemu_rows():
    try:
        out = sh(["cargo", "run", "-q", "--release", "-p", "qemu-tests", "--bin", "skl-bench"])
    except (subprocess.CalledProcessError, FileNotFoundError) as e:
        print(f"bench: QEMU rows skipped ({e})", file=sys.stderr)
        return []
    return json.loads(out)


def profile_rows():
    """Instructions of one DLME-mode launch by group of payload symbols."""
    elf = os.path.join(ROOT, "target/x86_64-unknown-none/payload/skl")
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "exec.log")
        try:
            run = json.loads(sh(["cargo", "run", "-q", "--release", "-p", "qemu-tests", "--bin", "skl-profile", log]))
        except (subprocess.CalledProcessError, FileNotFoundError, json.JSONDecodeError) as e:
            print(f"bench: profile rows skipped ({e})", file=sys.stderr)
            return []
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import profile as prof
        p = prof.profile(log, elf, run["slb_base"])
    total = p["total"]
    rows = [{"row": f"instructions, profiled DLME-mode launch ({run['dlme_size']} B DLME), all", "value": total,
             "unit": "insns", "reference": run["tsc"], "ref_name": "TSC count of the same run (-icount)",
             "ratio": round(total / run["tsc"], 2)}]
    for g, n in p["groups"].items():
        rows.append({"row": f"  of which {g}", "value": n, "unit": "insns", "reference": total,
                     "ref_name": "the whole launch", "ratio": round(n / total, 3)})
    return rows


def source_rows(rows):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import size_by_source
    measured = next((r["value"] for r in rows if r["row"] == "measured bytes, skl.bin"), None)
    try:
        return size_by_source.rows("skl", 12, expect_measured=measured)
    except (subprocess.CalledProcessError, FileNotFoundError, StopIteration) as e:
        print(f"bench: size-by-source rows skipped ({e})", file=sys.stderr)
        return []


def model_rows(rows):
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import model
    measured = next((r["value"] for r in rows if r["row"] == "measured bytes, skl.bin"), None)
    if measured is None or not all(b in SOFT_RATES for b in ("sha1", "sha256")):
        return []
    # TPM commands of the same launch from the QEMU rows (ours, and the C
    # SKL's count as that row's reference); the model's defaults otherwise.
    tpm = next((r for r in rows if r["row"] == "TPM commands per launch, TPM 2.0, 2 banks"), None)
    cmds = dict(cmds=tpm["value"], c_cmds=tpm["reference"]) if tpm else {}
    out = model.rows(measured, SOFT_RATES, BUILD, **cmds)
    # The two-stage skl-amdsl.bin: SKINIT measures stage 1, stage 1 hashes
    # stage 2 once (SHA-256); the same TPM commands.
    amdsl = os.path.join(BUILD, "skl-amdsl.bin")
    if os.path.exists(amdsl):
        data = open(amdsl, "rb").read()
        m, total = struct.unpack_from("<H", data, 2)[0], struct.unpack_from("<I", data, 0x18)[0]
        out += model.rows(m, SOFT_RATES, BUILD, **cmds, name="skl-amdsl.bin (two stages)", stage2=total - m)
    return out


def main():
    rows = size_rows()
    rows += source_rows(rows) + hash_rows() + qemu_rows() + profile_rows()
    rows += model_rows(rows)
    w = max(len(r["row"]) for r in rows)
    print(f"{'figure':<{w}}  {'value':>10} {'unit':<5} {'reference':>10}  ratio  reference is")
    for r in rows:
        ref = "" if r["reference"] is None else r["reference"]
        ratio = "" if r["ratio"] is None else r["ratio"]
        print(f"{r['row']:<{w}}  {r['value']:>10} {r['unit']:<5} {ref:>10}  {ratio!s:>5}  {r['ref_name']}")
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    path = os.path.join(BUILD, "bench", f"{stamp}.json")
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    json.dump({"commit": commit, "utc": stamp, "rows": rows}, open(path, "w"), indent=1)
    print(f"\nwritten {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    main()
