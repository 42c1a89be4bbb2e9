/* TPM2_PCR_Read of PCR 17 and 18, one bank per command, printed as "SKLTEST pcr" lines. */
#ifndef PCR_H
#define PCR_H

/* Returns 0, or a reason for "SKLTEST error <text>". Locality 0 must be active. */
const char *pcr_report(void);

#endif
