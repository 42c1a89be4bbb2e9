#!/bin/busybox sh
# /init of the real-kernel test's initramfs (qemu-tests/realkernels/): runs
# as PID 1 in Debian's Linux, Xen's dom0. Reports on the console in lines
# `RKTEST <key> <values...>` that qemu-tests/tests/real_xen.rs parses, then
# powers the machine off (in a PV dom0, Xen then shuts the host down).
# Debian's 6.1 kernel has CONFIG_TCG_TPM/TIS_CORE/TIS=y: no module to load.
/bin/busybox mkdir -p /proc /sys /dev
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sysfs /sys
/bin/busybox mount -t devtmpfs devtmpfs /dev 2>/dev/null
echo "RKTEST init reached"
echo "RKTEST uptime $(/bin/busybox cut -d' ' -f1 /proc/uptime)"
if [ -e /sys/hypervisor/type ]; then
    echo "RKTEST hypervisor $(/bin/busybox cat /sys/hypervisor/type)"
else
    echo "RKTEST hypervisor none"
fi
echo "RKTEST cmdline $(/bin/busybox cat /proc/cmdline)"
tpm=/sys/class/tpm/tpm0
if [ -d $tpm ]; then
    echo "RKTEST tpm $(/bin/busybox cat $tpm/tpm_version_major 2>/dev/null)"
    for bank in sha1 sha256 sha384 sha512; do
        for pcr in 17 18; do
            f=$tpm/pcr-$bank/$pcr
            [ -r $f ] && echo "RKTEST pcr $bank $pcr $(/bin/busybox cat $f)"
        done
    done
else
    echo "RKTEST tpm none"
fi
echo "RKTEST done"
/bin/busybox sync
/bin/busybox poweroff -f
