"""The paper's analyses at scale: evaluation report (figures, coverage, mass-metallicity relation), baselines on the same
test galaxies and the resolution study, on a synthetic survey or on the shared real SDSS sample. Prints every number.

    python bench/analyses.py synthetic --n 600 --out bench/out/analyses-sim          # simulate, train (oh_p50 + lgm_tot_p50, Gaussian head)
    python bench/analyses.py real --model bench/out/real-default-s0 --out bench/out/analyses-real   # an existing real run
    python bench/analyses.py real --out bench/out/analyses-real --steps model evaluate              # train a Gaussian run first

Steps (--steps, in this order): model (train unless --model), evaluate, baselines, resolution. Training settings:
--recipe/--epochs for the model and the r-band CNN, --res-recipe/--res-epochs for each size of the resolution study. Finished
resolution sizes are reused when the command is run again.
"""
import argparse, sys, time
from pathlib import Path
import pandas as pd
from metallicity_cnn.core import sample_dir, load_json
from metallicity_cnn.train import train_run
from metallicity_cnn.evaluate import evaluate_run, report_metrics
from metallicity_cnn.analyses import baselines, resolution_study, PAPER_SIZES, PAPER_RMSE

p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
p.add_argument('data', choices=['synthetic', 'real'])
p.add_argument('--out', required=True)
p.add_argument("--n", type=int, default=400, help='galaxies of the synthetic survey')
p.add_argument('--model', help='an existing run directory to analyse (skips training)')
p.add_argument('--recipe', default='default')
p.add_argument('--epochs', type=int, default=None, help='epochs of the model and of the r-band CNN (default: the recipe)')
p.add_argument('--res-recipe', default=None, help='recipe of the resolution study (default: --recipe)')
p.add_argument('--res-epochs', type=int, default=None, help='epochs at each size of the resolution study (default: the recipe)')
p.add_argument('--sizes', type=int, nargs='+', default=list(PAPER_SIZES))
p.add_argument('--steps', nargs='+', default=['model', 'evaluate', 'baselines', 'resolution'])
p.add_argument('--no-gaussian', action='store_true', help='train the model without the uncertainty head')
p.add_argument('--no-rband', action='store_true', help='baselines without the r-band CNN (one training less)')
a = p.parse_args()
out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
def record_command(d:Path):
    "The command behind the outputs in `d`, for bench/results.py (the resolution study keeps its own, as it is often run apart)"
    d.mkdir(parents=True, exist_ok=True); (d/'command.txt').write_text(' '.join(['python', 'bench/analyses.py'] + sys.argv[1:]) + '\n')
if set(a.steps) - {'resolution'}: record_command(out)

def step(name):
    print(f"\n=== {name} ({time.strftime('%H:%M:%S')})", flush=True); return time.time()

if a.data == 'synthetic':
    from metallicity_cnn.simulate import simulate_survey
    data = out/'survey'
    if not (data/'catalog.csv').exists():
        t = step(f'simulate {a.n} galaxies at 128 px'); simulate_survey(a.n, data, seed=0, size=128, progress=False)
        print(f"{time.time() - t:.0f} s")
    targets = ('oh_p50', 'lgm_tot_p50')
else: data, targets = sample_dir(), ('oh_p50',)
cat, images = pd.read_csv(data/'catalog.csv', dtype={'objID': str}), data/'images'
print(f"{a.data}: {len(cat)} galaxies from {data}")

run = Path(a.model) if a.model else out/'run'
if 'model' in a.steps and not a.model:
    t = step(f"train {a.recipe} (epochs {a.epochs or 'recipe'}) on {', '.join(targets)}, gaussian={not a.no_gaussian}")
    m = train_run(cat, images, run, targets=targets, recipe=a.recipe, gaussian=not a.no_gaussian, progress=False, epochs=a.epochs)
    print(f"trained in {time.time() - t:.0f} s")
if {'evaluate', 'baselines'} & set(a.steps):
    meta = load_json(run/'model.json')
    print(f"model {run}: {meta['arch']} {meta['size']} px, recipe {meta['recipe']['name']} epochs {meta['recipe']['epochs']}, "
          f"targets {meta['targets']}, gaussian {meta['gaussian']}")

if 'evaluate' in a.steps:
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

if 'baselines' in a.steps:
    t = step('baselines on the same test galaxies (r-band CNN with the run\'s recipe)')
    b = baselines(run, cat, images, out/'baselines', rband=not a.no_rband, progress=False, epochs=a.epochs)
    print(f"random forest features: {b['features']}; {b['n_train']} training, {b['n_test']} test galaxies")
    for k, per in b['metrics'].items():
        for mth, v in per.items():
            print(f"{k} {b['methods'][mth]:24s} RMSE {v['rmse']:.4f} [{v['rmse_ci68'][0]:.4f}, {v['rmse_ci68'][1]:.4f}] "
                  f"NMAD {v['nmad']:.4f} bias {v['bias']:+.4f}")
    if b.get('noise_floor'): print(f"noise floor {b['noise_floor']}")
    print(f"{time.time() - t:.0f} s")

if 'resolution' in a.steps:
    rr = a.res_recipe or a.recipe
    t = step(f"resolution study, sizes {a.sizes}, recipe {rr} with {a.res_epochs or 'its'} epochs at each size")
    record_command(out/'resolution')
    res = resolution_study(cat, images, out/'resolution', a.sizes, 'oh_p50', rr, progress=False, epochs=a.res_epochs)
    paper = dict(zip(PAPER_SIZES, PAPER_RMSE))
    print(f"mean predictor: RMSE {res['mean_predictor']['rmse']:.4f} NMAD {res['mean_predictor']['nmad']:.4f}")
    for r in res['sizes']:
        print(f"{r['size']:4d} px: RMSE {r['rmse']:.4f} [{r['rmse_ci68'][0]:.4f}, {r['rmse_ci68'][1]:.4f}] NMAD {r['nmad']:.4f} "
              f"n {r['n']}   (paper RMSE {paper.get(r['size'], float('nan')):.3f})")
    print(f"{time.time() - t:.0f} s")
