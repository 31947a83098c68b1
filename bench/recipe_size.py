"""Which recipe for which training-set size: train candidate recipes on the real sample and on simulated surveys of
several sizes, and compare them on their validation galaxies (the rule in `choose_recipe` is read off this table).

For each data set and recipe it prints the number of training galaxies, validation and test RMSE with 68% bootstrap
intervals, optimiser steps and wall time, and writes everything to `<out>/recipe_size.json`.

    python bench/recipe_size.py                                   # real sample, simulated n=1000 and n=2500; default, large
    python bench/recipe_size.py --sims 1000 --recipes default large --seeds 0 1
"""
import json, time
from pathlib import Path
import pandas as pd
from fastcore.script import call_parse, Param
from metallicity_cnn.core import sample_dir, save_json
from metallicity_cnn.recipe import get_recipe, recipe_steps
from metallicity_cnn.simulate import simulate_survey
from metallicity_cnn.train import train_run

def data_sets(sims:list, real:bool, out:Path):
    "`(name, catalogue, image directory)` of the real sample (if `real`) and of a simulated survey of each size in `sims`"
    if real:
        s = sample_dir()
        yield 'real 400', pd.read_csv(s/'catalog.csv', dtype={'objID': str}), s/'images'
    for n in sims:
        d = out/f'sim{n}'
        if not (d/'catalog.csv').exists(): simulate_survey(n, d, seed=0, overwrite=True, workers=0, progress=False)
        yield f'simulated {n}', pd.read_csv(d/'catalog.csv', dtype={'objID': str}), d/'images'

@call_parse
def main(sims:Param('sizes of the simulated surveys (none: --sims alone)', int, nargs='*')=[1000, 2500],
         real:bool=True, # the real sample; this flag skips it
         recipes:Param('recipes to train', str, nargs='+')=['default', 'large'],
         seeds:Param('training seeds', int, nargs='+')=[0],
         out:str='bench/out/recipe-size', # output directory
        ):
    "Train each recipe on the real sample and on simulated surveys of several sizes; compare them on their validation galaxies"
    out = Path(out)
    rows = []
    res_file = out/'recipe_size.json'
    done = {(r['data'], r['recipe'], r['seed']): r for r in json.loads(res_file.read_text())} if res_file.exists() else {}
    for name, cat, imgs in data_sets(sims, real, out):
        for recipe in recipes:
            for seed in seeds:
                if (name, recipe, seed) in done: rows.append(done[(name, recipe, seed)]); continue
                t0 = time.time()
                run = out/f"{name.replace(' ', '')}-{recipe}-s{seed}"
                m = train_run(cat, imgs, run, recipe=recipe, seed=seed, progress=False)
                r, n_train = get_recipe(recipe), json.loads((run/'model.json').read_text())['n_train']
                va, te = m['metrics']['valid']['oh_p50'], m['metrics']['test']['oh_p50']
                row = dict(data=name, recipe=recipe, seed=seed, n_train=n_train, valid_rmse=va['rmse'],
                           valid_ci68=va['rmse_ci68'], test_rmse=te['rmse'], test_ci68=te['rmse_ci68'],
                           mean_predictor=te['rmse_mean_predictor'], epochs=r.n_epochs,
                           steps=recipe_steps(recipe, n_train), wall_s=round(time.time() - t0))
                rows.append(row)
                save_json(rows, res_file)
                print(f"{name:>14} {recipe:>8} seed {seed}: n_train {row['n_train']}, valid RMSE {va['rmse']:.4f} "
                      f"[{va['rmse_ci68'][0]:.4f}, {va['rmse_ci68'][1]:.4f}], test RMSE {te['rmse']:.4f} "
                      f"[{te['rmse_ci68'][0]:.4f}, {te['rmse_ci68'][1]:.4f}], {row['steps']} steps, {row['wall_s']} s", flush=True)
    print(pd.DataFrame(rows).drop(columns=['valid_ci68', 'test_ci68']).to_string(index=False))
