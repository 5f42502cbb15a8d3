/* dlopen_host.c: load a plugin that uses hrc (tests/dlopen_plugin.c) with dlopen and run it;
 * TAP. Usage: dlopen_host PLUGIN.so */
#include <dlfcn.h>
#include <stdio.h>

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
  return ok ? 0 : 1;
}
