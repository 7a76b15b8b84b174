// The two modes a net is built for (CompiledNet, net.h); a header of its
// own so that what decides by mode (conv_choice.h) need not include the net.
#ifndef EDGENAS_RUNTIME_EXEC_NET_MODE_H_
#define EDGENAS_RUNTIME_EXEC_NET_MODE_H_

namespace edgenas {

enum class NetMode {
  kTrain,      // batch statistics, dropout, backward
  kInference,  // running statistics, batch norm folded, activations fused
};

}  // namespace edgenas

#endif  // EDGENAS_RUNTIME_EXEC_NET_MODE_H_
