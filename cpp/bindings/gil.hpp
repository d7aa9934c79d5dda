// Releasing the GIL around a kernel call.
#pragma once

#include <Python.h>

#include <cxxabi.h>

#include <chrono>
#include <thread>

namespace lkreg::bind {

// Like py::gil_scoped_release, except at interpreter shutdown. Before 3.14, CPython ends a
// daemon thread that asks for the GIL during finalization with pthread_exit, which unwinds the
// stack: through pybind11's noexcept destructor that is std::terminate, and even where it may
// pass, the unwinding runs pybind11's destructors (Py_DECREF of the arguments) without the GIL
// while the main thread finalizes (ThreadSanitizer saw exactly that race on None's refcount).
// So such a thread parks instead, as CPython 3.14 does: the process exits around it. Two ways
// in: it finds the interpreter finalizing before it asks, or (the common case: it was already
// waiting for the GIL that the finalizing main thread holds) CPython's pthread_exit starts the
// forced unwinding inside PyEval_RestoreThread, which is caught here and never resumed. CPython
// holds neither the GIL nor its mutex when it calls pthread_exit, so a parked thread blocks no
// one.
class ReleaseGil {
 public:
  ReleaseGil() : state_(PyEval_SaveThread()) {}
  ~ReleaseGil() {
#if PY_VERSION_HEX < 0x030E0000
    if (finalizing()) park();
    try {
      PyEval_RestoreThread(state_);
    } catch (abi::__forced_unwind&) {
      park();  // never rethrown: the unwinding would go on through pybind11's frames
    }
#else
    PyEval_RestoreThread(state_);
#endif
  }
  ReleaseGil(const ReleaseGil&) = delete;
  ReleaseGil& operator=(const ReleaseGil&) = delete;

 private:
  [[noreturn]] static void park() {
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }

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
