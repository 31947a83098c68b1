"""Speed of the survey simulator: galaxies per second, images and catalogue written, for 1 and 2 worker processes.

    python bench/simulate.py                 # 600 galaxies at 128 px, workers 1 and 2
    python bench/simulate.py --n 2000 --size 64 --workers 1 2 4
"""
import os, tempfile, time
from pathlib import Path
from fastcore.script import call_parse, Param
from metallicity_cnn.simulate import simulate_survey, draw_galaxies

@call_parse
def main(n:int=600, # galaxies
         size:int=128, # image side in pixels
         workers:Param('worker processes to time, one run each', int, nargs='+')=[1, 2],
        ):
    "Galaxies per second of the survey simulator, for each number of worker processes"
    print(f"{os.cpu_count()} CPU cores, load average {os.getloadavg()[0]:.1f}")
    t = time.perf_counter(); draw_galaxies(n, seed=1)
    print(f"draw_galaxies (catalogue only): {n/(time.perf_counter() - t):,.0f} galaxies/s")
    with tempfile.TemporaryDirectory() as d:
        for w in workers:
            t = time.perf_counter()
            simulate_survey(n, Path(d)/f'w{w}', seed=0, size=size, workers=w, progress=False)
            dt = time.perf_counter() - t
            print(f"simulate_survey n={n} size={size} workers={w}: {dt:.1f} s, {n/dt:.0f} galaxies/s")
