// Forwards to runtime/exec/kernels/parallel.h, where the kernels' helpers live
// now; kept until runtime/train/optimizer.cc includes that path itself.
#ifndef EDGENAS_RUNTIME_EXEC_LAYERS_PARALLEL_H_
#define EDGENAS_RUNTIME_EXEC_LAYERS_PARALLEL_H_

#include "runtime/exec/kernels/parallel.h"

#endif  // EDGENAS_RUNTIME_EXEC_LAYERS_PARALLEL_H_
