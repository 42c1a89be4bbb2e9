#include "config.h"
#include "slrt.h"
#include "../common/string.h"

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hex with or without "0x" when `hex`, else decimal unless "0x"-prefixed. Fails on junk. */
static uint32_t parse_num(const char *key, const char *s, int hex)
{
	uint32_t v = 0;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		hex = 1;
	}
	if (!*s)
		fail(key);
	for (; *s; s++) {
		int d = hexval(*s);
		if (d < 0 || d >= (hex ? 16 : 10))
			fail(key);
		v = v * (hex ? 16 : 10) + (uint32_t)d;
	}
	return v;
}

static char *trim(char *s)
{
	char *e;
	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

/* "module<N>_<suffix>" -> N (and *suffix), or -1. */
static int module_key(const char *key, const char **suffix)
{
	const char *p = key + 6;
	int n = 0;
	if (memcmp(key, "module", 6) || *p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		n = n * 10 + (*p++ - '0');
	if (*p != '_' || n >= MAX_MODULES)
		return -1;
	*suffix = p + 1;
	return n;
}

static int choice(const char *key, const char *val, const char *a, const char *b)
{
	if (!strcmp(val, a))
		return 0;
	if (!strcmp(val, b))
		return 1;
	fail(key);
}

struct grub_gen g_grub;

void grub_gen_defaults(void)
{
	memset(&g_grub, 0, sizeof(g_grub));
	g_grub.amd_info_size = 48;
	g_grub.dl_info_size = 72;
	g_grub.slrt_field = 0x06;
	g_grub.grub_checks = 1;
	g_grub.tb_log_format = 2;
}

int grub_gen_set(const char *key, const char *val)
{
	if (!strcmp(key, "grub")) {
		if (!strcmp(val, "tb-dev")) {
			g_grub.tbdev = 1;
			g_grub.slrt_field = 0x44;
		} else if (!strcmp(val, "aem")) {
			g_grub.tbdev = 0;
			g_grub.slrt_field = 0x06;
		} else
			fail("bad grub (aem|tb-dev)");
	} else if (!strcmp(key, "amd_info_size")) {
		g_grub.amd_info_size = parse_num("bad amd_info_size", val, 0);
		if (g_grub.amd_info_size != 48 && g_grub.amd_info_size != 56)
			fail("bad amd_info_size (48|56)");
	} else if (!strcmp(key, "dl_info_size")) {
		g_grub.dl_info_size = parse_num("bad dl_info_size", val, 0);
		if (g_grub.dl_info_size != 72 && g_grub.dl_info_size != 88)
			fail("bad dl_info_size (72|88)");
	} else if (!strcmp(key, "slrt_field")) {
		g_grub.slrt_field = parse_num("bad slrt_field", val, 1);
		if (g_grub.slrt_field != 0x06 && g_grub.slrt_field != 0x44)
			fail("bad slrt_field (0x06|0x44)");
	} else if (!strcmp(key, "grub_checks"))
		g_grub.grub_checks = parse_num("bad grub_checks", val, 0) != 0;
	else if (!strcmp(key, "psp_version"))
		g_grub.psp_version = (uint16_t)parse_num("bad psp_version", val, 0);
	else if (!strcmp(key, "tb_log_format"))
		g_grub.tb_log_format = (uint16_t)parse_num("bad tb_log_format", val, 0);
	else
		return 0;
	return 1;
}

static void set(struct config *cfg, const char *key, const char *val)
{
	int m;
	const char *sfx = "";
	if (!strcmp(key, "slb_base"))
		cfg->slb_base = !strcmp(val, "low")    ? SLB_BASE_LOW
				: !strcmp(val, "high") ? SLB_BASE_HIGH
						       : parse_num("bad slb_base", val, 1);
	else if (!strcmp(key, "cmdline"))
		cfg->cmdline = val;
	else if ((m = module_key(key, &sfx)) >= 0 && !strcmp(sfx, "cmdline"))
		cfg->module_cmdline[m] = val;
	else if (m >= 0 && !strcmp(sfx, "at")) {
		cfg->module_at[m] = parse_num("bad moduleN_at", val, 1);
		cfg->module_staged[m] = 1;
	} else if (m >= 0 && !strcmp(sfx, "size")) {
		cfg->module_size[m] = parse_num("bad moduleN_size", val, 0);
		cfg->module_staged[m] = 1;
	} else if (!strcmp(key, "firmware"))
		cfg->firmware = choice("bad firmware (bios|uefi)", val, "bios", "uefi") ? FW_UEFI : FW_BIOS;
	else if (!strcmp(key, "efi_bs"))
		cfg->efi_bs = parse_num("bad efi_bs", val, 0) != 0;
	else if (!strcmp(key, "apm"))
		cfg->apm = parse_num("bad apm", val, 0) != 0;
	else if (!strcmp(key, "log_addr"))
		cfg->log_addr = parse_num("bad log_addr", val, 1);
	else if (!strcmp(key, "log_prefill"))
		cfg->log_prefill_grub = !choice("bad log_prefill (grub|zero)", val, "grub", "zero");
	else if (!strcmp(key, "kernel_at"))
		cfg->kernel_at = parse_num("bad kernel_at", val, 1);
	else if (!strcmp(key, "kernel_size"))
		cfg->kernel_size = parse_num("bad kernel_size", val, 0);
	else if (!strcmp(key, "slrt_at"))
		cfg->slrt_at = parse_num("bad slrt_at", val, 1);
	else if (!strcmp(key, "slrt_size"))
		cfg->slrt_size = parse_num("bad slrt_size", val, 0);
	else if (!strcmp(key, "reserve")) {
		/* "ADDR,SIZE": a file the host placed (replay data); never allocated over. */
		char *comma = (char *)val;
		while (*comma && *comma != ',')
			comma++;
		if (!*comma || cfg->nr_reserved == 16)
			fail("bad reserve (ADDR,SIZE; at most 16)");
		*comma = 0;
		cfg->reserved_at[cfg->nr_reserved] = parse_num("bad reserve address", val, 1);
		cfg->reserved_size[cfg->nr_reserved++] = parse_num("bad reserve size", comma + 1, 0);
	} else if (!strcmp(key, "replay"))
		cfg->replay = parse_num("bad replay", val, 0) != 0;
	else if (!strcmp(key, "log_format"))
		cfg->log_format = (uint16_t)parse_num("bad log_format", val, 0);
	else if (!strcmp(key, "amd_info"))
		cfg->amd_info = parse_num("bad amd_info", val, 0) != 0;
	else if (!strcmp(key, "scenario"))
		cfg->scenario = val;
	else if (!strcmp(key, "txt"))
		cfg->txt = parse_num("bad txt", val, 0) != 0;
	else if (!strcmp(key, "txt_pmr_size"))
		cfg->txt_pmr_size = parse_num("bad txt_pmr_size", val, 1);
	else if (!strcmp(key, "txt_fault"))
		cfg->txt_fault = val;
	else if (!strcmp(key, "skip_drtm"))
		cfg->skip_drtm = parse_num("bad skip_drtm", val, 0) != 0;
	else if (!grub_gen_set(key, val))
		fail("unknown config key"); /* a typo must not silently run the good launch */
}

void config_parse(struct config *cfg, char *text)
{
	char *line = text;

	memset(cfg, 0, sizeof(*cfg));
	grub_gen_defaults();
	cfg->slb_base = SLB_BASE_LOW;
	cfg->kernel_size = ~0u;
	cfg->slrt_size = ~0u;
	cfg->apm = 1;
	cfg->log_prefill_grub = 1;
	cfg->cmdline = "skl-test-kernel";
	cfg->log_format = 2;
	cfg->scenario = "good";
	cfg->txt_pmr_size = 0x40000000; /* all 1 GiB of guest RAM */
	cfg->txt_fault = "none";

	while (line && *line) {
		char *next = line, *eq, *key;
		while (*next && *next != '\n')
			next++;
		if (*next)
			*next++ = 0;
		else
			next = 0;
		key = trim(line);
		line = next;
		if (!*key || *key == '#')
			continue;
		eq = key;
		while (*eq && *eq != '=')
			eq++;
		if (!*eq)
			fail("config line without '='");
		*eq = 0;
		set(cfg, trim(key), trim(eq + 1));
	}
}
