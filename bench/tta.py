"""Compare the test-time augmentation modes of `predict` on the VALIDATION galaxies of trained runs (test galaxies unused).

For each run directory (model.json, model.pt, split.csv written by `train`), predicts its validation galaxies with no TTA,
the exact 8 dihedral views, 32 angles (`tta='rotate'`, the default for networks trained on every angle) and the authors'
1 + 4 random views (`tta='paper'`) for several TTA seeds, and prints RMSE and NMAD per run, their mean and sd over runs,
and the difference of the model's own TTA (`tta=True`) minus paper (per run: the mean over TTA seeds, with the sd over
seeds; over runs: the mean and sd of the per-run differences).

    PYTHONPATH=$PWD python bench/tta.py /work/main/bench/out/real-default-s*        # TTA seeds 0 1 2
    PYTHONPATH=$PWD python bench/tta.py RUN [RUN ...] --tta_seeds 0 1 2 3 4 --catalog CAT --images DIR
"""
import warnings
from pathlib import Path
import numpy as np, pandas as pd
from fastcore.script import call_parse, Param
from metallicity_cnn.core import sample_dir, rmse, nmad, save_json
from metallicity_cnn.train import split_rows
from metallicity_cnn.predict import predict

def run_metrics(run, cat, images, target, seeds, bs):
    "`{mode: (rmse, nmad)}` on the run's validation galaxies; 'paper' modes are keyed `paper-s<seed>`"
    valid = split_rows(run, cat, 'valid')
    if not len(valid): raise ValueError(f"{run}/split.csv names no validation galaxy of the catalogue")
    modes = [('none', 'none', 0), ('dihedral', 'dihedral', 0), ('rotate', 'rotate', 0), ('own', True, 0)] + [(f'paper-s{s}', 'paper', s) for s in seeds]
    res = {}
    for key, tta, s in modes:
        p = predict(run, images, valid[['objID']], tta=tta, tta_seed=s, bs=32, progress=False, device='cpu')
        assert p.objID.tolist() == valid.objID.tolist()
        res[key] = (rmse(p[f'{target}_pred'], valid[target]), nmad(p[f'{target}_pred'], valid[target]))
    return res, len(valid)

def summary(res, seeds, i):
    "`(none, dihedral, paper mean over seeds, paper sd over seeds, own - paper mean, its sd over seeds, rotate, own)` of metric `i`"
    paper = np.array([res[f'paper-s{s}'][i] for s in seeds])
    diff = res['own'][i] - paper
    return (res['none'][i], res['dihedral'][i], paper.mean(), paper.std(ddof=1) if len(seeds) > 1 else 0., diff.mean(), diff.std(ddof=1) if len(seeds) > 1 else 0.,
            res['rotate'][i], res['own'][i])

@call_parse
def main(runs:Param('run directories written by train', str, nargs='+'),
         tta_seeds:Param('seeds of the paper TTA (random views)', int, nargs='+')=[0, 1, 2],
         catalog:str=None, # catalogue with objID and the target (default: the shared sample)
         images:str=None, # image directory (default: the shared sample)
         target:str='oh_p50', # target column to score
         json:str=None, # also write the per-run summaries to this file (for bench/results.py)
        ):
    "RMSE and NMAD on the validation galaxies of trained runs with no TTA, the 8 dihedral views and the paper's random views"
    sample = sample_dir() if catalog is None or images is None else None
    cat = pd.read_csv(catalog or sample/'catalog.csv', dtype={'objID': str})
    images = Path(images or sample/'images')
    dirs = [Path(r) for r in runs if (Path(r)/'model.pt').is_file() and (Path(r)/'split.csv').is_file()]
    if not dirs: raise SystemExit("no complete run directory (model.pt and split.csv) among the arguments")
    rows = []
    for r in dirs:
        with warnings.catch_warnings():
            warnings.simplefilter('ignore')
            res, n = run_metrics(r, cat, images, target, tta_seeds, 32)
        rows.append((r.name, n, summary(res, tta_seeds, 0), summary(res, tta_seeds, 1)))
    print(f"TTA modes on validation galaxies; target {target}; paper TTA seeds {tta_seeds}; {len(dirs)} runs")
    for i, name in ((2, 'RMSE'), (3, 'NMAD')):
        print(f"\n{name} (dex)   paper: mean +- sd over TTA seeds; d = own - paper, mean +- sd over TTA seeds")
        print(f"{'run':22s} {'n':>4s} {'none':>7s} {'dihedral':>8s} {'rotate':>8s} {'own':>8s} {'paper':>16s} {'d (own-paper)':>18s}")
        for nm, n, *m in rows:
            v = m[i - 2]
            print(f"{nm:22s} {n:4d} {v[0]:7.4f} {v[1]:8.4f} {v[6]:8.4f} {v[7]:8.4f} {v[2]:8.4f} +- {v[3]:.4f} {v[4]:+9.4f} +- {v[5]:.4f}")
        v = np.array([r[i] for r in rows])
        sd = v.std(0, ddof=1) if len(rows) > 1 else np.zeros(v.shape[1])
        print(f"{'mean +- sd over runs':22s} {'':4s} " + ' '.join(f"{k} {v[:, j].mean():.4f}+-{sd[j]:.4f}" for k, j in (('none', 0), ('dihedral', 1), ('rotate', 6), ('own', 7), ('paper', 2)))
              + f" d {v[:, 4].mean():+.4f}+-{sd[4]:.4f} (runs with d < 0: {(v[:, 4] < 0).sum()}/{len(rows)})")

    if json:
        keys = ('none', 'dihedral', 'paper', 'paper_sd_seeds', 'own_minus_paper', 'diff_sd_seeds', 'rotate', 'own')
        save_json(dict(command='python bench/tta.py ' + ' '.join(map(str, runs)), tta_seeds=tta_seeds, target=target,
                       runs=[dict(run=nm, n=n, rmse=dict(zip(keys, m[0])), nmad=dict(zip(keys, m[1]))) for nm, n, *m in rows]), json)
