#include "cert.h"
int cmd_inspect(int argc, char **argv){(void)argc;(void)argv;return 2;}
int cmd_convert(int argc, char **argv){(void)argc;(void)argv;return 2;}
int cmd_probe(int argc, char **argv){(void)argc;(void)argv;return 2;}
int cmd_at_script(int argc, char **argv){(void)argc;(void)argv;return 2;}
size_t tc_at_script(const tc_items *it, const char *dialect, const char *kind, const char *spwf_form,
                    int index, char **out, char *err, size_t cap){return 0;}
