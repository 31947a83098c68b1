"""Does a random forest that sees morphology beat one that sees colours alone, and does the CNN beat both? The forests
are trained and scored out of fold on the real sample, fold by fold of the `default` recipe's 5-fold cross-validation,
and compared with each other and with that cross-validation's CNN on the same galaxies (paired bootstrap).

    metallicity-cnn crossval --catalog ../shared/data/sdss-dr14-sample/catalog.csv \
        --images ../shared/data/sdss-dr14-sample/images --out bench/out/cv5 --folds 5    # the CNN and its folds
    python bench/morphology_forest.py                 # writes bench/out/morphology-forest/
"""
import json
from pathlib import Path
import pandas as pd
from fastcore.script import call_parse
from metallicity_cnn.core import sample_dir, save_json, paired_difference, summarize
from metallicity_cnn.analyses import baselines

@call_parse
def main(out:str='bench/out/morphology-forest', # output directory
         cv:str='bench/out/cv5', # the CNN's cross-validation of the 400 galaxies (its folds and out-of-fold predictions)
        ):
    "Forest on image colours against forest on image colours and morphology and against the CNN, out of fold on the real sample"
    s, out = sample_dir(), Path(out)
    res = {f: baselines(cv, s/'catalog.csv', s/'images', out/f, rband=False, features=f, progress=False) for f in ('image', 'morphology')}
    a, b = (pd.read_csv(out/f/'baseline_predictions.csv') for f in ('morphology', 'image'))
    assert (a.objID == b.objID).all()
    d = paired_difference(a.oh_p50_random_forest_morphology, b.oh_p50_random_forest_image, a.oh_p50)
    cnn = paired_difference(a.oh_p50_cnn_gri, a.oh_p50_random_forest_morphology, a.oh_p50), paired_difference(a.oh_p50_cnn_gri, b.oh_p50_random_forest_image, a.oh_p50)
    doc = dict(n=len(a), folds=int(pd.read_csv(Path(cv)/'folds.csv').fold.nunique()), cv=str(cv), cnn_recipe=json.loads((Path(cv)/'model.json').read_text()).get('recipe', {}).get('name'),
               image=summarize(b.oh_p50_random_forest_image, b.oh_p50), morphology=summarize(a.oh_p50_random_forest_morphology, a.oh_p50),
               cnn=summarize(a.oh_p50_cnn_gri, a.oh_p50), morphology_minus_image=d, cnn_minus_morphology=cnn[0], cnn_minus_image=cnn[1],
               command='python bench/morphology_forest.py')
    save_json(doc, out/'morphology_forest.json')
    print(f"out of fold, {len(a)} galaxies: forest on image colours RMSE {doc['image']['rmse']:.4f} {doc['image']['rmse_ci68']}, "
          f"with morphology {doc['morphology']['rmse']:.4f} {doc['morphology']['rmse_ci68']}; difference {d['diff']:+.4f} "
          f"[68%: {d['ci68'][0]:+.4f}, {d['ci68'][1]:+.4f}; 95%: {d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}] (paired bootstrap)")
    for k in ('cnn_minus_morphology', 'cnn_minus_image'):
        v = doc[k]
        print(f"{k}: {v['diff']:+.4f} [95%: {v['ci95'][0]:+.4f}, {v['ci95'][1]:+.4f}] (CNN RMSE {doc['cnn']['rmse']:.4f})")
