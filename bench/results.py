"""Write the results page, `nbs/12_results.ipynb`, and the results table of `nbs/index.ipynb` (hence the README) from
the benchmark outputs in `bench/out`, dated and tied to the commit they were measured at.

Every number on the page is read from a file a benchmark wrote; a benchmark whose outputs are missing is listed as not
measured rather than left out silently. The figures are copied into `nbs/results/` as compact PNGs.

    (the benchmark commands below, each section of the page names its own)
    python bench/results.py            # then this; then python tools/readme.py and nbdev_clean

The commands behind the outputs:

    python bench/recipe_size.py                        # recipes against training-set size
    python bench/analyses.py real --forests gri morphology --out bench/out/an-real
    python bench/analyses.py synthetic --n 3000 --recipe demo --res_recipe demo --res_epochs 20 --no-rband --forests gri morphology --out bench/out/an-sim
    python bench/train_real.py --seeds 0 1 2 3 4 && python bench/ensembles.py --seeds 0 1 2 3 4
    python bench/tta.py bench/out/real-default-s0 bench/out/real-default-s1 bench/out/real-default-s2 --json bench/out/tta.json
    python bench/realism.py --scales petrosian         # the synthetic survey against the real cutouts (and, at commit e4a43e8,
                                                       #   python bench/realism.py --scales fixed --out bench/out/realism-previous)
    python bench/pretrain_sim.py                       # pretraining on 20,000 simulated galaxies, fine-tuned on the real ones out of fold
    python bench/simulate_speed.py --n 1000 --stats 0 --json bench/out/simulate-speed/simulate_speed.json   # the simulator's speed
    python bench/morphology_forest.py                  # a forest that sees morphology, out of fold on the real sample
    python bench/mzr_offsets.py                        # MZR offsets at fixed mass, on simulated surveys (the control)
    metallicity-cnn crossval --catalog ../shared/data/sdss-dr14-sample/catalog.csv --images ../shared/data/sdss-dr14-sample/images --out bench/out/cv5 --folds 5
    python bench/fold_coverage.py                      # the fold ensemble's error bars on 80 held-out galaxies
    python bench/candidates.py                         # small-sample recipes against default, out of fold
    python bench/predict_speed.py --model bench/out/cv5/fold0 --json bench/out/predict-speed/predict_speed.json   # fast inference

What the benchmarks write, and all this script reads: under `bench/out/<name>/`, the runs as the library writes them
(`model.json`, `metrics.json` in the layout of `metallicity_cnn.core.metrics_doc`, `split.csv`, a cross-validation's
`oof.csv`) and one summary per benchmark, strict JSON written atomically by `metallicity_cnn.core.save_json`, whose
`command` is the command line that reproduces it (the analyses keep theirs in `command.txt` beside their runs):

    cv5/metrics.json, model.json                 crossval: metrics.oof, fold_spread (metrics_doc)
    ensembles.json                               rows (summarize + coverage per model), single_rmse, oof, fold_spread
    fold-coverage/fold_coverage.json             coverage of each error model on the held-out galaxies
    candidates/candidates.json                   rows: OOF RMSE per fold seed, paired differences, seconds per network
    tta.json                                     runs: RMSE per TTA mode on each model's validation galaxies
    predict-speed/predict_speed.json             rows: rates, ratios to bare float32, differences from float32
    recipe-size/recipe_size.json                 rows: validation and test RMSE per recipe and training-set size
    an-real/, an-sim/                            report/metrics.json, baselines/baselines.json (baselines-<features>/ for more forests), resolution/resolution.json
    realism/<scale>/stats/image_stats.json       stats: medians and KS distance per image statistic
    realism/<scale>/classifier/realism.json      out-of-fold ROC AUC of the real-versus-simulated classifier
    realism/<scale>/timing.json, gallery.png     the command and its seconds; 16 simulated above 16 real cutouts
    pretrain-sim/pretrain_sim.json               random against pretrained initialisation out of fold, paired
    simulate-speed/simulate_speed.json           galaxies per second per core of the simulator (and seconds of the image statistics)
    morphology-forest/morphology_forest.json     the forest with morphology against colours, paired
    mzr-offsets/<relation>/offsets.json          the CNN's and the mass-only offsets' correlations, paired
"""
import argparse, platform, subprocess, time
from pathlib import Path
import numpy as np
from PIL import Image
from execnb.nbio import read_nb, write_nb, mk_cell
from metallicity_cnn.core import load_json, binomial_interval, calibrated_coverage
from metallicity_cnn.analyses import FEATURE_SETS

ROOT = Path(__file__).resolve().parents[1]
PAPER = dict(rmse='0.085', nmad='0.067', rf='0.130', mzr_ratio='0.836 ± 0.103 (the authors\' notebook 11, commit 9b36a60; ± the weighted spread of the bin ratios)') # Wu & Boada (2019), abstract and section 4
CMD = dict(recipe='python bench/recipe_size.py',
           real='python bench/analyses.py real --forests gri morphology --out bench/out/an-real',
           sim='python bench/analyses.py synthetic --n 3000 --recipe demo --res_recipe demo --res_epochs 20 --no-rband --forests gri morphology --out bench/out/an-sim',
           ens='python bench/train_real.py --seeds 0 1 2 3 4 && python bench/ensembles.py --seeds 0 1 2 3 4',
           realism='python bench/realism.py --scales petrosian', morph='python bench/morphology_forest.py', mzr='python bench/mzr_offsets.py',
           cv='metallicity-cnn crossval --catalog ../shared/data/sdss-dr14-sample/catalog.csv --images ../shared/data/sdss-dr14-sample/images --out bench/out/cv5 --folds 5',
           coverage='python bench/fold_coverage.py', candidates='python bench/candidates.py', simspeed='python bench/simulate_speed.py --n 1000 --stats 0 --json bench/out/simulate-speed/simulate_speed.json',
           speed='python bench/predict_speed.py --model bench/out/cv5/fold0 --json bench/out/predict-speed/predict_speed.json')

def f3(v, d=3): return '–' if v is None else f'{v:.{d}f}'
def ci(st, k='rmse', d=3): return f"{f3(st[k], d)} [{f3(st[f'{k}_ci68'][0], d)}, {f3(st[f'{k}_ci68'][1], d)}]" if st.get(f'{k}_ci68') else f3(st[k], d)
def cov(v, l=68):
    "A coverage with its Wilson 68% interval (from the count when the metrics predate the recorded interval)"
    c = v.get(f'coverage{l}')
    if c is None: return '–'
    lo, hi = v.get(f'coverage{l}_ci68') or binomial_interval(round(c * v['n']), v['n'])
    return f"{c:.2f} [{lo:.2f}, {hi:.2f}]"
def table(head, rows): return '\n'.join(['| ' + ' | '.join(head) + ' |', '|' + '---|' * len(head)] + ['| ' + ' | '.join(map(str, r)) + ' |' for r in rows])
def load(p):
    p = ROOT/'bench'/'out'/p
    return load_json(p) if p.is_file() else None

def provenance(out:Path) -> str:
    "When, at which commit and on what machine the outputs in `out` were measured"
    commit = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(['git', 'status', '--porcelain', '--', 'metallicity_cnn'], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    files = [out] if out.is_file() else [p for p in out.rglob('*.json')]
    when = lambda f: time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(f(p.stat().st_mtime for p in files))) if files else 'never'
    import torch
    cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines() if l.startswith('model name')), platform.processor()) \
        if Path('/proc/cpuinfo').exists() else platform.processor()
    return (f"Generated {time.strftime('%Y-%m-%d')} at commit `{commit}`{' (with uncommitted changes to the package)' if dirty else ''} by "
            f"`python bench/results.py`, from the outputs in `bench/out` written between {when(min)} and {when(max)}, on {cpu} "
            f"({torch.get_num_threads()} threads, no GPU; torch {torch.__version__}).")

ROW = dict(cv='CNN on SDSS *gri* images, RMSE over all galaxies', ens='one network on one test split (spread over training seeds)',
           rf='random forest, test RMSE', sim='synthetic survey (3,000 galaxies, 600 test): CNN RMSE, information limit, realised floor, baselines')

def headline(real, ens, sim, cv=None, keep:dict|None=None) -> str:
    """The table of the README: the paper's figures beside this library's, each with its command. Rows whose outputs are
    missing are taken from `keep` (the table as it was, by first cell) when given, else left out"""
    rows = {}
    if cv:
        o, fs = cv['metrics']['oof']['oh_p50'], cv['fold_spread']['oh_p50']['rmse']
        rows['cv'] = [ROW['cv'], f"{PAPER['rmse']} (NMAD {PAPER['nmad']}) on 20,466 test galaxies; ResNet-34, 128 px, ImageNet weights, ~77,000 training galaxies",
                      f"{ci(o)} out of fold over all {o['n']} galaxies of the real sample ({len(cv['folds'])}-fold cross-validation; per fold "
                      f"{fs['mean']:.3f} ± {fs['sd']:.3f}); the truth's sd {f3(o['sd_true'])}, skill {f3(o['skill'], 2)}; recipe `{cv['recipe_name']}`: {recipe_words(cv.get('recipe'))}",
                      f"`{CMD['cv']}`"]
    if ens:
        r, single = ens['rows'], np.array(ens['single_rmse'])
        key = next(k for k in r if k.startswith('seed ensemble'))
        sd = r[f"single seed {ens['seeds'][0]}"].get('sd_true')
        rows['ens'] = [ROW['ens'], '–', f"{single.mean():.3f} ± {single.std(ddof=1):.3f} (sd over {len(single)} seeds); {key}: {ci(r[key])}; "
                       f"{ens['n_test']} test galaxies of split seed 0" + (f", the truth's sd {sd:.3f} (an easier split than the sample)" if sd else '')
                       + f"; {recipe_words((load('real-default-s0/model.json') or {}).get('recipe'))}",
                       f"`{ens['command']}`"]
    if real:
        b = real['baselines']['metrics']['oh_p50']
        rf = next(k for k in b if k.startswith('random_forest'))
        rows['rf'] = [ROW['rf'], f"{PAPER['rf']} (*gri* magnitudes)",
                      f"{ci(b[rf])} on {FEATURE_SETS[real['baselines']['features']]}" + (' (the sample has no catalogue magnitudes)' if real['baselines'].get('feature_note') else '')
                      + (f"; the CNN on the same galaxies minus it {-d['diff']:+.3f}, 95% [{-d['ci95'][1]:+.3f}, {-d['ci95'][0]:+.3f}] (paired)" if (d := real['baselines'].get('minus_cnn', {}).get('oh_p50', {}).get(rf)) else '')
                      + f"; mean predictor {f3(b['mean']['rmse'])}; {real['baselines']['n_test']} test galaxies", f"`{real['command']}`"]
    if sim:
        t = sim['report']['metrics']['test']['oh_p50']
        rows['sim'] = [ROW['sim'], 'no counterpart',
                       f"{ci(t)}; information limit {f3(t.get('information_limit'))} (RMSE/limit {f3(t.get('rmse_over_limit'), 2)}); "
                       f"realised floor {f3(t.get('floor_realised'))} (the intrinsic scatter, a lower bound in expectation); "
                       + '; '.join(f"{b['methods'][k]} {ci(v)}" + (f" (CNN minus it {-d['diff']:+.3f}, 95% [{-d['ci95'][1]:+.3f}, {-d['ci95'][0]:+.3f}], paired)"
                                   if (d := b.get('minus_cnn', {}).get('oh_p50', {}).get(k)) and k != 'mean' else '')
                                   for b in [sim['baselines'], *sim.get('more_baselines', [])] for k, v in b['metrics']['oh_p50'].items()
                                   if k != 'cnn_gri' and (b is sim['baselines'] or k.startswith('random_forest'))),
                       f"`{sim['command']}`"]
    out = [rows.get(k) or (keep or {}).get(label) for k, label in ROW.items()]
    old = "with the simulator before commit `ae57f56`: "
    if 'sim' not in rows and not _new_survey('an-sim/survey') and out[3] and not out[3][2].startswith(old): out[3] = [*out[3][:2], old + out[3][2], *out[3][3:]]
    return table(['', 'Wu & Boada (2019)', 'this library', 'command'], [r for r in out if r])

def table_rows(md:str) -> dict:
    "The rows of the first markdown table in `md`, by their first cell"
    rows = [l.strip().strip('|').split(' | ') for l in md.splitlines() if l.startswith('| ') and not l.startswith('|---')]
    return {r[0].strip(): [c.strip() for c in r] for r in rows[1:]}

def read_crossval(d='cv5'):
    "The metrics of a cross-validation in bench/out/`d`, with the recipe its folds trained"
    cv = load(f'{d}/metrics.json')
    return cv and dict(cv, recipe_name=load(f'{d}/model.json')['recipe']['name'], recipe=load(f'{d}/model.json')['recipe'])

def recipe_words(r) -> str:
    "How a recorded recipe trained, in a few words (the real-sample rows differ in these)"
    if not r: return 'ResNet-18 at 32 px from random initialisation'
    aug = {'rotate': 'rotations at any angle (predicted at 32 angles)', 'dihedral': 'dihedral flips'}.get(r.get('augment'), f"augment={r.get('augment')}")
    return f"{r.get('arch', 'resnet18').replace('resnet', 'ResNet-')} at {r.get('size')} px from random initialisation, {aug}, weight decay {r.get('wd')}"

def crossval_section(cv) -> str:
    "The cross-validation of the whole real sample: the library's headline figure"
    if not cv: return f"Not measured: run `{CMD['cv']}`."
    o, fs = cv['metrics']['oof']['oh_p50'], cv['fold_spread']['oh_p50']
    rows = [['out of fold, all galaxies', o['n'], ci(o, 'rmse', 4), ci(o, 'nmad', 4), f"{o['bias']:+.4f}", f3(o['sd_true']), f3(o['skill'], 3)]]
    rows += [[f"fold {i}", v['oh_p50']['n'], ci(v['oh_p50'], 'rmse', 4), ci(v['oh_p50'], 'nmad', 4), f"{v['oh_p50']['bias']:+.4f}", f3(v['oh_p50'].get('sd_true')),
              f3(v['oh_p50'].get('skill'), 3)] for i, v in cv['folds'].items()]
    return (f"Every galaxy of the real sample predicted by a network that did not see it: a {len(cv['folds'])}-fold cross-validation "
            f"(recipe `{cv['recipe_name']}`, fold seed {cv['fold_seed']}, training seed of fold i: {cv['seed']} + i). "
            f"Per fold RMSE {fs['rmse']['mean']:.4f} ± {fs['rmse']['sd']:.4f} (mean ± sd over folds). sd is the truth's standard deviation over "
            "the same galaxies, skill 1 − RMSE/sd. The error bars of the fold ensemble this run leaves behind are calibrated on these "
            f"out-of-fold galaxies; how they hold on galaxies it never saw is the section after next. `{CMD['cv']}`\n\n"
            + table(['galaxies', 'n', 'RMSE [68%]', 'NMAD [68%]', 'bias', 'sd', 'skill'], rows))

def candidates_section(c) -> str:
    "Small-sample recipes against the reference, out of fold on the same folds (issue #24's protocol)"
    if not c: return f"Not measured: run `{CMD['candidates']}`."
    rows, ref = [], c.get('reference', 'default')
    for name, r in c['rows'].items():
        d = r.get('minus_reference', r.get('minus_default'))
        label = f"**{name}** (now `default`)" if r.get('is_default') else f"{name} (reference)" if name == ref else name
        rows.append([label, ', '.join(f'{k}={v}' for k, v in r['overrides'].items()) or '(the recipe)',
                     '; '.join(f"{ci(x['oof'], 'rmse', 4)} (seed {x['fold_seed']})" for x in r['runs']),
                     f"{d['diff']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]" if d else '–',
                     (f"{(b := r['minus_base'])['diff']:+.4f} [{b['ci95'][0]:+.4f}, {b['ci95'][1]:+.4f}] (minus {r['overrides']['base']})" if r.get('minus_base') else '–'),
                     f"{r['seconds_per_network']:.0f}" + (f" ({r['time_ratio']:.1f}×)" if r.get('time_ratio') else '') if r.get('seconds_per_network') else '–',
                     r.get('verdict', 'reference')])
    return (f"Each candidate and the reference, the `default` recipe as it was before this table (ResNet-18 at 32 px from random initialisation, "
            f"dihedral flips, weight decay 0.01), cross-validated on the same {c['folds']} folds of all {c['n']} real galaxies, for fold seeds "
            f"{', '.join(map(str, c['fold_seeds']))}: every galaxy scored by a network that did not see it. Settings are those changed from "
            "today's `default`; `base=` rows reuse another row's networks, predicted with another test-time augmentation (`tta=`) or stacked with "
            "measurements of the same images in a ridge regression fitted fold by fold (`stack=`); the other rows use the 8 dihedral views. "
            "The difference is the candidate's out-of-fold RMSE minus the reference's, averaged over the fold seeds, with a 95% paired bootstrap "
            "interval over the galaxies; a verdict of 'better' needs the interval below zero. A `base=` row is also compared with its base, the same networks "
            "without the added step. Today's `default` is the row with the lowest out-of-fold RMSE among those costing at most 1.5 times the reference's "
            "time; a costlier row would have had to beat it by a resolved margin (paired interval below zero), and none did. Chosen on these "
            "out-of-fold galaxies among the rows here, its own figure is slightly optimistic. Seconds per network: the median over its networks "
            "of the training time each `model.json` records, on 2 cores that other work shared at times (the median resists that). "
            f"Negative results stay in the table. `{CMD['candidates']}`\n\n"
            + table(['candidate', 'settings', 'out-of-fold RMSE [68%]', 'minus reference [95%]', 'minus its base [95%]', 's / network', 'verdict'], rows)
            + pretrain_row(load('pretrain-sim/pretrain_sim.json')))

def pretrain_row(p) -> str:
    "Candidate 6 of #24, pretraining on the simulated survey, measured apart (one fold seed, against today's default on the same folds)"
    if not p: return ''
    d = p['pretrained_minus_random']
    return (f"\n\nNot in the table, as it was measured apart and with fold seed 0 only: today's `default` started from a network trained on "
            f"{p['n_simulated']:,} simulated galaxies (`{p['command']}`) reaches {ci(p['pretrained'], 'rmse', 4)} out of fold, against "
            f"{ci(p['random'], 'rmse', 4)} from random initialisation on the same folds; pretrained minus random {d['diff']:+.4f} "
            f"[{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}] (95%, paired), not resolved, so not taken (section *Pretraining on the simulated survey*).")

def coverage_section(fc) -> str:
    "The fold ensemble's error bars on galaxies that neither trained nor calibrated it"
    if not fc: return f"Not measured: run `{CMD['coverage']}`."
    rows = [[name, f"{v['within1']['fraction']:.2f} [{v['within1']['ci68'][0]:.2f}, {v['within1']['ci68'][1]:.2f}]",
             f"{v['within2']['fraction']:.2f} [{v['within2']['ci68'][0]:.2f}, {v['within2']['ci68'][1]:.2f}]", f"{v['median_err']:.4f}"] for name, v in fc['rows'].items()]
    rows.append(['exact calibration on the out-of-fold galaxies [68%; 95%]', expected(fc['n_cv'], fc['n_test']), '–', ''])
    return (f"The fold ensemble ({fc['members']} networks of a 5-fold cross-validation of the {fc['n_cv']} galaxies split seed 0 does not hold out; "
            f"k = {fc['err_scale']:.4f} fitted out of fold) predicting the {fc['n_test']} held-out galaxies (RMSE {fc['test']['rmse']:.4f}). "
            "Nominal: 0.68 within ±1 err, 0.95 within ±2 err; brackets are Wilson 68% intervals of the fractions. Nothing was chosen on these "
            f"galaxies. `{fc['command']}`\n\n" + table(['error model', 'within ±1 err', 'within ±2 err', 'median err'], rows) + "\n\n" + EXPECTED_NOTE)

def recipe_section(rs) -> str:
    if not rs: return f"Not measured in this run (`{CMD['recipe']}`)."
    rows = [[r['data'], r['n_train'], r['recipe'], r['seed'], f"{f3(r['valid_rmse'], 4)} [{f3(r['valid_ci68'][0], 4)}, {f3(r['valid_ci68'][1], 4)}]",
             f"{f3(r['test_rmse'], 4)}", r['steps'], r['wall_s']] for r in rs]
    return table(['data', 'training galaxies', 'recipe', 'seed', 'validation RMSE [68%]', 'test RMSE', 'optimiser steps', 'seconds'], rows)

def copy_figure(src:Path, name:str, width:int=640) -> str:
    "Copy the PNG `src` to `nbs/results/name` as a compact palette PNG; the markdown that shows it"
    dst = ROOT/'nbs'/'results'/name
    dst.parent.mkdir(exist_ok=True)
    im = Image.open(src).convert('RGB')
    if im.width > width: im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
    im.quantize(256).save(dst, 'PNG', optimize=True)
    return f"![{name}](results/{name})"

def expected(n_cal, n_test, level=0.6827) -> str:
    "The 68% and 95% ranges of a coverage on `n_test` galaxies that exact calibration on `n_cal` exchangeable galaxies gives (`calibrated_coverage`)"
    a, b = calibrated_coverage(n_cal, n_test, level), calibrated_coverage(n_cal, n_test, level, ci=0.95)
    return f"[{a[0]:.2f}, {a[1]:.2f}]; 95% [{b[0]:.2f}, {b[1]:.2f}]"

def split_hardness(run='real-default-s0') -> dict|None:
    "The truth's standard deviation over the validation and the test galaxies of `run`'s split"
    import pandas as pd
    from metallicity_cnn.core import sample_dir
    try: cat, sp = pd.read_csv(sample_dir()/'catalog.csv', dtype={'objID': str}), pd.read_csv(ROOT/'bench'/'out'/run/'split.csv', dtype={'objID': str})
    except (FileNotFoundError, OSError): return None
    m = cat.merge(sp, on='objID')
    return {k: float(m.oh_p50[m.split == k].std(ddof=0)) for k in ('valid', 'test')}

EXPECTED_NOTE = ("Exact calibration is judged by the column it names: error bars scaled to hold 68% of n calibration galaxies hold, on new galaxies "
                 "exchangeable with them, a fraction that is itself uncertain by the calibration's sampling error as well as the test count's; "
                 "the columns give the range of the test fraction that exact calibration leaves (a split-conformal Beta-binomial, "
                 "`calibrated_coverage`). A fraction outside its 95% range is a miscalibration these galaxies resolve; a Wilson interval alone "
                 "leaves out the calibration's share and overstates it.")

def ensembles_section(ens) -> str:
    if not ens: return f"Not measured in this run (`{CMD['ens']}`)."
    r = ens['rows']
    n_cal = lambda k: ens['n_valid'] if k.startswith('seed') else ens['oof']['n'] if k.startswith('fold') else None
    rows = [[k, ci(v, 'rmse', 4), ci(v, 'nmad', 4), f"{v['bias']:+.4f}", cov(v), cov(v, 95)]
            + [expected(n_cal(k), v['n']) if n_cal(k) and 'coverage68' in v else '–'] for k, v in r.items()]
    hard = split_hardness()
    s, o, fs = np.array(ens['single_rmse']), ens['oof'], ens['fold_spread']['rmse']
    return (f"The {ens['n_test']} test galaxies of split seed 0 of the 400-galaxy sample (validation {ens['n_valid']}); single networks "
            f"are the `default` recipe with training seeds {', '.join(map(str, ens['seeds']))}; the seed ensemble averages them, its error "
            "bars calibrated on the validation galaxies; the fold ensemble is the 5 networks of a 5-fold cross-validation of the other "
            f"320 galaxies, calibrated out of fold. `{ens['command']}`\n\n"
            + table(['model', 'RMSE [68%]', 'NMAD [68%]', 'bias', 'within ±1 err', 'within ±2 err', '±1 err if calibrated exactly [68%; 95%]'], rows)
            + "\n\n" + EXPECTED_NOTE + " The seed ensemble is calibrated on its own predictions of the validation galaxies; the fold ensemble's "
            "k on single networks' out-of-fold errors (320 galaxies), which the ensemble's err then rescales, so its range is approximate."
            + (f" Exchangeable they are not quite: the truth's standard deviation is {hard['test']:.3f} over the test galaxies and {hard['valid']:.3f} over the "
               "validation galaxies the seed ensemble was calibrated on; error bars scaled on the harder galaxies are expected to hold more than 68% of the easier ones, the direction of its excess." if hard else '')
            + (f"\n\nThe truth's standard deviation over these {ens['n_test']} galaxies is {sd:.3f} (over the {ens['oof']['n']} others: {ens['oof']['sd_true']:.3f}), so a skill "
               f"1 − RMSE/sd of {1 - s.mean() / sd:.2f} for one network: this split is easier than the sample. " if (sd := next(iter(r.values())).get('sd_true')) else "\n\n")
            + f"One network: RMSE {s.mean():.4f} ± {s.std(ddof=1):.4f} (mean ± sd over {len(s)} seeds). Cross-validation of the 320: "
            f"out-of-fold RMSE {ci(o, 'rmse', 4)} over {o['n']} galaxies, per fold {fs['mean']:.4f} ± {fs['sd']:.4f}.")

def tta_section(t) -> str:
    if not t: return "Not measured in this run (`python bench/tta.py bench/out/real-default-s0 bench/out/real-default-s1 bench/out/real-default-s2 --json bench/out/tta.json`)."
    if 'own' not in t['runs'][0]['rmse']: return "Measured before `bench/tta.py` scored 32 angles and the model's own TTA: rerun it."
    keys = ('none', 'dihedral', 'rotate', 'own', 'paper', 'own_minus_paper')
    rows, v = [], {k: np.array([r['rmse'][k] for r in t['runs']]) for k in keys}
    for r in t['runs']:
        m = r['rmse']
        rows.append([r['run'], r['n'], *(f3(m[k], 4) for k in ('none', 'dihedral', 'rotate', 'own')), f"{f3(m['paper'], 4)} ± {f3(m['paper_sd_seeds'], 4)}", f"{m['own_minus_paper']:+.4f}"])
    sd = lambda x: x.std(ddof=1) if len(x) > 1 else 0.
    rows.append([f"mean ± sd over {len(t['runs'])} models", '', *(f"{v[k].mean():.4f} ± {sd(v[k]):.4f}" for k in keys[:-1]),
                 f"{v['own_minus_paper'].mean():+.4f} ± {sd(v['own_minus_paper']):.4f}"])
    return (f"`predict --tta` on the validation galaxies of the single networks above (the test galaxies unused): none, the 8 dihedral views, 32 angles "
            f"(`rotate`), the model's own (`tta=True`: 32 angles for networks trained on every angle, the 8 dihedral views otherwise) and `paper`, the authors' "
            f"1 + 4 random training augmentations, averaged over TTA seeds {', '.join(map(str, t['tta_seeds']))}. RMSE in dex. `{t['command']} --json bench/out/tta.json`\n\n"
            + table(['model', 'n', 'none', 'dihedral', 'rotate', 'own (default)', 'paper (± over TTA seeds)', 'own − paper'], rows))

def speed_section(s) -> str:
    if not s: return f"Not measured in this run (`{CMD['speed']}`)."
    rows = [[r['variant'], f"{r['views']} view{'s' if r['views'] > 1 else ''}", r['galaxies'], f"{r['steady_cpu']:.0f}", f"{r['ratio_cpu']:.2f}×", f"{r['first_batch_s']:.1f}",
             *(f"{r[k]:.4f}" for k in ('median_diff_dex', 'p99_diff_dex', 'max_diff_dex'))] for r in s['rows']]
    return (f"`predict` in each of its speed variants on the cutouts of the real sample, against a bare float32 `model(x)` on batches already in memory, "
            f"measured in CPU seconds of one thread right before each variant ({s['arch'].replace('resnet', 'ResNet-')} at {s['size']} px, the default recipe's "
            f"network of fold 0 of the cross-validation above; batch {s['bs']} images; native bfloat16: {'yes' if s['bf16_native'] else 'no'}; torch {s['torch']}). "
            "The steady rate counts network inputs (a galaxy under test-time augmentation is as many images as views) and leaves out the first batch, "
            "which holds `torch.compile`'s compilation; the differences are the absolute differences from the float32 predictions of the same galaxies. One run: the ratios of the float32 variants, whose work is the same, show the run's noise. "
            f"`{s['command']}`\n\n"
            + table(['variant', 'TTA', 'galaxies', 'images / CPU-s', 'against bare float32', 'first batch [s]', 'median difference [dex]', '99th percentile', 'largest'], rows))

def analyses_section(a, name, cmd) -> str:
    if not a: return f"Not measured in this run (`{cmd}`)."
    cmd = a['command']
    rep, bl, res = a['report'], a['baselines'], a['resolution']
    out = [f"`{cmd}`", '']
    per = rep['metrics']['test']
    rows = [[t, v['n'], ci(v, 'rmse', 4), ci(v, 'nmad', 4), f"{v['bias']:+.4f}", cov(v), cov(v, 95)] for t, v in per.items()]
    out += ['The model (recipe `' + a['recipe'] + '`, with the uncertainty head) on its test galaxies:', '',
            table(['target', 'n', 'RMSE [68%]', 'NMAD [68%]', 'bias', 'within ±1σ', 'within ±2σ'], rows), '']
    t = per.get('oh_p50', {})
    if t.get('information_limit'):
        out += [f"Information limit (one tuned regressor on the noiseless quantities: a reference, not a bound) {ci(rep['limits'], 'information_limit', 4) if rep['limits'].get('information_limit_ci68') else f3(t['information_limit'], 4)} dex, "
                f"RMSE/limit {f3(t['rmse_over_limit'], 2)}; realised floor {f3(t['floor_realised'], 4)} dex, the intrinsic scatter of these test galaxies: a lower bound in expectation, kept off by noise, the PSF and JPEG (the images carry the relation's value).", '']
    z = rep.get('mzr', {})
    if 'scatter_ratio_paper' in z:
        p = z['scatter_ratio_paper']
        q = z.get('scatter_ratio', {})
        out += [f"Scatter of the metallicity at given true stellar mass, NMAD(CNN)/NMAD(true): {f3(p['ratio'])} ± {f3(p['ratio_err'])} by the paper's binned estimator "
                f"(paper: {PAPER['mzr_ratio']} on real galaxies)" + (f", {f3(q['ratio'])} ± {f3(q['ratio_err'])} about quadratic fits" if q else '')
                + ". " + offsets_words(a['dir'], z.get('offset_correlation')), '']
    b = bl['metrics']['oh_p50']
    paired = lambda d: f"{d['diff']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]" if d else '–'
    rows = [[bl['methods'][k], ci(v, 'rmse', 4), ci(v, 'nmad', 4), paired(bl.get('minus_cnn', {}).get('oh_p50', {}).get(k))] for k, v in b.items()]
    for x in a.get('more_baselines', []): # forests on other features, on the same test galaxies
        rows[-1:-1] = [[x['methods'][k], ci(v, 'rmse', 4), ci(v, 'nmad', 4), paired(x['minus_cnn']['oh_p50'].get(k))] for k, v in x['metrics']['oh_p50'].items() if k.startswith('random_forest')]
    out += [f"Baselines on the same {bl['n_test']} test galaxies ({bl['n_train']} training; random forest on {FEATURE_SETS[bl['features']]}"
            + (f": {bl['feature_note']}" if bl.get('feature_note') else '') + "; each method's RMSE minus the CNN's, paired galaxy by galaxy, 95% bootstrap):", '',
            table(['method', 'RMSE [68%]', 'NMAD [68%]', 'minus CNN [95%, paired]'], rows), '']
    if not res:
        out += [f"Resolution study: not measured in this run (`{CMD[{'real': 'real', 'synthetic': 'sim'}[name]]}` runs it with the other steps)."]
        return '\n'.join(out)
    seeds = res.get('seeds', [res.get('seed', 0)])
    precision = lambda s: (load(f"{a['dir']}/resolution/size{s:03d}-s{seeds[0]}/model.json") or {}).get('precision', 'not recorded')
    paired = lambda s: (f"{s['minus_largest']['diff']:+.3f} [{s['minus_largest']['ci95'][0]:+.3f}, {s['minus_largest']['ci95'][1]:+.3f}]" if 'minus_largest' in s else '–')
    rows = [[s['size'], ci(s, 'rmse', 3), f3(s.get('rmse_sd'), 3), paired(s), ci(s, 'nmad', 3), dict(zip(res['paper']['sizes'], res['paper']['rmse'])).get(s['size'], '–'),
             precision(s['size'])] for s in res['sizes']]
    rcmd = ROOT/'bench'/'out'/a['dir']/'resolution'/'command.txt'
    if rcmd.is_file(): out += [f"`{rcmd.read_text().strip()}`", '']
    ref = res.get('reference', res['sizes'][0]['size'])
    out += [f"Resolution study ({res['recipe']['name']} recipe, {res['recipe'].get('epochs')} epochs at each size, training seeds {', '.join(map(str, seeds))}: "
            f"a network per seed at every size, all tested on the same {res['sizes'][0]['n']} galaxies; mean predictor RMSE {f3(res['mean_predictor']['rmse'])}). "
            f"RMSE and NMAD are the mean over the seeds, with 68% bootstrap intervals over the galaxies; sd is the spread of the RMSE over the seeds; "
            f"the difference from {ref} px is paired galaxy by galaxy (95% bootstrap):", '',
            table(['size [px]', 'RMSE [68%]', 'sd over seeds', f'minus {ref} px [95%, paired]', 'NMAD [68%]', 'Wu & Boada RMSE', 'training precision'], rows), '',
            "On a CPU with native bfloat16, sizes of 16 px and below train in float32, since its bfloat16 kernel gets the weight gradients of strided convolutions "
            "that see 1×1 maps wrong (`BF16CPU` in `04_learner`).", '', trend(res), '',
            copy_figure(ROOT/'bench'/'out'/a['dir']/'resolution'/'resolution.png', f'resolution-{name}.png')]
    return '\n'.join(out)

def offsets_words(d, oc) -> str:
    "What the images of the simulated survey in bench/out/`d` carry of a galaxy's offset from the relation, and the offset test's answer (`oc`, from `mzr_stats`)"
    import pandas as pd
    f = ROOT/'bench'/'out'/d/'survey'/'catalog.csv'
    cat = pd.read_csv(f) if f.is_file() else None
    if cat is None or 'oh_size_offset' not in cat:
        return "On this simulated survey the images carry nothing of a galaxy's offset from the relation, so a ratio below 1 is what an image-only predictor's shrinkage towards the relation gives."
    out = (f"On this simulated survey a galaxy's offset from the relation at fixed mass is its size term (`oh_size_offset`, sd {cat.oh_size_offset.std():.3f} dex: "
           f"larger disks are metal-poorer, Ellison et al. 2008), which the images show, plus a scatter of sd {(cat.oh_p50 - cat.oh_relation).std():.3f} dex they never show; "
           "a ratio below 1 is then mostly shrinkage towards the relation.")
    if oc: out += (f" At fixed true mass the CNN's predicted offset correlates with the true one at r = {oc['r']:.2f} [{oc['r_ci68'][0]:.2f}, {oc['r_ci68'][1]:.2f}], "
                   f"its predicted mass's Tremonti relation at r = {oc['r_ref']:.2f}: a difference of {oc['diff']:+.2f}, 95% [{oc['diff_ci95'][0]:+.2f}, {oc['diff_ci95'][1]:+.2f}] "
                   f"(paired, {oc['n']} galaxies), so the network sees more than mass here, as the size term lets it.")
    return out

def trend(res, small:int=16) -> str:
    "Whether the paired difference RMSE(`small` px) - RMSE(largest size) excludes zero at 95%"
    by = {s['size']: s for s in res['sizes']}
    if small not in by or 'minus_largest' not in by[small]: return ''
    d, ref = by[small]['minus_largest'], res['reference']
    return (f"From {ref} to {small} px the RMSE changes by {d['diff']:+.3f} dex, paired 95% interval [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]"
            + (": this sample resolves the change" if d['ci95'][0] > 0 or d['ci95'][1] < 0 else ": this sample does not resolve a change over those sizes")
            + " (the paper's, 128 to 16 px: +0.020 dex on 20,466 test galaxies, one network per size).")

REALISM = (('realism-previous/fixed', 'previous simulator'), ('realism/petrosian', 'this simulator')) # the simulator before #23 (bench/realism.py at e4a43e8, its default fixed scale) and today's default

PREVIOUS_REALISM = ("The simulator before commit `ae57f56`, measured by the same command at commit `7d62c46` (2026-12-07; its outputs are "
                    "not on this machine): classifier ROC AUC 0.967 [0.961, 0.973] at its default fixed scale and 0.963 [0.957, 0.970] at the "
                    "Petrosian scale; 1 and 3 of the 16 statistics within KS 0.15, median KS 0.33 and 0.29.")

def realism_section() -> str:
    "Image statistics of the real cutouts and of simulated surveys (medians, KS distance), the classifier two-sample test and a gallery"
    got = {lab: (load(f'{d}/stats/image_stats.json'), load(f'{d}/classifier/realism.json'), load(f'{d}/timing.json'), d) for d, lab in REALISM}
    got = {s: v for s, v in got.items() if v[0] and v[1]}
    if not got: return f"Not measured: run `{CMD['realism']}`."
    first = next(iter(got.values()))[0]
    real = {r['stat']: r['median_a'] for r in first['stats']}
    rows = [[k, f3(v, 3)] + [x for s in got for r in got[s][0]['stats'] if r['stat'] == k for x in (f3(r['median_b'], 3), f3(r['ks'], 2))]
            for k, v in real.items()]
    rows.append(['statistics with KS < 0.15', ''] + [x for s in got for x in (f"{sum(r['ks'] < 0.15 for r in got[s][0]['stats'])} of {len(got[s][0]['stats'])}", '')])
    rows.append(['**classifier ROC AUC** (out of fold; 0.5: indistinguishable)', ''] +
                [x for s in got for x in (f"{got[s][1]['auc']:.3f} [{got[s][1]['auc_ci68'][0]:.3f}, {got[s][1]['auc_ci68'][1]:.3f}]", '')])
    head = ['statistic', f"real (median, {first['n_real']} cutouts)"] + [x for s in got for x in (f'{s} (median)', 'KS')]
    cmds = '; '.join(f"{s}: `{v[2]['command'] if v[2] else CMD['realism']}`" + (' at commit e4a43e8' if 'previous' in s else '') for s, v in got.items())
    d = got.get('this simulator', (None, None, None, None))[3]
    fig = ("\n\n" + copy_figure(ROOT/'bench'/'out'/d/'gallery.png', 'realism_gallery.png', 900) +
           "\n\nSixteen cutouts of this simulator (top two rows) above the real ones of the nearest metallicity (bottom two rows).") if d and (ROOT/'bench'/'out'/d/'gallery.png').exists() else ''
    rows.insert(-1, ['median KS', ''] + [x for s in got for x in (f"{np.median([r['ks'] for r in got[s][0]['stats']]):.2f}", '')])
    prev = '' if 'previous simulator' in got else ' ' + PREVIOUS_REALISM
    return (f"Every statistic measured by one code (`measure_cutout`) on the 400 real cutouts and on 400 simulated ones; KS is the two-sample "
            f"Kolmogorov–Smirnov distance (goal: below 0.15). The classifier is a ResNet-18 trained to tell them apart, 5-fold cross-validated "
            f"on the 400 + 400 cutouts (goal: ROC AUC 0.75 or less); its interval is a 68% bootstrap over the cutouts. {cmds}\n\n" + table(head, rows) + fig
            + f"\n\n{prev.strip()}" * bool(prev))

def pretrain_section(p) -> str:
    if not p: return "Not measured in this run (`python bench/pretrain_sim.py`)."
    d, r, q = p['pretrained_minus_random'], p['random'], p['pretrained']
    rows = [['random initialisation (`bench/out/cv5`)', p['n_galaxies'], ci(r, 'rmse', 4), ci(r, 'nmad', 4), '–'],
            [f"pretrained on {p['n_simulated']:,} simulated galaxies ({p['pretrain_epochs']} epochs)", p['n_galaxies'], ci(q, 'rmse', 4), ci(q, 'nmad', 4),
             f"{d['diff']:+.4f} [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]"]]
    rate = f"; the survey simulated at {p['galaxies_per_second_per_worker']:.1f} galaxies per second per worker ({p['workers']} workers, {p['simulate_seconds']:.0f} s)" if p.get('galaxies_per_second_per_worker') else ''
    return (f"The default recipe cross-validated on the 400 real galaxies (5 folds, fold seed 0) from random initialisation and from a network "
            f"first trained on the simulated survey (test RMSE on simulated galaxies {p['pretrain_test']['rmse']:.4f}){rate}. "
            f"The same folds for both, one training seed per fold; the difference is paired galaxy by galaxy (95% bootstrap)"
            + ("." if d['ci95'][1] < 0 else ": its interval includes zero, so pretraining on the simulated survey is not made a recipe.")
            + f" `{p['command']}`\n\n"
            + table(['initialisation', 'galaxies', 'out-of-fold RMSE [68%]', 'NMAD [68%]', 'pretrained − random [95%]'], rows))

def read_analyses(d):
    rep, bl, res = load(f'{d}/report/metrics.json'), load(f'{d}/baselines/baselines.json'), load(f'{d}/resolution/resolution.json')
    if not (rep and bl): return None
    recipe = load(f'{d}/run/model.json')['recipe']['name']
    cmd = (ROOT/'bench'/'out'/d/'command.txt').read_text().strip()
    more = [v for f in sorted((ROOT/'bench'/'out'/d).glob('baselines-*/baselines.json')) if (v := load(f'{d}/{f.parent.name}/baselines.json'))]
    return dict(report=rep, baselines=bl, more_baselines=more, resolution=res, recipe=recipe, dir=d, command=cmd)

HEAD_NOTE = ("The paper trained on about 77,000 galaxies with ImageNet weights; the real-sample figures here come from a 400-galaxy sample "
             "(320 training galaxies a fold, or 240 on one split) and random initialisation on a CPU, so they measure the library, not a "
             "reproduction of the paper's number.")

def write_headline(page:Path, index:Path):
    "The results table of the README (`index`) and of the results page, from the outputs there are; rows without outputs stay as they were"
    real, sim, ens, cv = read_analyses('an-real'), read_analyses('an-sim'), load('ensembles.json'), read_crossval()
    for path, head in ((index, '## Results'), (page, '## Wu & Boada (2019) and this library')):
        nb = read_nb(path)
        c = next((c for c in nb.cells if c.cell_type == 'markdown' and c.source.startswith(head)), None)
        if c is None: continue
        keep = table_rows(c.source)
        c.source = f"{head}\n\n{headline(real, ens, sim, cv, keep)}\n\n{HEAD_NOTE} Every figure, its date, commit and machine are on the results page" + \
                   (" (`nbs/12_results.ipynb`, written by `python bench/results.py` from the benchmark outputs)." if path == index else ".")
        write_nb(nb, path)

def write_results(page:Path, index:Path):
    real, sim = read_analyses('an-real'), read_analyses('an-sim')
    ens, rs = load('ensembles.json'), load('recipe-size/recipe_size.json')
    md = [('# Results\n\n> What this library has measured, each number with the command that produced it, its sample size and its uncertainty.'),
          provenance(ROOT/'bench'/'out') + ' Intervals are 68% bootstrap intervals over the test galaxies unless a spread over seeds or folds is given. ' + sim_note(),
          "## Wu & Boada (2019) and this library\n\n" + headline(real, ens, sim, read_crossval()) + "\n\n" + HEAD_NOTE,
          "## The real sample out of fold\n\n" + crossval_section(read_crossval()),
          "## The real sample: one network, a seed ensemble, a fold ensemble\n\n" + ensembles_section(ens),
          "## Error bars of the fold ensemble on held-out galaxies\n\n" + coverage_section(load('fold-coverage/fold_coverage.json')),
          "## Small-sample recipes, out of fold\n\n" + candidates_section(load('candidates/candidates.json')),
          "## Test-time augmentation\n\n" + tta_section(load('tta.json')),
          "## Fast inference\n\n" + speed_section(load('predict-speed/predict_speed.json')),
          "## Recipes and training-set size\n\nThe measurements behind `choose_recipe` (`recipe='auto'`): each recipe on the real sample and on simulated surveys "
          f"of two sizes, compared on the validation galaxies. `{CMD['recipe']}`\n\n" + recipe_section(rs),
          "## Analyses of the real sample\n\n" + analyses_section(real, 'real', CMD['real']),
          "## Analyses of a synthetic survey\n\n" + analyses_section(sim, 'synthetic', CMD['sim']),
          "## How much the synthetic survey looks like the sky\n\n" + realism_section(),
          "## Pretraining on the simulated survey\n\n" + pretrain_section(load('pretrain-sim/pretrain_sim.json')),
          "## Simulation speed\n\n" + simspeed_section(),
          "## A forest that sees morphology\n\n" + morphology_section(),
          "## Does the CNN see more than mass? (simulated surveys)\n\n" + mzr_offsets_section()]
    nb = read_nb(page) if page.exists() else None
    cells = [mk_cell(m, 'markdown') for m in md]
    if nb is None: nb = read_nb(index); nb.metadata = {}
    nb.cells = cells
    write_nb(nb, page)
    write_headline(page, index)
    print(f"wrote {page} and the results table of {index}")

def morphology_section() -> str:
    "The random forest on image colours against the one that also sees morphology, out of fold, paired"
    m = load('morphology-forest/morphology_forest.json')
    if not m: return f"Not measured: run `{CMD['morph']}`."
    d = m['morphology_minus_image']
    rows = [['image colours', ci(m['image'], d=4), f"{m['image']['skill']:.3f}"],
            ['image colours and morphology (statmorph)', ci(m['morphology'], d=4), f"{m['morphology']['skill']:.3f}"],
            ['difference (morphology minus colours)', f"{d['diff']:+.4f} [{d['ci68'][0]:+.4f}, {d['ci68'][1]:+.4f}]; 95% [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]", '']]
    pair = lambda d: f"{d['diff']:+.4f} [{d['ci68'][0]:+.4f}, {d['ci68'][1]:+.4f}]; 95% [{d['ci95'][0]:+.4f}, {d['ci95'][1]:+.4f}]"
    if 'cnn' in m: # the CNN of the cross-validation whose folds the forests follow
        rows += [[f"CNN (recipe `{m['cnn_recipe']}`, `{m['cv']}`)", ci(m['cnn'], d=4), f"{m['cnn']['skill']:.3f}"],
                 ['difference (CNN minus the forest with morphology)', pair(m['cnn_minus_morphology']), ''],
                 ['difference (CNN minus the forest on colours)', pair(m['cnn_minus_image']), '']]
    return (f"Random forests (40 trees, 8 galaxies a leaf, as the paper's) trained and scored fold by fold of a {m['folds']}-fold cross-validation "
            f"of the {m['n']} real galaxies" + (f" (the folds of the CNN's, `{m['cv']}`)" if 'cv' in m else '') + ", every galaxy predicted by a forest that did not see it; differences are paired bootstraps over "
            f"the galaxies. The truth's standard deviation is {m['image']['sd_true']:.3f}; skill is 1 − RMSE/sd. `{CMD['morph']}`\n\n"
            + table(['features', 'out-of-fold RMSE [68%]', 'skill'], rows))

def mzr_offsets_section() -> str:
    "The offset-correlation test on simulated surveys, where the answer is known"
    got = {r: load(f'mzr-offsets/{r}/offsets.json') for r in ('tremonti', 'mannucci')}
    got = {r: v for r, v in got.items() if v}
    if not got: return f"Not measured: run `{CMD['mzr']}`."
    rows = [[r, v['offset_correlation']['n'], f"{v['offset_correlation']['r']:.3f} [{v['offset_correlation']['r_ci68'][0]:.3f}, {v['offset_correlation']['r_ci68'][1]:.3f}]",
             f"{v['offset_correlation']['r_ref']:.3f}", f"{v['offset_correlation']['diff']:+.3f} [{v['offset_correlation']['diff_ci95'][0]:+.3f}, {v['offset_correlation']['diff_ci95'][1]:+.3f}]"]
            for r, v in got.items()]
    v = next(iter(got.values()))
    return (f"At fixed true mass, the correlation of the CNN's predicted offset from the mass–metallicity relation with the true offset, beside the "
            f"Tremonti relation of its predicted mass (a predictor that knows only the mass), paired over the test galaxies of a simulated survey "
            f"of {v['n']} galaxies per relation (recipe `demo`, {v['epochs']} epochs, metallicity and mass). " + ("Under `tremonti` the offsets are the size term the images show plus scatter they never show; under `mannucci` they also follow the star formation the images carry." if _new_survey('mzr-offsets/tremonti/survey') else "Measured with the simulator before commit `ae57f56`: under `tremonti` the offsets are scatter the images never show, so ~0 is the right answer; under `mannucci` they follow the star formation the images carry.") + f" `{CMD['mzr']}`\n\n"
            + table(['relation', 'test galaxies', 'CNN r [68%]', 'mass-only r', 'difference [95%, paired]'], rows))

PREVIOUS_SIM_SPEED = ("The simulator before commit `ae57f56` (fixed 0.296″ pixels, no field sources, arms or clumps), timed by the same command at "
                      "commit `e4a43e8`, back to back with the first row below on the same machine (its output is not kept): 198 galaxies per second per core.")

def simspeed_section() -> str:
    "Galaxies per second per core of the simulator, and the seconds the image statistics take (#23 §5)"
    s, t, p = load('simulate-speed/simulate_speed.json'), load('realism/petrosian/timing.json'), load('pretrain-sim/pretrain_sim.json')
    if not s: return f"Not measured: run `{CMD['simspeed']}`."
    rows = [[f"simulate {s['n']:,} galaxies (scale `{s['scale']}`), one worker", f"{s['simulate_seconds']:.0f} s", f"{s['galaxies_per_second_per_core']:.1f} galaxies / s / core",
             f"`{CMD['simspeed']}`"]]
    if p: rows.append([f"simulate {p['n_simulated']:,} galaxies, {p['workers']} workers", f"{p['simulate_seconds']:.0f} s ({p['simulate_seconds']/60:.1f} min; goal: under 15 min)",
                       f"{p['galaxies_per_second_per_worker']:.1f} galaxies / s / worker", f"`{p['command']}`"])
    if t: rows.append([f"image statistics of {t['n']} simulated and {t['n']} real cutouts, 2 workers", f"{t['seconds']['stats']:.0f} s "
                       f"(about {t['seconds']['stats']/2:.0f} s per {t['n']}; goal: under a minute)", f"{2*t['n']/t['seconds']['stats']:.1f} cutouts / s", f"`{t['command']}`"])
    return ("Simulation is a training input (pretraining takes tens of thousands of galaxies), so its speed is measured; statmorph's search for the "
            "asymmetry centre takes most of the image statistics' time. " + PREVIOUS_SIM_SPEED + "\n\n"
            + table(['work', 'seconds', 'rate', 'command'], rows))

SECTIONS = {'crossval': ("## The real sample out of fold", lambda: crossval_section(read_crossval()), 'cv5'),
            'ensembles': ("## The real sample: one network, a seed ensemble, a fold ensemble", lambda: ensembles_section(load('ensembles.json')), 'cv320'),
            'coverage': ("## Error bars of the fold ensemble on held-out galaxies", lambda: coverage_section(load('fold-coverage/fold_coverage.json')), 'fold-coverage'),
            'candidates': ("## Small-sample recipes, out of fold", lambda: candidates_section(load('candidates/candidates.json')), 'candidates'),
            'mzr': ("## Does the CNN see more than mass? (simulated surveys)", mzr_offsets_section, 'mzr-offsets'),
            'speed': ("## Fast inference", lambda: speed_section(load('predict-speed/predict_speed.json')), 'predict-speed'),
            'realism': ("## How much the synthetic survey looks like the sky", realism_section, 'realism'),
            'pretrain': ("## Pretraining on the simulated survey", lambda: pretrain_section(load('pretrain-sim/pretrain_sim.json')), 'pretrain-sim'),
            'morphology': ("## A forest that sees morphology", morphology_section, 'morphology-forest'),
            'simspeed': ("## Simulation speed", simspeed_section, 'simulate-speed'),
            'tta': ("## Test-time augmentation", lambda: tta_section(load('tta.json')), 'tta.json'),
            'real': ("## Analyses of the real sample", lambda: analyses_section(read_analyses('an-real'), 'real', CMD['real']), 'an-real'),
            'sim': ("## Analyses of a synthetic survey", lambda: analyses_section(read_analyses('an-sim'), 'synthetic', CMD['sim']), 'an-sim')} # sections --only can update

SIM_CHANGE = ("The simulator changed at commit `ae57f56` (Petrosian framing, SDSS's seeing and noise, SkyServer's rendering, field sources, "
              "arms and clumps): {} measured with the simulator before it.")

def _new_survey(d) -> bool:
    "True if the simulated survey in bench/out/`d` was made by today's simulator (its survey.json records the seeing, `psf_fwhm_r`)"
    s = load(f'{d}/survey.json')
    return bool(s) and 'psf_fwhm_r' in s

def sim_note() -> str:
    "Which results of simulated surveys on the page were made by the simulator before ae57f56 (outputs missing here count as the page's older ones)"
    old = ([] if _new_survey('an-sim/survey') else ['the analyses of a synthetic survey', 'the synthetic row of the table above'])
    old += [] if _new_survey('recipe-size/sim1000') else ['the simulated rows of the recipe table']
    old += [] if _new_survey('mzr-offsets/tremonti/survey') else ['the MZR offsets']
    if not old: return ''
    return SIM_CHANGE.format((', '.join(old[:-1]) + ' and ' + old[-1] if len(old) > 1 else old[0]) + ' were') # every item is plural

def update_section(page:Path, name:str):
    "Replace one section of the results page with its fresh outputs (its own provenance line), leaving the others as they were"
    head, make, sub = SECTIONS[name]
    nb = read_nb(page)
    body = f"{head}\n\n{make()}\n\n{provenance(ROOT/'bench'/'out'/sub)}"
    heads = [c.source.split('\n', 1)[0] for c in nb.cells]
    if head in heads: nb.cells[heads.index(head)].source = body
    else: # a new section goes where write_results puts it: before the first section that follows it there
        later = ORDER[ORDER.index(head) + 1:]
        nb.cells.insert(next((i for i, h in enumerate(heads) if h in later), len(nb.cells)), mk_cell(body, 'markdown'))
    nb.cells[1].source = (nb.cells[1].source.split(' The simulator changed')[0] + ' ' + sim_note()).rstrip()
    write_nb(nb, page)
    print(f"updated the section '{head[3:]}' of {page}")

ORDER = ["## Wu & Boada (2019) and this library", "## The real sample out of fold", "## The real sample: one network, a seed ensemble, a fold ensemble",
         "## Error bars of the fold ensemble on held-out galaxies", "## Small-sample recipes, out of fold", "## Test-time augmentation", "## Fast inference", "## Recipes and training-set size",
         "## Analyses of the real sample", "## Analyses of a synthetic survey", "## How much the synthetic survey looks like the sky",
         "## Pretraining on the simulated survey", "## Simulation speed", "## A forest that sees morphology", "## Does the CNN see more than mass? (simulated surveys)"] # the sections, as write_results orders them

if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--only', choices=list(SECTIONS), nargs='+', help='update these sections alone from their outputs (and the headline table), keeping the rest of the page')
    a = p.parse_args()
    page, index = ROOT/'nbs'/'12_results.ipynb', ROOT/'nbs'/'index.ipynb'
    if a.only:
        for name in a.only: update_section(page, name)
        write_headline(page, index); print(f"updated the results table of {page} and {index} (rows without outputs unchanged)")
    else: write_results(page, index)
