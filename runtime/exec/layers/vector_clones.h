// Forwards to runtime/exec/kernels/vector_clones.h, where the kernels' helpers live
// now; kept until runtime/train/optimizer.cc includes that path itself.
#ifndef EDGENAS_RUNTIME_EXEC_LAYERS_VECTOR_CLONES_H_
#define EDGENAS_RUNTIME_EXEC_LAYERS_VECTOR_CLONES_H_

#include "runtime/exec/kernels/vector_clones.h"

#endif  // EDGENAS_RUNTIME_EXEC_LAYERS_VECTOR_CLONES_H_
