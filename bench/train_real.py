"""Train a recipe on the 400 real SDSS galaxies of the shared sample (seeded 60/20/20 split) for several training seeds.

Prints, per seed, test RMSE and NMAD with bootstrap 68% intervals, the mean-predictor RMSE on the same split and the wall
time; then the mean and spread over seeds, and the metrics of the seed ensemble (predictions averaged over seeds).

    python bench/train_real.py                      # the default recipe, seeds 0 1 2
    python bench/train_real.py --recipe paper --seeds 0
    python bench/train_real.py --set arch=resnet34 size=128 epochs=40   # recipe overrides
"""
import time
from pathlib import Path
import pandas as pd
from fastcore.script import call_parse, Param
from metallicity_cnn.core import sample_dir, summarize
from metallicity_cnn.train import train_run, split_rows
from metallicity_cnn.model import GalaxyModel

def _val(v):
    for f in (int, float):
        try: return f(v)
        except ValueError: pass
    return v

@call_parse
def main(recipe:str='default', # training recipe
         seeds:Param('training seeds', int, nargs='+')=[0, 1, 2],
         split_seed:int=0, # seed of the 60/20/20 split
         set:Param('recipe overrides key=value', str, nargs='*')=[],
         out:str='bench/out', # benchmark outputs (a run per seed: out/real-<recipe and overrides>-s<seed>)
        ):
    "Train a recipe on the 400 real SDSS galaxies for several training seeds; print test metrics per seed, over seeds and of their ensemble"
    over = {k: _val(v) for k, v in (s.split('=', 1) for s in set)}
    sample = sample_dir()
    cat = pd.read_csv(sample/'catalog.csv', dtype={'objID': str})
    tag = recipe + ''.join(f'-{k}{v}' for k, v in over.items())
    rows, runs = [], []
    for s in seeds:
        t0 = time.time()
        run = Path(out)/f'real-{tag}-s{s}'
        m = train_run(cat, sample/'images', run, recipe=recipe, seed=s, split_seed=split_seed, progress=False, **over)
        wall = time.time() - t0
        te, va = m['metrics']['test']['oh_p50'], m['metrics']['valid']['oh_p50']
        rows.append(dict(seed=s, valid_rmse=va['rmse'], test_rmse=te['rmse'], test_nmad=te['nmad'], wall_s=wall))
        print(f"seed {s}: test RMSE {te['rmse']:.4f} [{te['rmse_ci68'][0]:.4f}, {te['rmse_ci68'][1]:.4f}]  "
              f"NMAD {te['nmad']:.4f} [{te['nmad_ci68'][0]:.4f}, {te['nmad_ci68'][1]:.4f}]  "
              f"mean-predictor RMSE {te['rmse_mean_predictor']:.4f}  valid RMSE {va['rmse']:.4f}  n_test {te['n']}  wall {wall:.0f} s", flush=True)
        runs.append(run)
    r = pd.DataFrame(rows)
    print(f"\n{tag}: test RMSE mean {r.test_rmse.mean():.4f} sd {r.test_rmse.std(ddof=1) if len(r) > 1 else 0:.4f}; "
          f"NMAD mean {r.test_nmad.mean():.4f} sd {r.test_nmad.std(ddof=1) if len(r) > 1 else 0:.4f}; "
          f"valid RMSE mean {r.valid_rmse.mean():.4f}; wall mean {r.wall_s.mean():.0f} s per seed")
    if len(runs) > 1: # the seed ensemble: the mean of the networks' predictions, as `train --ensemble` makes it
        test = split_rows(runs[0], cat)
        p = GalaxyModel.ensemble(Path(out)/f'real-{tag}-ensemble', runs, save=False).predict(sample/'images', test, progress=False).merge(test, on='objID')
        ens = summarize(p.oh_p50_pred, p.oh_p50)
        print(f"ensemble of {len(runs)} seeds: test RMSE {ens['rmse']:.4f} [{ens['rmse_ci68'][0]:.4f}, {ens['rmse_ci68'][1]:.4f}] NMAD {ens['nmad']:.4f}")
    print(f"mean predictor (train mean) test RMSE {m['metrics']['test']['oh_p50']['rmse_mean_predictor']:.4f}")
