/*
 * The DLME of the QEMU launch test: reports what SKL handed over (registers, TPM locality state,
 * PCR 17/18, MBI) as "SKLTEST" lines on port 0xE9; the host test asserts the values.
 */
#include "dma.h"
#include "mbi.h"
#include "pcr.h"
#include "regs.h"
#include "tis.h"
#include "../common/console.h"
#include "../common/io.h"

#define EXIT_PASS 0x10
#define EXIT_TPM_ERROR 0x11

static void reg(const char *name, uint32_t v)
{
	con_puts("SKLTEST reg ");
	con_puts(name);
	con_puts(" 0x");
	con_hex(v, 8);
	con_putc('\n');
}

static void report_regs(const struct entry_regs *r)
{
	reg("eax", r->eax);
	reg("ebx", r->ebx);
	reg("ecx", r->ecx);
	reg("edx", r->edx);
	reg("esi", r->esi);
	reg("edi", r->edi);
	reg("ebp", r->ebp);
	reg("esp", r->esp);
	reg("eflags", r->eflags);
	reg("cs", r->cs);
	reg("ds", r->ds);
	reg("es", r->es);
	reg("fs", r->fs);
	reg("gs", r->gs);
	reg("ss", r->ss);
	reg("cr0", r->cr0);
	reg("cr3", r->cr3);
	reg("cr4", r->cr4);
	reg("efer", r->efer);
	reg("idtr_limit", r->idtr_limit);
	reg("idtr_base", r->idtr_base);
	reg("gdtr_limit", r->gdtr_limit);
	reg("gdtr_base", r->gdtr_base);
	reg("entry", (uint32_t)kernel_entry);
}

/*
 * What a kernel looks at to recognise a SKINIT launch (Xen, Linux): the CPUID SKINIT bit
 * (Fn8000_0001 ECX bit 12) and VM_CR (MSR 0xC0010114) with R_INIT set by SKINIT. EFER (SVME
 * cleared by SKINIT) is in the entry registers. Neither is changed by SKL, so reading them here
 * rather than at the first instruction shows the same values.
 */
static void report_launch_view(void)
{
	uint32_t eax = 0x80000001, ebx, ecx, edx, lo, hi;

	__asm__ volatile("cpuid" : "+a"(eax), "=b"(ebx), "=c"(ecx), "=d"(edx));
	reg("cpuid_80000001_ecx", ecx);
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xC0010114u));
	reg("vm_cr", lo);
	/* SKINIT sets SL_DEV_EN (bit 5); SKL must have lifted it before the hand-off. */
	reg("dev_cr", dev_cr_read());
}

static __attribute__((noreturn)) void tpm_error(const char *why)
{
	con_puts("SKLTEST error ");
	con_puts(why);
	con_putc('\n');
	qemu_exit(EXIT_TPM_ERROR);
}

void kernel_main(void);
void kernel_main(void)
{
	const char *err;

	report_regs(&entry_regs);
	report_launch_view();

	/* SKL must leave locality 2 released (Xen requests it per operation). */
	con_puts("SKLTEST tis loc2_access 0x");
	con_hex(mmio_read8(TIS_LOCALITY(2) + 0), 2);
	con_putc('\n');

	if ((err = tis_request(0)))
		tpm_error(err);
	if ((err = pcr_report()))
		tpm_error(err);
	tis_release(0);

	mbi_report(entry_regs.esi);
	/* Last: its control phase switches the IOMMU off and writes into the SLB and the log. */
	dma_attack(entry_regs.ebp);
	con_puts("SKLTEST done\n");
	qemu_exit(EXIT_PASS);
}
