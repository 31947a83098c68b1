"""Small-sample recipes judged out of fold (issue #24's protocol): each candidate and the reference recipe are
cross-validated on the same 5 folds of all 400 real galaxies, for two fold seeds; the candidate's out-of-fold RMSE minus
the reference's, with a paired bootstrap over the galaxies (a galaxy's predictions under both fold seeds resampled
together), and the CPU time per network. No test split is looked at: every galaxy is scored by a network that did not
see it, and nothing is chosen on them beyond this table.

The reference is the `default` recipe as it was before this table chose its successor (dihedral flips, weight decay
0.01); `default` is now the winner, `rotate-wd0.1` predicted at 32 angles (`rotate-wd0.1+tta32`). Each candidate names
every setting it changes from the current `default`, so the table means the same whatever `default` becomes: a run is
reused only when the recipe it would train now is the one it was trained with. The winner: the lowest out-of-fold RMSE
among rows costing at most 1.5 times the reference's time; a costlier row is taken only if it beats that by a resolved
margin (paired 95% interval below zero).

    python bench/candidates.py                           # the reference and the candidates below; writes bench/out/candidates/
    python bench/candidates.py --names rotate            # one candidate (the reference is always run)
"""
from pathlib import Path
import numpy as np, pandas as pd
from fastcore.script import call_parse, Param
from metallicity_cnn.core import sample_dir, save_json, load_json, paired_difference, atomic_write
from metallicity_cnn.crossval import crossval_run, crossval_metrics
from metallicity_cnn.predict import predict
from metallicity_cnn.analyses import image_colour_features, morphology_features

FORMER = dict(augment='dihedral', wd=0.01) # the default recipe before this table: the reference
REFERENCE = 'former-default'
CANDIDATES = {REFERENCE: FORMER, # name: recipe settings changed from `default` (recipe 'auto' on 400 galaxies)
              'rotate': FORMER | dict(augment='rotate'), 'rotate-wd0.1': FORMER | dict(augment='rotate', wd=0.1),
              'rotate-120ep': FORMER | dict(augment='rotate', epochs=120), 'rotate-48px': FORMER | dict(augment='rotate', size=48),
              'rotate+tta32': dict(base='rotate', tta='rotate'), 'rotate-wd0.1+tta32': dict(base='rotate-wd0.1', tta='rotate'),
              'rotate-120ep+tta32': dict(base='rotate-120ep', tta='rotate'),
              'stacked': dict(base='rotate-wd0.1+tta32', stack='image colours and morphology')}
# `stack`: that candidate's out-of-fold prediction joined with measurements of the same images in a ridge regression, fitted
# fold by fold on the other folds' galaxies. `base` alone: that candidate's networks predicted with another `tta`; the others were predicted with the 8 dihedral views
# (crossval keeps a fold's out-of-fold predictions while its network is unchanged)
DEFAULT = 'rotate-wd0.1+tta32' # what `default` now is

def _dir(out:Path, name:str, fold_seed:int) -> Path:
    return out/'candidates'/f"{'default' if name == REFERENCE else name}-f{fold_seed}" # the reference's runs predate its name

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

def _image_features(out:Path, s:Path) -> pd.DataFrame:
    "Image colours in annuli and statmorph morphology of every cutout of the sample, by id (measured once, kept in `out`)"
    f = out/'candidates'/'image_features.csv'
    if not f.is_file():
        ids = pd.read_csv(s/'catalog.csv', dtype={'objID': str}).objID
        files = [s/'images'/f'{i}.jpg' for i in ids]
        (Xc, nc), (Xm, nm) = image_colour_features(files), morphology_features(files)
        with atomic_write(f) as o: pd.DataFrame(np.hstack([Xc, Xm]), columns=nc + nm).assign(objID=ids.to_numpy()).to_csv(o, index=False)
    return pd.read_csv(f, dtype={'objID': str}).set_index('objID')

def _stack_run(base:Path, d:Path, feats:pd.DataFrame) -> dict:
    "Out-of-fold predictions of a ridge regression on `base`'s out-of-fold prediction and `feats`, fold by fold on the same folds, in `d/oof.csv`"
    from sklearn.linear_model import RidgeCV
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.impute import SimpleImputer
    oof = _oof(base)
    X = feats.loc[oof.index].assign(cnn=oof.oh_p50_pred).to_numpy(float)
    pred = np.full(len(oof), np.nan)
    for i in np.unique(oof.fold):
        tr, te = (oof.fold != i).to_numpy(), (oof.fold == i).to_numpy()
        m = make_pipeline(SimpleImputer(strategy='median'), StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 13)))
        pred[te] = m.fit(X[tr], oof.oh_p50.to_numpy()[tr]).predict(X[te])
    new = oof[['oh_p50', 'fold']].assign(oh_p50_pred=pred).reset_index()
    d.mkdir(parents=True, exist_ok=True)
    with atomic_write(d/'oof.csv') as f: new.to_csv(f, index=False)
    return crossval_metrics(new.drop(columns='oh_p50'), new[['objID', 'oh_p50']], ['oh_p50'], 'objID')

def _seconds(runs) -> float:
    "Median over the fold networks of `runs` of the training seconds each `model.json` records: robust to a few trained while other work shared the cores"
    return float(np.median([load_json(f)['train_seconds'] for d in runs for f in sorted(d.glob('fold*/model.json'))]))

def _seed_mean_rmse(pred, true):
    "RMSE of each fold seed's predictions (columns of `pred`), averaged over the fold seeds"
    return float(np.mean(np.sqrt(((pred - true[:, None])**2).mean(0))))

def _paired(cand:list, ref:list, n_boot:int=2000) -> dict:
    "Mean over fold seeds of RMSE(candidate) − RMSE(reference): `paired_difference` with a galaxy's predictions under every fold seed resampled together"
    c, r = (np.stack([d.oh_p50_pred.to_numpy() for d in x], 1) for x in (cand, ref)) # (galaxies, fold seeds)
    return paired_difference(c, r, cand[0].oh_p50.to_numpy(), stat=_seed_mean_rmse, n_boot=n_boot)

@call_parse
def main(names:Param('candidates to run besides the reference', str, nargs='+')=[n for n in CANDIDATES if n not in (REFERENCE, 'rotate-48px')],
         fold_seeds:Param('fold seeds', int, nargs='+')=[0, 1],
         out:str='bench/out', # benchmark outputs
        ):
    "Cross-validate the reference and the candidates on the same folds; print and write the out-of-fold table"
    s, out = sample_dir(), Path(out)
    rows, table = {}, out/'candidates'/'candidates.json'
    for name in [REFERENCE, *[n for n in names if n != REFERENCE]]:
        per = []
        for fs in fold_seeds:
            d = _dir(out, name, fs)
            c = dict(CANDIDATES[name])
            if 'stack' in c: cv = _stack_run(_dir(out, c['base'], fs), d, _image_features(out, s))
            elif 'base' in c: cv = _tta_run(_dir(out, c.pop('base'), fs), d, c['tta'], s)
            else: cv = crossval_run(s/'catalog.csv', s/'images', d, folds=5, recipe='auto', fold_seed=fs, progress=False, **c)
            per.append(dict(fold_seed=fs, oof=cv['metrics']['oof']['oh_p50'], fold_spread=cv['fold_spread']['oh_p50']['rmse']))
            print(f"{name} fold seed {fs}: out-of-fold RMSE {per[-1]['oof']['rmse']:.4f} {per[-1]['oof']['rmse_ci68']}", flush=True)
        base = name
        while 'base' in CANDIDATES[base]: base = CANDIDATES[base]['base'] # the candidate whose networks these are
        rows[name] = dict(overrides=CANDIDATES[name], runs=per, rmse=float(np.mean([p['oof']['rmse'] for p in per])),
                          seconds_per_network=_seconds([_dir(out, base, fs) for fs in fold_seeds]),
                          recipe=load_json(_dir(out, base, fold_seeds[0])/'fold0'/'model.json')['recipe'])
        if name == DEFAULT: rows[name]['is_default'] = True
        if name != REFERENCE:
            d = _paired([_oof(_dir(out, name, fs)) for fs in fold_seeds], [_oof(_dir(out, REFERENCE, fs)) for fs in fold_seeds])
            rows[name]['minus_reference'] = d
            rows[name]['verdict'] = ('better' if d['ci95'][1] < 0 else 'worse' if d['ci95'][0] > 0 else 'no difference resolved')
        if (b := CANDIDATES[name].get('base')): # what the added step (TTA, stacking) does on the same networks
            rows[name]['minus_base'] = _paired([_oof(_dir(out, name, fs)) for fs in fold_seeds], [_oof(_dir(out, b, fs)) for fs in fold_seeds])
    t0 = rows[REFERENCE]['seconds_per_network']
    for r in rows.values(): r['time_ratio'] = r['seconds_per_network'] / t0 if t0 and r['seconds_per_network'] else None
    save_json(dict(command='python bench/candidates.py', n=400, folds=5, fold_seeds=fold_seeds, reference=REFERENCE, rows=rows), table)
    print(f"\n{'candidate':20s} {'OOF RMSE':>9s} {'minus reference [95%]':>32s} {'s/network':>10s}  verdict")
    for name, r in rows.items():
        d = r.get('minus_reference')
        print(f"{name:20s} {r['rmse']:9.4f} " + (f"{d['diff']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]".rjust(32) if d else ' '*32)
              + f" {r['seconds_per_network'] or float('nan'):10.0f}  {r.get('verdict', 'reference')}")
