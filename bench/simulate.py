"""Speed of the survey simulator: galaxies per second, images and catalogue written, for 1 and 2 worker processes.

    python bench/simulate.py                 # 600 galaxies at 128 px, workers 1 and 2
    python bench/simulate.py --n 2000 --size 64 --workers 1 2 4
"""
import argparse, os, tempfile, time
from pathlib import Path
from metallicity_cnn.simulate import simulate_survey, draw_galaxies

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument('--n', type=int, default=600)
p.add_argument('--size', type=int, default=128)
p.add_argument('--workers', type=int, nargs='+', default=[1, 2])
a = p.parse_args()

print(f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}")
t = time.perf_counter(); draw_galaxies(a.n, seed=1)
print(f"draw_galaxies (catalogue only): {a.n/(time.perf_counter() - t):,.0f} galaxies/s")
with tempfile.TemporaryDirectory() as d:
    for w in a.workers:
        t = time.perf_counter()
        simulate_survey(a.n, Path(d)/f'w{w}', seed=0, size=a.size, workers=w, progress=False)
        dt = time.perf_counter() - t
        print(f"simulate_survey n={a.n} size={a.size} workers={w}: {dt:.1f} s, {a.n/dt:.0f} galaxies/s")
