/* test_import.c - every import kind on small files, the threshold, replace and
 * version rules, and the real NANPA / Canadian files when they are present. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <ftw.h>
#include <sqlite3.h>

#include "base/clock.h"
#include "base/log.h"
#include "numdb/import.h"
#include "numdb/store.h"

struct fx {
	char dir[64];
	sqlite3 *db;
	FILE *rep;
	char *repbuf;
	size_t replen;
	struct import_opts opts;
	struct import_result res;
};

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int fx_setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	char path[128];

	if (fx == NULL)
		return -1;
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/ringer-import-XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/store.db", fx->dir);
	if (numstore_open(path, false, &fx->db) != 0)
		return -1;
	fx->rep = open_memstream(&fx->repbuf, &fx->replen);
	import_opts_default(&fx->opts);
	fx->opts.report = fx->rep;
	*state = fx;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *fx = *state;

	numstore_close(fx->db);
	fclose(fx->rep);
	free(fx->repbuf);
	nftw(fx->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	free(fx);
	return 0;
}

/* Write body to dir/name; the path goes to out. */
static void fx_file(struct fx *fx, const char *name, const char *body, char out[256])
{
	FILE *fp;

	snprintf(out, 256, "%s/%s", fx->dir, name);
	fp = fopen(out, "wb");
	assert_non_null(fp);
	assert_int_equal(fwrite(body, 1, strlen(body), fp), strlen(body));
	assert_int_equal(fclose(fp), 0);
}

static int fx_import(struct fx *fx, enum import_kind kind, const char *name, const char *body)
{
	char path[256];

	fx_file(fx, name, body, path);
	return import_file(fx->db, kind, path, &fx->opts, &fx->res);
}

/* The report written so far. */
static const char *fx_report(struct fx *fx)
{
	fflush(fx->rep);
	return fx->repbuf ? fx->repbuf : "";
}

static long q_int(struct fx *fx, const char *fmt, ...)
{
	char sql[512];
	sqlite3_stmt *st;
	va_list ap;
	long v = -999;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	assert_int_equal(sqlite3_prepare_v2(fx->db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

/* First column of the first row as text; "(null)" for NULL, "(none)" for no row. */
static const char *q_text(struct fx *fx, const char *fmt, ...)
{
	static char out[4][512];
	static int slot;
	char sql[512], *o = out[slot++ % 4];
	sqlite3_stmt *st;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sql, sizeof(sql), fmt, ap);
	va_end(ap);
	assert_int_equal(sqlite3_prepare_v2(fx->db, sql, -1, &st, NULL), SQLITE_OK);
	snprintf(o, 512, "(none)");
	if (sqlite3_step(st) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		snprintf(o, 512, "%s", t ? (const char *)t : "(null)");
	}
	sqlite3_finalize(st);
	return o;
}

static void test_import__kind_names(void **state)
{
	(void)state;
	for (int k = IMPORT_NPA; k <= IMPORT_CPR; k++)
		assert_int_equal(import_kind_parse(import_kind_name((enum import_kind)k)), k);
	assert_int_equal(import_kind_parse("cocode"), IMPORT_COCODE);
	assert_int_equal(import_kind_parse("lerg"), -1);
	assert_int_equal(import_kind_parse(NULL), -1);
}

static const char npa_file[] =
	"File Date,03/04/2020\n"
	"NPA_ID,type_of_code,ASSIGNABLE,EXPLANATION,RESERVED,ASSIGNED,ASSIGNMENT_DT,USE,"
	"LOCATION,COUNTRY,IN_SERVICE,IN_SERVICE_DT,STATUS,PLANNING_LETTERS,\"NOTES\",OVERLAY,"
	"OVERLAY_COMPLEX,PARENT_NPA_ID,SERVICE,TIME_ZONE,AREA_SERVED\n"
	"200,Easily Recognizable Code,Yes,,No,No,,N,,,N,,,,\"\",,,,,,\n"
	"204,General Purpose Code,Yes,,No,Yes,01-JAN-47,G,MANITOBA,CANADA,Y,01-JAN-47,Active,"
	"435,\"a, \"\"quoted\"\" note\",Yes,204/431,,,C,\n"
	"431,General Purpose Code,Yes,,No,Yes,01-JAN-12,G,MANITOBA,CANADA,Y,,,,\"\",Yes,"
	"204/431,204,,C,\n"
	"469,General Purpose Code,Yes,,No,Yes,15-OCT-98,G,TX,US,Y,01-JUL-99,Active,161,\"\","
	"Yes,214/469/972/945\n";

static void test_import__npa_full_replace(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(fx_import(fx, IMPORT_NPA, "npa.csv", npa_file), 0);
	assert_true(fx->res.committed);
	assert_int_equal(fx->res.lines, 4);
	assert_int_equal(fx->res.accepted, 4);
	assert_int_equal(fx->res.rejected, 0);
	assert_string_equal(q_text(fx, "SELECT location FROM npa WHERE npa=204"), "MANITOBA");
	assert_string_equal(q_text(fx, "SELECT country FROM npa WHERE npa=204"), "CANADA");
	assert_string_equal(q_text(fx, "SELECT time_zone FROM npa WHERE npa=204"), "C");
	assert_string_equal(q_text(fx, "SELECT overlay_complex FROM npa WHERE npa=204"),
			    "204/431");
	assert_int_equal(q_int(fx, "SELECT parent_npa FROM npa WHERE npa=431"), 204);
	assert_int_equal(q_int(fx, "SELECT assigned FROM npa WHERE npa=200"), 0);
	assert_int_equal(q_int(fx, "SELECT in_service FROM npa WHERE npa=204"), 1);
	assert_string_equal(q_text(fx, "SELECT type FROM npa WHERE npa=200"),
			    "Easily Recognizable Code");
	/* A short row (the real file has two) keeps what it has. */
	assert_string_equal(q_text(fx, "SELECT time_zone FROM npa WHERE npa=469"), "(null)");
	assert_string_equal(q_text(fx, "SELECT overlay_complex FROM npa WHERE npa=469"),
			    "214/469/972/945");

	/* Full replace: a second file without 200 and 469 removes them. */
	assert_int_equal(fx_import(fx, IMPORT_NPA, "npa2.csv",
				   "NPA_ID,type_of_code,ASSIGNED,IN_SERVICE,LOCATION\n"
				   "204,General Purpose Code,Yes,Y,MB\n"
				   "431,General Purpose Code,Yes,N,MB\n"), 0);
	assert_int_equal(fx->res.removed, 2);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM npa"), 2);
	assert_string_equal(q_text(fx, "SELECT location FROM npa WHERE npa=204"), "MB");
	assert_int_equal(q_int(fx, "SELECT in_service FROM npa WHERE npa=431"), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM import_log WHERE kind='npa' AND "
				   "outcome='committed'"), 2);
}

static void test_import__npa_bad_fields(void **state)
{
	struct fx *fx = *state;

	fx->opts.max_error_rate = 1.0;
	assert_int_equal(fx_import(fx, IMPORT_NPA, "npa.csv",
				   "NPA_ID,type_of_code,ASSIGNED,IN_SERVICE\n"
				   "204,General Purpose Code,Yes,Y\n"
				   "20x,General Purpose Code,Yes,Y\n"
				   "205,General Purpose Code,Maybe,Y\n"
				   "206,\"unterminated,Yes,Y\n"), 0);
	assert_int_equal(fx->res.accepted, 1);
	assert_int_equal(fx->res.rejected, 3);
	assert_non_null(strstr(fx_report(fx), "npa.csv:3: NPA_ID is not an area code"));
	assert_non_null(strstr(fx_report(fx), "npa.csv:4: ASSIGNED is not Yes or No"));
	assert_non_null(strstr(fx_report(fx), "npa.csv:5: unterminated quoted field"));
}

static void test_import__npa_no_header(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(fx_import(fx, IMPORT_NPA, "npa.csv", "204,General,Yes,Y\n"), -1);
	assert_false(fx->res.committed);
	assert_non_null(strstr(fx_report(fx), "npa.csv:1: expected the NPA_ID header row"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM import_log WHERE outcome='rejected'"),
			 1);
}

/* BOM, CRLF, the date row, quoted commas, an unassigned status. */
static const char ca_file[] =
	"\xef\xbb\xbf\"NPA\",\"CO Code (NXX)\",\"Status\",\"Exchange Area\",\"Province\","
	"\"Company\",\"OCN\",\"Remarks\"\r\n"
	",,,,,,,2024-10-10\r\n"
	"204,200,\"In Service\",\"Winnipeg\",\"MB\",\"ISP Telecom Inc.\",\"4727\",\r\n"
	"204,201,\"Available\",\"Winnipeg\",\"MB\",\"Ghost Co\",\"9999\",\r\n"
	"204,204,\"Not Available\",,,,,\"Home NPA\"\r\n"
	"204,205,\"Assigned\",\"Beausejour\",\"MB\",\"Comma, \"\"Quoted\"\" Inc.\",\"464D\","
	"\"a, remark\"\r\n"
	"\r\n";

static void test_import__cocode_canadian(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(sqlite3_exec(fx->db, "INSERT INTO cocode (npanxx, ocn, status) VALUES "
				      "(201200, '9104', 'In Service'), "
				      "(204999, '1111', 'In Service')", NULL, NULL, NULL),
			 SQLITE_OK);
	assert_int_equal(fx_import(fx, IMPORT_COCODE, "ca.csv", ca_file), 0);
	assert_int_equal(fx->res.lines, 4);
	assert_int_equal(fx->res.accepted, 4);
	assert_int_equal(fx->res.rejected, 0);
	assert_int_equal(fx->res.removed, 1); /* 204-999 is not in the file */
	assert_string_equal(q_text(fx, "SELECT ocn FROM cocode WHERE npanxx=204200"), "4727");
	assert_string_equal(q_text(fx, "SELECT company FROM cocode WHERE npanxx=204200"),
			    "ISP Telecom Inc.");
	assert_string_equal(q_text(fx, "SELECT state FROM cocode WHERE npanxx=204200"), "MB");
	assert_string_equal(q_text(fx, "SELECT rate_center FROM cocode WHERE npanxx=204200"),
			    "Winnipeg");
	assert_string_equal(q_text(fx, "SELECT status FROM cocode WHERE npanxx=204200"),
			    "In Service");
	/* An available code claims no carrier even when the row names one. */
	assert_string_equal(q_text(fx, "SELECT ocn FROM cocode WHERE npanxx=204201"), "(null)");
	assert_string_equal(q_text(fx, "SELECT company FROM cocode WHERE npanxx=204201"),
			    "(null)");
	assert_string_equal(q_text(fx, "SELECT status FROM cocode WHERE npanxx=204204"),
			    "Not Available");
	assert_string_equal(q_text(fx, "SELECT company FROM cocode WHERE npanxx=204205"),
			    "Comma, \"Quoted\" Inc.");
	assert_string_equal(q_text(fx, "SELECT ocn FROM cocode WHERE npanxx=204205"), "464D");
	/* Another NPA is untouched; the replaced NPA lost what the file lacks. */
	assert_string_equal(q_text(fx, "SELECT ocn FROM cocode WHERE npanxx=201200"), "9104");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cocode WHERE npanxx=204999"), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cocode"), 5);
}

static void test_import__cocode_no_province(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(fx_import(fx, IMPORT_COCODE, "ca.csv",
				   "\"NPA\",\"CO Code (NXX)\",\"Status\",\"Exchange Area\","
				   "\"Company\",\"OCN\",\"Remarks\"\n"
				   "306,200,\"In Service\",\"Regina\",\"SaskTel\",\"8092\",\n"), 0);
	assert_string_equal(q_text(fx, "SELECT ocn FROM cocode WHERE npanxx=306200"), "8092");
	assert_string_equal(q_text(fx, "SELECT state FROM cocode WHERE npanxx=306200"),
			    "(null)");
	assert_string_equal(q_text(fx, "SELECT rate_center FROM cocode WHERE npanxx=306200"),
			    "Regina");
}

static void test_import__cocode_allutlzd(void **state)
{
	struct fx *fx = *state;

	fx->opts.max_error_rate = 1.0;
	assert_int_equal(fx_import(fx, IMPORT_COCODE, "allutlzd.txt",
		"State\tNPA-NXX\tOCN\tCompany\tRateCenter\tEffectiveDate\tUse\tAssignDate\t"
		"Initial/Growth\tPooled Code\tIn Service File Updated 10/10/2024\n"
		"NJ\t201-200\t9104\t\"VERIZON NEW JERSEY, INC.\"\tJERSEYCITY\t01/01/1990\tAS\t"
		"01/01/1990\tI\tN\t\n"
		"NJ\t201-201\t7513\tSOME CLEC\tHACKENSACK\t3/5/2001\tAS\t\tG\tY\t\n"
		"NJ\t201-202\t7513\tFUTURE CLEC\tHACKENSACK\t12/31/2999\tAS\t\tG\tN\t\n"
		"NJ\t201-203\t7513\tBAD DATE\tHACKENSACK\t13/01/2001\tAS\t\tG\tN\t\n"), 0);
	assert_int_equal(fx->res.accepted, 3);
	assert_int_equal(fx->res.rejected, 1);
	assert_non_null(strstr(fx_report(fx), "allutlzd.txt:5: EffectiveDate is not a date"));
	assert_string_equal(q_text(fx, "SELECT company FROM cocode WHERE npanxx=201200"),
			    "VERIZON NEW JERSEY, INC.");
	assert_string_equal(q_text(fx, "SELECT effective FROM cocode WHERE npanxx=201200"),
			    "1990-01-01");
	assert_string_equal(q_text(fx, "SELECT state FROM cocode WHERE npanxx=201200"), "NJ");
	assert_string_equal(q_text(fx, "SELECT status FROM cocode WHERE npanxx=201200"),
			    "In Service");
	assert_int_equal(q_int(fx, "SELECT pooled FROM cocode WHERE npanxx=201200"), 0);
	assert_int_equal(q_int(fx, "SELECT pooled FROM cocode WHERE npanxx=201201"), 1);
	assert_string_equal(q_text(fx, "SELECT effective FROM cocode WHERE npanxx=201201"),
			    "2001-03-05");
	assert_string_equal(q_text(fx, "SELECT status FROM cocode WHERE npanxx=201202"),
			    "Assigned");
	assert_string_equal(q_text(fx, "SELECT ocn FROM cocode WHERE npanxx=201202"), "7513");
}

static void test_import__cocode_bad_text(void **state)
{
	struct fx *fx = *state;

	fx->opts.max_error_rate = 1.0;
	assert_int_equal(fx_import(fx, IMPORT_COCODE, "ca.csv",
				   "\"NPA\",\"CO Code (NXX)\",\"Status\",\"Company\",\"OCN\"\n"
				   "204,200,\"In Service\",\"Caf\xe9 Tel\",\"4727\"\n"
				   "204,201,\"In Service\",\"Ctl\x01Tel\",\"4727\"\n"
				   "204,202,\"In Service\",\"Caf\xc3\xa9 Tel\",\"4727\"\n"
				   "204,203,\"In Service\",\"X\",\"47-7\"\n"), 0);
	assert_int_equal(fx->res.accepted, 1);
	assert_int_equal(fx->res.rejected, 3);
	assert_non_null(strstr(fx_report(fx), "ca.csv:2: Company is not clean UTF-8 text"));
	assert_non_null(strstr(fx_report(fx), "ca.csv:3: Company is not clean UTF-8 text"));
	assert_non_null(strstr(fx_report(fx), "ca.csv:5: OCN is not 4 letters or digits"));
	assert_string_equal(q_text(fx, "SELECT company FROM cocode WHERE npanxx=204202"),
			    "Caf\xc3\xa9 Tel");
}

static void test_import__cocode_unknown_layout(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(fx_import(fx, IMPORT_COCODE, "x.csv", "a,b,c\n1,2,3\n"), -1);
	assert_non_null(strstr(fx_report(fx), "x.csv:1: not a CO code file"));
}

static const char blocks_csv[] =
	"Region,State,NPA,NXX,X,STATUS,Code Holder,Contaminated (Y or N),"
	"Contaminated TNs not Available for Assignment,Rate Center,Block Effective Date,"
	"Block Available Date,Assigned To,OCN,Date Assigned\n"
	"Northeast,NJ,201,202,1,AS,Verizon,N,,HACKENSACK,03/15/2019,,Some CLEC,7513,03/01/2019\n"
	"Northeast,NJ,201,202,2,AV,Verizon,N,,HACKENSACK,,,,,\n"
	"Northeast,NJ,201,202,3,AS,Verizon,N,,HACKENSACK,2019-04-01,,Other,6529,\n";

static void test_import__blocks_report(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(sqlite3_exec(fx->db, "INSERT INTO block (npanxxx, spid, status) VALUES "
				      "(2012029, 'OLD1', 'AS'), (9733001, 'KEEP', 'AS')",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(fx_import(fx, IMPORT_BLOCKS, "blocks.csv", blocks_csv), 0);
	assert_int_equal(fx->res.lines, 3);
	assert_int_equal(fx->res.accepted, 3);
	assert_int_equal(fx->res.removed, 1);
	assert_string_equal(q_text(fx, "SELECT spid FROM block WHERE npanxxx=2012021"), "7513");
	assert_string_equal(q_text(fx, "SELECT rate_center FROM block WHERE npanxxx=2012021"),
			    "HACKENSACK");
	assert_string_equal(q_text(fx, "SELECT effective FROM block WHERE npanxxx=2012021"),
			    "2019-03-15");
	assert_int_equal(q_int(fx, "SELECT lrn FROM block WHERE npanxxx=2012021"), -1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM block WHERE npanxxx=2012022"), 0);
	assert_string_equal(q_text(fx, "SELECT spid FROM block WHERE npanxxx=2012023"), "6529");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM block WHERE npanxxx=2012029"), 0);
	assert_string_equal(q_text(fx, "SELECT spid FROM block WHERE npanxxx=9733001"), "KEEP");
}

static void test_import__blocks_bdd(void **state)
{
	struct fx *fx = *state;

	/* CR-only line ends, dashed and plain codes. */
	fx->opts.max_error_rate = 1.0;
	assert_int_equal(fx_import(fx, IMPORT_BLOCKS, "npb.bdd",
				   "1001|201-202-1|2012020000|7513|20190315050000|"
				   "001002003|000|||||||\r"
				   "1002|2012023|201-202-9999|6529|20190401000000\r"
				   "1003|2012024|2012029999|6529|20190401000000|256000000|0\r"), 0);
	assert_int_equal(fx->res.accepted, 2);
	assert_int_equal(fx->res.rejected, 1);
	assert_non_null(strstr(fx_report(fx), "npb.bdd:3: field 5: not a point code"));
	assert_int_equal(q_int(fx, "SELECT lrn FROM block WHERE npanxxx=2012021"), 2012020000);
	assert_string_equal(q_text(fx, "SELECT spid FROM block WHERE npanxxx=2012021"), "7513");
	assert_string_equal(q_text(fx, "SELECT effective FROM block WHERE npanxxx=2012021"),
			    "2019-03-15T05:00:00Z");
	assert_int_equal(q_int(fx, "SELECT lrn FROM block WHERE npanxxx=2012023"), 2012029999);

	/* The pooling report keeps an LRN while the holder stays the same. */
	assert_int_equal(fx_import(fx, IMPORT_BLOCKS, "blocks.csv", blocks_csv), 0);
	assert_int_equal(q_int(fx, "SELECT lrn FROM block WHERE npanxxx=2012021"), 2012020000);
	assert_string_equal(q_text(fx, "SELECT rate_center FROM block WHERE npanxxx=2012021"),
			    "HACKENSACK");
	assert_int_equal(q_int(fx, "SELECT lrn FROM block WHERE npanxxx=2012023"), 2012029999);
}

/* LSMS layout: version|tn|lrn|spid|ts|8 DPC/SSN|eulv|eult|billing|lnptype|reason */
#define SV(v, tn, lrn, spid, reason) \
	v "|" tn "|" lrn "|" spid "|20240101120000|||||||001002003|5|||" spid "|0|" reason

static void test_import__ported_lsms(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(fx_import(fx, IMPORT_PORTED, "sv1.bdd",
				   SV("100", "2015550001", "2015550000", "AAAA", "new") "\r"
				   SV("100", "201-555-0002", "201-555-0000", "BBBB", "0") "\r"
				   SV("100", "2015550003", "2015550000", "CCCC", "new") "\r"), 0);
	assert_int_equal(fx->res.accepted, 3);
	assert_int_equal(q_int(fx, "SELECT lrn FROM ported WHERE tn=2015550002"), 2015550000);
	assert_string_equal(q_text(fx, "SELECT activated FROM ported WHERE tn=2015550001"),
			    "2024-01-01T12:00:00Z");
	assert_string_equal(q_text(fx, "SELECT cnam_dpc FROM ported WHERE tn=2015550001"),
			    "001002003");
	assert_int_equal(q_int(fx, "SELECT cnam_ssn FROM ported WHERE tn=2015550001"), 5);
	assert_int_equal(q_int(fx, "SELECT lnp_type FROM ported WHERE tn=2015550001"), 0);

	assert_int_equal(fx_import(fx, IMPORT_PORTED, "sv2.bdd",
		/* an older version does not overwrite */
		SV("99", "2015550003", "9735550000", "OLD1", "modified") "\r"
		/* a newer one does */
		SV("101", "2015550002", "9735550000", "NEW1", "2") "\r"
		/* a delete older than the stored version leaves it */
		SV("99", "2015550003", "", "", "deleted") "\r"
		/* a delete at or past the stored version snaps the number back */
		SV("100", "2015550001", "", "", "1") "\r"
		/* a delete of a number never stored changes nothing */
		SV("500", "2015550009", "", "", "deleted") "\r"), 0);
	assert_int_equal(fx->res.accepted, 5);
	assert_int_equal(fx->res.removed, 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM ported WHERE tn=2015550001"), 0);
	assert_string_equal(q_text(fx, "SELECT spid FROM ported WHERE tn=2015550002"), "NEW1");
	assert_int_equal(q_int(fx, "SELECT version_id FROM ported WHERE tn=2015550002"), 101);
	assert_string_equal(q_text(fx, "SELECT spid FROM ported WHERE tn=2015550003"), "CCCC");
	assert_int_equal(q_int(fx, "SELECT lrn FROM ported WHERE tn=2015550003"), 2015550000);
	assert_int_equal(q_int(fx, "SELECT version_id FROM ported WHERE tn=2015550003"), 100);
}

static void test_import__ported_lsms_bad(void **state)
{
	struct fx *fx = *state;

	fx->opts.max_error_rate = 1.0;
	assert_int_equal(fx_import(fx, IMPORT_PORTED, "sv.bdd",
		SV("1", "2015550001", "2015550000", "AAAA", "new") "\n"
		SV("2", "1015550001", "2015550000", "AAAA", "new") "\n"
		SV("3", "2015550001", "20155", "AAAA", "new") "\n"
		SV("4", "2015550001", "2015550000", "AA-A", "new") "\n"
		SV("5", "2015550001", "2015550000", "AAAA", "maybe") "\n"
		"6|2015550001|2015550000|AAAA|20241301000000|||||||||||AAAA|0|new\n"
		"7|2015550001|2015550000|AAAA|20240101000000|256000000||||||||||AAAA|0|new\n"
		"8|2015550001|2015550000|AAAA\n"), 0);
	assert_int_equal(fx->res.accepted, 1);
	assert_int_equal(fx->res.rejected, 7);
	assert_non_null(strstr(fx_report(fx), "sv.bdd:2: field 1: TN invalid area code"));
	assert_non_null(strstr(fx_report(fx), "sv.bdd:3: field 2: LRN not a 10-digit number"));
	assert_non_null(strstr(fx_report(fx), "sv.bdd:4: field 3: SPID"));
	assert_non_null(strstr(fx_report(fx), "sv.bdd:5: field 17: unknown download reason"));
	assert_non_null(strstr(fx_report(fx), "sv.bdd:6: field 4: not a YYYYMMDDHHMMSS"));
	assert_non_null(strstr(fx_report(fx), "sv.bdd:7: field 5: not a point code"));
	assert_non_null(strstr(fx_report(fx), "sv.bdd:8: 4 fields"));
}

/* SOA layout: the 20 LSMS-order fields, then status (20) ... 41 SV type, 42 alt SPID. */
static void soa_line(char *out, size_t len, const char *ver, const char *tn, int status,
		     const char *spid)
{
	int n = snprintf(out, len, "%s|%s|2015550000|%s|20240101120000|||||||||||%s|0||||%d",
			 ver, tn, spid, spid, status);

	for (int f = 21; f <= 40; f++)
		n += snprintf(out + n, len - (size_t)n, "|");
	snprintf(out + n, len - (size_t)n, "|1|ALT1\r");
}

static void test_import__ported_soa(void **state)
{
	struct fx *fx = *state;
	char body[2048], l1[256], l2[256], l3[256], l4[256];

	soa_line(l1, sizeof(l1), "10", "2015550001", 1, "AAAA");
	soa_line(l2, sizeof(l2), "11", "2015550002", 6, "BBBB");
	soa_line(l3, sizeof(l3), "12", "2015550003", 5, "CCCC");
	snprintf(body, sizeof(body), "%s%s%s", l1, l2, l3);
	assert_int_equal(fx_import(fx, IMPORT_PORTED, "soa1.bdd", body), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM ported"), 3);
	assert_int_equal(q_int(fx, "SELECT status FROM ported WHERE tn=2015550002"), 6);
	assert_int_equal(q_int(fx, "SELECT sv_type FROM ported WHERE tn=2015550001"), 1);
	assert_string_equal(q_text(fx, "SELECT alt_spid FROM ported WHERE tn=2015550001"),
			    "ALT1");

	/* A newer pending SV does not disturb the active one; old (7) snaps back,
	 * canceled (8) never routed. */
	soa_line(l1, sizeof(l1), "20", "2015550001", 2, "DDDD");
	soa_line(l2, sizeof(l2), "11", "2015550002", 7, "BBBB");
	soa_line(l3, sizeof(l3), "21", "2015550003", 8, "EEEE");
	soa_line(l4, sizeof(l4), "5", "2015550003", 7, "CCCC");
	snprintf(body, sizeof(body), "%s%s%s%s", l1, l2, l3, l4);
	assert_int_equal(fx_import(fx, IMPORT_PORTED, "soa2.bdd", body), 0);
	assert_int_equal(fx->res.accepted, 4);
	assert_int_equal(fx->res.removed, 1);
	assert_string_equal(q_text(fx, "SELECT spid FROM ported WHERE tn=2015550001"), "AAAA");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM ported WHERE tn=2015550002"), 0);
	assert_string_equal(q_text(fx, "SELECT spid FROM ported WHERE tn=2015550003"), "CCCC");
}

static void test_import__cnam(void **state)
{
	struct fx *fx = *state;

	fx->opts.max_error_rate = 1.0;
	assert_int_equal(fx_import(fx, IMPORT_CNAM, "cnam.csv",
				   "tn,name,presentation\n"
				   "2015550001,ACME CORP\n"
				   "+12015550002,\"SMITH, JOHN\",restricted\n"
				   "2015550003,ABCDEFGHIJKLMNOP\n"
				   "2015550004,ABCDEFGHIJKLMNO,allowed\n"
				   "2015550005,,allowed\n"
				   "2015550006,BAD\x7fNAME\n"
				   "2015550007,NAME,hidden\n"), 0);
	assert_int_equal(fx->res.lines, 7);
	assert_int_equal(fx->res.accepted, 3);
	assert_int_equal(fx->res.rejected, 4);
	assert_non_null(strstr(fx_report(fx),
			       "cnam.csv:4: name must be 1 to 15 characters, not 16"));
	assert_non_null(strstr(fx_report(fx), "cnam.csv:7: name is not printable ASCII"));
	assert_string_equal(q_text(fx, "SELECT name FROM cnam WHERE tn=2015550001"), "ACME CORP");
	assert_int_equal(q_int(fx, "SELECT restricted FROM cnam WHERE tn=2015550001"), 0);
	assert_string_equal(q_text(fx, "SELECT name FROM cnam WHERE tn=2015550002"),
			    "SMITH, JOHN");
	assert_int_equal(q_int(fx, "SELECT restricted FROM cnam WHERE tn=2015550002"), 1);
	assert_string_equal(q_text(fx, "SELECT name FROM cnam WHERE tn=2015550004"),
			    "ABCDEFGHIJKLMNO");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cnam WHERE tn=2015550003"), 0);

	/* Upsert: a later file changes one name and keeps the others. */
	assert_int_equal(fx_import(fx, IMPORT_CNAM, "cnam2.csv", "2015550001,NEW NAME\n"), 0);
	assert_string_equal(q_text(fx, "SELECT name FROM cnam WHERE tn=2015550001"), "NEW NAME");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cnam"), 3);
}

static void test_import__dnc_per_npa(void **state)
{
	struct fx *fx = *state;

	assert_int_equal(fx_import(fx, IMPORT_DNC, "dnc1.txt",
				   "2015550001\n2015550002\n2015550003\n"
				   "973,5550001\n973,5550002\n"), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM dnc"), 5);
	assert_int_equal(q_int(fx, "SELECT old_count FROM dnc_report WHERE npa=201"), 0);
	assert_int_equal(q_int(fx, "SELECT new_count FROM dnc_report WHERE npa=201"), 3);

	/* The full list of 201 now has two numbers; 973 is not in the file. */
	assert_int_equal(fx_import(fx, IMPORT_DNC, "dnc2.txt",
				   "201,5550002\r\n2015550004\r\n"), 0);
	assert_int_equal(fx->res.removed, 2);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM dnc WHERE tn BETWEEN 2010000000 AND "
				   "2019999999"), 2);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM dnc WHERE tn=2015550001"), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM dnc WHERE tn=2015550004"), 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM dnc WHERE tn BETWEEN 9730000000 AND "
				   "9739999999"), 2);
	assert_int_equal(q_int(fx, "SELECT old_count FROM dnc_report WHERE npa=201"), 3);
	assert_int_equal(q_int(fx, "SELECT new_count FROM dnc_report WHERE npa=201"), 2);
	assert_int_equal(q_int(fx, "SELECT new_count FROM dnc_report WHERE npa=973"), 2);
	assert_int_equal(strlen(q_text(fx, "SELECT updated FROM dnc_report WHERE npa=201")), 20);
}

static void test_import__dno(void **state)
{
	struct fx *fx = *state;

	fx->opts.max_error_rate = 1.0;
	assert_int_equal(fx_import(fx, IMPORT_DNO, "dno.csv",
				   "pattern,source\n"
				   "911,invalid\n"
				   "201555,unallocated\n"
				   "2015551,itg\n"
				   "8005551234,subscriber-request\n"
				   "20155,invalid\n"
				   "2015551234,\n"), 0);
	assert_int_equal(fx->res.accepted, 4);
	assert_int_equal(fx->res.rejected, 2);
	assert_string_equal(q_text(fx, "SELECT source FROM dno WHERE pattern='8005551234'"),
			    "subscriber-request");
	assert_string_equal(q_text(fx, "SELECT source FROM dno WHERE pattern='911'"), "invalid");

	fx->opts.max_error_rate = 0.01;
	assert_int_equal(fx_import(fx, IMPORT_DNO, "dno2.csv", "201555,unallocated\n"), 0);
	assert_int_equal(fx->res.removed, 3);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM dno"), 1);
}

static void test_import__ror(void **state)
{
	struct fx *fx = *state;

	fx->opts.max_error_rate = 1.0;
	assert_int_equal(fx_import(fx, IMPORT_ROR, "ror.csv",
				   "crn,ror,status\n"
				   "8005551234,NEX99,working\n"
				   "18885550000,zac01\n"
				   "2015551234,NEX99,working\n"
				   "8005551235,N3X99\n"
				   "8005551236,NEX9\n"), 0);
	assert_int_equal(fx->res.accepted, 2);
	assert_int_equal(fx->res.rejected, 3);
	assert_non_null(strstr(fx_report(fx), "ror.csv:4: crn is not a toll-free number"));
	assert_string_equal(q_text(fx, "SELECT ror FROM tollfree WHERE crn=8005551234"), "NEX99");
	assert_string_equal(q_text(fx, "SELECT status FROM tollfree WHERE crn=8005551234"),
			    "working");
	assert_string_equal(q_text(fx, "SELECT ror FROM tollfree WHERE crn=8885550000"), "ZAC01");
	assert_string_equal(q_text(fx, "SELECT status FROM tollfree WHERE crn=8885550000"),
			    "(null)");
}

static void test_import__cpr(void **state)
{
	struct fx *fx = *state;

	fx->opts.max_error_rate = 1.0;
	assert_int_equal(fx_import(fx, IMPORT_CPR, "cpr.json",
		"[{\"crn\": \"8005551234\", \"timezone\": \"C\", \"dst\": true,\n"
		"  \"sections\": {\"M\": {\"carrier\": \"0288\"}}},\n"
		" {\"crn\": \"8885550000\", \"timezone\": \"E\", \"dst\": false,\n"
		"  \"sections\": {\"M\": {\"carrier\": \"0222\", \"tel\": \"2015550000\"}}},\n"
		" {\"crn\": \"2015550000\", \"timezone\": \"E\", \"dst\": false,\n"
		"  \"sections\": {\"M\": {\"carrier\": \"0222\"}}},\n"
		" {\"crn\": \"8775550000\", \"timezone\": \"E\", \"dst\": false,\n"
		"  \"sections\": {\"M\": {\"carrier\": \"22\"}}}]\n"), 0);
	assert_int_equal(fx->res.lines, 4);
	assert_int_equal(fx->res.accepted, 2);
	assert_int_equal(fx->res.rejected, 2);
	assert_non_null(strstr(fx_report(fx), "cpr.json:#2: crn is not a toll-free number"));
	assert_non_null(strstr(fx_report(fx), "cpr.json:#3: "));
	assert_string_equal(q_text(fx, "SELECT record FROM cpr WHERE crn=8005551234"),
			    "{\"crn\":\"8005551234\",\"timezone\":\"C\",\"dst\":true,"
			    "\"sections\":{\"M\":{\"carrier\":\"0288\"}}}");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cpr"), 2);

	assert_int_equal(fx_import(fx, IMPORT_CPR, "bad.json", "{\"crn\": 1"), -1);
	assert_non_null(strstr(fx_report(fx), "bad.json: line 1"));
	assert_int_equal(fx_import(fx, IMPORT_CPR, "obj.json", "{\"crn\": \"8005551234\"}"), -1);
	assert_non_null(strstr(fx_report(fx), "obj.json: not a JSON array"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cpr"), 2);
}

/* 200 data lines of cnam, bad_every-th one malformed (0: none). */
static char *cnam_lines(int n, int bad_every)
{
	char *buf = malloc((size_t)n * 40 + 1), *p = buf;

	assert_non_null(buf);
	for (int i = 0; i < n; i++) {
		if (bad_every && i % bad_every == 0)
			p += sprintf(p, "20155%05d,THIS NAME IS TOO LONG\n", i);
		else
			p += sprintf(p, "20155%05d,NAME %d\n", i, i);
	}
	*p = '\0';
	return buf;
}

static void test_import__threshold(void **state)
{
	struct fx *fx = *state;
	char *one_bad = cnam_lines(200, 1000), *half_bad = cnam_lines(200, 2);
	long before;

	/* 1 bad line in 200 (0.5%) is under the 1% default: committed. */
	assert_int_equal(fx_import(fx, IMPORT_CNAM, "one.csv", one_bad), 0);
	assert_true(fx->res.committed);
	assert_int_equal(fx->res.lines, 200);
	assert_int_equal(fx->res.rejected, 1);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cnam"), 199);
	assert_string_equal(q_text(fx, "SELECT name FROM cnam WHERE tn=2015500001"), "NAME 1");
	before = q_int(fx, "SELECT count(*) FROM cnam");

	/* Half the lines bad: rejected, nothing changes, the earlier data stays. */
	assert_int_equal(sqlite3_exec(fx->db, "UPDATE cnam SET name='KEPT' WHERE tn=2015500001",
				      NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(fx_import(fx, IMPORT_CNAM, "half.csv", half_bad), -1);
	assert_false(fx->res.committed);
	assert_int_equal(fx->res.lines, 200);
	assert_int_equal(fx->res.rejected, 100);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cnam"), before);
	assert_string_equal(q_text(fx, "SELECT name FROM cnam WHERE tn=2015500001"), "KEPT");
	assert_string_equal(q_text(fx, "SELECT outcome FROM import_log ORDER BY id DESC"),
			    "rejected");
	assert_int_equal(q_int(fx, "SELECT rejected FROM import_log ORDER BY id DESC"), 100);
	/* 20 lines are reported, then a count of the rest. */
	assert_non_null(strstr(fx_report(fx), "half.csv:39: name must be 1 to 15"));
	assert_null(strstr(fx_report(fx), "half.csv:41: "));
	assert_non_null(strstr(fx_report(fx), "half.csv: ... and 80 more"));

	/* max_errors alone also rejects, and reading stops there. */
	fx->opts.max_errors = 0;
	assert_int_equal(fx_import(fx, IMPORT_CNAM, "one2.csv", one_bad), -1);
	assert_int_equal(fx->res.rejected, 1);
	assert_int_equal(fx->res.lines, 1);
	free(one_bad);
	free(half_bad);
}

static void test_import__line_limits(void **state)
{
	struct fx *fx = *state;
	size_t big = 70 * 1024;
	char *body = malloc(big + 64);

	assert_non_null(body);
	fx->opts.max_error_rate = 1.0;
	strcpy(body, "2015550001,FIRST\n2015550002,");
	memset(body + strlen(body), 'A', big);
	strcpy(body + 28 + big, "\n2015550003,THIRD\r");
	assert_int_equal(fx_import(fx, IMPORT_CNAM, "long.csv", body), 0);
	assert_int_equal(fx->res.lines, 3);
	assert_int_equal(fx->res.rejected, 1);
	assert_non_null(strstr(fx_report(fx), "long.csv:2: line longer than 65536 bytes"));
	assert_string_equal(q_text(fx, "SELECT name FROM cnam WHERE tn=2015550003"), "THIRD");
	free(body);

	/* A NUL byte rejects its line. */
	{
		char path[256];
		FILE *fp;

		snprintf(path, sizeof(path), "%s/nul.csv", fx->dir);
		fp = fopen(path, "wb");
		assert_non_null(fp);
		fwrite("2015550004,A\0B\n2015550005,OK\n", 1, 29, fp);
		fclose(fp);
		assert_int_equal(import_file(fx->db, IMPORT_CNAM, path, &fx->opts, &fx->res), 0);
		assert_int_equal(fx->res.rejected, 1);
		assert_non_null(strstr(fx_report(fx), "nul.csv:1: NUL byte"));
	}
}

static void test_import__empty_and_missing(void **state)
{
	struct fx *fx = *state;
	char path[256];

	assert_int_equal(fx_import(fx, IMPORT_NPA, "npa.csv", npa_file), 0);
	/* A file with only a header would wipe the table: refused. */
	assert_int_equal(fx_import(fx, IMPORT_NPA, "empty.csv",
				   "NPA_ID,type_of_code,ASSIGNED,IN_SERVICE\n\n"), -1);
	assert_non_null(strstr(fx_report(fx), "empty.csv: no data lines"));
	assert_int_equal(q_int(fx, "SELECT count(*) FROM npa"), 4);
	snprintf(path, sizeof(path), "%s/absent.csv", fx->dir);
	assert_int_equal(import_file(fx->db, IMPORT_NPA, path, &fx->opts, &fx->res), -1);
	assert_non_null(strstr(fx_report(fx), "absent.csv: cannot open"));
	assert_string_equal(q_text(fx, "SELECT outcome FROM import_log ORDER BY id DESC"),
			    "failed");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM npa"), 4);
}

/* ------------------------------------------------------------ real files */

static bool nanp_dir(char *out, size_t len)
{
	const char *shared = getenv("RINGER_SHARED_DIR");
	struct stat sb;

	snprintf(out, len, "%s/data/nanp", shared && *shared ? shared : "../shared");
	return stat(out, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int timed_import(struct fx *fx, enum import_kind kind, const char *dir, const char *name)
{
	char path[512];
	int64_t t0 = clock_now_ms();
	int rc;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	rc = import_file(fx->db, kind, path, &fx->opts, &fx->res);
	printf("real import %s %s: %ld lines, %ld accepted, %ld rejected, %lld ms\n",
	       import_kind_name(kind), name, fx->res.lines, fx->res.accepted, fx->res.rejected,
	       (long long)(clock_now_ms() - t0));
	return rc;
}

static void test_import__real_canadian(void **state)
{
	struct fx *fx = *state;
	char dir[400];

	if (!nanp_dir(dir, sizeof(dir))) {
		printf("SKIPPED: real NANP data not found\n");
		skip();
	}
	assert_int_equal(timed_import(fx, IMPORT_COCODE, dir, "ca-cocode-status-2024-09-13.csv"),
			 0);
	assert_int_equal(fx->res.lines, 44000);
	assert_int_equal(fx->res.rejected, 0);
	assert_int_equal(timed_import(fx, IMPORT_COCODE, dir, "ca-cocode-status.csv"), 0);
	assert_int_equal(fx->res.lines, 44000);
	assert_int_equal(fx->res.accepted, 44000);
	assert_int_equal(fx->res.rejected, 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cocode"), 44000);
	assert_string_equal(q_text(fx, "SELECT ocn FROM cocode WHERE npanxx=204200"), "4727");
	assert_string_equal(q_text(fx, "SELECT company FROM cocode WHERE npanxx=204200"),
			    "ISP Telecom Inc.");
	assert_string_equal(q_text(fx, "SELECT state FROM cocode WHERE npanxx=204200"), "MB");
	/* 204-204 is "Not Available"; no unassigned code claims a carrier. */
	assert_string_equal(q_text(fx, "SELECT status FROM cocode WHERE npanxx=204204"),
			    "Not Available");
	assert_string_equal(q_text(fx, "SELECT ocn FROM cocode WHERE npanxx=204204"), "(null)");
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cocode WHERE ocn IS NOT NULL AND "
				   "status IN ('Available', 'New NPA', 'Not Available', "
				   "'For Special Use', 'Protected', 'Stranded Code')"), 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cocode WHERE status='Available'"),
			 13319);
	/* In Service 27572 + Assigned 208 + Being Recovered 8 + New NPA Testing 5 */
	assert_int_equal(q_int(fx, "SELECT count(*) FROM cocode WHERE ocn IS NOT NULL"), 27793);
}

static void test_import__real_npa(void **state)
{
	struct fx *fx = *state;
	char dir[400];

	if (!nanp_dir(dir, sizeof(dir))) {
		printf("SKIPPED: real NANP data not found\n");
		skip();
	}
	assert_int_equal(timed_import(fx, IMPORT_NPA, dir, "npa_report.csv"), 0);
	assert_int_equal(fx->res.lines, 800);
	assert_int_equal(fx->res.rejected, 0);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM npa"), 800);
	assert_string_equal(q_text(fx, "SELECT location FROM npa WHERE npa=204"), "MANITOBA");
	assert_string_equal(q_text(fx, "SELECT country FROM npa WHERE npa=204"), "CANADA");
	assert_string_equal(q_text(fx, "SELECT overlay_complex FROM npa WHERE npa=204"),
			    "204/431");
	assert_int_equal(q_int(fx, "SELECT in_service FROM npa WHERE npa=204"), 1);
	assert_string_equal(q_text(fx, "SELECT location FROM npa WHERE npa=972"), "TX");
	assert_int_equal(q_int(fx, "SELECT parent_npa FROM npa WHERE npa=368"), 825);
	assert_int_equal(q_int(fx, "SELECT count(*) FROM npa WHERE assigned=1"), 432);
}

#define T(name) cmocka_unit_test_setup_teardown(test_import__##name, fx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(kind_names), T(npa_full_replace), T(npa_bad_fields), T(npa_no_header),
		T(cocode_canadian), T(cocode_no_province), T(cocode_allutlzd),
		T(cocode_bad_text), T(cocode_unknown_layout), T(blocks_report), T(blocks_bdd),
		T(ported_lsms), T(ported_lsms_bad), T(ported_soa), T(cnam), T(dnc_per_npa),
		T(dno), T(ror), T(cpr), T(threshold), T(line_limits), T(empty_and_missing),
		T(real_canadian), T(real_npa),
	};

	log_set_level(LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
