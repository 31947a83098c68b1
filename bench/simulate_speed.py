"""Galaxies per second per core of `simulate_survey`, and seconds of the image statistics of 400 cutouts (#23 §5), measured
in one run on this machine. Run it with no other work on the machine; an earlier version of the library can be timed the
same way from its own checkout (`PYTHONPATH=<checkout> python bench/simulate_speed.py --json ...`).

    python bench/simulate_speed.py --n 2000 --json bench/out/simulate-speed/simulate_speed.json
"""
import time, tempfile, inspect
from pathlib import Path
from fastcore.script import call_parse
import metallicity_cnn
from metallicity_cnn.core import sample_dir, save_json
from metallicity_cnn.simulate import simulate_survey
from metallicity_cnn.morphology import measure_cutouts

@call_parse
def main(n:int=2000, # galaxies to simulate with one worker
         stats:int=400, # cutouts whose image statistics are timed (2 workers), from the simulated survey and the real sample each (0: none)
         json:str=None, # also write the figures here
        ):
    "Time the simulation (one worker) and the image statistics (two workers)"
    tmp = Path(tempfile.mkdtemp())
    scale = inspect.signature(simulate_survey).parameters['scale'].default
    t = time.time(); simulate_survey(n, tmp/'sim', workers=1, progress=False); sim_s = time.time() - t
    files, real = sorted((tmp/'sim'/'images').glob('*.jpg'))[:stats], sorted((sample_dir()/'images').glob('*.jpg'))[:stats]
    t = time.time(); stats and measure_cutouts(files, workers=2, progress=False); stats_sim = time.time() - t
    t = time.time(); stats and measure_cutouts(real, workers=2, progress=False); stats_real = time.time() - t
    res = dict(version=metallicity_cnn.__version__, library=str(Path(metallicity_cnn.__file__).parent), scale=scale, n=n,
               simulate_seconds=sim_s, galaxies_per_second_per_core=n/sim_s, stats_cutouts=len(files),
               stats_seconds_simulated=stats_sim, stats_seconds_real=stats_real, twenty_thousand_on_2_cores_minutes=20000/(2*n/sim_s)/60)
    print(f"{metallicity_cnn.__file__} (scale {scale!r}): {n} galaxies in {sim_s:.1f} s on one core = {n/sim_s:.1f} galaxies/s/core "
          f"(20,000 on 2 cores: {res['twenty_thousand_on_2_cores_minutes']:.1f} min); image statistics of {len(files)} simulated cutouts "
          f"{stats_sim:.0f} s, of {len(real)} real ones {stats_real:.0f} s (2 workers)")
    if json: save_json(res, json)
