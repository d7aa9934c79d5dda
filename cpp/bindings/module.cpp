// lkreg._core: the private compiled module. One bind_<family>.cpp per kernel family.
#include <pybind11/pybind11.h>

namespace py = pybind11;

namespace lkreg::bind {
void bind_config(py::module_& m);
void bind_dropout(py::module_& m);
void bind_optim(py::module_& m);
void bind_penalties(py::module_& m);
void bind_prox(py::module_& m);
void bind_solver(py::module_& m);
void bind_stream(py::module_& m);
}  // namespace lkreg::bind

PYBIND11_MODULE(_core, m) {
  m.doc() = "lkreg's compiled kernels (private: use the lkreg package)";
  m.attr("__version__") = LKREG_VERSION;
  lkreg::bind::bind_config(m);
  lkreg::bind::bind_dropout(m);
  lkreg::bind::bind_optim(m);
  lkreg::bind::bind_penalties(m);
  lkreg::bind::bind_prox(m);
  lkreg::bind::bind_solver(m);
  lkreg::bind::bind_stream(m);
}
