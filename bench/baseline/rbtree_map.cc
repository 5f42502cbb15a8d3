/* rbtree_map.cc: the C++ standard library's red-black tree (std::map) on the same keys,
 * values and fold as bench/rbtree.c, destroyed at the end. Usage: rbtree-map [n]. */
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "../bench_report_plain.h"

int main(int argc, char **argv) {
  long n = argc > 1 ? std::atol(argv[1]) : 4200000;
  bench_start();
  long check = 0;
  {
    std::map<int32_t, bool> m;
    for (long i = n; i > 0; i--) {
      int32_t k = static_cast<int32_t>(i - 1);
      m[k] = k % 10 == 0;
    }
    for (const auto &kv : m) check += kv.second;
  }
  std::printf("%ld\n", check);
  bench_report_plain("rbtree-std-map", n, check);
  return 0;
}
