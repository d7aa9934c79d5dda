// Releasing the GIL around a kernel call.
#pragma once

#include <Python.h>

#include <chrono>
#include <thread>

namespace lkreg::bind {

// Like py::gil_scoped_release, except at interpreter shutdown. Before 3.14, CPython ends a
// daemon thread that asks for the GIL during finalization with pthread_exit, which unwinds the
// stack: through pybind11's noexcept destructor that is std::terminate, and even where it may
// pass, the unwinding would run pybind11's destructors (Py_DECREF of the arguments) without the
// GIL while the main thread finalizes. So a thread that finds the interpreter finalizing parks
// instead, as CPython 3.14 does with such threads; the process exits around it. The destructor
// may throw for the remaining window (finalization starting between the check and the retake),
// where pybind11's dispatcher lets the unwinding pass.
class ReleaseGil {
 public:
  ReleaseGil() : state_(PyEval_SaveThread()) {}
  ~ReleaseGil() noexcept(false) {
#if PY_VERSION_HEX < 0x030E0000
    if (finalizing()) {
      for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
    }
#endif
    PyEval_RestoreThread(state_);
  }
  ReleaseGil(const ReleaseGil&) = delete;
  ReleaseGil& operator=(const ReleaseGil&) = delete;

 private:
  static bool finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
    return Py_IsFinalizing() != 0;
#else
    return _Py_IsFinalizing() != 0;
#endif
  }

  PyThreadState* state_;
};

}  // namespace lkreg::bind
