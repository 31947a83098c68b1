"""Does pretraining on the simulated survey help the default recipe on real galaxies? (the test of #23 §4)

Simulates a survey (20,000 galaxies by default, timed: galaxies per second per worker), trains the default recipe's
network on it (fewer epochs than on 240 galaxies: the survey has 50 times more), then cross-validates the default recipe
on the 400 real galaxies starting from those weights, on the same 5 folds (fold seed 0) as the cross-validation from
random initialisation in `bench/out/cv5` (`metallicity-cnn crossval ... --out bench/out/cv5 --folds 5`), and compares the
two out of fold, galaxy by galaxy (paired bootstrap). Writes bench/out/pretrain-sim/pretrain_sim.json.

    python bench/pretrain_sim.py                          # 20000 galaxies, 2 workers, 6 epochs of pretraining
    python bench/pretrain_sim.py --n 5000 --epochs 4 --out bench/out/pretrain-sim-5k
"""
import time
from pathlib import Path
import pandas as pd
from fastcore.script import call_parse
from metallicity_cnn.core import sample_dir, save_json, load_metrics, paired_difference, summarize
from metallicity_cnn.simulate import simulate_survey
from metallicity_cnn.train import train_run
from metallicity_cnn.crossval import crossval_run

@call_parse
def main(n:int=20000, # simulated galaxies
         workers:int=2, # processes rendering the survey
         epochs:int=6, # epochs of pretraining (the default recipe's other settings)
         out:str='bench/out/pretrain-sim', # output directory: survey/, pretrain/, cv/, pretrain_sim.json
         reference:str='bench/out/cv5', # the cross-validation from random initialisation on the same folds
         n_boot:int=2000, # bootstrap resamples of the paired difference
        ):
    "Pretrain on simulated galaxies, fine-tune on the real ones out of fold, and compare with random initialisation"
    out, s = Path(out), sample_dir()
    t0 = time.time()
    if not (out/'survey'/'catalog.csv').exists(): simulate_survey(n, out/'survey', workers=workers, progress=True)
    sim_s = time.time() - t0
    pre = train_run(out/'survey'/'catalog.csv', out/'survey'/'images', out/'pretrain', recipe='default', epochs=epochs, tta=False, progress=True)
    crossval_run(s/'catalog.csv', s/'images', out/'cv', folds=5, fold_seed=0, recipe='default', pretrained=str(out/'pretrain'), progress=True)
    ref = pd.read_csv(Path(reference)/'oof.csv', dtype={'objID': str})
    new = pd.read_csv(out/'cv'/'oof.csv', dtype={'objID': str})
    m = ref.merge(new, on='objID', suffixes=('_random', '_pretrained'))
    d = paired_difference(m.oh_p50_pred_pretrained, m.oh_p50_pred_random, m.oh_p50_random, n_boot=n_boot)
    res = dict(command=f"python bench/pretrain_sim.py --n {n} --workers {workers} --epochs {epochs} --out {out}", n_simulated=n,
               simulate_seconds=sim_s, galaxies_per_second_per_worker=n/sim_s/workers if sim_s > 1 else None, workers=workers,
               pretrain_epochs=epochs, pretrain_test=pre['metrics']['test']['oh_p50'], n_galaxies=len(m),
               random=summarize(m.oh_p50_pred_random, m.oh_p50_random, n_boot=n_boot), reference=str(reference),
               pretrained=summarize(m.oh_p50_pred_pretrained, m.oh_p50_random, n_boot=n_boot),
               fold_spread=load_metrics(out/'cv')['fold_spread']['oh_p50'], pretrained_minus_random=d)
    save_json(res, out/'pretrain_sim.json')
    print(f"simulated {n} galaxies in {sim_s:.0f} s on {workers} workers; pretraining test RMSE {res['pretrain_test']['rmse']:.4f} on simulated galaxies")
    print(f"out of fold over {len(m)} real galaxies: random init {res['random']['rmse']:.4f}, pretrained {res['pretrained']['rmse']:.4f}; "
          f"pretrained - random {d['diff']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}] (95%, paired)")
