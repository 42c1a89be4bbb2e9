"""A modelled launch time (issue 20, goal 5): one number a user understands.

    T = S / R4  +  N * t_cmd  +  sum over banks of H / R_alg

  S      bytes SKINIT measures (the SL header's measured length), sent to the
         TPM over its locality-4 hash interface at R4;
  N      TPM commands SKL sends (counted by the QEMU bench in the same run);
  t_cmd  latency of one of them on a discrete TPM;
  H      bytes SKL hashes in software per bank: the DLME, and also its own
         measured image (the digests of the "SKINIT" log event); the
         two-stage skl-amdsl.bin adds stage 2 hashed once in SHA-256 (stage
         1's check, docs/design.md "The two-stage image");
  R_alg  the payload's software hashing rate for that bank, measured in the
         same run on this machine (SHA-NI not used: the AEM machines have none).

Constants, each overridable from the environment:
  SKL_MODEL_LOC4_MS_PER_KIB = 2.77: SKINIT on an AMD machine with a v1.2
      discrete TPM took 177.52 ms for a 64 KiB SLB, linear in its size
      (McCune et al., "Flicker: An Execution Infrastructure for TCB
      Minimization", EuroSys 2008, evaluation of SKINIT); the authors' later
      summary gives ~48 ms per SKINIT for Flicker's own SLB (Communications of
      the ACM 55(6), 2012, p. 83 of the print edition). The figure is for one
      2008 TPM; today's LPC/SPI TPMs are of the same order (one byte per bus
      cycle into a TPM hash engine).
  SKL_MODEL_CMD_MS = 5: per PCR_Extend / GetCapability on a discrete TPM 2.0.
      An assumption, not a measurement: no public per-command figure is relied
      on; the term is small next to the other two either way.
  SKL_MODEL_DLME = the Xen 4.17 hypervisor our real-kernel tests boot
      (build/realkernels/xen.elf, Debian xen-hypervisor-4.17-amd64
      4.17.7+13-g2445b30a44-0+deb12u1: 2,562,652 B), the DLME of a Qubes AEM
      launch in DLME mode (Xen measures dom0 and its initrd itself).

The C SKL (secure-kernel-loader, slrt branch) under the same model: its
measured size (11,278 B), its command count for the same launch (from the
QEMU bench: one extend per bank per measurement), the DLME hashed in SHA-1
and SHA-256 at our rates (its own code was not measured here) and no hashing
of its own image, which favours it.
"""
import os

C_SKL_MEASURED = 11278
XEN_ELF_SIZE = 2562652


def _env(name, default):
    return float(os.environ.get(name, default))


def launch_ms(measured, cmds, hashed_per_bank, rates, loc4_ms_per_kib, cmd_ms, stage2=0):
    skinit = measured / 1024 * loc4_ms_per_kib
    tpm = cmds * cmd_ms
    soft = sum(hashed_per_bank / (rates[b] * 1e6) * 1e3 for b in ("sha1", "sha256"))
    soft += stage2 / (rates["sha256"] * 1e6) * 1e3
    return skinit, tpm, soft


def rows(measured, rates, build, cmds=3, c_cmds=4, name="skl.bin", stage2=0):
    loc4 = _env("SKL_MODEL_LOC4_MS_PER_KIB", 2.77)
    cmd_ms = _env("SKL_MODEL_CMD_MS", 5)
    xen = os.path.join(build, "realkernels", "xen.elf")
    dlme = int(os.environ.get("SKL_MODEL_DLME", os.path.getsize(xen) if os.path.exists(xen) else XEN_ELF_SIZE))
    ours = launch_ms(measured, cmds, dlme + measured, rates, loc4, cmd_ms, stage2)
    c = launch_ms(C_SKL_MEASURED, c_cmds, dlme, rates, loc4, cmd_ms)
    what = f"DLME mode, {dlme} B Xen, TPM 2.0 SHA-1+SHA-256"
    out = [{"row": f"modelled launch time ({what}), {name}", "value": round(sum(ours), 1), "unit": "ms",
            "reference": round(sum(c), 1), "ref_name": "C SKL, same model (bench/model.py)",
            "ratio": round(sum(ours) / sum(c), 2)}]
    for part, a, b in zip(("SKINIT locality-4 hashing", "TPM commands", "software hashing"), ours, c):
        out.append({"row": f"  of which {part}", "value": round(a, 1), "unit": "ms", "reference": round(b, 1),
                    "ref_name": "C SKL, same model", "ratio": round(a / b, 2) if b else None})
    return out
