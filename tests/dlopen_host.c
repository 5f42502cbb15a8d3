/* dlopen_host.c: load a plugin that uses hrc (tests/dlopen_plugin.c) with dlopen and run it;
 * TAP. Usage: dlopen_host PLUGIN.so */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc != 2) return 2;
  printf("1..1\n");
  void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (h == NULL) {
    printf("not ok 1 - dlopen of a library using hrc: %s\n", dlerror());
    return 1;
  }
  long (*run)(long);
  *(void **)&run = dlsym(h, "plugin_run"); /* POSIX's way to take a function from dlsym */
  long n = 200000, sum = run != NULL ? run(n) : -1;
  int ok = sum == n * (n - 1) / 2;
  printf("%s 1 - dlopen of a library using hrc runs it (sum %ld)\n", ok ? "ok" : "not ok", sum);
  /* Without exit's handlers: LeakSanitizer's check at exit crashes while stopping bdwgc's
   * marker threads of a dlopen'ed libgc (asan lane, gc and hybrid), and leaks are not what
   * this test is about. */
  fflush(stdout);
  _exit(ok ? 0 : 1);
}
