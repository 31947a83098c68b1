"""Do the fold ensemble's error bars hold what they state? A 5-fold cross-validation of the 320 galaxies that split
seed 0 does not hold out, its fold networks as one ensemble calibrated out of fold (as `crossval` does), then the 80
held-out galaxies predicted: the fraction within ± err and ± 2 err, with Wilson intervals, for the error model the
library uses (`ensemble_err(..., single_members=5)`, k fitted on single networks) beside the earlier one (the members'
spread added on top of a single network's error). Nothing is chosen on the 80 galaxies.

    python bench/fold_coverage.py        # writes bench/out/fold-coverage/fold_coverage.json (the folds: bench/out/cv320)

The cross-validation is the one `bench/ensembles.py` makes (same directory, same settings): either reuses the other's.
"""
from pathlib import Path
import numpy as np, pandas as pd
from fastcore.script import call_parse
from metallicity_cnn.core import sample_dir, save_json, binomial_interval, summarize
from metallicity_cnn.data import load_catalog, make_split
from metallicity_cnn.model import GalaxyModel, ensemble_err
from metallicity_cnn.crossval import crossval_run
from metallicity_cnn.predict import predict

def _held(r, err, z=1.):
    "Fraction of |r| within z err, with its count and Wilson 68% interval"
    k, n = int(np.sum(np.abs(r) <= z * err)), len(r)
    return dict(fraction=k / n, k=k, n=n, ci68=binomial_interval(k, n))

@call_parse
def main(out:str='bench/out', # benchmark outputs (the cross-validation goes to out/cv320)
        ):
    "Coverage of the fold ensemble's error bars on 80 galaxies that neither trained nor calibrated it"
    s, out = sample_dir(), Path(out)
    df, _ = load_catalog(s/'catalog.csv', s/'images', progress=False)
    split = make_split(df, seed=0)
    test, rest = df[split == 'test'].reset_index(drop=True), df[split != 'test'].reset_index(drop=True)
    cv = crossval_run(rest, s/'images', out/'cv320', folds=5, progress=True)
    model = GalaxyModel.load(out/'cv320')
    m = test.merge(predict(model, s/'images', test, progress=False), on='objID')
    k, M, r = model.meta['err_scale'][0], len(model.nets), m.oh_p50_pred - m.oh_p50
    sigma = m.oh_p50_sigma if model.gaussian else None
    errs = {'single networks, less what averaging removes (the library)': ensemble_err(m.oh_p50_member_std, k, sigma, single_members=M),
            'spread added on top (before)': ensemble_err(m.oh_p50_member_std, k, sigma)}
    rows = {name: dict(within1=_held(r, e), within2=_held(r, e, 2.), median_err=float(np.median(e))) for name, e in errs.items()}
    doc = dict(command='python bench/fold_coverage.py', n_test=len(test), n_cv=len(rest), members=M, err_scale=k, err_basis=model.err_basis,
               test=summarize(m.oh_p50_pred, m.oh_p50), oof=cv['metrics']['oof']['oh_p50'], fold_spread=cv['fold_spread']['oh_p50'], rows=rows)
    save_json(doc, out/'fold-coverage'/'fold_coverage.json')
    print(f"fold ensemble of {M} (5-fold cross-validation of {len(rest)}; k = {k:.4f} out of fold), on the {len(test)} held-out galaxies: "
          f"RMSE {doc['test']['rmse']:.4f}, median member spread {m.oh_p50_member_std.median():.4f}")
    for name, v in rows.items():
        a, b = v['within1'], v['within2']
        print(f"  {name}: within ±err {a['fraction']:.3f} [{a['ci68'][0]:.3f}, {a['ci68'][1]:.3f}] (nominal 0.683), "
              f"±2 err {b['fraction']:.3f} [{b['ci68'][0]:.3f}, {b['ci68'][1]:.3f}] (nominal 0.954); median err {v['median_err']:.4f}")
