#!/usr/bin/python3
"""Side-by-side benchmark of the edgenas runtime against PyTorch (CPU, fp32).

For every preset and thread count it runs `edgenas bench` (training throughput at
batch 64, batch-1 inference latency) and the same network in PyTorch, alternating,
in --rounds (3) passes over all of them, keeps each side's best round, and prints
one table plus the issue's targets as PASS/FAIL at 2 threads.

PyTorch runs at its best: a fresh process per (preset, threads), set_num_threads;
the fastest inference variant (no_grad, inference_mode, traced+frozen, that plus
optimize_for_inference) and training memory format (contiguous, channels_last).
Latency is measured as TVM's runner and `edgenas bench` do: warm-up, then
`repeat` repeats of `number` runs, median of the per-run means.

  /usr/bin/python3 tests/bench/runtime_vs_pytorch.py [--edgenas BIN] [--floor BIN] [--quick] [--check]

Beside each batch-1 target it prints the fp32 floor of that preset on this CPU
(tests/bench/fp32_floor.cc): the least time an fp32 engine running the convs
directly (every multiply-add of their definition) could take.

Exits 0 unless something crashed; with --check, exits 1 when a target fails.
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

PRESETS = ("lenet-300-100", "lenet5", "cnn-bn", "mobile-tiny")
THREADS = (1, 2)
BATCH = 64
# (preset, kind, minimum) at 2 threads; kind is "train" (throughput ratio),
# "latency" (how many times lower), "overhead" (maximum fraction of a step).
TARGETS = [("cnn-bn", "train", 4.0), ("mobile-tiny", "train", 2.5),
           ("cnn-bn", "latency", 10.0), ("mobile-tiny", "latency", 10.0)] + \
          [(p, "overhead", 0.15) for p in PRESETS]


def settings(quick):
    """Measurement settings shared by both sides."""
    if quick:
        return dict(quick=True, warmup=5, repeat=5, min_repeat_ms=10, train_warmup=3, steps=10)
    return dict(quick=False, warmup=10, repeat=30, min_repeat_ms=50, train_warmup=10, steps=50)


def thread_env(threads):
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads))
    return env


def build_model(preset):
    """The presets of `edgenas info`, layer for layer."""
    import torch.nn as nn

    def conv_bn(cin, cout, k, stride=1, groups=1, act=True):
        layers = [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False),
                  nn.BatchNorm2d(cout)]
        return nn.Sequential(*(layers + [nn.ReLU6()] if act else layers))

    class MBConv(nn.Module):
        def __init__(self, c, expand):
            super().__init__()
            self.body = nn.Sequential(conv_bn(c, c * expand, 1),
                                      conv_bn(c * expand, c * expand, 3, groups=c * expand),
                                      conv_bn(c * expand, c, 1, act=False))

        def forward(self, x):
            return x + self.body(x)

    def ds(cin, cout, stride):  # depthwise-separable block, stride on the depthwise
        return nn.Sequential(conv_bn(cin, cin, 3, stride, groups=cin), conv_bn(cin, cout, 1))

    if preset == "lenet-300-100":
        return nn.Sequential(nn.Flatten(), nn.Linear(784, 300), nn.ReLU(),
                             nn.Linear(300, 100), nn.ReLU(), nn.Linear(100, 10))
    if preset == "lenet5":  # no activations after the convs, as the preset is written
        return nn.Sequential(nn.Conv2d(1, 20, 5), nn.MaxPool2d(2, 2), nn.Conv2d(20, 50, 5),
                             nn.MaxPool2d(2, 2), nn.Flatten(), nn.Linear(800, 500), nn.ReLU(),
                             nn.Linear(500, 10))
    if preset == "cnn-bn":
        return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
                             nn.MaxPool2d(2, 2), nn.Conv2d(32, 64, 3, padding=1),
                             nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
                             nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10))
    if preset == "mobile-tiny":
        return nn.Sequential(conv_bn(1, 16, 3), ds(16, 32, 2), ds(32, 64, 2), ds(64, 128, 1),
                             MBConv(128, 4), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                             nn.Linear(128, 10))
    raise ValueError(f"unknown preset {preset}")


def tvm_latency_ms(run, s):
    """Median over repeats of the mean time of one run, `number` grown as TVM does."""
    def mean_ms(number):
        t0 = time.perf_counter()
        for _ in range(number):
            run()
        return (time.perf_counter() - t0) * 1e3 / number

    for _ in range(s["warmup"]):
        run()
    number = 1
    while (ms := mean_ms(number) * number) < s["min_repeat_ms"] and number < 1 << 20:
        scale = s["min_repeat_ms"] / ms if ms > 0 else 16.0
        number = max(number + 1, int(number * min(scale * 1.1, 16.0) + 0.999))
    return statistics.median(mean_ms(number) for _ in range(s["repeat"]))


def try_variants(variants):
    """{name: measure()} for every variant; one that raises is reported, not fatal."""
    out = {}
    for name, measure in variants.items():
        try:
            out[name] = measure()
        except Exception as e:
            out[name] = f"{type(e).__name__}: {(str(e).splitlines() or [''])[0][:120]}"
    return out


def torch_latency(preset, s):
    """Batch-1 latency (ms) of every inference variant."""
    import torch
    model, x = build_model(preset).eval(), torch.randn(1, 1, 28, 28)

    def eager(ctx):
        def run():
            with ctx():
                model(x)
        return tvm_latency_ms(run, s)

    def jit(optimize):
        with torch.no_grad():
            m = torch.jit.freeze(torch.jit.trace(model, x))
            m = torch.jit.optimize_for_inference(m) if optimize else m

        def run():
            with torch.no_grad():
                m(x)
        return tvm_latency_ms(run, s)

    return try_variants({"no_grad": lambda: eager(torch.no_grad),
                         "inference_mode": lambda: eager(torch.inference_mode),
                         "jit-frozen": lambda: jit(False), "jit-optimized": lambda: jit(True)})


def torch_train_ms(preset, s, fmt):
    """Median training step (forward, loss, backward, SGD) at batch 64, in ms."""
    import torch
    torch.manual_seed(1)
    model = build_model(preset).to(memory_format=fmt).train()
    # As edgenas: L2 decay on conv and dense weights only (not biases, not BN).
    decay = [m.weight for m in model.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    rest = [p for p in model.parameters() if all(p is not d for d in decay)]
    opt = torch.optim.SGD([{"params": decay, "weight_decay": 5e-4},
                           {"params": rest, "weight_decay": 0.0}], lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.randn(BATCH, 1, 28, 28).contiguous(memory_format=fmt)
    y = torch.randint(0, 10, (BATCH,))

    def step():
        opt.zero_grad(set_to_none=True)
        loss_fn(model(x), y).backward()
        opt.step()

    for _ in range(s["train_warmup"]):
        step()
    times = []
    for _ in range(s["steps"]):
        t0 = time.perf_counter()
        step()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def torch_env():
    import torch
    cap = [l.split(":", 1)[1].strip() for l in torch.__config__.show().splitlines()
           if "CPU capability" in l]
    torch.mm(torch.randn(64, 64), torch.randn(64, 64))  # loads the BLAS
    with open("/proc/self/maps") as f:
        blas = sorted({os.path.realpath(l.split()[-1]) for l in f if "blas" in l.lower()})
    return {"torch": torch.__version__, "cpu_capability": cap[0] if cap else "?",
            "blas": ", ".join(blas) or "none loaded"}


def torch_worker(preset, threads, mode, quick):
    """Runs in a fresh process: one preset, one thread count, one mode; prints JSON."""
    import torch
    torch.set_num_threads(threads)
    s = settings(quick)
    if mode == "train":
        formats = {"contiguous": torch.contiguous_format}
        if preset != "lenet-300-100":  # channels_last only matters to convs
            formats["channels_last"] = torch.channels_last
        variants = try_variants({name: (lambda f=f: torch_train_ms(preset, s, f))
                                 for name, f in formats.items()})
    else:
        variants = torch_latency(preset, s)
    ok = {k: v for k, v in variants.items() if isinstance(v, float)}
    best = min(ok, key=ok.get)
    print(json.dumps({"params": sum(p.numel() for p in build_model(preset).parameters()),
                      "threads": torch.get_num_threads(), "env": torch_env(),
                      "variants": variants, "variant": best, "ms": ok[best],
                      "images_per_s": BATCH / (ok[best] / 1e3)}))


def run_json(cmd, threads):
    """Runs cmd with `threads` OpenMP threads; returns the JSON object it prints."""
    for _ in range(60):  # another engineer may be relinking the binary: wait for it
        if os.path.exists(cmd[0]):
            break
        time.sleep(1)
    out = subprocess.run(cmd, env=thread_env(threads), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {out.returncode}:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout)  # one object (`info --json` spans several lines)


def torch_cmd(preset, threads, mode, s):
    return [sys.executable, os.path.abspath(__file__), "--torch-worker", preset, "--threads",
            str(threads), "--mode", mode] + (["--quick"] if s["quick"] else [])


def edgenas_cmd(binary, preset, threads, mode, s):
    cmd = [binary, "bench", "--preset", preset, "--threads", str(threads), "--json"]
    if mode == "train":
        return cmd + ["--train", "--batch", str(BATCH), "--steps", str(s["steps"])]
    return cmd + ["--batch", "1", "--warmup", str(s["warmup"]), "--repeat", str(s["repeat"]),
                  "--min-repeat-ms", str(s["min_repeat_ms"])]


def print_env(binary, tenv, isa, quick):
    with open("/proc/cpuinfo") as f:
        cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    print(f"CPU:      {cpu} ({os.cpu_count()} logical CPUs)")
    print(f"edgenas:  {binary} (oneDNN ISA {isa})")
    print(f"PyTorch:  {tenv['torch']} (ATen CPU capability {tenv['cpu_capability']}), "
          f"python {sys.version.split()[0]}")
    print(f"BLAS:     {tenv['blas']}")
    if "/blas/libblas.so" in tenv["blas"]:  # Debian's netlib reference BLAS
        print("          warning: PyTorch's GEMMs (dense layers, some convs) run on the "
              "unoptimized reference BLAS;\n          apt-get install libopenblas0-openmp "
              "gives a much stronger (fairer) baseline")
    print(f"mode:     {'quick' if quick else 'full'}; training batch {BATCH}, latency batch 1\n")


def print_table(rows):
    fmt = "{:<16}{:>4}{:>21}{:>10}{:>8}{:>15}{:>10}{:>8}{:>10}  {}"
    print(fmt.format("preset", "thr", "train img/s edgenas", "pytorch", "ratio", "b1 ms edgenas",
                     "pytorch", "lower", "overhead", "pytorch variants (train / b1)"))
    print("-" * 130)
    for r in rows:
        e, t = r["edgenas"], r["torch"]
        print(fmt.format(r["preset"] + (" *" if r["contended"] else ""), r["threads"],
                         f"{e['images_per_s']:.0f}", f"{t['train']['images_per_s']:.0f}",
                         f"{r['train_ratio']:.2f}x", f"{e['median_ms']:.4f}",
                         f"{t['latency']['ms']:.4f}", f"{r['lat_ratio']:.1f}x",
                         f"{e['overhead_fraction']:.3f}",
                         f"{t['train']['variant']} / {t['latency']['variant']}"))
    print("ratio = edgenas/PyTorch training images/s; lower = PyTorch/edgenas batch-1 median; "
          "overhead = the median edgenas step's share of time outside compute kernels\n"
          "(oneDNN primitives and our own; the loss and the optimizer's update count outside);\n"
          "* = other processes competed for the CPUs during the measurement: unreliable")
    print("\nPyTorch variants (train: median step ms; b1: median ms):")
    show = lambda d: ", ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} FAILED"
                               for k, v in d.items())
    for r in rows:
        t = r["torch"]
        print(f"  {r['preset']:<14} {r['threads']}T  train: {show(t['train']['variants'])}; "
              f"b1: {show(t['latency']['variants'])}")


def fp32_floor(floor_bin, presets, max_wait):
    """The least batch-1 time per preset any fp32 engine can reach on this CPU at 2
    threads (tests/bench/fp32_floor.cc), or {} when that tool is not built."""
    if not floor_bin or not os.path.exists(floor_bin):
        print(f"note: {floor_bin or 'fp32_floor'} not built: no fp32 floor printed", file=sys.stderr)
        return {}
    out, _ = quiet_run([floor_bin, "--threads", "2", "--presets", ",".join(presets), "--json"], 2,
                       max_wait)
    return {p: v["floor_ms"] for p, v in out["presets"].items()} | {"_peak": out["peak_gfma_per_s"]}


def check_targets(rows, floors):
    """The issue's targets, judged twice: against the baseline the issue names
    (PyTorch eager: contiguous training, eval + no_grad inference) and against
    PyTorch's fastest variant found above (channels_last training, JIT-frozen and
    optimize_for_inference at batch 1, which runs on oneDNN too). Only the
    first decides --check; both are printed so no one mistakes which is which."""
    at2 = {r["preset"]: r for r in rows if r["threads"] == 2}
    failed = 0
    print("\ntargets at 2 threads (issue baseline = PyTorch eager; fastest = best variant above):")
    for preset, kind, bound in (t for t in TARGETS if t[0] in at2):
        r = at2[preset]
        e, t = r["edgenas"], r["torch"]
        if kind == "overhead":
            value = e["overhead_fraction"]
            ok = value <= bound
            verdict = "UNSURE" if r["contended"] else "PASS" if ok else "FAIL"
            failed += not ok and not r["contended"]
            print(f"  {verdict:<6}  {preset:<14} overhead_fraction {value:.3f} <= {bound}")
            continue
        if kind == "train":
            base_ms = t["train"]["variants"].get("contiguous")
            base = e["images_per_s"] / (BATCH * 1000.0 / base_ms) if isinstance(base_ms, float) else float("nan")
            best = r["train_ratio"]
            what = "training throughput"
        else:
            base_ms = t["latency"]["variants"].get("no_grad")
            base = base_ms / e["median_ms"] if isinstance(base_ms, float) else float("nan")
            best = r["lat_ratio"]
            what = "batch-1 latency lower"
        ok = base >= bound
        failed += not ok and not r["contended"]
        verdict = "UNSURE" if r["contended"] else "PASS" if ok else "FAIL"
        best_verdict = "meets" if best >= bound else "misses"
        print(f"  {verdict:<6}  {preset:<14} {what} {base:.2f}x >= {bound}x vs the issue baseline; "
              f"{best:.2f}x vs PyTorch's fastest ({best_verdict} it)" + (" (contended)" if r["contended"] else ""))
        if kind == "latency" and preset in floors and isinstance(base_ms, float):
            floor = floors[preset]
            print(f"          {'':<14} fp32 floor on this CPU {floor:.4f} ms (direct convolution at "
                  f"the FMA peak, {floors['_peak']:.0f} G/s; weights read from cache): at most "
                  f"{base_ms / floor:.2f}x lower than PyTorch's {base_ms:.4f} ms without "
                  f"fewer multiply-adds (Winograd) or lower precision")
    return failed


def cpu_seconds():
    """CPU seconds used so far by the whole machine minus those of our finished children."""
    with open("/proc/stat") as f:
        ticks = [int(v) for v in f.readline().split()[1:]]
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK") - ru.ru_utime - ru.ru_stime


def wait_for_quiet(max_wait):
    """Waits up to max_wait s until other processes (a build...) leave the CPUs alone."""
    start = time.time()
    while True:
        c0 = cpu_seconds()
        time.sleep(1.0)
        load = cpu_seconds() - c0
        if load < 0.1 or time.time() - start >= max_wait:
            return
        if int(time.time() - start) % 30 == 1:
            print(f"  waiting: other processes use {load:.1f} cores", file=sys.stderr, flush=True)


def quiet_run(cmd, threads, max_wait, attempts=5):
    """run_json(cmd) while no other process uses the CPUs, measured again if one did.
    Returns (result, cores other processes used during the last attempt)."""
    for _ in range(attempts):
        wait_for_quiet(max_wait)
        c0, t0 = cpu_seconds(), time.time()
        out = run_json(cmd, threads)
        if (foreign := (cpu_seconds() - c0) / (time.time() - t0)) <= 0.1:
            break
    return out, foreign


def sanity_notes(preset, threads, t, params, foreign):
    where = f"{preset} @{threads}T"
    notes = [f"{where}: PyTorch variant {k} failed: {v}"
             for m in t.values() for k, v in m["variants"].items() if not isinstance(v, float)]
    if t["train"]["params"] != params:
        notes.append(f"{where}: PyTorch model has {t['train']['params']} params, edgenas {params}")
    if t["train"]["threads"] != threads:
        notes.append(f"{where}: torch.get_num_threads() is {t['train']['threads']}")
    if foreign > 0.1:
        notes.append(f"{where}: other processes used {foreign:.2f} cores meanwhile; unreliable")
    return notes


def best_of(results, mode, side):
    """The least disturbed of several rounds: for edgenas the round with the best
    figure; for PyTorch each variant's best time, then its fastest variant again."""
    if side == "edgenas":
        if mode == "train":
            return max(results, key=lambda r: r["images_per_s"])
        return min(results, key=lambda r: r["median_ms"])
    merged = dict(results[0])
    variants = {}
    for r in results:
        for k, v in r["variants"].items():
            if isinstance(v, float):
                variants[k] = min(v, variants[k]) if isinstance(variants.get(k), float) else v
            else:
                variants.setdefault(k, v)
    ok = {k: v for k, v in variants.items() if isinstance(v, float)}
    best = min(ok, key=ok.get)
    merged.update(variants=variants, variant=best, ms=ok[best], images_per_s=BATCH / (ok[best] / 1e3))
    return merged


def measure(binary, presets, s, max_wait, rounds):
    """Alternates edgenas and PyTorch over presets x threads, `rounds` times each;
    returns rows (each side's best round) and notes. The rounds are the outer loop,
    so each preset's are minutes apart: a stretch in which the host (shared, its
    other tenants unseen from here) slows cross-core traffic, which edgenas's
    microsecond passes feel far more than PyTorch's, rarely spans them all."""
    params = {p: run_json([binary, "info", "--preset", p, "--json"], 1)["params"] for p in presets}
    cells = [(preset, threads) for preset in presets for threads in THREADS]
    got = {(cell, side, mode): [] for cell in cells for side in ("edgenas", "torch")
           for mode in ("latency", "train")}
    foreign = {cell: 0.0 for cell in cells}
    for r in range(rounds):
        for cell in cells:
            preset, threads = cell
            for mode in ("latency", "train"):  # edgenas, PyTorch, edgenas, PyTorch
                for side, cmd in (("edgenas", edgenas_cmd(binary, preset, threads, mode, s)),
                                  ("torch", torch_cmd(preset, threads, mode, s))):
                    out, f = quiet_run(cmd, threads, max_wait)
                    got[cell, side, mode].append(out)
                    foreign[cell] = max(foreign[cell], f)
        print(f"  measured round {r + 1} of {rounds}", file=sys.stderr, flush=True)
    rows, notes = [], []
    for cell in cells:
        preset, threads = cell
        e = {mode: best_of(got[cell, "edgenas", mode], mode, "edgenas") for mode in ("latency", "train")}
        t = {mode: best_of(got[cell, "torch", mode], mode, "torch") for mode in ("latency", "train")}
        notes += sanity_notes(preset, threads, t, params[preset], foreign[cell])
        rows.append(dict(preset=preset, threads=threads, torch=t,
                         edgenas={**e["train"], **e["latency"]}, contended=foreign[cell] > 0.1,
                         train_ratio=e["train"]["images_per_s"] / t["train"]["images_per_s"],
                         lat_ratio=t["latency"]["ms"] / e["latency"]["median_ms"]))
    return rows, notes


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--edgenas", default=os.environ.get("EDGENAS_BIN") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "build", "server", "edgenas"),
                    help="edgenas binary (default: $EDGENAS_BIN, else build/server/edgenas)")
    ap.add_argument("--floor", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                    "..", "build", "tests", "bench", "fp32_floor"),
                    help="fp32_floor binary, for the least batch-1 time an fp32 engine can reach "
                         "(default: build/tests/bench/fp32_floor)")
    ap.add_argument("--quick", action="store_true", help="fewer repeats and steps")
    ap.add_argument("--check", action="store_true", help="exit 1 when a target fails")
    ap.add_argument("--rounds", type=int, default=3,
                    help="measure each side this many times, alternating, and keep each side's "
                         "best: the host's other tenants slow single runs by up to 40%% "
                         "(default 3; --quick makes it 1)")
    ap.add_argument("--max-wait", type=float, default=300,
                    help="seconds to wait for other processes to leave the CPUs before each run")
    ap.add_argument("--presets", default=",".join(PRESETS), help="comma-separated subset")
    ap.add_argument("--torch-worker", metavar="PRESET", help=argparse.SUPPRESS)
    ap.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    ap.add_argument("--mode", choices=("train", "latency"), help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.quick:
        a.rounds = 1
    if a.rounds < 1:
        ap.error("--rounds must be at least 1")
    if a.torch_worker:
        return torch_worker(a.torch_worker, a.threads, a.mode, a.quick)
    binary = os.path.abspath(a.edgenas)
    rows, notes = measure(binary, a.presets.split(","), settings(a.quick), a.max_wait, a.rounds)
    print_env(binary, rows[-1]["torch"]["train"]["env"], rows[-1]["edgenas"].get("isa", "?"),
              a.quick)
    print_table(rows)
    failed = check_targets(rows, fp32_floor(a.floor, a.presets.split(","), a.max_wait))
    for n in notes:
        print(f"note: {n}")
    if a.check and failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
