#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "lkreg/config.hpp"

namespace lkreg::bind {

namespace py = pybind11;
using namespace pybind11::literals;

void bind_config(py::module_& m) {
  m.def("simd_level", [] { return std::string(simd_level_name(simd_level())); });
  m.def("simd_level_supported", [] { return std::string(simd_level_name(simd_level_supported())); });
  m.def("simd_levels_compiled", [] {
    std::vector<std::string> names{"baseline"};
    if (simd_dispatch_enabled()) {
      names.emplace_back("avx2");
      names.emplace_back("avx512");
    }
    return names;
  });
  m.def(
      "set_simd_level",
      [](const std::string& name) {
        for (SimdLevel level : {SimdLevel::baseline, SimdLevel::avx2, SimdLevel::avx512}) {
          if (name != simd_level_name(level)) continue;
          if (!set_simd_level(level))
            throw py::value_error("level '" + name + "' is not supported here; the best is '" +
                                  simd_level_name(simd_level_supported()) + "'");
          return;
        }
        throw py::value_error("level must be 'baseline', 'avx2' or 'avx512', got '" + name + "'");
      },
      "level"_a);
  m.def("native_build", &native_build);
  m.def("_pool_stats", [] {
    const ThreadPoolStats s = thread_pool_stats();
    py::dict d;
    d["jobs_shared"] = s.jobs_shared;
    d["jobs_alone"] = s.jobs_alone;
    d["stalls"] = s.stalls;
    d["wait_ns"] = s.wait_ns;
    d["worker_chunks"] = s.worker_chunks;
    return d;
  });
  m.def("threading_runtime", [] { return std::string(threading_runtime()); });
  m.def("get_num_threads", &num_threads);
  m.def(
      "set_num_threads",
      [](long long n) {
        if (n < 1 || n > kMaxThreads)
          throw py::value_error("n must be between 1 and " + std::to_string(kMaxThreads) +
                                ", got " + std::to_string(n));
        set_num_threads(static_cast<int>(n));
      },
      "n"_a);
}

}  // namespace lkreg::bind
