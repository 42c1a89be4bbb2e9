#include "config.h"
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

/* "moduleN_cmdline" -> N, or -1. */
static int module_key(const char *key)
{
	const char *p = key + 6;
	int n = 0;
	if (memcmp(key, "module", 6) || *p < '0' || *p > '9')
		return -1;
	while (*p >= '0' && *p <= '9')
		n = n * 10 + (*p++ - '0');
	if (strcmp(p, "_cmdline") || n >= MAX_MODULES)
		return -1;
	return n;
}

static void set(struct config *cfg, const char *key, const char *val)
{
	int m;
	if (!strcmp(key, "slb_base"))
		cfg->slb_base = parse_num("bad slb_base", val, 1);
	else if (!strcmp(key, "cmdline"))
		cfg->cmdline = val;
	else if ((m = module_key(key)) >= 0)
		cfg->module_cmdline[m] = val;
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
	else
		fail("unknown config key"); /* a typo must not silently run the good launch */
}

void config_parse(struct config *cfg, char *text)
{
	char *line = text;

	memset(cfg, 0, sizeof(*cfg));
	cfg->slb_base = 0x02000000;
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
