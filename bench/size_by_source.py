"""Where the bytes of an image's code come from, by source file and
function, inlining included (issue 20: `nm --size-sort` names only the
functions LLVM kept out of line; `skl_main` alone holds most of the launch).

The payload is rebuilt with debug info into its own target directory
(`CARGO_PROFILE_PAYLOAD_DEBUG=true`: the same code, the image's measured size
is checked to be the same), every instruction of `.text` is mapped with
`addr2line -i` to the innermost frame in this repository's sources, and its
bytes are counted there. Used by `make bench` (bench/run.py) and on its own:

    python3 bench/size_by_source.py [bin] [N]     # bin: skl (default), skl-txt, ...
"""
import collections
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TARGET = os.path.join(ROOT, "target", "size-by-source")


def build(binary):
    env = dict(os.environ, CARGO_PROFILE_PAYLOAD_DEBUG="true")
    subprocess.run(["cargo", "build", "-q", "-p", "skl", "--target", "x86_64-unknown-none", "--profile", "payload",
                    "--bin", binary, "--target-dir", TARGET], cwd=ROOT, env=env, check=True)
    return os.path.join(TARGET, "x86_64-unknown-none", "payload", binary)


def measured_end(elf):
    out = subprocess.run(["nm", elf], capture_output=True, text=True, check=True).stdout
    return next(int(line.split()[0], 16) for line in out.splitlines() if line.endswith(" __measured_end"))


def attribute(elf):
    """(bytes by source file, bytes by function, total .text bytes)."""
    dis = subprocess.run(["objdump", "-d", "--no-show-raw-insn", "-j", ".text", elf],
                         capture_output=True, text=True, check=True).stdout
    addrs = [int(m.group(1), 16) for m in re.finditer(r"^\s+([0-9a-f]+):", dis, re.M)]
    size = {a: (addrs[i + 1] - a if i + 1 < len(addrs) else 1) for i, a in enumerate(addrs)}
    out = subprocess.run(["addr2line", "-a", "-i", "-f", "-C", "-e", elf], input="".join(f"{a:#x}\n" for a in addrs),
                         capture_output=True, text=True, check=True).stdout.splitlines()
    frames, cur, i = collections.defaultdict(list), None, 0
    while i < len(out):
        if out[i].startswith("0x"):
            cur, i = int(out[i], 16), i + 1
            continue
        frames[cur].append((out[i], out[i + 1] if i + 1 < len(out) else "?"))
        i += 2
    by_file, by_fn = collections.Counter(), collections.Counter()
    for a, fr in frames.items():
        ours = [f for f in fr if f[1].startswith(ROOT + "/")]
        fn, loc = ours[0] if ours else fr[0]
        path = loc.split(":")[0]
        if path.startswith(ROOT + "/"):
            path = os.path.relpath(path, ROOT)
        elif path.startswith("/rustc/"):
            path = "the Rust library (core, compiler-builtins)"
        else:
            path = "assembly (entry, hand-off, SHA-NI)"
        fn = re.sub(r"<.*?>", "<>", re.sub(r"::h[0-9a-f]{16}", "", fn))
        by_file[path] += size[a]
        by_fn[f"{fn} ({path})"] += size[a]
    return by_file, by_fn, sum(size.values())


def rows(binary="skl", n=10, expect_measured=None):
    elf = build(binary)
    if expect_measured is not None and measured_end(elf) != expect_measured:
        return []  # debug info changed the code: the attribution would not describe the image
    by_file, _, total = attribute(elf)
    return [{"row": f"  code of {binary} from {f}", "value": b, "unit": "B", "reference": total,
             "ref_name": f"{binary} .text", "ratio": round(b / total, 3)} for f, b in by_file.most_common(n)]


if __name__ == "__main__":
    binary = sys.argv[1] if len(sys.argv) > 1 else "skl"
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    by_file, by_fn, total = attribute(build(binary))
    print(f"{binary}: {total} B of code")
    for f, b in by_file.most_common(n):
        print(f"{b:7d}  {f}")
    print()
    for f, b in by_fn.most_common(n):
        print(f"{b:7d}  {f}")
