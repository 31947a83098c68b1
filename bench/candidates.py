"""Small-sample recipes judged out of fold (issue #24's protocol): each candidate and the `default` recipe are
cross-validated on the same 5 folds of all 400 real galaxies, for two fold seeds; the candidate's out-of-fold RMSE minus
`default`'s, with a paired bootstrap over the galaxies (a galaxy's predictions under both fold seeds resampled
together), and the CPU time per network. No test split is looked at: every galaxy is scored by a network that did not
see it, and nothing is chosen on them beyond this table.

    python bench/candidates.py                           # default and the candidates below; writes bench/out/candidates/
    python bench/candidates.py --names rotate            # one candidate (default is always run: it is the reference)

Default with fold seed 0 is the run of `metallicity-cnn crossval ... --out bench/out/cv5 --folds 5` (reused when there).
"""
import time
from pathlib import Path
import numpy as np, pandas as pd
from fastcore.script import call_parse, Param
from metallicity_cnn.core import sample_dir, save_json, load_json, paired_difference, atomic_write
from metallicity_cnn.crossval import crossval_run, crossval_metrics
from metallicity_cnn.predict import predict

CANDIDATES = {'default': {}, 'rotate': dict(augment='rotate'), # name: recipe overrides of `default` (recipe 'auto' on 400 galaxies)
              'rotate-wd0.1': dict(augment='rotate', wd=0.1), 'rotate-120ep': dict(augment='rotate', epochs=120),
              'rotate-48px': dict(augment='rotate', size=48),
              'rotate+tta32': dict(base='rotate', tta='rotate')} # `base`: the networks of that candidate, predicted with another `tta`

def _dir(out:Path, name:str, fold_seed:int) -> Path:
    return out/'cv5' if (name, fold_seed) == ('default', 0) else out/'candidates'/f'{name}-f{fold_seed}'

def _oof(run:Path) -> pd.DataFrame:
    return pd.read_csv(run/'oof.csv', dtype={'objID': str}).set_index('objID').sort_index()

def _tta_run(base:Path, d:Path, tta:str, s:Path) -> dict:
    "Out-of-fold predictions of `base`'s fold networks made with test-time augmentation `tta`, written to `d/oof.csv`; its metrics as `crossval_run` gives them"
    oof = _oof(base).reset_index()
    if not (d/'oof.csv').is_file():
        parts = [predict(base/f'fold{i}', s/'images', g[['objID']], tta=tta, progress=False).assign(fold=i) for i, g in oof.groupby('fold')]
        new = oof[['objID', 'oh_p50']].merge(pd.concat(parts), on='objID')
        d.mkdir(parents=True, exist_ok=True)
        with atomic_write(d/'oof.csv') as f: new.to_csv(f, index=False)
    new = pd.read_csv(d/'oof.csv', dtype={'objID': str})
    return crossval_metrics(new.drop(columns='oh_p50'), oof[['objID', 'oh_p50']], ['oh_p50'], 'objID')

def _seed_mean_rmse(pred, true):
    "RMSE of each fold seed's predictions (columns of `pred`), averaged over the fold seeds"
    return float(np.mean(np.sqrt(((pred - true[:, None])**2).mean(0))))

def _paired(cand:list, ref:list, n_boot:int=2000) -> dict:
    "Mean over fold seeds of RMSE(candidate) − RMSE(reference): `paired_difference` with a galaxy's predictions under every fold seed resampled together"
    c, r = (np.stack([d.oh_p50_pred.to_numpy() for d in x], 1) for x in (cand, ref)) # (galaxies, fold seeds)
    return paired_difference(c, r, cand[0].oh_p50.to_numpy(), stat=_seed_mean_rmse, n_boot=n_boot)

@call_parse
def main(names:Param('candidates to run besides default', str, nargs='+')=list(CANDIDATES)[1:],
         fold_seeds:Param('fold seeds', int, nargs='+')=[0, 1],
         out:str='bench/out', # benchmark outputs
        ):
    "Cross-validate default and the candidates on the same folds; print and write the out-of-fold table"
    s, out = sample_dir(), Path(out)
    rows, table = {}, out/'candidates'/'candidates.json'
    for name in ['default', *[n for n in names if n != 'default']]:
        per, secs = [], []
        for fs in fold_seeds:
            d = _dir(out, name, fs); t0 = time.time()
            done = (d/'metrics.json').is_file()
            c = dict(CANDIDATES[name])
            if 'base' in c: cv = _tta_run(_dir(out, c.pop('base'), fs), d, c['tta'], s)
            else: cv = crossval_run(s/'catalog.csv', s/'images', d, folds=5, recipe='auto', fold_seed=fs, progress=False, **c)
            if not done and 'base' not in CANDIDATES[name]: save_json(dict(seconds_per_network=(time.time() - t0) / 5), d/'timing.json')
            if (d/'timing.json').is_file(): secs.append(load_json(d/'timing.json')['seconds_per_network']) # timed when it was trained
            per.append(dict(fold_seed=fs, oof=cv['metrics']['oof']['oh_p50'], fold_spread=cv['fold_spread']['oh_p50']['rmse']))
            print(f"{name} fold seed {fs}: out-of-fold RMSE {per[-1]['oof']['rmse']:.4f} {per[-1]['oof']['rmse_ci68']}", flush=True)
        base = CANDIDATES[name].get('base', name)
        rows[name] = dict(overrides=CANDIDATES[name], runs=per, rmse=float(np.mean([p['oof']['rmse'] for p in per])),
                          seconds_per_network=float(np.mean(secs)) if secs else rows.get(base, {}).get('seconds_per_network'),
                          recipe=load_json(_dir(out, base, fold_seeds[0])/'fold0'/'model.json')['recipe'])
        if name != 'default':
            d = _paired([_oof(_dir(out, name, fs)) for fs in fold_seeds], [_oof(_dir(out, 'default', fs)) for fs in fold_seeds])
            rows[name]['minus_default'] = d
            rows[name]['verdict'] = ('better' if d['ci95'][1] < 0 else 'worse' if d['ci95'][0] > 0 else 'no difference resolved')
    t0 = rows['default']['seconds_per_network']
    for r in rows.values(): r['time_ratio'] = r['seconds_per_network'] / t0 if t0 and r['seconds_per_network'] else None
    save_json(dict(command='python bench/candidates.py', n=400, folds=5, fold_seeds=fold_seeds, rows=rows), table)
    print(f"\n{'candidate':12s} {'OOF RMSE':>9s} {'minus default [95%]':>32s} {'s/network':>10s}  verdict")
    for name, r in rows.items():
        d = r.get('minus_default')
        print(f"{name:12s} {r['rmse']:9.4f} " + (f"{d['diff']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]".rjust(32) if d else ' '*32)
              + f" {r['seconds_per_network'] or float('nan'):10.0f}  {r.get('verdict', 'reference')}")
