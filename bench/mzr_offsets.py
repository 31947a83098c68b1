"""Does the CNN see more than mass? At fixed true mass, the correlation of its predicted MZR offsets with the true ones,
against the MZR of its predicted mass, on simulated surveys where the answer is known: under `tremonti` the offsets are
the size term the images show (`oh_size_offset`, since commit ae57f56; before it, nothing they show: expect ~0) plus
scatter they never show, under `mannucci` they also follow the star formation the images carry.

    python bench/mzr_offsets.py                       # writes bench/out/mzr-offsets/<relation>/
"""
from pathlib import Path
from fastcore.script import call_parse
from metallicity_cnn.core import save_json
from metallicity_cnn.simulate import simulate_survey
from metallicity_cnn.train import train_run
from metallicity_cnn.evaluate import evaluate_run

@call_parse
def main(n:int=1500, # galaxies of each survey
         epochs:int=15, # epochs of the 'demo' recipe
         out:str='bench/out/mzr-offsets', # output directory
        ):
    "Train on oh_p50 and lgm_tot_p50 for each relation; evaluate on the test galaxies; print the offset correlations"
    for rel in ('tremonti', 'mannucci'):
        d = Path(out)/rel
        if not (d/'survey'/'catalog.csv').exists(): simulate_survey(n, d/'survey', relation=rel, workers=2, progress=False)
        train_run(d/'survey'/'catalog.csv', d/'survey'/'images', d/'run', ['oh_p50', 'lgm_tot_p50'], 'demo', epochs=epochs, progress=False)
        res = evaluate_run(d/'run', d/'survey'/'catalog.csv', d/'survey'/'images', d/'report', split='test', figures=False, progress=False)
        o = res['mzr']['offset_correlation']
        save_json(dict(relation=rel, n=n, epochs=epochs, offset_correlation=o, command=f'python bench/mzr_offsets.py --n {n} --epochs {epochs}'), d/'offsets.json')
        print(f"{rel}: CNN offsets r = {o['r']:.3f} {o['r_ci68']}, MZR of predicted mass r = {o['r_ref']:.3f}; "
              f"difference {o['diff']:+.3f} [95% {o['diff_ci95'][0]:+.3f}, {o['diff_ci95'][1]:+.3f}] on {o['n']} test galaxies")
