"""The paper's analyses at scale: evaluation report (figures, coverage, mass-metallicity relation), baselines on the same
test galaxies and the resolution study, on a synthetic survey or on the shared real SDSS sample. Prints every number.

    python bench/analyses.py synthetic --n 600 --out bench/out/analyses-sim          # simulate, train (oh_p50 + lgm_tot_p50, Gaussian head)
    python bench/analyses.py real --model bench/out/real-default-s0 --out bench/out/analyses-real   # an existing real run
    python bench/analyses.py real --out bench/out/analyses-real --steps model evaluate              # train a Gaussian run first

Steps (--steps, in this order): model (train unless --model), evaluate, baselines, resolution. Training settings:
--recipe/--epochs for the model and the r-band CNN, --res_recipe/--res_epochs for each size of the resolution study. Finished
resolution sizes are reused when the command is run again.
"""
import sys, time
from pathlib import Path
import pandas as pd
from fastcore.script import call_parse, Param
from metallicity_cnn.core import sample_dir, load_json
from metallicity_cnn.train import train_run
from metallicity_cnn.evaluate import evaluate_run, report_metrics
from metallicity_cnn.analyses import baselines, resolution_study, PAPER_SIZES, PAPER_RMSE

def record_command(d:Path):
    "The command behind the outputs in `d`, for bench/results.py (the resolution study keeps its own, as it is often run apart)"
    d.mkdir(parents=True, exist_ok=True); (d/'command.txt').write_text(' '.join(['python', 'bench/analyses.py'] + sys.argv[1:]) + '\n')

def step(name):
    print(f"\n=== {name} ({time.strftime('%H:%M:%S')})", flush=True); return time.time()

@call_parse
def main(data:Param('the data set', str, choices=['synthetic', 'real']),
         out:Param('output directory', str, required=True)=None,
         n:int=400, # galaxies of the synthetic survey
         model:str=None, # an existing run directory to analyse (skips training)
         recipe:str='default', # training recipe of the model and of the r-band CNN
         epochs:int=None, # epochs of the model and of the r-band CNN (default: the recipe)
         res_recipe:str=None, # recipe of the resolution study (default: --recipe)
         res_epochs:int=None, # epochs at each size of the resolution study (default: the recipe)
         sizes:Param('image sizes of the resolution study', int, nargs='+')=list(PAPER_SIZES),
         res_seeds:Param('training seeds of the resolution study: a network per seed at every size', int, nargs='+')=[0, 1, 2],
         steps:Param('steps to run: model evaluate baselines resolution', str, nargs='+')=['model', 'evaluate', 'baselines', 'resolution'],
         gaussian:bool=True, # the model's uncertainty head; this flag trains without it
         rband:bool=True, # the r-band CNN among the baselines; this flag skips it (one training less)
         forests:Param('feature sets of the random-forest baselines (the first in out/baselines with the r-band CNN, the others in out/baselines-<features>)', str, nargs='+')=['gri'],
        ):
    "Evaluation report, baselines and resolution study on a synthetic survey or on the real SDSS sample"
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    if set(steps) - {'resolution'}: record_command(out)

    if data == 'synthetic':
        from metallicity_cnn.simulate import simulate_survey
        d = out/'survey'
        if not (d/'catalog.csv').exists():
            t = step(f'simulate {n} galaxies at 128 px'); simulate_survey(n, d, seed=0, size=128, progress=False)
            print(f"{time.time() - t:.0f} s")
        targets = ('oh_p50', 'lgm_tot_p50')
    else: d, targets = sample_dir(), ('oh_p50',)
    cat, images = pd.read_csv(d/'catalog.csv', dtype={'objID': str}), d/'images'
    print(f"{data}: {len(cat)} galaxies from {d}")

    run = Path(model) if model else out/'run'
    if 'model' in steps and not model:
        t = step(f"train {recipe} (epochs {epochs or 'recipe'}) on {', '.join(targets)}, gaussian={gaussian}")
        m = train_run(cat, images, run, targets=targets, recipe=recipe, gaussian=gaussian, progress=False, epochs=epochs)
        print(f"trained in {time.time() - t:.0f} s")
    if {'evaluate', 'baselines'} & set(steps):
        meta = load_json(run/'model.json')
        print(f"model {run}: {meta['arch']} {meta['size']} px, recipe {meta['recipe']['name']} epochs {meta['recipe']['epochs']}, "
              f"targets {meta['targets']}, gaussian {meta['gaussian']}")

    if 'evaluate' in steps:
        t = step('evaluate on the test split')
        r = evaluate_run(run, cat, images, out/'report', split='test', progress=False)
        for k, v in report_metrics(r).items():
            print(f"{k}: RMSE {v['rmse']:.4f} [{v['rmse_ci68'][0]:.4f}, {v['rmse_ci68'][1]:.4f}] NMAD {v['nmad']:.4f} "
                  f"[{v['nmad_ci68'][0]:.4f}, {v['nmad_ci68'][1]:.4f}] bias {v['bias']:+.4f} n {v['n']}")
            u = r['uncertainty'][k]
            print(f"{k}: TTA spread median {u['spread_median']:.4f}, truths within +-spread {u['spread_coverage68']:.3f}"
                  + (f"; head sigma median {u['sigma_median']:.4f}, 68% coverage {u['coverage68']:.3f}, 95% coverage {u['coverage95']:.3f}"
                     if 'coverage68' in u else ''))
        if 'mzr' in r:
            z = r['mzr']
            for k in ('mass', 'oh_from_pred_mass', 'oh_from_true_mass', 'oh_cnn'):
                if k in z: print(f"mzr {k}: RMSE {z[k]['rmse']:.4f} NMAD {z[k]['nmad']:.4f} bias {z[k]['bias']:+.4f} n {z[k]['n']}")
            if 'scatter_ratio' in z:
                s = z['scatter_ratio']
                print(f"MZR scatter at fixed true mass: NMAD true {s['nmad_true']:.4f}, CNN {s['nmad_pred']:.4f}, "
                      f"ratio {s['ratio']:.3f} +- {s['ratio_err']:.3f} (paper 0.82 +- 0.08)")
        if r.get('limits'):
            v = report_metrics(r)['oh_p50']
            print(f"oh_p50: information limit {v['information_limit']:.4f}, RMSE/limit {v['rmse_over_limit']:.2f}, realised floor {v['floor_realised']:.4f}")
        print(f"figures: {', '.join(f for v in r['figures'].values() for f in v)} in {out/'report'} ({time.time() - t:.0f} s)")

    if 'baselines' in steps:
        t = step('baselines on the same test galaxies (r-band CNN with the run\'s recipe)')
        for i, f in enumerate(forests):
            b = baselines(run, cat, images, out/('baselines' if i == 0 else f'baselines-{f}'), rband=rband and i == 0, features=f, progress=False, epochs=epochs)
            print(f"random forest features: {b['features']}; {b['n_train']} training, {b['n_test']} test galaxies")
            for k, per in b['metrics'].items():
                for mth, v in per.items():
                    d = b['minus_cnn'][k].get(mth)
                    print(f"{k} {b['methods'][mth]:24s} RMSE {v['rmse']:.4f} [{v['rmse_ci68'][0]:.4f}, {v['rmse_ci68'][1]:.4f}] "
                          f"NMAD {v['nmad']:.4f} bias {v['bias']:+.4f}" + (f"  minus CNN {d['diff']:+.4f} [95%: {d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]" if d else ''))
        if b.get('noise_floor'): print(f"noise floor {b['noise_floor']}")
        print(f"{time.time() - t:.0f} s")

    if 'resolution' in steps:
        rr = res_recipe or recipe
        t = step(f"resolution study, sizes {sizes}, recipe {rr} with {res_epochs or 'its'} epochs at each size")
        record_command(out/'resolution')
        res = resolution_study(cat, images, out/'resolution', sizes, 'oh_p50', rr, res_seeds, progress=False, epochs=res_epochs)
        paper = dict(zip(PAPER_SIZES, PAPER_RMSE))
        print(f"mean predictor: RMSE {res['mean_predictor']['rmse']:.4f} NMAD {res['mean_predictor']['nmad']:.4f}; seeds {res['seeds']}")
        for r in res['sizes']:
            d = r['minus_largest']
            print(f"{r['size']:4d} px: RMSE {r['rmse']:.4f} [{r['rmse_ci68'][0]:.4f}, {r['rmse_ci68'][1]:.4f}] sd over seeds {r['rmse_sd'] or 0:.4f} NMAD {r['nmad']:.4f} "
                  f"minus {res['reference']} px {d['diff']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}] (95% paired) n {r['n']}   (paper RMSE {paper.get(r['size'], float('nan')):.3f})")
        print(f"{time.time() - t:.0f} s")
