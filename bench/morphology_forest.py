"""Does a random forest that sees morphology beat one that sees colours alone? Both are trained and scored out of fold
on the real sample, fold by fold of one cross-validation, and compared on the same galaxies (paired bootstrap).

    python bench/morphology_forest.py                 # writes bench/out/morphology-forest/

The cross-validation's networks are the `tiny` recipe (one epoch): they only carry the folds here, so the CNN rows of
the two baselines reports are not a measure of the CNN.
"""
import json
from pathlib import Path
import pandas as pd
from fastcore.script import call_parse
from metallicity_cnn.core import sample_dir, save_json, paired_difference, summarize
from metallicity_cnn.crossval import crossval_run
from metallicity_cnn.analyses import baselines

@call_parse
def main(out:str='bench/out/morphology-forest', # output directory
         folds:int=5, # cross-validation folds
        ):
    "Forest on image colours against forest on image colours and morphology, out of fold on the real sample"
    s, out = sample_dir(), Path(out)
    crossval_run(s/'catalog.csv', s/'images', out/'cv', folds, recipe='tiny', progress=False)
    res = {f: baselines(out/'cv', s/'catalog.csv', s/'images', out/f, rband=False, features=f, progress=False) for f in ('image', 'morphology')}
    a, b = (pd.read_csv(out/f/'baseline_predictions.csv') for f in ('morphology', 'image'))
    assert (a.objID == b.objID).all()
    d = paired_difference(a.oh_p50_random_forest_morphology, b.oh_p50_random_forest_image, a.oh_p50)
    doc = dict(n=len(a), folds=folds, image=summarize(b.oh_p50_random_forest_image, b.oh_p50), morphology=summarize(a.oh_p50_random_forest_morphology, a.oh_p50),
               morphology_minus_image=d, command='python bench/morphology_forest.py')
    save_json(doc, out/'morphology_forest.json')
    print(f"out of fold, {len(a)} galaxies: forest on image colours RMSE {doc['image']['rmse']:.4f} {doc['image']['rmse_ci68']}, "
          f"with morphology {doc['morphology']['rmse']:.4f} {doc['morphology']['rmse_ci68']}; difference {d['diff']:+.4f} "
          f"[68%: {d['ci68'][0]:+.4f}, {d['ci68'][1]:+.4f}; 95%: {d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}] (paired bootstrap)")
