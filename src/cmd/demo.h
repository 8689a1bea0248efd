/* demo.h - generating a demo data set in the real file formats. */
#ifndef RINGER_CMD_DEMO_H
#define RINGER_CMD_DEMO_H

/*
 * Write demo files into dir (created if needed): ported numbers (SV BDD),
 * pooled blocks, CNAM, DNC, DNO, RespOrgs, CPRs and, when with_codes is set,
 * generated central office codes and area codes for machines without the real
 * NANPA files. Prints the names written. Returns 0 or -1.
 */
int demo_generate(const char *dir, int with_codes, unsigned seed);

#endif
