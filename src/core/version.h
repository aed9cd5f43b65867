/* tlsmodem — the one version string.  Every place that says a version reads
 * it from here: ATI, AT+S.STS=version, `tlsmodem --version`,
 * `tlsmodem-cert --version`, the trace's first line, and the man pages
 * (the Makefile substitutes @VERSION@ from this line when it installs them). */
#ifndef TM_VERSION_H
#define TM_VERSION_H

#define TM_VERSION "0.2.0"

#endif
