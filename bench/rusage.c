/* bench/rusage.c — run a command and report its own resource use.
 *
 *   rusage <outfile> <cmd> [args...]
 *
 * Writes "<utime_us> <stime_us> <maxrss_kib> <exit status>" to <outfile>.
 * Why a helper instead of os.wait4() in bench.py: Linux keeps the peak RSS of
 * the memory image a process had before execve() (signal->maxrss), and a child
 * forked (or vforked) from the Python benchmark starts with Python's image, so
 * ru_maxrss reported curl at 158 MiB.  This helper is small, so the peak it
 * leaves behind is below the peak of any command it runs. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: rusage <outfile> <cmd> [args...]\n");
        return 2;
    }
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        return 2;
    }
    if (pid == 0) {
        execvp(argv[2], argv + 2);
        perror(argv[2]);
        _exit(127);
    }
    int st;
    struct rusage ru;
    if (wait4(pid, &st, 0, &ru) < 0) {
        perror("wait4");
        return 2;
    }
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    int code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    fprintf(f, "%ld %ld %ld %d\n", (long)ru.ru_utime.tv_sec * 1000000L + (long)ru.ru_utime.tv_usec,
            (long)ru.ru_stime.tv_sec * 1000000L + (long)ru.ru_stime.tv_usec, ru.ru_maxrss, code);
    fclose(f);
    return code;
}
