"""How much the synthetic survey looks like the real SDSS cutouts, for each pixel-scale rule of the simulator: the image
statistics of both samples with their KS distances (`metallicity-cnn image-stats`) and the out-of-fold ROC AUC of a CNN
trained to tell them apart (`metallicity-cnn realism`), and a gallery of 16 simulated above 16 real cutouts. Writes
bench/out/realism/<scale>/{survey,stats,classifier,gallery.png,timing.json}.

    python bench/realism.py                          # both scales, 400 cutouts of each kind
    python bench/realism.py --scales petrosian --n 200
"""
import time
from pathlib import Path
from fastcore.script import call_parse
from metallicity_cnn.core import sample_dir, save_json
from metallicity_cnn.simulate import simulate_survey, gallery, SCALES
from metallicity_cnn.evaluate import save_figure
from metallicity_cnn.morphology import compare_image_stats, realism_test

@call_parse
def main(scales:str=' '.join(SCALES), # pixel-scale rules of the simulator to judge, space-separated
         n:int=400, # cutouts of each kind
         out:str='bench/out/realism', # output directory
         epochs:int=10, # epochs of the classifier
         workers:int=2, # processes measuring the statistics
        ):
    "Image statistics and classifier two-sample test of the simulated survey against the real sample"
    real = sample_dir()
    for scale in scales.split():
        d = Path(out)/scale
        t0 = time.time()
        if not (d/'survey'/'catalog.csv').exists(): simulate_survey(n, d/'survey', scale=scale, workers=workers, progress=False)
        t1 = time.time()
        save_figure(gallery(d/'survey', real, n=8, rows=2), d/'gallery') # 16 simulated above 16 real cutouts of the nearest metallicity
        cmp = compare_image_stats(real, d/'survey', d/'stats', n, workers, progress=False)
        t2 = time.time()
        r = realism_test(real, d/'survey', d/'classifier', n, dict(epochs=epochs), progress=False, overwrite=True)
        save_json(dict(scale=scale, n=n, seconds=dict(simulate=t1 - t0, stats=t2 - t1, classifier=time.time() - t2),
                       command=f"python bench/realism.py --scales {scale} --n {n}"), d/'timing.json')
        print(f"{scale}: {int((cmp.ks < 0.15).sum())} of {len(cmp)} statistics with KS < 0.15 (median KS {cmp.ks.median():.2f}); "
              f"classifier ROC AUC {r['auc']:.3f} [{r['auc_ci68'][0]:.3f}, {r['auc_ci68'][1]:.3f}]")
