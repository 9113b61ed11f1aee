#!/usr/bin/env python3
"""Runs every benchmark of bench/README.md in one go and prints its results table (markdown).

  python3 bench/run_bench.py [--build build] [--data data/mnist] [--rounds 5] [--out bench/results-latest.md]

Measured side by side in one run: the core's float32 FMA peak (a register-resident loop at the build's
widest vector) and Eigen's GEMM speed (1024^2 and 2048^2) at 1 and 2 threads; tinygan's training step and the PyTorch port's (bench/pytorch_gan.py), alternating runs
so that drift hits both; per-layer times; the full 10000-step mnist_gan run's wall time and peak
RSS; and the compile cost of gan.hpp and of the example. bash bench/run.sh installs, builds, runs it.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

# Each step's work at its minimum (no product nobody needs, no tap outside an image); bench/README.md
# derives them from the shapes. Rates below are these counts over the measured time.
DCGAN_GFLOP = 13.44
STEP_GEMM_MFLOP = {"document": 66.73, "keras-gan": 599.6}


def run(cmd, env=None):
    """Runs cmd, returns (stdout, seconds, peak RSS in MiB of that child)."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    out, err = "", ""
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    out = proc.stdout.read()
    err = proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(cmd)} failed:\n{out}\n{err}")
    return out, seconds, usage.ru_maxrss / 1024


def field(text, key):
    m = re.search(rf"{key}=([^\s]+)", text)
    return m.group(1) if m else "?"


def torch_env(threads):
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               LD_LIBRARY_PATH="/usr/lib/x86_64-linux-gnu/openblas-openmp")
    env.pop("OPENBLAS_L2_SIZE", None)
    env.pop("OPENBLAS_CORETYPE", None)
    # OpenBLAS 0.3.21 (Debian 12) does not recognise newer AVX-512 CPUs and falls back to its
    # "Prescott" kernels, 5x slower here; give PyTorch the AVX-512 kernels it would get on a
    # CPU it knows. bench/README.md shows both.
    with open("/proc/cpuinfo") as f:
        if " avx512f" in f.read():
            env["OPENBLAS_CORETYPE"] = "SkylakeX"
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--data", default="data/mnist")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=2000)
    ap.add_argument("--out", default="bench/results-latest.md")
    ap.add_argument("--libtorch-build", default="build-torch")
    ap.add_argument("--dcgan-rounds", type=int, default=3)
    args = ap.parse_args()
    bench = os.path.join(args.build, "bench", "gan_bench")
    gan = os.path.join(args.build, "examples", "mnist_gan")
    torch_script = os.path.join(os.path.dirname(__file__), "pytorch_gan.py")
    lines = []

    def say(line=""):
        print(line, flush=True)
        lines.append(line)

    cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
    say(f"Machine: {cpu}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")
    say()

    peak, fma = {}, {}
    say("Floors: the core's FMA peak and Eigen's GEMM on big square matrices (GFLOP/s):")
    say()
    say("| threads | FMA peak | vector bits | Eigen GEMM 1024^2 | Eigen GEMM 2048^2 |")
    say("|---|---|---|---|---|")
    for t in (1, 2):
        out, _, _ = run([bench, "peak", "--threads", str(t)])
        fma[t] = float(re.search(r"fma .*gflops=([\d.]+)", out).group(1))
        gemm = {int(n): float(g) for n, g in re.findall(r"peak .*n=(\d+) gflops=([\d.]+)", out)}
        peak[t] = max(gemm.values())
        say(f"| {t} | {fma[t]:.0f} | {field(out, 'vector_bits')} | {gemm[1024]:.0f} | {gemm[2048]:.0f} |")
    say()

    torch_info = ""

    def pairs(recipe, t, steps, torch_steps):
        """Alternating runs of tinygan and the PyTorch port, so drift in the machine hits both."""
        nonlocal torch_info
        ours, theirs = [], []
        for r in range(args.rounds):
            out, _, _ = run([bench, "step", "--recipe", recipe, "--data", args.data, "--threads", str(t), "--steps", str(steps)])
            ours.append(float(field(out, "ms_per_step")))
            out, _, _ = run([sys.executable, torch_script, "--recipe", recipe, "--data", args.data, "--threads", str(t),
                             "--steps", str(torch_steps), "--warmup", str(max(20, torch_steps // 10))], env=torch_env(t))
            theirs.append(float(field(out, "ms_per_step")))
            torch_info = f"torch {field(out, 'torch')}, BLAS loaded: {field(out, 'blas_libs')}"
        return ours, theirs

    for recipe, steps, torch_steps in (("document", args.steps, max(1000, args.steps // 2)), ("keras-gan", 300, 200)):
        say(f"Recipe {recipe} ({STEP_GEMM_MFLOP[recipe]} MFLOP of matrix products a step, at its minimum):")
        say()
        say("| threads | tinygan ms/step | PyTorch ms/step | tinygan / PyTorch (median of pairs) | tinygan GFLOP/s | of FMA peak | of Eigen GEMM |")
        say("|---|---|---|---|---|---|---|")
        details = []
        for t in (1, 2):
            ours, theirs = pairs(recipe, t, steps, torch_steps)
            ms = statistics.median(ours)
            ratios = [a / b for a, b in zip(ours, theirs)]
            achieved = STEP_GEMM_MFLOP[recipe] / ms
            say(f"| {t} | {ms:.3f} | {statistics.median(theirs):.3f} | {statistics.median(ratios):.2f} "
                f"| {achieved:.1f} | {achieved / fma[t]:.0%} | {achieved / peak[t]:.0%} |")
            details.append(f"{t} thread{'s' if t > 1 else ''}: tinygan {ours}, PyTorch {theirs}, ratios "
                           f"{', '.join(f'{r:.2f}' for r in ratios)}")
        say()
        say("Per run (ms/step): " + "; ".join(details))
        say()
    say(f"PyTorch side: {torch_info}, OPENBLAS_CORETYPE={torch_env(1).get('OPENBLAS_CORETYPE', '(auto)')}")
    say()

    # The DCGAN against libtorch C++ and PyTorch Python, alternating, at 1 and 2 threads.
    libtorch = os.path.join(args.libtorch_build, "bench", "libtorch_dcgan")
    dcgan_script = os.path.join(os.path.dirname(__file__), "pytorch_dcgan.py")
    if args.dcgan_rounds > 0:
        say(f"DCGAN ({DCGAN_GFLOP} GFLOP a step at its minimum; batch 64):")
        say()
        say("| threads | tinygan ms/step | libtorch ms/step | PyTorch ms/step | tinygan / libtorch | tinygan / PyTorch | tinygan GFLOP/s | of FMA peak | of Eigen GEMM |")
        say("|---|---|---|---|---|---|---|---|---|")
        runs = []
        for t in (1, 2):
            ours, lt, pt = [], [], []
            for r in range(args.dcgan_rounds):
                out, _, _ = run([bench, "dcgan", "--data", args.data, "--threads", str(t), "--steps", "20", "--warmup", "3"])
                ours.append(float(field(out, "ms_per_step")))
                if r == 0:
                    layer_lines = [l for l in out.splitlines() if l.startswith("layer ")]
                out, _, _ = run([libtorch, "--data", args.data, "--threads", str(t), "--steps", "20", "--warmup", "3"],
                                env=dict(torch_env(t), LD_LIBRARY_PATH=""))
                lt.append(float(field(out, "ms_per_step")))
                out, _, _ = run([sys.executable, dcgan_script, "--data", args.data, "--threads", str(t), "--steps", "20",
                                 "--warmup", "3"], env=dict(torch_env(t), LD_LIBRARY_PATH=""))
                pt.append(float(field(out, "ms_per_step")))
            ms = statistics.median(ours)
            say(f"| {t} | {ms:.1f} | {statistics.median(lt):.1f} | {statistics.median(pt):.1f} "
                f"| {statistics.median(a / b for a, b in zip(ours, lt)):.2f} | {statistics.median(a / b for a, b in zip(ours, pt)):.2f} "
                f"| {DCGAN_GFLOP / ms * 1e3:.1f} | {DCGAN_GFLOP / ms * 1e3 / fma[t]:.0%} | {DCGAN_GFLOP / ms * 1e3 / peak[t]:.0%} |")
            runs.append(f"{t} thread{'s' if t > 1 else ''}: tinygan {ours}, libtorch {lt}, PyTorch {pt}")
        say()
        say("Per run (ms/step): " + "; ".join(runs))
        say()
        say("DCGAN per layer, batch 64, 2 threads (median microseconds, tinygan):")
        say()
        say("```")
        for line in layer_lines:
            say(line.replace("layer ", "", 1))
        say("```")
        say()

    # A busy machine: another process keeps one core busy the whole time (pinned to the last CPU).
    hog = subprocess.Popen(["taskset", "-c", str(os.cpu_count() - 1), sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(1)
        busy = {1: [], 2: []}
        for r in range(args.rounds):
            for t in (1, 2):
                out, _, _ = run([bench, "step", "--data", args.data, "--threads", str(t), "--steps", str(args.steps)])
                busy[t].append(float(field(out, "ms_per_step")))
    finally:
        hog.kill()
        hog.wait()
    ratio = [b / a for a, b in zip(busy[1], busy[2])]
    say("Busy machine (a CPU-bound process pinned to one of the cores), document recipe:")
    say()
    say("| threads | tinygan ms/step (median of runs) | 2 threads / 1 thread (median of pairs) |")
    say("|---|---|---|")
    say(f"| 1 | {statistics.median(busy[1]):.3f} | |")
    say(f"| 2 | {statistics.median(busy[2]):.3f} | {statistics.median(ratio):.2f} |")
    say()
    say(f"Per run (ms/step), 1 thread: {busy[1]}; 2 threads: {busy[2]}")
    say()

    out, _, _ = run([bench, "layers"])
    say("Per layer, batch 32, 1 thread (median microseconds):")
    say()
    say("```")
    for line in out.strip().splitlines():
        say(line.replace("layer ", "", 1))
    say("```")
    say()

    with tempfile.TemporaryDirectory() as tmp:
        for t in (1, 2):
            out, seconds, rss = run([gan, "--data", args.data, "--out", os.path.join(tmp, f"run{t}"), "--threads", str(t),
                                     "--log-every", "0", "--sample-every", "0", "--checkpoint-every", "0"])
            m = re.search(r"Final D loss ([\d.]+), G loss ([\d.]+)", out)
            say(f"Full run, 10000 steps, {t} thread{'s' if t > 1 else ''}: {seconds:.1f} s wall (with start-up, "
                f"loading MNIST and writing the outputs), peak RSS {rss:.0f} MiB, final D loss {m.group(1)}, G loss {m.group(2)}")

        include = os.path.join(os.path.dirname(__file__), "..", "include")
        source = os.path.join(tmp, "only_gan.cpp")
        with open(source, "w") as f:
            f.write("#include <tinygan/gan.hpp>\nint main() { return 0; }\n")
        flags = ["g++", "-std=c++17", "-O3", "-march=native", "-I", include, "-isystem", "/usr/include/eigen3", "-c"]
        _, seconds, rss = run(flags + [source, "-o", os.path.join(tmp, "a.o")])
        say()
        say(f"Compile cost (g++ -O3 -march=native): a file that only includes tinygan/gan.hpp: {seconds:.2f} s, "
            f"{rss:.0f} MiB peak;", )
        conv_source = os.path.join(tmp, "only_conv.cpp")
        with open(conv_source, "w") as f:
            f.write("#include <tinygan/conv.hpp>\nint main() { return 0; }\n")
        _, conv_seconds, conv_rss = run(flags + [conv_source, "-o", os.path.join(tmp, "c.o")])
        lines[-1] += f" a file that only includes tinygan/conv.hpp: {conv_seconds:.2f} s, {conv_rss:.0f} MiB peak;"
        example = os.path.join(os.path.dirname(__file__), "..", "examples", "mnist_gan", "main.cpp")
        _, seconds, rss = run(flags + [example, "-o", os.path.join(tmp, "b.o")])
        lines[-1] += f" the mnist_gan example: {seconds:.2f} s, {rss:.0f} MiB peak."
        print(f"  the mnist_gan example: {seconds:.2f} s, {rss:.0f} MiB peak.")

    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"\n(wrote {args.out})")


if __name__ == "__main__":
    main()
