/* pki.h - test STIR/SHAKEN keys and certificates: `ringer pki ...`. */
#ifndef RINGER_CMD_PKI_H
#define RINGER_CMD_PKI_H

/*
 * Run `ringer pki` with the words after "pki": "ca DIR", "sp DIR --ca DIR
 * --spc CODE" or "key FILE" (see the usage text). Returns the exit status.
 */
int pki_main(int argc, char **argv);

#endif
