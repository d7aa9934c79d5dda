// Releasing the GIL around a kernel call.
#pragma once

#include <Python.h>

namespace lkreg::bind {

// Like py::gil_scoped_release, except that taking the GIL back may end the thread. During
// interpreter shutdown CPython (3.11 and older) ends a daemon thread that asks for the GIL with
// pthread_exit, which unwinds the stack; through pybind11's noexcept destructor that unwinding
// is std::terminate ("terminate called without an active exception") and kills the process at
// exit. A destructor that may throw lets it pass, and pybind11's dispatcher rethrows it.
class ReleaseGil {
 public:
  ReleaseGil() : state_(PyEval_SaveThread()) {}
  ~ReleaseGil() noexcept(false) { PyEval_RestoreThread(state_); }
  ReleaseGil(const ReleaseGil&) = delete;
  ReleaseGil& operator=(const ReleaseGil&) = delete;

 private:
  PyThreadState* state_;
};

}  // namespace lkreg::bind
