#!/usr/bin/env python3
"""Where SKL's instructions go between SKINIT's entry and the hand-off.

Input: QEMU's `-d exec,nochain,in_asm` log of one launch (`skl-profile`,
qemu-tests/src/bin/skl-profile.rs) and the payload ELF it ran. Every
translation block QEMU executed inside the SLB is attributed to the ELF
symbol it starts in; its instructions are counted from the ELF's own
disassembly over the block's bytes (QEMU's in_asm gives the bytes, not the
instructions, when it is built without a disassembler). With `nochain` every
execution of a block is logged, so the counts are exact.

    profile.py LOG ELF SLB_BASE  ->  JSON {"total": n, "symbols": {...}, "groups": {...}}
"""
import bisect
import collections
import json
import re
import subprocess
import sys

SLB_SIZE = 0x10000

# Symbol substring -> group, first match wins (Rust mangled or demangled names).
GROUPS = [
    ("hashing", ("hash", "sha1", "sha256", "sha512", "digest_all")),
    ("TPM I/O", ("tpm",)),
    ("DMA protection (IOMMU, DEV/MEMPROT, PCI)", ("dma", "iommu", "northbridge", "fabric", "pci")),
    ("memset/memcpy/memcmp", ("memset", "memcpy", "memmove", "memcmp", "compare_bytes")),
]


def group_of(sym):
    s = sym.lower()
    for name, keys in GROUPS:
        if any(k in s for k in keys):
            return name
    return "parsing, validation, logging, entry"


def elf_insns(elf):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", elf], capture_output=True, text=True, check=True).stdout
    return sorted(int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):\s", out, re.M))


def elf_symbols(elf):
    out = subprocess.run(["nm", "-n", "-C", elf], capture_output=True, text=True, check=True).stdout
    syms = []
    for line in out.splitlines():
        p = line.split(None, 2)
        if len(p) == 3 and p[1] in "tT":
            syms.append((int(p[0], 16), p[2]))
    return sorted(syms)


def profile(log, elf, base):
    insns, syms = elf_insns(elf), elf_symbols(elf)
    starts = [a for a, _ in syms]
    tb_bytes, execs = {}, collections.Counter()
    cur = None
    with open(log, errors="replace") as f:
        for line in f:
            if line.startswith("IN:"):
                cur = None
            elif line.startswith("0x") and cur is None:
                cur = int(line.split(":")[0], 16)
                tb_bytes[cur] = 0
            elif line.startswith("OBJD-T:") and cur is not None:
                tb_bytes[cur] += len(line.split()[1]) // 2
            elif line.startswith("Trace"):
                cur = None
                pc = int(line.split("[")[1].split("/")[1], 16)
                if base <= pc < base + SLB_SIZE:
                    execs[pc] += 1
    per_sym = collections.Counter()
    for pc, n in execs.items():
        off = pc - base
        i0 = bisect.bisect_left(insns, off)
        i1 = bisect.bisect_left(insns, off + tb_bytes.get(pc, 1))
        i = bisect.bisect_right(starts, off) - 1
        per_sym[syms[i][1] if i >= 0 else "?"] += n * max(i1 - i0, 1)
    groups = collections.Counter()
    for s, n in per_sym.items():
        groups[group_of(s)] += n
    return {"total": sum(per_sym.values()), "symbols": dict(per_sym.most_common(12)), "groups": dict(groups.most_common())}


if __name__ == "__main__":
    print(json.dumps(profile(sys.argv[1], sys.argv[2], int(sys.argv[3], 0)), indent=1))
