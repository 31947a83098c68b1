"""Single networks, a seed ensemble and a fold ensemble on the same 80 test galaxies of the 400-galaxy SDSS sample.

The measurement of issue #13. Split seed 0 holds out 80 test galaxies. On the other 320:
  - single networks: the default recipe with training seeds 0-4 on split seed 0 (240 train, 80 valid), as
    `python bench/train_real.py --seeds 0 1 2 3 4` writes them to bench/out/real-default-s<seed>;
  - a 5-member ensemble of those 5 networks (what `metallicity-cnn train --ensemble 5` makes), its error bars
    calibrated on the 80 validation galaxies;
  - a 5-fold cross-validation of the 320 non-test galaxies (`crossval_run`, fold seed 0), its 5 fold networks as an
    ensemble calibrated on the out-of-fold galaxies.
Nothing is chosen on the test galaxies. Prints RMSE and NMAD (bootstrap 68% intervals) on the 80 test galaxies, the
paired bootstrap difference against the single networks, and the coverage of the error bars.

    python bench/train_real.py --seeds 0 1 2 3 4      # the five seed runs (about 4 min each on 2 quiet cores)
    python bench/ensembles.py                         # then this (trains the 5 folds: about 20 min)
    python bench/ensembles.py --seeds 0 1 2           # with 3 seed runs: a 3-member seed ensemble
"""
from pathlib import Path
import numpy as np, pandas as pd
from fastcore.script import call_parse, Param
from metallicity_cnn.core import sample_dir, summarize, save_json, paired_difference
from metallicity_cnn.model import GalaxyModel
from metallicity_cnn.train import calibrate_ensemble, split_metrics
from metallicity_cnn.crossval import crossval_run
from metallicity_cnn.predict import predict

@call_parse
def main(runs:str='bench/out/real-default-s{}', # seed run directories, {} the seed
         seeds:Param('training seeds of the seed runs', int, nargs='+')=[0, 1, 2, 3, 4],
         out:str='bench/out', # benchmark outputs (the fold ensemble goes to out/cv320)
         n_boot:int=2000, # bootstrap resamples
        ):
    "Single networks, a seed ensemble and a fold ensemble on the same 80 test galaxies; their paired differences"
    sample, out = sample_dir(), Path(out)
    cat = pd.read_csv(sample/'catalog.csv', dtype={'objID': str})
    runs = [Path(runs.format(s)) for s in seeds]
    single = GalaxyModel.load(runs[0])
    test, valid = single.split_rows(cat, 'test'), single.split_rows(cat, 'valid')
    for r in runs[1:]: assert GalaxyModel.load(r).split('test') == single.split('test'), f"{r} has another split"

    def preds(model): return test.merge(predict(model, sample/'images', test, progress=False), on='objID')
    def cover(m): return split_metrics(m.drop(columns='oh_p50'), test, ['oh_p50'], n_boot=0)['oh_p50'] # coverage of the error bars

    rows, singles = {}, []
    for s, r in zip(seeds, runs):
        m = preds(r); singles.append(m.oh_p50_pred.to_numpy())
        rows[f'single seed {s}'] = summarize(m.oh_p50_pred, m.oh_p50, n_boot=n_boot)
    ens = calibrate_ensemble(GalaxyModel.ensemble(out/f'ens{len(runs)}', runs, source='bench/ensembles.py', seeds=seeds), valid, sample/'images', progress=False)
    me = preds(ens)
    rows[f'seed ensemble ({len(runs)})'] = cover(me) | summarize(me.oh_p50_pred, me.oh_p50, n_boot=n_boot)
    rest = cat[~cat.objID.isin(test.objID)]
    cv = crossval_run(rest, sample/'images', out/'cv320', folds=5, progress=True)
    mf = preds(GalaxyModel.load(out/'cv320'))
    rows['fold ensemble (5)'] = cover(mf) | summarize(mf.oh_p50_pred, mf.oh_p50, n_boot=n_boot)

    print(f"\n80 test galaxies of split seed 0 (of 400); validation 80; bootstrap {n_boot}")
    print(f"{'model':24s} {'RMSE':>7s} {'68% interval':>17s} {'NMAD':>7s} {'bias':>7s} {'cov68':>6s} {'cov95':>6s}")
    for k, v in rows.items():
        cov = f"{v['coverage68']:6.2f} {v['coverage95']:6.2f}" if 'coverage68' in v else ''
        print(f"{k:24s} {v['rmse']:7.4f} [{v['rmse_ci68'][0]:.4f}, {v['rmse_ci68'][1]:.4f}] {v['nmad']:7.4f} {v['bias']:+7.4f} {cov}")
    r5 = [rows[f'single seed {s}']['rmse'] for s in seeds]
    print(f"single network, seeds {seeds}: RMSE {np.mean(r5):.4f} ± {np.std(r5, ddof=1):.4f} (mean ± sd over seeds)")
    for k, m in ((f'seed ensemble ({len(runs)})', me), ('fold ensemble (5)', mf)): # the ensembles against the mean RMSE of the single networks
        d = paired_difference(m.oh_p50_pred, np.stack(singles), m.oh_p50, n_boot=n_boot)
        print(f"{k} minus mean single (seeds {seeds}): {d['diff']:+.4f} dex, paired bootstrap 68% [{d['ci68'][0]:+.4f}, {d['ci68'][1]:+.4f}], 95% [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]")
    print(f"error-bar scale k: seed ensemble {ens.meta['err_scale'][0]:.4f} (validation), fold ensemble {GalaxyModel.load(out/'cv320').meta['err_scale'][0]:.4f} (out of fold)")
    print(f"median member spread on the test galaxies: seed ensemble {me.oh_p50_member_std.median():.4f}, fold ensemble {mf.oh_p50_member_std.median():.4f}; median err {me.oh_p50_err.median():.4f}, {mf.oh_p50_err.median():.4f}")
    print(f"cross-validation of the 320: out-of-fold RMSE {cv['metrics']['oof']['oh_p50']['rmse']:.4f} [{cv['metrics']['oof']['oh_p50']['rmse_ci68'][0]:.4f}, {cv['metrics']['oof']['oh_p50']['rmse_ci68'][1]:.4f}], per fold {cv['fold_spread']['oh_p50']['rmse']['mean']:.4f} ± {cv['fold_spread']['oh_p50']['rmse']['sd']:.4f}")
    save_json(dict(command=f"python bench/train_real.py --seeds {' '.join(map(str, seeds))} && python bench/ensembles.py --seeds {' '.join(map(str, seeds))}", rows=rows, seeds=seeds, single_rmse=r5, n_test=len(test), n_valid=len(valid), n_boot=n_boot,
                   oof=cv['metrics']['oof']['oh_p50'], fold_spread=cv['fold_spread']['oh_p50']), out/'ensembles.json')
