//! DMA protection against the simulated fabric: every node count and family
//! SKL supports, several IOMMUs, the order, and each way it must stop.

use super::fake::{Ev, FakeFabric, SLB};
use super::iommu::{self, DTE_BLOCK};
use super::*;

fn amd_iommus(n: usize) -> Vec<Bdf> {
    // One per root complex, as on EPYC: buses 0x00, 0x20, 0x40, ...
    (0..n).map(|i| Bdf::new((i * 0x20) as u8, 0, 2)).collect()
}

fn run(f: &mut FakeFabric) -> Result<DmaReport, DmaError> {
    run_protected(f).map(|p| p.report)
}

fn run_protected(f: &mut FakeFabric) -> Result<Protected, DmaError> {
    protect(f, PhysAddr(SLB))
}

fn first(trace: &[Ev], p: impl Fn(&Ev) -> bool) -> Option<usize> {
    trace.iter().position(p)
}
fn last(trace: &[Ev], p: impl Fn(&Ev) -> bool) -> Option<usize> {
    trace.iter().rposition(p)
}

/// The properties every successful run must have.
fn assert_protected(f: &FakeFabric, nodes: u8, iommus: usize) {
    let t = &f.trace;
    for i in 0..iommus {
        assert!(t.contains(&Ev::IommuBlocking(i)), "IOMMU {i} never blocking: {t:?}");
        assert!(t.contains(&Ev::Completion(i)), "IOMMU {i} never completed");
        let b = |r| f.reg(i, r);
        assert_eq!(b(iommu::REG_DEV_TABLE), f.addrs.dev_table.as_u64() | 1);
        assert_eq!(b(iommu::REG_CMD_BASE), (f.addrs.commands.as_u64() & !0xFFF) | 8 << 56);
        assert_eq!(b(iommu::REG_CMD_HEAD), f.addrs.commands.as_u64() & 0xFFF, "ring rewound to SKL's slot 0");
        assert_eq!(b(iommu::REG_EVT_BASE), 0);
        assert_eq!(b(iommu::REG_EXCL_BASE), 0);
        let ctrl = b(iommu::REG_CONTROL);
        assert_eq!(ctrl & iommu::CTRL_ENABLES, iommu::CTRL_IOMMU_EN | iommu::CTRL_CMD_BUF_EN);
        assert!(f.iommus[i].bar_enabled);
    }
    for n in 0..nodes {
        assert!(t.contains(&Ev::NodeLifted(n)), "node {n} not lifted: {t:?}");
    }
    // Every IOMMU blocks before any node is lifted; every invalidation
    // comes after the last lift (before it, the IOMMU cannot read the SLB).
    let last_blocking = last(t, |e| matches!(e, Ev::IommuBlocking(_))).unwrap();
    if let Some(first_lift) = first(t, |e| matches!(e, Ev::NodeLifted(_))) {
        assert!(last_blocking < first_lift, "a node was lifted before every IOMMU blocked: {t:?}");
        let last_lift = last(t, |e| matches!(e, Ev::NodeLifted(_))).unwrap();
        let first_inv = first(t, |e| matches!(e, Ev::InvalidateAll(_) | Ev::InvalidateDte(..))).unwrap();
        assert!(last_lift < first_inv);
    }
    assert!(f.dev_table.0.iter().all(|e| *e == DTE_BLOCK));
}

#[test]
fn every_node_and_iommu_for_each_family() {
    for family in [0x0F, 0x10, 0x15, 0x16, 0x17, 0x19, 0x1A] {
        for nodes in [1u8, 2, 4, 8] {
            for iommus in [1usize, 2, 4] {
                let mut f = FakeFabric::new(family, nodes, &amd_iommus(iommus));
                let r = run(&mut f).unwrap_or_else(|e| panic!("family {family:#x} {nodes} nodes: {e:?}"));
                assert_eq!(r, DmaReport { nodes, iommus: iommus as u8 });
                assert_protected(&f, nodes, iommus);
                // The other DEV_CR bits are left as they were.
                if family < 0x17 {
                    assert!(f.protection.iter().all(|&v| v == 1), "{:?}", f.protection);
                }
            }
        }
    }
}

#[test]
fn iommu_found_on_any_bus_device_and_function() {
    let at = [Bdf::new(0, 0, 2), Bdf::new(0x40, 0x03, 5), Bdf::new(0xC0, 0x1F, 7)];
    let mut f = FakeFabric::new(0x17, 2, &at);
    assert_eq!(run(&mut f).unwrap().iommus, 3);
    assert_protected(&f, 2, 3);
}

#[test]
fn without_invalidate_all_each_covered_dte_is_invalidated() {
    let mut f = FakeFabric::new(0x15, 1, &amd_iommus(1));
    f.iommus[0].ia_sup = false;
    run(&mut f).unwrap();
    let ids: Vec<u16> =
        f.trace.iter().filter_map(|e| if let Ev::InvalidateDte(0, d) = e { Some(*d) } else { None }).collect();
    assert_eq!(ids, (0..iommu::DEV_TABLE_ENTRIES as u16).collect::<Vec<_>>());
    assert!(!f.trace.contains(&Ev::InvalidateAll(0)));
    // Also when the capability says there is no extended feature register.
    let mut f = FakeFabric::new(0x15, 1, &amd_iommus(1));
    f.iommus[0].efr_sup = false;
    run(&mut f).unwrap();
    assert!(!f.trace.contains(&Ev::InvalidateAll(0)));
    assert!(f.trace.contains(&Ev::InvalidateDte(0, 255)));
}

#[test]
fn exclusion_range_and_disabled_bar_left_by_firmware_are_undone() {
    let mut f = FakeFabric::new(0x17, 1, &amd_iommus(2));
    f.iommus[0].regs.insert(iommu::REG_EXCL_BASE, 0x3); // ExEn | Allow: all devices bypass
    f.iommus[0].regs.insert(iommu::REG_EXCL_LIMIT, 0xFFFF_F000);
    f.iommus[1].bar_enabled = false;
    f.iommus[1].regs.insert(iommu::REG_CONTROL, u64::MAX); // every feature on
    run(&mut f).unwrap();
    assert_protected(&f, 1, 2);
    // Every enable bit of §3.4.3 is off but IommuEn and CmdBufEn, PprAutoRspAon
    // (bit 42) included; the firmware's configuration bits stay as they were.
    let ctrl = f.reg(1, iommu::REG_CONTROL);
    assert_eq!(ctrl & iommu::CTRL_ENABLES, iommu::CTRL_IOMMU_EN | iommu::CTRL_CMD_BUF_EN, "{ctrl:#x}");
    assert_eq!(ctrl & (1 << 42), 0, "PprAutoRspAon left on");
    assert_eq!(ctrl & !iommu::CTRL_ENABLES, !iommu::CTRL_ENABLES, "configuration bits kept");
    assert_eq!(f.reg(0, iommu::REG_EXCL_LIMIT), 0);
}

#[test]
fn virtual_machine_without_northbridge_protects_with_its_iommu() {
    let mut f = FakeFabric::new(0x0F, 0, &amd_iommus(1));
    assert_eq!(run(&mut f), Err(DmaError::NoNorthbridge));
    assert!(f.trace.is_empty(), "nothing may be touched first: {:?}", f.trace);
    f.cpu.hypervisor = true;
    assert_eq!(run(&mut f).unwrap(), DmaReport { nodes: 0, iommus: 1 });
    assert_protected(&f, 0, 1);
}

fn no_node_lifted(f: &FakeFabric) -> bool {
    !f.trace.iter().any(|e| matches!(e, Ev::NodeLifted(_)))
}

#[test]
fn no_iommu_stops_before_lifting() {
    let mut f = FakeFabric::new(0x17, 2, &[]);
    assert_eq!(run(&mut f), Err(DmaError::NoIommu));
    assert!(no_node_lifted(&f));
}

#[test]
fn a_dead_iommu_stops_before_lifting() {
    for dead in 0..3 {
        let mut f = FakeFabric::new(0x10, 4, &amd_iommus(3));
        f.iommus[dead].dead = true;
        let base = f.iommus[dead].base;
        assert!(matches!(run(&mut f), Err(DmaError::IommuNoResponse { base: b, .. }) if b == base));
        assert!(no_node_lifted(&f), "{:?}", f.trace);
    }
}

/// With SNP on, the IOMMU ignores writes to its table and buffer bases
/// (IOMMU spec §2.12.2.1): the read-back catches it before any lift.
#[test]
fn an_iommu_that_ignores_base_writes_stops_before_lifting() {
    let mut f = FakeFabric::new(0x19, 2, &amd_iommus(2));
    f.iommus[1].locked_bases = true;
    let base = f.iommus[1].base;
    assert!(matches!(run(&mut f), Err(DmaError::IommuNoResponse { base: b, reg: 0, .. }) if b == base));
    assert!(no_node_lifted(&f));
}

/// The command ring is rewound only once Status.CmdBufRun has cleared; one
/// that never clears is an error, not a hang.
#[test]
fn command_buffer_that_keeps_running_is_an_error() {
    let mut f = FakeFabric::new(0x17, 1, &amd_iommus(1));
    f.iommus[0].run_lag = 50;
    run(&mut f).unwrap();
    let mut f = FakeFabric::new(0x17, 1, &amd_iommus(1));
    f.iommus[0].regs.insert(iommu::REG_CONTROL, iommu::CTRL_CMD_BUF_EN | iommu::CTRL_IOMMU_EN);
    f.iommus[0].run_lag = u32::MAX;
    let base = f.iommus[0].base;
    assert!(matches!(run(&mut f), Err(DmaError::IommuNoResponse { base: b, reg: 0x2020, .. }) if b == base));
    assert!(no_node_lifted(&f));
}

#[test]
fn an_iommu_that_never_completes_stops_the_launch() {
    let mut f = FakeFabric::new(0x19, 2, &amd_iommus(2));
    f.iommus[1].stalls = true;
    let base = f.iommus[1].base;
    assert_eq!(run(&mut f), Err(DmaError::IommuTimeout { base, head: 0x300 }), "head still at slot 0");
}

#[test]
fn a_node_that_keeps_its_protection_stops_the_launch() {
    for family in [0x15, 0x17] {
        for stuck in [0u8, 3, 7] {
            let mut f = FakeFabric::new(family, 8, &amd_iommus(2));
            f.stuck_node = Some(stuck);
            match run(&mut f) {
                Err(DmaError::NodeNotLifted { node, .. }) => assert_eq!(node, stuck),
                r => panic!("family {family:#x} stuck {stuck}: {r:?}"),
            }
            // The IOMMUs were already blocking; no command ran.
            assert!(!f.trace.iter().any(|e| matches!(e, Ev::Completion(_))));
        }
    }
}

#[test]
fn missing_dev_capability_or_ecam_stops_the_launch() {
    let mut f = FakeFabric::new(0x15, 2, &amd_iommus(1));
    f.dev_cap = false;
    assert_eq!(run(&mut f), Err(DmaError::NoDevCapability { node: 0 }));
    let mut f = FakeFabric::new(0x17, 2, &amd_iommus(1));
    f.ecam = false;
    assert_eq!(run(&mut f), Err(DmaError::NoExtendedConfig));
}

#[test]
fn unknown_family_is_refused() {
    let mut f = FakeFabric::new(0x0E, 1, &amd_iommus(1));
    assert_eq!(run(&mut f), Err(DmaError::UnknownFamily { family: 0x0E }));
    assert!(f.trace.is_empty());
}

#[test]
fn bad_iommu_bases_are_refused() {
    for base in [0u64, SLB, SLB + 0xC000, 0x1_0000_0000, 0xFFFF_FFFF_FFFF_C000, 0x0400_0000_0000] {
        let mut f = FakeFabric::new(0x17, 1, &[]);
        f.add_iommu(Bdf::new(0, 0, 2), base);
        let r = run(&mut f);
        assert_eq!(r, Err(DmaError::IommuBase { device: 2, base: base & !0x3FFF }), "{base:#x}");
        assert!(no_node_lifted(&f));
    }
    // Two IOMMUs claiming one window: one of them would stay unprogrammed.
    let mut f = FakeFabric::new(0x17, 1, &[]);
    f.add_iommu(Bdf::new(0, 0, 2), 0xFEB0_0000);
    f.add_iommu(Bdf::new(0x40, 0, 2), 0xFEB0_0000);
    assert!(matches!(run(&mut f), Err(DmaError::IommuBase { device: 0x4002, .. })));
}

#[test]
fn too_many_iommus_are_refused() {
    let mut f = FakeFabric::new(0x17, 1, &amd_iommus(8));
    for i in 0..9 {
        f.add_iommu(Bdf::new(0x10 + i, 0, 2), 0xE000_0000 + 0x10_0000 * i as u64);
    }
    assert_eq!(run(&mut f), Err(DmaError::TooManyIommus));
    assert!(no_node_lifted(&f));
}

#[test]
fn a_device_table_rewritten_once_readable_is_detected() {
    let mut f = FakeFabric::new(0x17, 2, &amd_iommus(1));
    f.tamper_dte = Some(0x10);
    assert_eq!(run(&mut f), Err(DmaError::DeviceTableChanged { index: 0x10 }));
}

#[test]
fn tables_outside_the_slb_are_refused() {
    let mut f = FakeFabric::new(0x17, 1, &amd_iommus(1));
    f.addrs.dev_table = PhysAddr(SLB + 0x10000);
    assert_eq!(run(&mut f), Err(DmaError::TablesMisplaced { addr: SLB + 0x10000 }));
    let mut f = FakeFabric::new(0x17, 1, &amd_iommus(1));
    f.addrs.commands = PhysAddr(SLB + 0xCFF0); // would wrap inside its page
    assert_eq!(run(&mut f), Err(DmaError::TablesMisplaced { addr: SLB + 0xCFF0 }));
    let mut f = FakeFabric::new(0x17, 1, &amd_iommus(1));
    f.addrs.commands = PhysAddr(SLB + 0xC008);
    assert_eq!(run(&mut f), Err(DmaError::TablesMisplaced { addr: SLB + 0xC008 }));
}

#[test]
fn release_to_kernel_turns_every_iommu_off() {
    let mut f = FakeFabric::new(0x17, 2, &amd_iommus(3));
    let p = run_protected(&mut f).unwrap();
    assert_eq!(p.iommus.len(), 3);
    release_to_kernel(&mut f, &p.iommus).unwrap();
    for (i, m) in f.iommus.iter().enumerate() {
        let ctrl = m.regs.get(&iommu::REG_CONTROL).copied().unwrap_or(0);
        assert_eq!(ctrl & iommu::CTRL_ENABLES, 0, "IOMMU {i} still enabled: {ctrl:#x}");
    }
}

#[test]
fn release_refuses_an_iommu_that_stays_on() {
    let mut f = FakeFabric::new(0x17, 1, &amd_iommus(2));
    let p = run_protected(&mut f).unwrap();
    f.iommus[1].dead = true;
    let base = f.iommus[1].base;
    assert!(
        matches!(release_to_kernel(&mut f, &p.iommus), Err(DmaError::IommuNoResponse { base: b, .. }) if b == base)
    );
}

#[test]
fn under_the_psp_every_iommu_blocks_and_no_node_is_lifted() {
    for (family, nodes) in [(0x17, 2), (0x19, 1), (0x1A, 2)] {
        // Before LAUNCH SKINIT's protection also stops the IOMMUs' reads of
        // SKL's tables in the SLB: the flush cannot complete.
        let mut f = FakeFabric::new(family, nodes, &amd_iommus(2));
        assert!(matches!(protect_under_psp(&mut f, PhysAddr(SLB)), Err(DmaError::IommuTimeout { .. })));
        // After a good LAUNCH the service has lifted it: SKL programs every
        // IOMMU and touches no node.
        let mut f = FakeFabric::new(family, nodes, &amd_iommus(2));
        for p in f.protection.iter_mut() {
            *p = 0;
        }
        let p = protect_under_psp(&mut f, PhysAddr(SLB)).unwrap();
        assert_eq!(p.report, DmaReport { nodes, iommus: 2 });
        assert_protected(&f, 0, 2);
        assert!(!f.trace.iter().any(|e| matches!(e, Ev::NodeLifted(_))), "{:?}", f.trace);
    }
}

#[test]
fn a_capability_at_the_end_of_config_space_is_refused_not_wrapped() {
    // The DEV capability's header at 0xFC: DEV_OP (+4) and DEV_DATA (+8)
    // would be 0x100 and 0x104, which mechanism #1 wraps onto the
    // function's ID and command registers (found by fuzz/ `dma`).
    let mut f = FakeFabric::new(0x15, 1, &amd_iommus(1));
    let f3 = Bdf::new(0, 0x18, 3);
    f.cfg.insert((f3, 0x34), 0xFC);
    f.cfg.insert((f3, 0xFC), 0x0000_000F);
    assert_eq!(run(&mut f), Err(DmaError::NoDevCapability { node: 0 }));
}
